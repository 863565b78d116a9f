//! Whether an image is in its ECR repository, and the repository's recent
//! tags when it is not; an image's size, for the deploy time advice.

use std::cmp::Reverse;

use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, TagStatus};
use aws_sdk_ecr::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::errors::lookup_refused;
use super::{error_code, explain, Aws};
use crate::preflight::references::{EcrImage, ImageId};
use crate::preflight::verdict::{Lookup, RECENT_TAGS};

/// The image's size in bytes as ECR gives it (None when it gives none);
/// the error explained.
pub(crate) async fn image_size(aws: &Aws, image: &EcrImage) -> Result<Option<u64>, String> {
    let ecr = Client::new(&aws.config_in(Some(&image.region)));
    let described = describe_image(&ecr, image)
        .await
        .map_err(|e| explain("ecr:DescribeImages", &e))?;
    Ok(described
        .image_details()
        .first()
        .and_then(|details| details.image_size_in_bytes())
        .and_then(|bytes| u64::try_from(bytes).ok()))
}

/// Pages of a repository's images read to find its most recent tags.
const MAX_IMAGE_PAGES: usize = 10;

/// DescribeImages of the one image `image` names, in its region.
async fn describe_image(
    ecr: &Client,
    image: &EcrImage,
) -> Result<DescribeImagesOutput, SdkError<DescribeImagesError, HttpResponse>> {
    let id = match &image.id {
        ImageId::Tag(tag) => ImageIdentifier::builder().image_tag(tag),
        ImageId::Digest(digest) => ImageIdentifier::builder().image_digest(digest),
    };
    ecr.describe_images()
        .registry_id(&image.registry)
        .repository_name(&image.repository)
        .image_ids(id.build())
        .send()
        .await
}

pub(crate) async fn image_lookup(aws: &Aws, image: &EcrImage) -> Lookup {
    let ecr = Client::new(&aws.config_in(Some(&image.region)));
    match describe_image(&ecr, image).await {
        Ok(_) => Lookup::Found,
        Err(error) => match error_code(&error) {
            Some("ImageNotFoundException") => Lookup::ImageMissing {
                recent_tags: recent_tags(&ecr, image).await,
            },
            Some("RepositoryNotFoundException") => Lookup::RepositoryMissing,
            _ => lookup_refused(&error, "ecr:DescribeImages", &[]),
        },
    }
}

/// The repository's most recent tags, newest first; none when they cannot
/// be read (the missing image is the problem either way).
async fn recent_tags(ecr: &Client, image: &EcrImage) -> Vec<String> {
    let mut pages = ecr
        .describe_images()
        .registry_id(&image.registry)
        .repository_name(&image.repository)
        .filter(
            DescribeImagesFilter::builder()
                .tag_status(TagStatus::Tagged)
                .build(),
        )
        .into_paginator()
        .send();
    let mut details = Vec::new();
    for _ in 0..MAX_IMAGE_PAGES {
        match pages.next().await {
            Some(Ok(page)) => details.extend(page.image_details.unwrap_or_default()),
            _ => break,
        }
    }
    details.sort_by_key(|detail| Reverse(detail.image_pushed_at.map(|at| at.secs())));
    details
        .into_iter()
        .flat_map(|detail| detail.image_tags.unwrap_or_default())
        .take(RECENT_TAGS)
        .collect()
}
