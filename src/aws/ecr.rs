//! Whether an image is in its ECR repository, and the repository's recent
//! tags when it is not.

use std::cmp::Reverse;

use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, TagStatus};
use aws_sdk_ecr::Client;

use super::errors::lookup_refused;
use super::{error_code, Aws};
use crate::preflight::references::{EcrImage, ImageId};
use crate::preflight::verdict::{Lookup, RECENT_TAGS};

/// Pages of a repository's images read to find its most recent tags.
const MAX_IMAGE_PAGES: usize = 10;

pub(crate) async fn image_lookup(aws: &Aws, image: &EcrImage) -> Lookup {
    let ecr = Client::new(&aws.config_in(Some(&image.region)));
    let id = match &image.id {
        ImageId::Tag(tag) => ImageIdentifier::builder().image_tag(tag),
        ImageId::Digest(digest) => ImageIdentifier::builder().image_digest(digest),
    };
    let described = ecr
        .describe_images()
        .registry_id(&image.registry)
        .repository_name(&image.repository)
        .image_ids(id.build())
        .send()
        .await;
    match described {
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
