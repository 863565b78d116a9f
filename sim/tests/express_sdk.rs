//! Express Mode services driven by the official SDK: DescribeExpressGatewayService
//! and UpdateExpressGatewayService answer in the SDK's types with their
//! fields populated, and an update's canary deployment completes or rolls
//! back as its timeline says.

use crate::common;

use std::cell::RefCell;
use std::time::Duration;

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::{
    AccessType, ExpressGatewayServiceConfiguration, ExpressGatewayServiceInclude,
    ExpressGatewayServiceStatusCode, ResourceManagementType, ServiceDeployment,
    ServiceDeploymentLifecycleStage, ServiceDeploymentStatus, ServiceRevisionSummary,
};
use aws_sdk_ecs::Client;
use common::{eventually, reaches, sdk_config, service, service_deployment, start};

const DEADLINE: Duration = Duration::from_secs(10);

const SERVICE_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
const ENDPOINT: &str = "https://web-1a2b3c.ecs.us-east-1.on.aws";

/// The Express service `web` on web:1, beside the ordinary service `plain`,
/// with web:2 to deploy, and web:3 and `no-main`, which do not suit Express
/// Mode.
fn world(timelines: &str) -> ecs_deploy_sim::Sim {
    start(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: web
    requiresCompatibilities: [FARGATE]
    cpu: "256"
    memory: "512"
    executionRoleArn: arn:aws:iam::123456789012:role/web-execution
    taskRoleArn: arn:aws:iam::123456789012:role/web-task
    runtimePlatform: {{cpuArchitecture: ARM64, operatingSystemFamily: LINUX}}
    containerDefinitions:
      - name: Main
        image: 'web:1'
        portMappings: [{{name: http, containerPort: 8080, protocol: tcp}}]
        environment: [{{name: MODE, value: prod}}]
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/web, awslogs-stream-prefix: ecs}}}}
  - family: web
    requiresCompatibilities: [FARGATE]
    containerDefinitions: [{{name: Main, image: 'web:2', portMappings: [{{name: http, containerPort: 8080}}]}}]
  - family: web
    requiresCompatibilities: [FARGATE]
    containerDefinitions: [{{name: Main, image: 'web:3', portMappings: [{{containerPort: 8080}}]}}]
  - family: no-main
    requiresCompatibilities: [FARGATE]
    containerDefinitions: [{{name: app, image: 'web:2', portMappings: [{{name: http, containerPort: 8080}}]}}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    tags: [{{key: team, value: web}}]
    deploymentConfiguration:
      alarms: {{alarmNames: [web-express-5xx], enable: true, rollback: true}}
    express:
      endpoint: {ENDPOINT}
      healthCheckPath: /up
      networkConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}
      scalingTarget: {{minTaskCount: 2, maxTaskCount: 6, autoScalingMetric: AVERAGE_CPU, autoScalingTargetValue: 60}}
  - cluster: prod
    serviceName: plain
    taskDefinition: web:1
timelines:
  deployments: [{timelines}]
"#
    ))
}

async fn describe_express(ecs: &Client) -> aws_sdk_ecs::types::EcsExpressGatewayService {
    ecs.describe_express_gateway_service()
        .service_arn(SERVICE_ARN)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .clone()
}

/// The task definition of each configuration that runs, PRIMARY's first.
fn running_definitions(configurations: &[ExpressGatewayServiceConfiguration]) -> Vec<String> {
    configurations
        .iter()
        .map(|configuration| {
            let arn = configuration.task_definition_arn().unwrap();
            arn.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

/// Updates `web` with task definition `revision` and answers the service
/// deployment that starts with the configuration it moves to.
async fn update(ecs: &Client, revision: &str) -> (String, ExpressGatewayServiceConfiguration) {
    let updated = ecs
        .update_express_gateway_service()
        .service_arn(SERVICE_ARN)
        .task_definition_arn(format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/{revision}"
        ))
        .send()
        .await
        .unwrap();
    let target = updated
        .service()
        .unwrap()
        .target_configuration()
        .unwrap()
        .clone();
    let deployment = service(ecs, "web")
        .await
        .current_service_deployment()
        .unwrap()
        .to_string();
    (deployment, target)
}

/// The service deployment as it is once it reaches `stage`.
async fn at_stage(
    ecs: &Client,
    arn: &str,
    stage: ServiceDeploymentLifecycleStage,
) -> ServiceDeployment {
    let seen = RefCell::new(None);
    let reached = eventually(DEADLINE, || async {
        let deployment = service_deployment(ecs, arn).await;
        let there = deployment.lifecycle_stage() == Some(&stage);
        *seen.borrow_mut() = Some(deployment);
        there
    })
    .await;
    let seen = seen.into_inner();
    assert!(reached, "{stage:?} not reached: {seen:?}");
    seen.unwrap()
}

/// (test, production) traffic weights.
fn weights(revision: &ServiceRevisionSummary) -> (f64, f64) {
    (
        revision.requested_test_traffic_weight().unwrap(),
        revision.requested_production_traffic_weight().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_an_express_service_with_its_endpoint_and_task_definition() {
    let sim = world("");
    let ecs = Client::new(&sdk_config(&sim).await);

    let described = ecs
        .describe_express_gateway_service()
        .service_arn(SERVICE_ARN)
        .include(ExpressGatewayServiceInclude::Tags)
        .send()
        .await
        .unwrap();
    let express = described.service().unwrap();
    assert_eq!(
        express.cluster(),
        Some("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
    );
    assert_eq!(express.service_name(), Some("web"));
    assert_eq!(express.service_arn(), Some(SERVICE_ARN));
    assert_eq!(
        express.infrastructure_role_arn(),
        Some("arn:aws:iam::123456789012:role/ecsInfrastructureRoleForExpressServices")
    );
    assert_eq!(
        express.status().unwrap().status_code(),
        Some(&ExpressGatewayServiceStatusCode::Active)
    );
    assert_eq!(express.tags()[0].key(), Some("team"));
    assert!(express.created_at().is_some() && express.updated_at().is_some());

    let ecs_service = service(&ecs, "web").await;
    assert_eq!(
        express.current_deployment(),
        ecs_service.current_service_deployment(),
        "the service deployment DescribeServices names"
    );
    let configurations = express.active_configurations();
    assert_eq!(running_definitions(configurations), ["web:1"]);
    let configuration = &configurations[0];
    let initial = service_deployment(&ecs, express.current_deployment().unwrap()).await;
    assert_eq!(
        configuration.service_revision_arn(),
        initial.target_service_revision().unwrap().arn()
    );
    let ingress = &configuration.ingress_paths()[0];
    assert_eq!(ingress.endpoint(), ENDPOINT);
    assert_eq!(ingress.access_type(), &AccessType::Public);
    assert_eq!(
        configuration.execution_role_arn(),
        Some("arn:aws:iam::123456789012:role/web-execution")
    );
    assert_eq!(
        configuration.task_role_arn(),
        Some("arn:aws:iam::123456789012:role/web-task")
    );
    assert_eq!(
        (configuration.cpu(), configuration.memory()),
        (Some("256"), Some("512"))
    );
    assert_eq!(configuration.cpu_architecture().unwrap().as_str(), "ARM64");
    assert_eq!(configuration.health_check_path(), Some("/up"));
    assert_eq!(
        configuration.network_configuration().unwrap().subnets(),
        ["subnet-1"]
    );
    assert_eq!(
        configuration.scaling_target().unwrap().max_task_count(),
        Some(6)
    );
    let main = configuration.primary_container().unwrap();
    assert_eq!(main.image(), "web:1");
    assert_eq!(main.container_port(), Some(8080));
    assert_eq!(main.environment()[0].name(), Some("MODE"));
    assert_eq!(
        main.aws_logs_configuration().unwrap().log_group(),
        "/ecs/web"
    );
    assert!(configuration.created_at().is_some());

    let without_include = describe_express(&ecs).await;
    assert!(without_include.tags().is_empty(), "tags only with TAGS");

    // DescribeServices tells an Express service from an ordinary one.
    assert_eq!(
        ecs_service.resource_management_type(),
        Some(&ResourceManagementType::Ecs)
    );
    let deployment_configuration = ecs_service.deployment_configuration().unwrap();
    assert_eq!(
        deployment_configuration.strategy().unwrap().as_str(),
        "CANARY"
    );
    let canary = deployment_configuration.canary_configuration().unwrap();
    assert_eq!(
        (
            canary.canary_percent(),
            canary.canary_bake_time_in_minutes()
        ),
        (Some(5.0), Some(3))
    );
    assert_eq!(deployment_configuration.bake_time_in_minutes(), Some(3));
    assert_eq!(
        deployment_configuration.alarms().unwrap().alarm_names(),
        ["web-express-5xx"]
    );
    assert_eq!(
        service(&ecs, "plain").await.resource_management_type(),
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_rolls_out_a_canary_that_completes() {
    let sim = world("{cluster: prod, service: web, outcome: complete, seconds: 4.5}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let before = describe_express(&ecs).await;

    let (arn, target) = update(&ecs, "web:2").await;
    assert_eq!(
        target.task_definition_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2")
    );
    assert_eq!(target.primary_container().unwrap().image(), "web:2");
    assert_eq!(target.ingress_paths()[0].endpoint(), ENDPOINT);
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service(SERVICE_ARN)
        .send()
        .await
        .unwrap();
    let newest = &listed.service_deployments()[0];
    assert_eq!(newest.service_deployment_arn(), Some(arn.as_str()));
    assert_eq!(newest.status(), Some(&ServiceDeploymentStatus::InProgress));
    assert_eq!(
        newest.target_service_revision_arn(),
        target.service_revision_arn()
    );

    let rolling = describe_express(&ecs).await;
    assert_eq!(rolling.current_deployment(), Some(arn.as_str()));
    assert_eq!(
        running_definitions(rolling.active_configurations()),
        ["web:2", "web:1"],
        "both revisions run while the canary rolls out"
    );
    assert!(rolling.updated_at().unwrap() > before.updated_at().unwrap());

    // Half a second a stage: the canary's share of production traffic at
    // PRODUCTION_TRAFFIC_SHIFT, all of it after.
    let canary = at_stage(
        &ecs,
        &arn,
        ServiceDeploymentLifecycleStage::ProductionTrafficShift,
    )
    .await;
    assert_eq!(
        weights(canary.target_service_revision().unwrap()),
        (100.0, 5.0)
    );
    assert_eq!(weights(&canary.source_service_revisions()[0]), (0.0, 95.0));
    let shifted = at_stage(
        &ecs,
        &arn,
        ServiceDeploymentLifecycleStage::PostProductionTrafficShift,
    )
    .await;
    assert_eq!(
        weights(shifted.target_service_revision().unwrap()),
        (100.0, 100.0)
    );

    assert!(reaches(&ecs, &arn, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let done = service_deployment(&ecs, &arn).await;
    assert_eq!(
        done.lifecycle_stage(),
        Some(&ServiceDeploymentLifecycleStage::CleanUp)
    );
    assert_eq!(
        done.deployment_configuration()
            .unwrap()
            .strategy()
            .unwrap()
            .as_str(),
        "CANARY"
    );
    let after = describe_express(&ecs).await;
    assert_eq!(
        running_definitions(after.active_configurations()),
        ["web:2"]
    );
    assert_eq!(
        after.active_configurations()[0].service_revision_arn(),
        target.service_revision_arn()
    );
    assert!(service(&ecs, "web")
        .await
        .task_definition()
        .unwrap()
        .ends_with("task-definition/web:2"));
    assert_eq!(sim.calls_to("UpdateExpressGatewayService").len(), 1);
    assert_eq!(sim.calls_to("DescribeExpressGatewayService").len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_alarm_rolls_the_canary_back_to_the_revision_that_ran() {
    let sim = world("{cluster: prod, service: web, outcome: alarm, seconds: 0.5}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let before = describe_express(&ecs).await;
    let previous = before.active_configurations()[0]
        .service_revision_arn()
        .unwrap()
        .to_string();

    let (arn, target) = update(&ecs, "web:2").await;
    assert!(
        reaches(
            &ecs,
            &arn,
            ServiceDeploymentStatus::RollbackSuccessful,
            DEADLINE
        )
        .await
    );
    let rolled_back = service_deployment(&ecs, &arn).await;
    assert_eq!(
        rolled_back.alarms().unwrap().triggered_alarm_names(),
        ["web-express-5xx"]
    );
    let rollback = rolled_back.rollback().unwrap();
    assert_eq!(rollback.service_revision_arn(), Some(previous.as_str()));
    assert!(rollback.reason().unwrap().contains("alarms"));
    assert_eq!(
        rolled_back.target_service_revision().unwrap().arn(),
        target.service_revision_arn()
    );
    assert_eq!(
        weights(rolled_back.target_service_revision().unwrap()),
        (0.0, 0.0),
        "no traffic on the revision rolled back from"
    );

    let after = describe_express(&ecs).await;
    assert_eq!(
        running_definitions(after.active_configurations()),
        ["web:1"]
    );
    assert_eq!(
        after.active_configurations()[0].service_revision_arn(),
        Some(previous.as_str())
    );
    assert_eq!(after.current_deployment(), Some(arn.as_str()));
}

/// The error code of an UpdateExpressGatewayService asking for `revision`
/// on `service_arn`, with `cpu` when given.
async fn update_error(
    ecs: &Client,
    service_arn: &str,
    revision: &str,
    cpu: Option<&str>,
) -> String {
    let error = ecs
        .update_express_gateway_service()
        .service_arn(service_arn)
        .task_definition_arn(revision)
        .set_cpu(cpu.map(str::to_string))
        .send()
        .await
        .unwrap_err();
    error.code().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_what_ecs_refuses_and_starts_nothing() {
    let sim = world("");
    let ecs = Client::new(&sdk_config(&sim).await);
    let plain = "arn:aws:ecs:us-east-1:123456789012:service/prod/plain";
    let ghost = "arn:aws:ecs:us-east-1:123456789012:service/prod/ghost";

    for (service_arn, revision, cpu, code) in [
        (plain, "web:2", None, "InvalidParameterException"),
        (ghost, "web:2", None, "ServiceNotFoundException"),
        (SERVICE_ARN, "web:9", None, "ClientException"),
        (SERVICE_ARN, "missing:1", None, "ClientException"),
        (SERVICE_ARN, "web:3", None, "InvalidParameterException"),
        (SERVICE_ARN, "no-main:1", None, "InvalidParameterException"),
        (
            SERVICE_ARN,
            "web:2",
            Some("512"),
            "InvalidParameterException",
        ),
    ] {
        assert_eq!(
            update_error(&ecs, service_arn, revision, cpu).await,
            code,
            "{service_arn} {revision} {cpu:?}"
        );
    }
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.service_deployments().len(),
        1,
        "only the initial one"
    );

    let describe_error = |service_arn: &'static str| {
        let ecs = ecs.clone();
        async move {
            let error = ecs
                .describe_express_gateway_service()
                .service_arn(service_arn)
                .send()
                .await
                .unwrap_err();
            error.code().unwrap().to_string()
        }
    };
    assert_eq!(describe_error(plain).await, "InvalidParameterException");
    assert_eq!(describe_error(ghost).await, "ResourceNotFoundException");
}
