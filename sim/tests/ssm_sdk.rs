//! Systems Manager GetParameters through the official SDK: parameters by
//! name and ARN, per region, SecureStrings sealed unless decrypted, and
//! the names that were not found.

use crate::common;

use aws_config::Region;
use aws_sdk_ssm::error::ProvideErrorMetadata as _;
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use common::{sdk_config, start};

const PARAMETERS: &str = r#"
ssmParameters:
  - {name: /shop/prod/db-password, value: hunter2}
  - {name: feature-flags, type: StringList, value: "a,b"}
  - {name: plain, type: String, value: hello}
  - {name: /shop/eu/token, region: eu-west-1}
"#;

async fn client(sim: &ecs_deploy_sim::Sim, region: &str) -> Client {
    let config = aws_sdk_ssm::config::Builder::from(&sdk_config(sim).await)
        .region(Region::new(region.to_string()))
        .build();
    Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn gets_parameters_by_name_and_arn() {
    let sim = start(PARAMETERS);
    let ssm = client(&sim, "us-east-1").await;
    let got = ssm
        .get_parameters()
        .names("/shop/prod/db-password")
        .names("arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags")
        .names("plain")
        .names("/shop/prod/ghost")
        .names("/shop/eu/token")
        .send()
        .await
        .unwrap();
    let parameters = got.parameters();
    assert_eq!(parameters.len(), 3);
    let secret = &parameters[0];
    assert_eq!(secret.name(), Some("/shop/prod/db-password"));
    assert_eq!(secret.r#type(), Some(&ParameterType::SecureString));
    let sealed = secret.value().unwrap();
    assert!(!sealed.contains("hunter2"), "{sealed}");
    assert_eq!(secret.version(), 1);
    assert!(secret.last_modified_date().is_some());
    assert_eq!(
        secret.arn(),
        Some("arn:aws:ssm:us-east-1:123456789012:parameter/shop/prod/db-password")
    );
    assert_eq!(secret.data_type(), Some("text"));
    assert_eq!(parameters[1].name(), Some("feature-flags"));
    assert_eq!(parameters[1].r#type(), Some(&ParameterType::StringList));
    assert_eq!(parameters[1].value(), Some("a,b"));
    assert_eq!(
        parameters[2].value(),
        Some("hello"),
        "a String is never sealed"
    );
    assert_eq!(
        got.invalid_parameters(),
        ["/shop/prod/ghost", "/shop/eu/token"],
        "as given; the eu-west-1 parameter is not in us-east-1"
    );
    assert_eq!(sim.calls_to("GetParameters")[0].service, "ssm");
}

#[tokio::test(flavor = "multi_thread")]
async fn decrypts_secure_strings_when_asked() {
    let sim = start(PARAMETERS);
    let ssm = client(&sim, "us-east-1").await;
    let got = ssm
        .get_parameters()
        .names("/shop/prod/db-password")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parameters()[0].value(), Some("hunter2"));
    assert!(got.invalid_parameters().is_empty());
    let europe = client(&sim, "eu-west-1").await;
    let in_europe = europe
        .get_parameters()
        .names("/shop/eu/token")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(in_europe.parameters()[0].value(), Some("value"));
}

#[tokio::test(flavor = "multi_thread")]
async fn more_than_ten_names_is_a_validation_error() {
    let sim = start(PARAMETERS);
    let ssm = client(&sim, "us-east-1").await;
    let names: Vec<String> = (1..=11).map(|n| format!("p{n}")).collect();
    let refused = ssm
        .get_parameters()
        .set_names(Some(names))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ValidationException"));
    assert!(
        refused
            .message()
            .unwrap()
            .ends_with("at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"),
        "{:?}",
        refused.message()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_reaches_the_client() {
    let sim = start(&format!(
        "{PARAMETERS}\nfaults:\n  - {{service: ssm, operation: GetParameters, kind: accessDenied}}"
    ));
    let ssm = client(&sim, "us-east-1").await;
    let denied = ssm
        .get_parameters()
        .names("plain")
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied.message().unwrap().contains("ssm:GetParameters"));
}
