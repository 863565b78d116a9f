//! The preflight: after rendering and before the first call that changes
//! anything, every image, secret, parameter, log group and environment file
//! that the rendered definitions need is looked up, all at once. What does
//! not exist stops the run with every problem named; a lookup the role may
//! not make is a warning, so that a deploy role without read permissions
//! still deploys. Values are never read: DescribeSecret and GetParameters
//! without decryption say whether a secret exists, not what it holds.

mod event;
pub(crate) mod references;
pub(crate) mod verdict;

pub(crate) use event::Event;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Result};
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, TagStatus};
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use futures::{stream, StreamExt};
use serde_json::Value;

use crate::aws::errors::is_access_denied;
use crate::aws::{error_code, error_text, Aws, LazyAws, CONCURRENT_CALLS};
use crate::present::runner::Runner;
use references::{EcrImage, ImageId, Needed, Reference};
use verdict::{Lookup, RECENT_TAGS};

/// Names per GetParameters call, SSM's limit.
const PARAMETERS_PER_CALL: usize = 10;
/// Pages of a repository's images read to find its most recent tags.
const MAX_IMAGE_PAGES: usize = 10;

/// Checks what `definitions` need; an error listing every problem when
/// something does not exist. A dry run without a region or credentials
/// still shows what it would do, with nothing checked.
pub(crate) async fn check(
    aws: &LazyAws,
    runner: &Runner,
    definitions: &[&Value],
    dry_run: bool,
) -> Result<()> {
    let mut all: Vec<Reference> = Vec::new();
    let mut outside_ecr = BTreeSet::new();
    for definition in definitions {
        let (found, others) = references::references(definition);
        all.extend(found);
        outside_ecr.extend(others);
    }
    if !outside_ecr.is_empty() {
        let images: Vec<String> = outside_ecr.into_iter().collect();
        runner.info(&format!(
            "Preflight: images outside Amazon ECR are not checked: {}",
            images.join(", ")
        ));
    }
    if all.is_empty() {
        return Ok(());
    }
    let needed: BTreeSet<Needed> = all.iter().map(|r| r.needed.clone()).collect();
    let lookups = match aws.get().await {
        Ok(aws) => look_up(aws, &needed).await,
        Err(error) if dry_run => {
            runner.warning(&format!("preflight checked nothing: {error:#}"));
            HashMap::new()
        }
        Err(error) => return Err(error),
    };
    let findings = verdict::judge(&all, &lookups);
    for warning in &findings.warnings {
        runner.warning(warning);
    }
    runner.info(&verdict::tally(&needed, &lookups));
    if findings.problems.is_empty() {
        return Ok(());
    }
    bail!(
        "the preflight found {} before anything changed:\n{}",
        verdict::problems_counted(findings.problems.len()),
        findings.problems.join("\n")
    )
}

/// Every needed thing looked up, each kind at most `CONCURRENT_CALLS` calls
/// at once and all kinds at the same time.
async fn look_up(aws: &Aws, needed: &BTreeSet<Needed>) -> HashMap<Needed, Lookup> {
    let mut images = Vec::new();
    let mut secrets = Vec::new();
    let mut parameters: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    let mut log_groups = Vec::new();
    let mut files = Vec::new();
    for thing in needed {
        match thing {
            Needed::Image(image) => images.push(image),
            Needed::Secret { arn, region } => secrets.push((arn, region)),
            Needed::Parameter { name, region } => {
                parameters.entry(region.as_deref()).or_default().push(name)
            }
            Needed::LogGroup { name, region } => log_groups.push((name, region)),
            Needed::EnvironmentFile { bucket, key } => files.push((bucket, key)),
        }
    }
    let batches: Vec<(Option<&str>, &[&str])> = parameters
        .iter()
        .flat_map(|(region, names)| {
            names
                .chunks(PARAMETERS_PER_CALL)
                .map(move |chunk| (*region, chunk))
        })
        .collect();
    let (images, secrets, parameters, log_groups, files) = futures::join!(
        all(images.into_iter().map(|image| async move {
            vec![(Needed::Image(image.clone()), image_lookup(aws, image).await)]
        })),
        all(secrets.into_iter().map(|(arn, region)| async move {
            vec![(
                Needed::Secret {
                    arn: arn.clone(),
                    region: region.clone(),
                },
                secret_lookup(aws, arn, region.as_deref()).await,
            )]
        })),
        all(batches
            .into_iter()
            .map(|(region, names)| parameters_lookup(aws, region, names))),
        all(log_groups.into_iter().map(|(name, region)| async move {
            vec![(
                Needed::LogGroup {
                    name: name.clone(),
                    region: region.clone(),
                },
                log_group_lookup(aws, name, region.as_deref()).await,
            )]
        })),
        all(files.into_iter().map(|(bucket, key)| async move {
            vec![(
                Needed::EnvironmentFile {
                    bucket: bucket.clone(),
                    key: key.clone(),
                },
                file_lookup(aws, bucket, key).await,
            )]
        })),
    );
    images
        .into_iter()
        .chain(secrets)
        .chain(parameters)
        .chain(log_groups)
        .chain(files)
        .collect()
}

async fn all<F>(lookups: impl Iterator<Item = F>) -> Vec<(Needed, Lookup)>
where
    F: std::future::Future<Output = Vec<(Needed, Lookup)>>,
{
    stream::iter(lookups)
        .buffer_unordered(CONCURRENT_CALLS)
        .flat_map(stream::iter)
        .collect()
        .await
}

/// A lookup that AWS refused or could not answer: missing when the code
/// (or, for S3's bodiless HEAD answers, the status 404) says so, denied on
/// AccessDenied or 403, otherwise failed with the error.
fn refused<E>(
    error: &SdkError<E, HttpResponse>,
    permission: &'static str,
    missing: &[&str],
) -> Lookup
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|raw| raw.status().as_u16());
    match error_code(error) {
        Some(code) if missing.contains(&code) => Lookup::Missing,
        Some(code) if is_access_denied(code) => Lookup::Denied { permission },
        None | Some("NotFound" | "Forbidden") if status == Some(404) => Lookup::Missing,
        None | Some("NotFound" | "Forbidden") if status == Some(403) => {
            Lookup::Denied { permission }
        }
        _ => Lookup::Failed(error_text(error)),
    }
}

async fn image_lookup(aws: &Aws, image: &EcrImage) -> Lookup {
    let ecr = aws_sdk_ecr::Client::new(&aws.config_in(Some(&image.region)));
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
            _ => refused(&error, "ecr:DescribeImages", &[]),
        },
    }
}

/// The repository's most recent tags, newest first; none when they cannot
/// be read (the missing image is the problem either way).
async fn recent_tags(ecr: &aws_sdk_ecr::Client, image: &EcrImage) -> Vec<String> {
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

async fn secret_lookup(aws: &Aws, arn: &str, region: Option<&str>) -> Lookup {
    let secrets = aws_sdk_secretsmanager::Client::new(&aws.config_in(region));
    match secrets.describe_secret().secret_id(arn).send().await {
        Ok(_) => Lookup::Found,
        Err(error) => refused(
            &error,
            "secretsmanager:DescribeSecret",
            &["ResourceNotFoundException"],
        ),
    }
}

/// One GetParameters call: what it lists as invalid is missing, the rest
/// exists.
async fn parameters_lookup(
    aws: &Aws,
    region: Option<&str>,
    names: &[&str],
) -> Vec<(Needed, Lookup)> {
    let ssm = aws_sdk_ssm::Client::new(&aws.config_in(region));
    let answer = ssm
        .get_parameters()
        .set_names(Some(names.iter().map(|n| (*n).to_owned()).collect()))
        .with_decryption(false)
        .send()
        .await;
    let needed = |name: &str| Needed::Parameter {
        name: name.to_owned(),
        region: region.map(str::to_owned),
    };
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
                    (needed(name), lookup)
                })
                .collect()
        }
        Err(error) => {
            let lookup = refused(&error, "ssm:GetParameters", &[]);
            names
                .iter()
                .map(|name| (needed(name), lookup.clone()))
                .collect()
        }
    }
}

async fn log_group_lookup(aws: &Aws, name: &str, region: Option<&str>) -> Lookup {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws.config_in(region));
    // The group itself sorts first among the groups its name begins.
    let answer = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .limit(1)
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let groups = answer.log_groups.unwrap_or_default();
            if groups
                .iter()
                .any(|g| g.log_group_name.as_deref() == Some(name))
            {
                Lookup::Found
            } else {
                Lookup::Missing
            }
        }
        Err(error) => refused(
            &error,
            "logs:DescribeLogGroups",
            &["ResourceNotFoundException"],
        ),
    }
}

async fn file_lookup(aws: &Aws, bucket: &str, key: &str) -> Lookup {
    match aws.s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Lookup::Found,
        // Without s3:ListBucket, S3 answers a missing object with 403 too.
        Err(error) => refused(
            &error,
            "s3:GetObject (with s3:ListBucket on the bucket, a missing object is told from a refused one)",
            &["NoSuchKey", "NoSuchBucket"],
        ),
    }
}
