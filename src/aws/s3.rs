//! Reading template objects from S3.

use anyhow::{anyhow, Result};

use super::explain;

pub(crate) async fn get_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read s3://{bucket}/{key}: {}",
                explain("s3:GetObject", &e)
            )
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| anyhow!("failed to read s3://{bucket}/{key}: {e}"))?;
    Ok(bytes.into_bytes().to_vec())
}
