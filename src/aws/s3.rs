//! Reading template objects from S3; whether an environment file exists.

use anyhow::{anyhow, Result};

use super::errors::lookup_refused;
use super::explain;
use crate::preflight::verdict::Lookup;

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

pub(crate) async fn object_lookup(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Lookup {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Lookup::Found,
        // Without s3:ListBucket, S3 answers a missing object with 403 too.
        Err(error) => lookup_refused(
            &error,
            "s3:GetObject (with s3:ListBucket on the bucket, a missing object is told from a refused one)",
            &["NoSuchKey", "NoSuchBucket"],
        ),
    }
}
