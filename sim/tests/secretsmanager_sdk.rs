//! Secrets Manager DescribeSecret through the official SDK: a secret by
//! name, full ARN and partial ARN, per region, never with its value.

use crate::common;

use aws_config::Region;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata as _;
use aws_sdk_secretsmanager::Client;
use common::{sdk_config, start};

const SECRETS: &str = r#"
secrets:
  - {name: prod/db, suffix: AbC123, description: the database}
  - {name: prod/api}
  - {name: prod/eu, suffix: EuEuEu, region: eu-west-1}
"#;

const DB_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123";

async fn client(sim: &ecs_deploy_sim::Sim, region: &str) -> Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config(sim).await)
        .region(Region::new(region.to_string()))
        .build();
    Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_a_secret_by_name_or_arn() {
    let sim = start(SECRETS);
    let secrets = client(&sim, "us-east-1").await;
    for id in [
        "prod/db",
        DB_ARN,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db",
    ] {
        let described = secrets
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(described.arn(), Some(DB_ARN), "{id}");
        assert_eq!(described.name(), Some("prod/db"));
        assert_eq!(described.description(), Some("the database"));
        assert!(described.created_date().is_some());
        assert!(described.last_changed_date().is_some());
        let stages = described.version_ids_to_stages().unwrap();
        assert_eq!(stages.len(), 1);
        assert_eq!(stages.values().next().unwrap(), &["AWSCURRENT".to_string()]);
    }
    let generated = secrets
        .describe_secret()
        .secret_id("prod/api")
        .send()
        .await
        .unwrap();
    let arn = generated.arn().unwrap();
    let suffix = arn.rsplit_once("prod/api-").unwrap().1;
    assert_eq!(suffix.len(), 6, "{arn}");
    assert_eq!(generated.description(), None);

    let call = &sim.calls_to("DescribeSecret")[0];
    assert_eq!(call.service, "secretsmanager");
    assert_eq!(call.body["SecretId"], "prod/db");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_elsewhere_or_nowhere_is_not_found() {
    let sim = start(SECRETS);
    let home = client(&sim, "us-east-1").await;
    let europe = client(&sim, "eu-west-1").await;
    for (secrets, id) in [
        (&home, "prod/ghost"),
        (&home, "prod/eu"),
        (&europe, "prod/db"),
        (
            &home,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-XXXXXX",
        ),
    ] {
        let missing = secrets
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            missing.is_resource_not_found_exception(),
            "{id}: {missing:?}"
        );
        assert_eq!(
            missing.message(),
            Some("Secrets Manager can't find the specified secret.")
        );
    }
    let in_europe = europe
        .describe_secret()
        .secret_id("prod/eu")
        .send()
        .await
        .unwrap();
    assert_eq!(
        in_europe.arn(),
        Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/eu-EuEuEu")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_reaches_the_client() {
    let sim = start(&format!(
        "{SECRETS}\nfaults:\n  - {{service: secretsmanager, kind: accessDenied}}"
    ));
    let secrets = client(&sim, "us-east-1").await;
    let denied = secrets
        .describe_secret()
        .secret_id("prod/db")
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied
        .message()
        .unwrap()
        .contains("secretsmanager:DescribeSecret"));
}

#[test]
fn errors_name_their_message_as_secrets_manager_does() {
    let sim = start(SECRETS);
    let response = reqwest::blocking::Client::new()
        .post(sim.aws_endpoint())
        .header("x-amz-target", "secretsmanager.DescribeSecret")
        .header("content-type", "application/x-amz-json-1.1")
        .body(r#"{"SecretId": "prod/ghost"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "__type": "ResourceNotFoundException",
            "Message": "Secrets Manager can't find the specified secret.",
        })
    );
}
