//! S3 GetObject and HeadObject through the official SDK, in both
//! addressing styles, and S3's XML errors.

use crate::common;

use aws_sdk_s3::Client;
use common::{sdk_config, start, WEB};

async fn client(sim: &ecs_deploy_sim::Sim, path_style: bool) -> Client {
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(sim).await)
        .force_path_style(path_style)
        .build();
    Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn gets_objects_path_style() {
    let sim = start(WEB);
    let s3 = client(&sim, true).await;
    let object = s3
        .get_object()
        .bucket("infra")
        .key("taskdef.json")
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_length(), Some(17));
    assert!(object.e_tag().is_some());
    assert!(object.last_modified().is_some());
    let body = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(&body[..], br#"{"family": "web"}"#);

    let spaced = s3
        .get_object()
        .bucket("infra")
        .key("dir/with space.json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &spaced.body.collect().await.unwrap().into_bytes()[..],
        b"spaced"
    );

    let head = s3
        .head_object()
        .bucket("infra")
        .key("taskdef.json")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(17));

    let operations: Vec<String> = sim.calls().into_iter().map(|call| call.operation).collect();
    assert_eq!(operations, ["GetObject", "GetObject", "HeadObject"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_missing_keys_and_buckets() {
    let sim = start(WEB);
    let s3 = client(&sim, true).await;
    let missing_key = s3
        .get_object()
        .bucket("infra")
        .key("ghost")
        .send()
        .await
        .unwrap_err();
    assert!(missing_key.into_service_error().is_no_such_key());
    let missing_head = s3
        .head_object()
        .bucket("infra")
        .key("ghost")
        .send()
        .await
        .unwrap_err();
    assert!(missing_head.into_service_error().is_not_found());
    let missing_bucket = s3
        .get_object()
        .bucket("nope")
        .key("x")
        .send()
        .await
        .unwrap_err();
    let error = missing_bucket.into_service_error();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&error),
        Some("NoSuchBucket")
    );
}

#[test]
fn serves_virtual_host_style_requests() {
    let sim = start(WEB);
    let port = sim.aws_endpoint().rsplit(':').next().unwrap().to_string();
    let response = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/taskdef.json"))
        .header("host", format!("infra.localhost:{port}"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), r#"{"family": "web"}"#);
    let missing = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/ghost"))
        .header("host", format!("infra.localhost:{port}"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().unwrap().contains("<Code>NoSuchKey</Code>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn puts_objects_into_existing_buckets() {
    let sim = start(WEB);
    let s3 = client(&sim, true).await;
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"rendered");
    let put = s3
        .put_object()
        .bucket("infra")
        .key("out/td.json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(put.e_tag().is_some());
    let object = s3
        .get_object()
        .bucket("infra")
        .key("out/td.json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &object.body.collect().await.unwrap().into_bytes()[..],
        b"rendered"
    );
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"x");
    let missing = s3
        .put_object()
        .bucket("nope")
        .key("x")
        .body(body)
        .send()
        .await
        .unwrap_err();
    let error = missing.into_service_error();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&error),
        Some("NoSuchBucket")
    );
}
