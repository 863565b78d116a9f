//! Whether a secret exists, without reading its value.

use super::errors::lookup_refused;
use super::Aws;
use crate::preflight::verdict::Lookup;

pub(crate) async fn secret_lookup(aws: &Aws, arn: &str, region: Option<&str>) -> Lookup {
    let secrets = aws_sdk_secretsmanager::Client::new(&aws.config_in(region));
    match secrets.describe_secret().secret_id(arn).send().await {
        Ok(_) => Lookup::Found,
        Err(error) => lookup_refused(
            &error,
            "secretsmanager:DescribeSecret",
            &["ResourceNotFoundException"],
        ),
    }
}
