//! Amazon ECR: repositories and their images, kept per registry (an
//! account) and region, for DescribeImages.

use std::time::Duration;

use serde_json::{json, Value};

use crate::aws::{fnv1a, object, required_str, AwsError, AwsResult, Paging};
use crate::scenario::Scenario;
use crate::world::{str_field, World};

/// What ECR answers for an image pushed by `docker push`.
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const ARTIFACT_MEDIA_TYPE: &str = "application/vnd.docker.container.image.v1+json";
/// An image's size when the scenario gives none.
const IMAGE_SIZE_IN_BYTES: u64 = 31_457_280;

/// DescribeImages answers 100 images a page unless maxResults (1 to 1000) says otherwise.
const IMAGE_PAGES: Paging = Paging {
    size_member: "maxResults",
    token_member: "nextToken",
    default_size: 100,
    max_size: 1000,
    error_code: "InvalidParameterException",
};

#[derive(Default)]
pub(crate) struct EcrState {
    repositories: Vec<Repository>,
}

struct Repository {
    registry_id: String,
    region: String,
    name: String,
    /// In the order they were pushed.
    images: Vec<Image>,
}

struct Image {
    digest: String,
    tags: Vec<String>,
    /// Epoch seconds.
    pushed_at: f64,
    size_bytes: u64,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) {
    let started = world.epoch(Duration::ZERO).floor();
    for setup in &scenario.ecr_repositories {
        let count = setup.images.len();
        let images = setup
            .images
            .iter()
            .enumerate()
            .map(|(position, image)| Image {
                digest: image
                    .digest
                    .clone()
                    .unwrap_or_else(|| digest_of(&setup.name, &image.tags, position)),
                tags: image.tags.clone(),
                pushed_at: image
                    .pushed_at
                    .unwrap_or(started - 60.0 * (count - position) as f64),
                size_bytes: image.size_bytes.unwrap_or(IMAGE_SIZE_IN_BYTES),
            })
            .collect();
        let repository = Repository {
            registry_id: setup
                .registry_id
                .clone()
                .unwrap_or_else(|| world.account.clone()),
            region: setup.region.clone().unwrap_or_else(|| world.region.clone()),
            name: setup.name.clone(),
            images,
        };
        world.ecr.repositories.push(repository);
    }
}

/// A well-formed digest that stays the same from run to run (not the hash
/// of a manifest: there is none).
fn digest_of(repository: &str, tags: &[String], position: usize) -> String {
    let seed = format!("{repository}:{}:{position}", tags.join(","));
    let hex: String = (0..4)
        .map(|part| format!("{:016x}", fnv1a(format!("{seed}:{part}").as_bytes())))
        .collect();
    format!("sha256:{hex}")
}

pub(crate) fn handle(
    world: &mut World,
    operation: &str,
    body: &Value,
    region: &str,
) -> Option<AwsResult> {
    let result = match operation {
        "DescribeImages" => describe_images(world, body, region),
        _ => return None,
    };
    Some(result)
}

fn invalid_parameter(message: &str) -> AwsError {
    AwsError::client("InvalidParameterException", message)
}

/// The images asked for by `imageIds` (each must exist), or else every
/// image the tag status filter lets through, a page at a time.
fn describe_images(world: &mut World, body: &Value, region: &str) -> AwsResult {
    let name = required_str(body, "repositoryName")?;
    let registry_id = str_field(body, "registryId").unwrap_or(&world.account);
    let repository = world
        .ecr
        .repositories
        .iter()
        .find(|r| r.registry_id == registry_id && r.region == region && r.name == name)
        .ok_or_else(|| {
            AwsError::client(
                "RepositoryNotFoundException",
                format!(
                    "The repository with name '{name}' does not exist in the registry with id '{registry_id}'"
                ),
            )
        })?;
    let (images, next_token) = match body.get("imageIds").and_then(Value::as_array) {
        Some(ids) => {
            if body.get("maxResults").is_some() || body.get("nextToken").is_some() {
                return Err(invalid_parameter(
                    "maxResults and nextToken cannot be used with imageIds.",
                ));
            }
            (requested_images(repository, ids)?, None)
        }
        None => {
            let tag_status = body
                .pointer("/filter/tagStatus")
                .and_then(Value::as_str)
                .unwrap_or("ANY");
            let wanted: fn(&Image) -> bool = match tag_status {
                "TAGGED" => |image| !image.tags.is_empty(),
                "UNTAGGED" => |image| image.tags.is_empty(),
                "ANY" => |_| true,
                _ => {
                    return Err(invalid_parameter(
                        "Invalid parameter at 'filter.tagStatus'.",
                    ))
                }
            };
            let matching: Vec<&Image> = repository.images.iter().filter(|i| wanted(i)).collect();
            let (page, next_token) = IMAGE_PAGES.page(body, &matching)?;
            (page.to_vec(), next_token)
        }
    };
    let details: Vec<Value> = images
        .iter()
        .map(|image| render_image(repository, image))
        .collect();
    Ok(object(vec![
        ("imageDetails", Value::Array(details)),
        ("nextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// Each image an id names, once; the first id naming none is
/// ImageNotFoundException, as ECR answers (BatchGetImage is the operation
/// that answers `failures` instead).
fn requested_images<'a>(
    repository: &'a Repository,
    ids: &[Value],
) -> Result<Vec<&'a Image>, AwsError> {
    let mut found: Vec<&Image> = Vec::new();
    for id in ids {
        let tag = str_field(id, "imageTag");
        let digest = str_field(id, "imageDigest");
        let image = repository
            .images
            .iter()
            .filter(|image| tag.is_none_or(|tag| image.tags.iter().any(|t| t == tag)))
            .find(|image| digest.is_none_or(|digest| image.digest == digest))
            .filter(|_| tag.is_some() || digest.is_some())
            .ok_or_else(|| {
                AwsError::client(
                    "ImageNotFoundException",
                    format!(
                        "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist within the repository with name '{}' in the registry with id '{}'",
                        digest.unwrap_or("null"),
                        tag.unwrap_or("null"),
                        repository.name,
                        repository.registry_id
                    ),
                )
            })?;
        if !found.iter().any(|seen| std::ptr::eq(*seen, image)) {
            found.push(image);
        }
    }
    Ok(found)
}

fn render_image(repository: &Repository, image: &Image) -> Value {
    object(vec![
        ("registryId", json!(repository.registry_id)),
        ("repositoryName", json!(repository.name)),
        ("imageDigest", json!(image.digest)),
        // ECR leaves the member out for an untagged image.
        (
            "imageTags",
            if image.tags.is_empty() {
                Value::Null
            } else {
                json!(image.tags)
            },
        ),
        ("imageSizeInBytes", json!(image.size_bytes)),
        ("imagePushedAt", json!(image.pushed_at)),
        ("imageManifestMediaType", json!(MANIFEST_MEDIA_TYPE)),
        ("artifactMediaType", json!(ARTIFACT_MEDIA_TYPE)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_well_formed_digests_that_differ_by_image() {
        let digest = digest_of("shop", &["1.0".to_string()], 0);
        assert_eq!(digest, digest_of("shop", &["1.0".to_string()], 0));
        assert!(digest.starts_with("sha256:"));
        assert_eq!(digest.len(), "sha256:".len() + 64);
        assert!(digest[7..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(digest, digest_of("shop", &[], 1));
    }
}
