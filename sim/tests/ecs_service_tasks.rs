//! The tasks of a service's deployments through the official SDK: listed
//! by the deployment's id, with the timestamps the timeline's
//! pendingSeconds and pullSeconds give them, registered with and
//! deregistered from the service's target group, and stopped by the
//! scheduler once a newer deployment completes.

use crate::common;

use std::time::Duration;

use aws_sdk_ecs::types::{DesiredStatus, ServiceDeploymentStatus};
use aws_sdk_ecs::Client;
use common::{reaches, sdk_config, service, start, tasks_of, update_service};

const DEADLINE: Duration = Duration::from_secs(10);

const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef";

fn scenario(second: &str) -> String {
    format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: web
    networkMode: awsvpc
    containerDefinitions: [{{name: web, image: 'nginx:1', essential: true}}]
  - family: web
    networkMode: awsvpc
    containerDefinitions: [{{name: web, image: 'nginx:2', essential: true}}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    launchType: FARGATE
    networkConfiguration: {{awsvpcConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}}}
    loadBalancers: [{{targetGroupArn: "{TARGET_GROUP}", containerName: web, containerPort: 8080}}]
timelines:
  deployments:
    - {{cluster: prod, service: web, seconds: 0.2}}
    - {{cluster: prod, service: web, {second}}}
"#
    )
}

fn seconds(at: Option<&aws_sdk_ecs::primitives::DateTime>) -> f64 {
    at.expect("a timestamp").as_secs_f64()
}

fn assert_near(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 0.002,
        "{what}: {actual} is not {expected}"
    );
}

/// The service's event messages, oldest first.
async fn messages(ecs: &Client) -> Vec<String> {
    let service = service(ecs, "web").await;
    let mut messages: Vec<String> = service
        .events()
        .iter()
        .map(|event| event.message().unwrap().to_owned())
        .collect();
    messages.reverse();
    messages
}

/// The id of the PRIMARY deployment of service web.
async fn primary_id(ecs: &Client) -> String {
    service(ecs, "web").await.deployments()[0]
        .id()
        .unwrap()
        .to_owned()
}

/// Deploys web twice, the second time with a 2 s timeline (pending 0.5 s,
/// pulling 0.5 s, a 0.5 s drain); answers the first deployment's id, then
/// the second's and its service deployment's ARN, once that started.
async fn deploy_twice(sim: &ecs_deploy_sim::Sim) -> (Client, String, String, String) {
    let ecs = Client::new(&sdk_config(sim).await);
    let first = update_service(&ecs, "web", "web:2").await;
    assert!(reaches(&ecs, &first, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let old_id = primary_id(&ecs).await;
    let old = tasks_of(&ecs, &old_id, DesiredStatus::Running).await;
    assert_eq!(old.len(), 2);
    assert!(old.iter().all(|t| t.last_status() == Some("RUNNING")));
    let second = update_service(&ecs, "web", "web:1").await;
    let new_id = primary_id(&ecs).await;
    (ecs, old_id, new_id, second)
}

const DRAINED: &str = "seconds: 2, drainSeconds: 0.5, pendingSeconds: 0.5, pullSeconds: 0.5";

#[tokio::test(flavor = "multi_thread")]
async fn a_deployments_tasks_are_listed_with_their_pull_and_start_times() {
    let sim = start(&scenario(DRAINED));
    let (ecs, _, new_id, second) = deploy_twice(&sim).await;
    let starting = tasks_of(&ecs, &new_id, DesiredStatus::Running).await;
    assert_eq!(starting.len(), 2);
    let started_event = messages(&ecs).await.last().unwrap().clone();
    for task in &starting {
        assert!(matches!(
            task.last_status(),
            Some("PROVISIONING" | "PENDING")
        ));
        assert_eq!(task.group(), Some("service:web"));
        assert_eq!(task.started_by(), Some(new_id.as_str()));
        assert_eq!(task.launch_type().unwrap().as_str(), "FARGATE");
        assert!(task
            .task_definition_arn()
            .unwrap()
            .ends_with("task-definition/web:1"));
        let address = task.attachments()[0]
            .details()
            .iter()
            .find(|detail| detail.name() == Some("privateIPv4Address"));
        assert!(address.and_then(|a| a.value()).is_some());
        assert!(task.started_at().is_none());
        let id = task.task_arn().unwrap().rsplit('/').next().unwrap();
        assert!(
            started_event.contains(&format!("(task {id})")),
            "the ids the event names: {started_event}"
        );
    }

    assert!(reaches(&ecs, &second, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let began = seconds(common::service_deployment(&ecs, &second).await.created_at());
    for task in tasks_of(&ecs, &new_id, DesiredStatus::Running).await {
        assert_eq!(task.last_status(), Some("RUNNING"));
        assert_near(seconds(task.created_at()), began, "createdAt");
        assert_near(
            seconds(task.pull_started_at()),
            began + 0.5,
            "pullStartedAt",
        );
        assert_near(
            seconds(task.pull_stopped_at()),
            began + 1.0,
            "pullStoppedAt",
        );
        assert_near(seconds(task.started_at()), began + 1.0, "startedAt");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replaced_tasks_are_deregistered_drained_and_stopped() {
    let sim = start(&scenario(DRAINED));
    let (ecs, old_id, new_id, second) = deploy_twice(&sim).await;
    assert!(reaches(&ecs, &second, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let deployment = common::service_deployment(&ecs, &second).await;
    let began = seconds(deployment.created_at());
    assert!(tasks_of(&ecs, &old_id, DesiredStatus::Running)
        .await
        .is_empty());
    let stopped = tasks_of(&ecs, &old_id, DesiredStatus::Stopped).await;
    assert_eq!(stopped.len(), 2);
    for task in &stopped {
        assert_eq!(task.last_status(), Some("STOPPED"));
        assert_eq!(task.desired_status(), Some("STOPPED"));
        assert_eq!(
            task.stop_code().unwrap().as_str(),
            "ServiceSchedulerInitiated"
        );
        assert_eq!(
            task.stopped_reason(),
            Some(format!("Scaling activity initiated by (deployment {new_id})").as_str())
        );
        assert_near(
            seconds(task.stopping_at()),
            began + 1.5,
            "stoppingAt: the drain",
        );
        let finished = seconds(deployment.finished_at());
        assert_near(
            seconds(task.stopped_at()),
            finished,
            "stoppedAt: the completion",
        );
    }

    let target_group = format!("(target-group {TARGET_GROUP})");
    let messages = messages(&ecs).await;
    let position = |wanted: &str| {
        messages
            .iter()
            .position(|m| m == wanted)
            .unwrap_or_else(|| panic!("no event {wanted:?} in {messages:#?}"))
    };
    let registered = format!("(service web) registered 2 targets in {target_group}");
    assert_eq!(
        messages.iter().filter(|m| **m == registered).count(),
        2,
        "one per deployment"
    );
    let deregistered = position(&format!(
        "(service web) deregistered 2 targets in {target_group}"
    ));
    let draining = position("(service web) has begun draining connections on 2 tasks.");
    let completed = position(&format!(
        "(service web) (deployment {new_id}) deployment completed."
    ));
    assert!(
        deregistered < draining && draining < completed,
        "{messages:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_drain_the_old_tasks_stop_when_the_deployment_completes() {
    let sim = start(&scenario("seconds: 1, pullSeconds: 0.4"));
    let ecs = Client::new(&sdk_config(&sim).await);
    let first = update_service(&ecs, "web", "web:2").await;
    assert!(reaches(&ecs, &first, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let old_id = primary_id(&ecs).await;
    let second = update_service(&ecs, "web", "web:1").await;
    assert!(reaches(&ecs, &second, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let deployment = common::service_deployment(&ecs, &second).await;
    let began = seconds(deployment.created_at());
    for task in tasks_of(&ecs, &old_id, DesiredStatus::Stopped).await {
        assert_near(
            seconds(task.stopping_at()),
            seconds(task.stopped_at()),
            "stoppingAt",
        );
    }
    let new_id = primary_id(&ecs).await;
    for task in tasks_of(&ecs, &new_id, DesiredStatus::Running).await {
        assert_near(seconds(task.pull_started_at()), began, "pullStartedAt");
        assert_near(seconds(task.started_at()), began + 0.4, "startedAt");
    }
    let messages = messages(&ecs).await;
    assert!(
        !messages.iter().any(|m| m.contains("deregistered")),
        "no drain, no deregistration: {messages:#?}"
    );
}

#[test]
fn refuses_tasks_that_would_start_after_they_run() {
    let refused = |second: &str| {
        let scenario = ecs_deploy_sim::Scenario::from_yaml(&scenario(second)).unwrap();
        ecs_deploy_sim::Sim::start(scenario)
            .err()
            .map(|e| e.to_string())
    };
    assert_eq!(
        refused("seconds: 2, drainSeconds: 1, pendingSeconds: 0.75, pullSeconds: 0.5"),
        Some(
            "timelines.deployments for service web: pendingSeconds + pullSeconds (1.25) exceed \
             the 1 seconds until the new tasks run (seconds - drainSeconds)"
                .to_string()
        )
    );
    assert_eq!(
        refused("seconds: 2, drainSeconds: 1, pendingSeconds: 0.5, pullSeconds: 0.5"),
        None
    );
    assert!(refused("seconds: 1, pullSeconds: 1.5").is_some());
}
