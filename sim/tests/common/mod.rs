//! Helpers shared by the simulator's tests.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use ecs_deploy_sim::{Scenario, Sim};

/// An SDK configuration pointed at the simulator, as aws-config builds it
/// from AWS_ENDPOINT_URL and static credentials.
pub async fn sdk_config(sim: &Sim) -> SdkConfig {
    let env: std::collections::HashMap<String, String> = sim.env().into_iter().collect();
    let credentials = aws_credential_types::Credentials::new(
        &env["AWS_ACCESS_KEY_ID"],
        &env["AWS_SECRET_ACCESS_KEY"],
        None,
        None,
        "simulator",
    );
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(sim.aws_endpoint())
        .region(Region::new(env["AWS_REGION"].clone()))
        .credentials_provider(credentials)
        .load()
        .await
}

pub fn start(yaml: &str) -> Sim {
    Sim::start(Scenario::from_yaml(yaml).expect("valid scenario")).expect("simulator starts")
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One service of cluster `prod` as DescribeServices answers it.
pub async fn service(ecs: &aws_sdk_ecs::Client, name: &str) -> aws_sdk_ecs::types::Service {
    let described = ecs
        .describe_services()
        .cluster("prod")
        .services(name)
        .send()
        .await
        .unwrap();
    described.services()[0].clone()
}

/// Points service `name` of cluster `prod` at `task_definition`, and
/// answers the service deployment that starts.
pub async fn update_service(
    ecs: &aws_sdk_ecs::Client,
    name: &str,
    task_definition: &str,
) -> String {
    ecs.update_service()
        .cluster("prod")
        .service(name)
        .task_definition(task_definition)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .current_service_deployment()
        .unwrap()
        .to_owned()
}

/// One service deployment as DescribeServiceDeployments answers it.
pub async fn service_deployment(
    ecs: &aws_sdk_ecs::Client,
    arn: &str,
) -> aws_sdk_ecs::types::ServiceDeployment {
    let described = ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .unwrap();
    described.service_deployments()[0].clone()
}

/// The tasks deployment `id` started, with `desired` status.
pub async fn tasks_of(
    ecs: &aws_sdk_ecs::Client,
    id: &str,
    desired: aws_sdk_ecs::types::DesiredStatus,
) -> Vec<aws_sdk_ecs::types::Task> {
    let listed = ecs
        .list_tasks()
        .cluster("prod")
        .started_by(id)
        .desired_status(desired)
        .send()
        .await
        .unwrap();
    if listed.task_arns().is_empty() {
        return Vec::new();
    }
    let described = ecs
        .describe_tasks()
        .cluster("prod")
        .set_tasks(Some(listed.task_arns().to_vec()))
        .send()
        .await
        .unwrap();
    described.tasks().to_vec()
}

/// Whether service deployment `arn` reaches `status` within `timeout`.
pub async fn reaches(
    ecs: &aws_sdk_ecs::Client,
    arn: &str,
    status: aws_sdk_ecs::types::ServiceDeploymentStatus,
    timeout: Duration,
) -> bool {
    eventually(timeout, || async {
        service_deployment(ecs, arn).await.status() == Some(&status)
    })
    .await
}

/// A web service on Fargate with a circuit breaker, and its task definition.
pub const WEB: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: web
    networkMode: awsvpc
    requiresCompatibilities: [FARGATE]
    cpu: "256"
    memory: "512"
    containerDefinitions:
      - name: web
        image: "nginx:1"
        essential: true
        logConfiguration:
          logDriver: awslogs
          options: {awslogs-group: /ecs/web, awslogs-region: us-east-1, awslogs-stream-prefix: ecs}
    tags: [{key: team, value: a}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    launchType: FARGATE
    platformVersion: LATEST
    deploymentController: {type: ECS}
    deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}, strategy: ROLLING}
    networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1], securityGroups: [sg-1], assignPublicIp: DISABLED}}
s3Objects:
  - {bucket: infra, key: taskdef.json, body: '{"family": "web"}'}
  - {bucket: infra, key: dir/with space.json, body: "spaced"}
"#;
