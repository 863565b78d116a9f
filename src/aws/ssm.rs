//! Whether parameters exist, without decrypting them.

use super::errors::lookup_refused;
use super::Aws;
use crate::preflight::verdict::Lookup;

/// Names per GetParameters call, SSM's limit.
pub(crate) const PARAMETERS_PER_CALL: usize = 10;

/// One GetParameters call for `names` (at most `PARAMETERS_PER_CALL`):
/// what it lists as invalid is missing, the rest exists.
pub(crate) async fn parameters_lookup<'a>(
    aws: &Aws,
    region: Option<&str>,
    names: &[&'a str],
) -> Vec<(&'a str, Lookup)> {
    let ssm = aws_sdk_ssm::Client::new(&aws.config_in(region));
    let answer = ssm
        .get_parameters()
        .set_names(Some(names.iter().map(|n| (*n).to_owned()).collect()))
        .with_decryption(false)
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let invalid = answer.invalid_parameters.unwrap_or_default();
            names
                .iter()
                .map(|name| {
                    let lookup = if invalid.iter().any(|i| i == name) {
                        Lookup::Missing
                    } else {
                        Lookup::Found
                    };
                    (*name, lookup)
                })
                .collect()
        }
        Err(error) => {
            let lookup = lookup_refused(&error, "ssm:GetParameters", &[]);
            names.iter().map(|name| (*name, lookup.clone())).collect()
        }
    }
}
