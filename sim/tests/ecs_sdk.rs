//! ECS operations driven by the official SDK: every response must parse
//! into the SDK's types with its fields populated.

use crate::common;

use aws_sdk_ecs::operation::list_services::builders::ListServicesFluentBuilder;
use aws_sdk_ecs::types::{
    ContainerDefinition, KeyValuePair, LaunchType, LogConfiguration, LogDriver, SchedulingStrategy,
    Tag, TaskDefinitionFamilyStatus, TaskDefinitionField, TaskDefinitionStatus,
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
        "containerDefinitions": [{"name": "api", "image": "api:1", "memory": 256, "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}]}],
        "ephemeralStorage": {"sizeInGiB": 30},
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
    assert_eq!(
        answer["taskDefinition"]["ephemeralStorage"]["sizeInGiB"],
        30
    );
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
    // What ECS's model does not allow is refused before anything is done.
    let not_in_model = post(
        "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition",
        r#"{"family": "api", "containerDefinitions": [{"name": "api", "image": "api:1", "futureField": 1}], "cpu": null}"#,
    );
    assert_eq!(not_in_model.status(), 400);
    let body: serde_json::Value = not_in_model.json().unwrap();
    assert_eq!(body["__type"], "InvalidParameterException");
    assert_eq!(
        body["message"],
        "2 validation errors detected: \
         Value at 'containerDefinitions.1.member.futureField' failed to satisfy constraint: Member is not in the model of ContainerDefinition; \
         Value null at 'cpu' failed to satisfy constraint: Member must not be null (an unset member is left out, never sent as null)"
    );
    assert!(sim.task_definitions().is_empty());
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

/// Cluster prod with ten Fargate replicas, a replica and a daemon on EC2,
/// and an INACTIVE service; cluster staging with one service.
fn fleet() -> String {
    let mut services: Vec<String> = (1..=10)
        .map(|n| format!("  - {{cluster: prod, serviceName: app-{n:02}, taskDefinition: app:1, launchType: FARGATE}}"))
        .collect();
    services.extend([
        "  - {cluster: prod, serviceName: worker, taskDefinition: app:1, launchType: EC2}".to_string(),
        "  - {cluster: prod, serviceName: agent, taskDefinition: app:1, launchType: EC2, schedulingStrategy: DAEMON}".to_string(),
        "  - {cluster: prod, serviceName: retired, taskDefinition: app:1, status: INACTIVE}".to_string(),
        "  - {cluster: staging, serviceName: app-01, taskDefinition: app:1}".to_string(),
    ]);
    format!(
        "taskDefinitions:\n  - {{family: app, containerDefinitions: [{{name: app, image: app}}]}}\nservices:\n{}\n",
        services.join("\n")
    )
}

/// The services one ListServices page lists, as cluster/name.
async fn listed(request: ListServicesFluentBuilder) -> Vec<String> {
    let page = request.send().await.unwrap();
    let names = page.service_arns().iter().map(|arn| {
        let (cluster, name) = arn
            .strip_prefix("arn:aws:ecs:us-east-1:123456789012:service/")
            .and_then(|resource| resource.split_once('/'))
            .unwrap();
        format!("{cluster}/{name}")
    });
    names.collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_services_ten_a_page_by_launch_type_and_scheduling_strategy() {
    let sim = start(&fleet());
    let ecs = Client::new(&sdk_config(&sim).await);
    let prod = || ecs.list_services().cluster("prod");
    let apps: Vec<String> = (1..=10).map(|n| format!("prod/app-{n:02}")).collect();

    assert_eq!(listed(prod()).await, apps, "ten a page by default");
    let all: Vec<String> = prod()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 12, "INACTIVE left out: {all:?}");
    assert_eq!(
        all[10..],
        [
            "arn:aws:ecs:us-east-1:123456789012:service/prod/worker",
            "arn:aws:ecs:us-east-1:123456789012:service/prod/agent",
        ]
    );
    let pages: Vec<usize> = ecs
        .list_services()
        .cluster("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
        .into_paginator()
        .page_size(5)
        .send()
        .try_collect()
        .await
        .unwrap()
        .iter()
        .map(|page| page.service_arns().len())
        .collect();
    assert_eq!(pages, [5, 5, 2]);

    let ec2 = prod().launch_type(LaunchType::Ec2);
    assert_eq!(listed(ec2.clone()).await, ["prod/worker", "prod/agent"]);
    let daemon = prod().scheduling_strategy(SchedulingStrategy::Daemon);
    assert_eq!(listed(daemon).await, ["prod/agent"]);
    let ec2_replica = ec2.scheduling_strategy(SchedulingStrategy::Replica);
    assert_eq!(listed(ec2_replica).await, ["prod/worker"]);
    let staging = ecs.list_services().cluster("staging");
    assert_eq!(listed(staging).await, ["staging/app-01"]);
    assert!(
        listed(ecs.list_services()).await.is_empty(),
        "cluster default"
    );

    let refused = |request: ListServicesFluentBuilder| async {
        request.send().await.unwrap_err().into_service_error()
    };
    let no_cluster = refused(ecs.list_services().cluster("ghost")).await;
    assert!(
        no_cluster.is_cluster_not_found_exception(),
        "{no_cluster:?}"
    );
    for invalid in [prod().max_results(101), prod().next_token("not ours")] {
        let error = refused(invalid).await;
        assert!(error.is_invalid_parameter_exception(), "{error:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_clusters_a_page_at_a_time() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);
    let arns = [
        "arn:aws:ecs:us-east-1:123456789012:cluster/default",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    ];
    let all = ecs.list_clusters().send().await.unwrap();
    assert_eq!(all.cluster_arns(), arns);
    assert_eq!(all.next_token(), None);

    let first = ecs.list_clusters().max_results(1).send().await.unwrap();
    assert_eq!(first.cluster_arns(), &arns[..1]);
    let second = ecs
        .list_clusters()
        .max_results(1)
        .set_next_token(first.next_token().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(second.cluster_arns(), &arns[1..]);
    assert_eq!(second.next_token(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_task_definition_families_by_status() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);
    for family in ["worker", "webhook", "web", "api"] {
        ecs.register_task_definition()
            .family(family)
            .container_definitions(web_container("nginx:2"))
            .send()
            .await
            .unwrap();
    }
    // web keeps an ACTIVE revision; worker has none left.
    for retired in ["web:1", "worker:1"] {
        ecs.deregister_task_definition()
            .task_definition(retired)
            .send()
            .await
            .unwrap();
    }
    let families = |status: Option<TaskDefinitionFamilyStatus>| {
        let ecs = ecs.clone();
        async move {
            ecs.list_task_definition_families()
                .family_prefix("w")
                .set_status(status)
                .send()
                .await
                .unwrap()
                .families()
                .to_vec()
        }
    };
    assert_eq!(families(None).await, ["web", "webhook", "worker"]);
    assert_eq!(
        families(Some(TaskDefinitionFamilyStatus::All)).await,
        ["web", "webhook", "worker"]
    );
    assert_eq!(
        families(Some(TaskDefinitionFamilyStatus::Active)).await,
        ["web", "webhook"]
    );
    assert_eq!(
        families(Some(TaskDefinitionFamilyStatus::Inactive)).await,
        ["worker"]
    );

    let paged: Vec<String> = ecs
        .list_task_definition_families()
        .into_paginator()
        .page_size(1)
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(paged, ["api", "web", "webhook", "worker"]);
}

/// The ARNs ListTaskDefinitions answers for a request.
async fn listed_definitions(
    request: aws_sdk_ecs::operation::list_task_definitions::builders::ListTaskDefinitionsFluentBuilder,
) -> Vec<String> {
    let listed = request.send().await.unwrap();
    listed.task_definition_arns().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_task_definitions_of_a_family_by_status_a_page_at_a_time() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);
    for family in ["web", "web", "webhook"] {
        ecs.register_task_definition()
            .family(family)
            .container_definitions(web_container("nginx:2"))
            .send()
            .await
            .unwrap();
    }
    let arn = |name: &str| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{name}");
    assert_eq!(
        listed_definitions(ecs.list_task_definitions().family_prefix("web")).await,
        [arn("web:1"), arn("web:2"), arn("web:3")],
        "the whole family name, not a prefix"
    );
    assert_eq!(
        listed_definitions(
            ecs.list_task_definitions()
                .family_prefix("web")
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
        )
        .await,
        [arn("web:3"), arn("web:2"), arn("web:1")]
    );
    let first = ecs
        .list_task_definitions()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.task_definition_arns(), [arn("web:1"), arn("web:2")]);
    let rest = ecs
        .list_task_definitions()
        .max_results(2)
        .set_next_token(first.next_token().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rest.task_definition_arns(),
        [arn("web:3"), arn("webhook:1")]
    );
    assert_eq!(rest.next_token(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_only_inactive_task_definitions() {
    let sim = start(
        r#"
taskDefinitions:
  - {family: job, containerDefinitions: [{name: job, image: "job:1"}]}
  - {family: job, containerDefinitions: [{name: job, image: "job:2"}]}
  - {family: job, containerDefinitions: [{name: job, image: "job:3"}]}
timelines:
  tasks: [{family: job, seconds: 30}]
"#,
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let arn = |name: &str| format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{name}");
    let run = ecs
        .run_task()
        .task_definition("job:1")
        .send()
        .await
        .unwrap();
    let task_arn = run.tasks()[0].task_arn().unwrap().to_string();
    for retired in ["job:1", "job:2"] {
        ecs.deregister_task_definition()
            .task_definition(retired)
            .send()
            .await
            .unwrap();
    }
    let deleted = ecs
        .delete_task_definitions()
        .task_definitions("job:1")
        .task_definitions(arn("job:2"))
        .task_definitions("job:3")
        .task_definitions("job")
        .task_definitions("ghost:1")
        .send()
        .await
        .unwrap();
    let gone: Vec<(&str, &str)> = deleted
        .task_definitions()
        .iter()
        .map(|td| {
            (
                td.task_definition_arn().unwrap(),
                td.status().unwrap().as_str(),
            )
        })
        .collect();
    assert_eq!(
        gone,
        [
            (arn("job:1").as_str(), "DELETE_IN_PROGRESS"),
            (arn("job:2").as_str(), "DELETE_IN_PROGRESS"),
        ]
    );
    let failures: Vec<(&str, &str)> = deleted
        .failures()
        .iter()
        .map(|failure| (failure.arn().unwrap(), failure.reason().unwrap()))
        .collect();
    assert_eq!(
        failures,
        [
            (
                arn("job:3").as_str(),
                "The specified task definition is still in ACTIVE status. Please deregister the target and try again."
            ),
            (
                "job",
                "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."
            ),
            (
                "ghost:1",
                "The specified task definition does not exist. Specify a valid account, family, revision and try again."
            ),
        ]
    );

    let described = ecs
        .describe_task_definition()
        .task_definition("job:1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .task_definition()
            .unwrap()
            .status()
            .unwrap()
            .as_str(),
        "DELETE_IN_PROGRESS"
    );
    let deleting = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::DeleteInProgress)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleting.task_definition_arns(),
        [arn("job:1"), arn("job:2")]
    );
    let inactive = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Inactive)
        .send()
        .await
        .unwrap();
    assert!(inactive.task_definition_arns().is_empty());

    // The task started from job:1 runs on, and says what it runs.
    let running = ecs.list_tasks().family("job").send().await.unwrap();
    assert_eq!(running.task_arns(), std::slice::from_ref(&task_arn));
    let tasks = ecs.describe_tasks().tasks(&task_arn).send().await.unwrap();
    assert_eq!(
        tasks.tasks()[0].task_definition_arn(),
        Some(arn("job:1").as_str())
    );

    let too_many = ecs
        .delete_task_definitions()
        .set_task_definitions(Some((1..=11).map(|n| format!("job:{n}")).collect()))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(too_many.is_invalid_parameter_exception(), "{too_many:?}");
}

/// The service deployment an update starts names the revision that ran
/// before it, and DescribeServiceRevisions tells that revision's task
/// definition: how a rollback finds the previous revision.
#[tokio::test(flavor = "multi_thread")]
async fn a_service_deployment_names_its_source_revision() {
    let sim = start(WEB);
    let ecs = Client::new(&sdk_config(&sim).await);
    ecs.register_task_definition()
        .family("web")
        .container_definitions(web_container("nginx:2"))
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .cluster("prod")
        .service("web")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("web")
        .send()
        .await
        .unwrap();
    // Newest first: the update, then the service's creation.
    let summaries = listed.service_deployments();
    assert_eq!(summaries.len(), 2);
    let described = ecs
        .describe_service_deployments()
        .service_deployment_arns(summaries[0].service_deployment_arn().unwrap())
        .send()
        .await
        .unwrap();
    let deployment = &described.service_deployments()[0];
    let source = deployment.source_service_revisions()[0].arn().unwrap();
    let target = deployment.target_service_revision().unwrap().arn().unwrap();
    let revisions = ecs
        .describe_service_revisions()
        .service_revision_arns(source)
        .service_revision_arns(target)
        .service_revision_arns("arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1")
        .send()
        .await
        .unwrap();
    let definitions: Vec<_> = revisions
        .service_revisions()
        .iter()
        .map(|r| {
            (
                r.service_revision_arn().unwrap(),
                r.task_definition().unwrap(),
            )
        })
        .collect();
    let td = "arn:aws:ecs:us-east-1:123456789012:task-definition";
    assert_eq!(
        definitions,
        [
            (source, format!("{td}/web:1").as_str()),
            (target, format!("{td}/web:2").as_str())
        ]
    );
    assert!(revisions.service_revisions()[0].created_at().is_some());
    assert_eq!(revisions.failures()[0].reason(), Some("MISSING"));
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_the_tasks_and_services_of_each_cluster() {
    let sim = start(
        r#"
clusters: [prod, staging]
taskDefinitions:
  - {family: web, containerDefinitions: [{name: web, image: "web:1"}]}
  - {family: report, containerDefinitions: [{name: report, image: "report:1"}]}
services:
  - {cluster: prod, serviceName: web, taskDefinition: web:1}
  - {cluster: staging, serviceName: web, taskDefinition: web:1}
tasks:
  - {cluster: prod, taskDefinition: report:1, startedBy: events-rule/nightly}
  - {cluster: staging, taskDefinition: report, group: reports, launchType: FARGATE}
"#,
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let clusters = ecs.list_clusters().send().await.unwrap();
    assert_eq!(
        clusters.cluster_arns(),
        [
            "arn:aws:ecs:us-east-1:123456789012:cluster/default",
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
            "arn:aws:ecs:us-east-1:123456789012:cluster/staging",
        ]
    );
    for cluster in ["prod", "staging"] {
        let services = ecs.list_services().cluster(cluster).send().await.unwrap();
        assert_eq!(
            services.service_arns(),
            [format!(
                "arn:aws:ecs:us-east-1:123456789012:service/{cluster}/web"
            )]
        );
        let listed = ecs.list_tasks().cluster(cluster).send().await.unwrap();
        assert_eq!(listed.task_arns().len(), 1, "{cluster}");
        let described = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(listed.task_arns().to_vec()))
            .send()
            .await
            .unwrap();
        let task = &described.tasks()[0];
        assert_eq!(task.last_status(), Some("RUNNING"), "{cluster}");
        assert_eq!(
            task.task_definition_arn(),
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/report:1")
        );
        assert_eq!(
            task.cluster_arn(),
            Some(format!("arn:aws:ecs:us-east-1:123456789012:cluster/{cluster}").as_str())
        );
        let (started_by, group) = match cluster {
            "prod" => (Some("events-rule/nightly"), "family:report"),
            _ => (None, "reports"),
        };
        assert_eq!(task.started_by(), started_by);
        assert_eq!(task.group(), Some(group));
    }
    let none = ecs.list_tasks().send().await.unwrap();
    assert!(none.task_arns().is_empty(), "cluster default has none");
    let of_family = ecs
        .list_tasks()
        .cluster("prod")
        .family("web")
        .send()
        .await
        .unwrap();
    assert!(of_family.task_arns().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn seeds_revisions_with_their_registration_and_deregistration_times() {
    let sim = start(
        r#"
taskDefinitions:
  - {family: job, containerDefinitions: [{name: job, image: "job:1"}], deregisteredSecondsAgo: 691200, registeredSecondsAgo: 864000}
  - {family: job, containerDefinitions: [{name: job, image: "job:2"}], status: INACTIVE, registeredAt: 1767225600, deregisteredAt: 1767229200}
  - {family: job, containerDefinitions: [{name: job, image: "job:3"}], registeredSecondsAgo: 60}
  - {family: job, containerDefinitions: [{name: job, image: "job:4"}]}
"#,
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let describe = |revision: &'static str| {
        let ecs = ecs.clone();
        async move {
            ecs.describe_task_definition()
                .task_definition(revision)
                .send()
                .await
                .unwrap()
                .task_definition()
                .unwrap()
                .clone()
        }
    };
    let seconds = |at: Option<&aws_sdk_ecs::primitives::DateTime>| at.unwrap().as_secs_f64();
    let near = |at: f64, expected: f64| (at - expected).abs() < 5.0;

    let old = describe("job:1").await;
    assert_eq!(old.status(), Some(&TaskDefinitionStatus::Inactive));
    assert!(near(seconds(old.registered_at()), now - 864_000.0));
    assert!(
        near(seconds(old.deregistered_at()), now - 691_200.0),
        "INACTIVE for 8 days"
    );
    let absolute = describe("job:2").await;
    assert_eq!(seconds(absolute.registered_at()), 1_767_225_600.0);
    assert_eq!(seconds(absolute.deregistered_at()), 1_767_229_200.0);
    let recent = describe("job:3").await;
    assert_eq!(recent.status(), Some(&TaskDefinitionStatus::Active));
    assert!(
        near(seconds(recent.registered_at()), now - 60.0),
        "a minute ago"
    );
    assert_eq!(recent.deregistered_at(), None);
    let latest = describe("job:4").await;
    assert!(near(seconds(latest.registered_at()), now));

    let inactive = ecs
        .list_task_definitions()
        .family_prefix("job")
        .status(TaskDefinitionStatus::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(
        inactive.task_definition_arns(),
        [
            "arn:aws:ecs:us-east-1:123456789012:task-definition/job:1",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/job:2",
        ]
    );
    let deleted = ecs
        .delete_task_definitions()
        .task_definitions("job:1")
        .task_definitions("job:3")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.task_definitions().len(), 1);
    assert_eq!(
        deleted.task_definitions()[0].status(),
        Some(&TaskDefinitionStatus::DeleteInProgress)
    );
    let failure = &deleted.failures()[0];
    assert_eq!(
        failure.arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/job:3")
    );
    assert_eq!(
        failure.reason(),
        Some("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")
    );
}
