//! ECS operations driven by the official SDK: every response must parse
//! into the SDK's types with its fields populated.

mod common;

use aws_sdk_ecs::types::{
    ContainerDefinition, KeyValuePair, LogConfiguration, LogDriver, Tag, TaskDefinitionField,
};
use aws_sdk_ecs::Client;
use common::{sdk_config, start, WEB};

fn web_container(image: &str) -> ContainerDefinition {
    ContainerDefinition::builder()
        .name("web")
        .image(image)
        .essential(true)
        .memory(512)
        .environment(KeyValuePair::builder().name("MODE").value("prod").build())
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", "/ecs/web")
                .options("awslogs-stream-prefix", "ecs")
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn registers_and_describes_task_definitions() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);

    let registered = ecs
        .register_task_definition()
        .family("web")
        .container_definitions(web_container("nginx:2"))
        .tags(Tag::builder().key("sha").value("abc").build())
        .send()
        .await
        .unwrap();
    let td = registered.task_definition().unwrap();
    assert_eq!(
        td.task_definition_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2")
    );
    assert_eq!(td.revision(), 2);
    assert_eq!(td.status().unwrap().as_str(), "ACTIVE");
    assert!(td.registered_at().is_some());
    assert!(!td.requires_attributes().is_empty());
    assert!(!td.compatibilities().is_empty());
    assert_eq!(td.container_definitions()[0].image(), Some("nginx:2"));
    assert_eq!(registered.tags()[0].key(), Some("sha"));

    let latest = ecs
        .describe_task_definition()
        .task_definition("web")
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .unwrap();
    assert_eq!(latest.task_definition().unwrap().revision(), 2);
    assert_eq!(latest.tags()[0].value(), Some("abc"));

    let first = ecs
        .describe_task_definition()
        .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.task_definition().unwrap().revision(), 1);
    assert!(first.tags().is_empty(), "tags only with include TAGS");

    let deregistered = ecs
        .deregister_task_definition()
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deregistered
            .task_definition()
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "INACTIVE"
    );
    assert!(deregistered
        .task_definition()
        .unwrap()
        .deregistered_at()
        .is_some());
    let after = ecs
        .describe_task_definition()
        .task_definition("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.task_definition().unwrap().revision(),
        1,
        "family = latest ACTIVE"
    );

    let listed = ecs
        .list_task_definitions()
        .family_prefix("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.task_definition_arns(),
        ["arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"]
    );

    let missing = ecs
        .describe_task_definition()
        .task_definition("nope:9")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_client_exception(), "{missing:?}");
    assert_eq!(
        aws_sdk_ecs::error::ProvideErrorMetadata::message(&missing),
        Some("Unable to describe task definition.")
    );

    assert_eq!(
        sim.task_definitions().len(),
        1,
        "pre-registered ones are not included"
    );
    assert_eq!(
        sim.task_definitions()[0]["containerDefinitions"][0]["environment"][0]["name"],
        "MODE"
    );
}

#[test]
fn keeps_registration_bodies_exactly_as_sent() {
    let sim = start(WEB);
    let body = serde_json::json!({
        "family": "api",
        "containerDefinitions": [{"name": "api", "image": "api:1", "memory": 256, "futureField": {"x": 1}}],
        "someNewTopLevelField": true,
    });
    let response = reqwest::blocking::Client::new()
        .post(sim.aws_endpoint())
        .header(
            "x-amz-target",
            "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().unwrap();
    assert_eq!(answer["taskDefinition"]["someNewTopLevelField"], true);
    assert_eq!(sim.task_definitions(), vec![body]);
    let calls = sim.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].service.as_str(), calls[0].operation.as_str()),
        ("ecs", "RegisterTaskDefinition")
    );
}

#[test]
fn answers_aws_shaped_errors() {
    let sim = start(WEB);
    let post = |target: &str, body: &str| {
        reqwest::blocking::Client::new()
            .post(sim.aws_endpoint())
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let missing = post(
        "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
        r#"{"taskDefinition": "ghost"}"#,
    );
    assert_eq!(missing.status(), 400);
    let body: serde_json::Value = missing.json().unwrap();
    assert_eq!(body["__type"], "ClientException");
    assert_eq!(body["message"], "Unable to describe task definition.");
    let unknown = post("AmazonEC2ContainerServiceV20141113.Teleport", "{}");
    assert_eq!(unknown.status(), 400);
    let body: serde_json::Value = unknown.json().unwrap();
    assert_eq!(body["__type"], "UnknownOperationException");
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_services_and_reports_missing_ones() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);
    let described = ecs
        .describe_services()
        .cluster("prod")
        .services("web")
        .services("arn:aws:ecs:us-east-1:123456789012:service/prod/ghost")
        .send()
        .await
        .unwrap();
    let service = &described.services()[0];
    assert_eq!(service.service_name(), Some("web"));
    assert_eq!(
        service.service_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/prod/web")
    );
    assert_eq!(
        service.cluster_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
    );
    assert_eq!(service.status(), Some("ACTIVE"));
    assert_eq!((service.desired_count(), service.running_count()), (2, 2));
    assert_eq!(service.launch_type().unwrap().as_str(), "FARGATE");
    assert_eq!(
        service.task_definition(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1")
    );
    let breaker = service
        .deployment_configuration()
        .and_then(|config| config.deployment_circuit_breaker())
        .unwrap();
    assert!(breaker.enable() && breaker.rollback());
    assert_eq!(
        service.deployment_controller().unwrap().r#type().as_str(),
        "ECS"
    );
    let subnets = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .map(|a| a.subnets().to_vec());
    assert_eq!(subnets, Some(vec!["subnet-1".to_string()]));
    let deployment = &service.deployments()[0];
    assert!(deployment.id().unwrap().starts_with("ecs-svc/"));
    assert_eq!(deployment.status(), Some("PRIMARY"));
    assert_eq!(deployment.rollout_state().unwrap().as_str(), "COMPLETED");
    assert!(deployment.created_at().is_some());
    assert!(!service.events().is_empty());
    assert!(service.events()[0].id().is_some());

    let failure = &described.failures()[0];
    assert_eq!(failure.reason(), Some("MISSING"));
    assert_eq!(
        failure.arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/prod/ghost")
    );

    let no_cluster = ecs
        .describe_services()
        .cluster("elsewhere")
        .services("web")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        no_cluster.is_cluster_not_found_exception(),
        "{no_cluster:?}"
    );
}

/// On a current-thread runtime too, as a plain #[tokio::test] has.
#[tokio::test]
async fn describes_clusters_and_lists_services() {
    let sim = start(WEB);
    let before = sim.elapsed();
    let ecs = Client::new(&sdk_config(&sim).await);
    let clusters = ecs
        .describe_clusters()
        .clusters("prod")
        .clusters("ghost")
        .send()
        .await
        .unwrap();
    let cluster = &clusters.clusters()[0];
    assert_eq!(cluster.cluster_name(), Some("prod"));
    assert_eq!(cluster.status(), Some("ACTIVE"));
    assert_eq!(cluster.active_services_count(), 1);
    assert_eq!(clusters.failures()[0].reason(), Some("MISSING"));
    let services = ecs.list_services().cluster("prod").send().await.unwrap();
    assert_eq!(
        services.service_arns(),
        ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"]
    );
    let calls = sim.calls();
    assert!(calls
        .iter()
        .all(|call| call.at >= before && call.at <= sim.elapsed()));
}
