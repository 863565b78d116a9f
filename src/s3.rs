//! Reading template objects from S3.

use anyhow::{anyhow, Result};

use crate::aws::{error_code, error_text};

pub async fn get_object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            let hint = match error_code(&e) {
                Some("NoSuchKey") => "the object does not exist; check the key",
                Some("NoSuchBucket") => "the bucket does not exist; check its name and region",
                Some("AccessDenied") => "allow s3:GetObject on the object to the role",
                _ => "check the bucket, key and region",
            };
            anyhow!(
                "failed to read s3://{bucket}/{key}: {} ({hint})",
                error_text(&e)
            )
        })?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| anyhow!("failed to read s3://{bucket}/{key}: {e}"))?;
    Ok(bytes.into_bytes().to_vec())
}
