//! ECR DescribeImages through the official SDK: images by id and by tag
//! status, a page at a time, per registry and region, and ECR's errors.

use crate::common;

use aws_config::Region;
use aws_sdk_ecr::error::ProvideErrorMetadata as _;
use aws_sdk_ecr::types::{DescribeImagesFilter, ImageIdentifier, TagStatus};
use aws_sdk_ecr::Client;
use common::{sdk_config, start};

const REGISTRY: &str = r#"
ecrRepositories:
  - name: shop
    images:
      - {tags: ["1.0"], pushedAt: 1767225600}
      - {tags: []}
      - {tags: ["1.1", latest], digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111", sizeBytes: 734003200}
  - name: shop
    region: eu-west-1
    images: [{tags: [eu]}]
  - name: base
    registryId: "210987654321"
    images: [{tags: ["22.04"]}]
"#;

async fn client(sim: &ecs_deploy_sim::Sim, region: Option<&str>) -> Client {
    let mut config = aws_sdk_ecr::config::Builder::from(&sdk_config(sim).await);
    if let Some(region) = region {
        config = config.region(Region::new(region.to_string()));
    }
    Client::from_conf(config.build())
}

fn tag(tag: &str) -> ImageIdentifier {
    ImageIdentifier::builder().image_tag(tag).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_the_images_asked_for() {
    let sim = start(REGISTRY);
    let ecr = client(&sim, None).await;
    let described = ecr
        .describe_images()
        .repository_name("shop")
        .image_ids(tag("latest"))
        .image_ids(tag("1.0"))
        .image_ids(tag("1.1"))
        .send()
        .await
        .unwrap();
    let images = described.image_details();
    assert_eq!(images.len(), 2, "1.1 and latest are one image");
    let latest = &images[0];
    assert_eq!(latest.registry_id(), Some("123456789012"));
    assert_eq!(latest.repository_name(), Some("shop"));
    assert_eq!(
        latest.image_digest(),
        Some("sha256:1111111111111111111111111111111111111111111111111111111111111111")
    );
    assert_eq!(latest.image_tags(), ["1.1", "latest"]);
    assert_eq!(
        latest.image_size_in_bytes(),
        Some(734_003_200),
        "the scenario's"
    );
    assert!(latest.image_manifest_media_type().is_some());
    let first = &images[1];
    assert_eq!(first.image_pushed_at().unwrap().secs(), 1_767_225_600);
    assert!(first.image_digest().unwrap().starts_with("sha256:"));
    assert_eq!(
        first.image_size_in_bytes(),
        Some(31_457_280),
        "30 MiB by default"
    );
    assert!(
        latest.image_pushed_at().unwrap().secs() > first.image_pushed_at().unwrap().secs(),
        "pushed in list order"
    );

    let by_digest = ecr
        .describe_images()
        .repository_name("shop")
        .image_ids(
            ImageIdentifier::builder()
                .image_digest(first.image_digest().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_digest.image_details()[0].image_tags(), ["1.0"]);
    assert_eq!(sim.calls_to("DescribeImages")[0].service, "ecr");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_or_repository_is_an_error() {
    let sim = start(REGISTRY);
    let ecr = client(&sim, None).await;
    let missing_image = ecr
        .describe_images()
        .repository_name("shop")
        .image_ids(tag("1.0"))
        .image_ids(tag("9.9"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        missing_image.is_image_not_found_exception(),
        "{missing_image:?}"
    );
    assert_eq!(
        missing_image.message(),
        Some("The image with imageId {imageDigest:'null', imageTag:'9.9'} does not exist within the repository with name 'shop' in the registry with id '123456789012'")
    );
    let missing_repository = ecr
        .describe_images()
        .repository_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing_repository.is_repository_not_found_exception());
    assert_eq!(
        missing_repository.message(),
        Some("The repository with name 'ghost' does not exist in the registry with id '123456789012'")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_images_a_page_at_a_time_by_tag_status() {
    let sim = start(REGISTRY);
    let ecr = client(&sim, None).await;
    let first = ecr
        .describe_images()
        .repository_name("shop")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.image_details().len(), 2);
    let second = ecr
        .describe_images()
        .repository_name("shop")
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.image_details().len(), 1);
    assert_eq!(second.next_token(), None);
    assert_eq!(second.image_details()[0].image_tags(), ["1.1", "latest"]);

    let paged: Vec<_> = ecr
        .describe_images()
        .repository_name("shop")
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(paged.len(), 3);

    let untagged = ecr
        .describe_images()
        .repository_name("shop")
        .filter(
            DescribeImagesFilter::builder()
                .tag_status(TagStatus::Untagged)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(untagged.image_details().len(), 1);
    assert!(untagged.image_details()[0].image_tags().is_empty());
    let tagged = ecr
        .describe_images()
        .repository_name("shop")
        .filter(
            DescribeImagesFilter::builder()
                .tag_status(TagStatus::Tagged)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.image_details().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn repositories_belong_to_a_registry_and_a_region() {
    let sim = start(REGISTRY);
    let home = client(&sim, None).await;
    let europe = client(&sim, Some("eu-west-1")).await;
    let in_europe = europe
        .describe_images()
        .repository_name("shop")
        .send()
        .await
        .unwrap();
    assert_eq!(in_europe.image_details().len(), 1);
    assert_eq!(in_europe.image_details()[0].image_tags(), ["eu"]);
    let not_in_europe = europe
        .describe_images()
        .repository_name("shop")
        .image_ids(tag("1.0"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(not_in_europe.is_image_not_found_exception());

    let other_account = home
        .describe_images()
        .registry_id("210987654321")
        .repository_name("base")
        .image_ids(tag("22.04"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other_account.image_details()[0].registry_id(),
        Some("210987654321")
    );
    let not_in_own_registry = home
        .describe_images()
        .repository_name("base")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        not_in_own_registry.code(),
        Some("RepositoryNotFoundException")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_reaches_the_client_as_ecr_says_it() {
    let sim = start(&format!(
        "{REGISTRY}\nfaults:\n  - {{service: ecr, operation: DescribeImages, kind: accessDenied}}"
    ));
    let ecr = client(&sim, None).await;
    let denied = ecr
        .describe_images()
        .repository_name("shop")
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied.message().unwrap().contains("ecr:DescribeImages"));
}
