//! ECS behaviour over time: rolling deployments, the circuit breaker,
//! deployment alarms, crash loops, one-off tasks and their logs, driven by
//! the official SDKs.

use crate::common;

use std::time::Duration;

use aws_sdk_ecs::types::{
    AwsVpcConfiguration, DeploymentRolloutState, DesiredStatus, NetworkConfiguration,
    ServiceDeploymentRollbackMonitorsStatus, ServiceDeploymentStatus,
};
use aws_sdk_ecs::Client;
use common::{eventually, reaches, sdk_config, service, service_deployment, start, update_service};

const DEADLINE: Duration = Duration::from_secs(10);

fn world(timelines: &str) -> ecs_deploy_sim::Sim {
    let yaml = format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: web
    containerDefinitions: [{{name: web, image: 'nginx:1', essential: true}}]
  - family: web
    containerDefinitions: [{{name: web, image: 'nginx:2', essential: true}}]
  - family: migrate
    networkMode: awsvpc
    containerDefinitions:
      - name: app
        image: 'app:2'
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/migrate, awslogs-stream-prefix: run}}}}
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    launchType: FARGATE
    deploymentConfiguration: {{deploymentCircuitBreaker: {{enable: true, rollback: true}}}}
  - cluster: prod
    serviceName: worker
    taskDefinition: web:1
    desiredCount: 1
  - cluster: prod
    serviceName: bluegreen
    taskDefinition: web:1
    desiredCount: 2
    deploymentConfiguration: {{strategy: BLUE_GREEN, bakeTimeInMinutes: 0}}
  - cluster: prod
    serviceName: watched
    taskDefinition: web:1
    desiredCount: 2
    deploymentConfiguration: {{alarms: {{alarmNames: [watched-5xx, watched-latency], enable: true, rollback: true}}}}
timelines:
{timelines}
"#
    );
    start(&yaml)
}

async fn primary(ecs: &Client, name: &str) -> aws_sdk_ecs::types::Deployment {
    service(ecs, name).await.deployments()[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_deployment_completes_after_its_duration() {
    let sim =
        world("  deployments: [{cluster: prod, service: web, outcome: complete, seconds: 0.5}]");
    let ecs = Client::new(&sdk_config(&sim).await);
    let updated = ecs
        .update_service()
        .cluster("prod")
        .service("web")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    let deployments = updated.service().unwrap().deployments();
    assert_eq!(deployments.len(), 2);
    assert_eq!(deployments[0].status(), Some("PRIMARY"));
    assert_eq!(
        deployments[0].rollout_state().unwrap().as_str(),
        "IN_PROGRESS"
    );
    assert_eq!(
        deployments[0].task_definition(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2")
    );
    assert_eq!(deployments[1].status(), Some("ACTIVE"));
    let id = deployments[0].id().unwrap().to_string();
    assert!(id.starts_with("ecs-svc/") && id[8..].chars().all(|c| c.is_ascii_digit()));

    assert!(
        eventually(DEADLINE, || async {
            primary(&ecs, "web")
                .await
                .rollout_state()
                .map(|s| s.as_str().to_string())
                == Some("COMPLETED".into())
        })
        .await
    );
    let done = service(&ecs, "web").await;
    assert_eq!(done.deployments().len(), 1);
    assert_eq!(done.deployments()[0].running_count(), 2);
    assert!(done.events()[0]
        .message()
        .unwrap()
        .contains("has reached a steady state"));

    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("web")
        .status(ServiceDeploymentStatus::Successful)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.service_deployments().len(),
        2,
        "the initial one and ours"
    );
    let arn = listed.service_deployments()[0]
        .service_deployment_arn()
        .unwrap();
    let deployment = service_deployment(&ecs, arn).await;
    assert_eq!(deployment.status().unwrap().as_str(), "SUCCESSFUL");
    assert!(deployment.finished_at().is_some());
    assert_eq!(
        deployment
            .target_service_revision()
            .unwrap()
            .running_task_count(),
        2
    );
    assert_eq!(deployment.source_service_revisions().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn circuit_breaker_fails_the_deployment_and_rolls_back() {
    let sim = world(
        "  deployments: [{cluster: prod, service: web, outcome: tasksFail, seconds: 0.1, failedTasks: 3, exitCode: 2}]",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let updated = ecs
        .update_service()
        .cluster("prod")
        .service("web")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    let failed_id = updated.service().unwrap().deployments()[0]
        .id()
        .unwrap()
        .to_string();
    let since = aws_sdk_ecs::primitives::DateTime::from_secs(0);
    assert!(
        eventually(DEADLINE, || async {
            let listed = ecs
                .list_service_deployments()
                .cluster("prod")
                .service("web")
                .created_at(
                    aws_sdk_ecs::types::CreatedAt::builder()
                        .after(since)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            listed.service_deployments()[0].status()
                == Some(&ServiceDeploymentStatus::RollbackSuccessful)
        })
        .await
    );
    let done = service(&ecs, "web").await;
    assert_eq!(
        done.task_definition(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"),
        "stable on the OLD task definition"
    );
    assert_eq!(done.deployments().len(), 1);
    let rollback = &done.deployments()[0];
    assert_ne!(rollback.id(), Some(failed_id.as_str()));
    assert_eq!(rollback.rollout_state().unwrap().as_str(), "COMPLETED");
    assert!(done.events().iter().any(|event| event
        .message()
        .unwrap()
        .contains("deployment failed: tasks failed to start")));

    let stopped = ecs
        .list_tasks()
        .cluster("prod")
        .started_by(&failed_id)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.task_arns().len(), 3);
    let tasks = ecs
        .describe_tasks()
        .cluster("prod")
        .set_tasks(Some(stopped.task_arns().to_vec()))
        .send()
        .await
        .unwrap();
    for task in tasks.tasks() {
        assert_eq!(
            task.stop_code().unwrap().as_str(),
            "EssentialContainerExited"
        );
        assert_eq!(task.containers()[0].exit_code(), Some(2));
        assert_eq!(task.group(), Some("service:web"));
    }

    let briefs = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("web")
        .send()
        .await
        .unwrap();
    let arn = briefs.service_deployments()[0]
        .service_deployment_arn()
        .unwrap();
    let deployment = service_deployment(&ecs, arn).await;
    let breaker = deployment.deployment_circuit_breaker().unwrap();
    assert_eq!(breaker.status().unwrap().as_str(), "TRIGGERED");
    assert_eq!((breaker.failure_count(), breaker.threshold()), (3, 3));
    let rollback = deployment.rollback().unwrap();
    assert!(rollback.started_at().is_some());
    assert_eq!(
        rollback.service_revision_arn(),
        deployment.source_service_revisions()[0].arn()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_alarms_fail_the_deployment_and_roll_back() {
    let sim = world(
        "  deployments:
    - {cluster: prod, service: watched, outcome: alarm, seconds: 1.5}
    - {cluster: prod, service: watched, outcome: alarm, seconds: 0.3, alarmNames: [someone-elses]}",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let deploy = || async {
        let updated = ecs
            .update_service()
            .cluster("prod")
            .service("watched")
            .task_definition("web:2")
            .send()
            .await
            .unwrap();
        let service = updated.service().unwrap();
        (
            service.deployments()[0].id().unwrap().to_string(),
            service.current_service_deployment().unwrap().to_string(),
        )
    };
    let (failed_id, arn) = deploy().await;
    let watching = service_deployment(&ecs, &arn).await;
    let alarms = watching.alarms().unwrap();
    assert_eq!(
        alarms.status(),
        Some(&ServiceDeploymentRollbackMonitorsStatus::Monitoring)
    );
    assert_eq!(alarms.alarm_names(), ["watched-5xx", "watched-latency"]);
    assert!(alarms.triggered_alarm_names().is_empty());

    let failed = || async {
        let deployments = service(&ecs, "watched").await.deployments().to_vec();
        let failed = deployments
            .get(1)
            .is_some_and(|d| d.rollout_state().map(|s| s.as_str()) == Some("FAILED"));
        failed.then_some(deployments)
    };
    assert!(eventually(DEADLINE, || async { failed().await.is_some() }).await);
    let deployments = failed().await.unwrap();
    assert_eq!(deployments[1].id(), Some(failed_id.as_str()));
    let reason = deployments[1].rollout_state_reason().unwrap();
    assert!(
        reason.contains("watched-5xx, watched-latency"),
        "the timeline fires every watched alarm: {reason}"
    );
    assert!(deployments[0].task_definition().unwrap().ends_with("web:1"));
    let returning = deployments[0].rollout_state_reason().unwrap();
    assert!(
        returning.starts_with("ECS deployment alarms: rolling back to")
            && returning.contains(deployments[2].id().unwrap()),
        "names the deployment it returns to: {returning}"
    );
    let rolling_back = service_deployment(&ecs, &arn).await;
    assert_eq!(
        rolling_back.status(),
        Some(&ServiceDeploymentStatus::RollbackInProgress)
    );
    let alarms = rolling_back.alarms().unwrap();
    assert_eq!(
        alarms.status(),
        Some(&ServiceDeploymentRollbackMonitorsStatus::Triggered)
    );
    assert_eq!(
        alarms.triggered_alarm_names(),
        ["watched-5xx", "watched-latency"]
    );
    let rollback = rolling_back.rollback().unwrap();
    assert!(rollback.reason().unwrap().contains("alarm"));
    assert!(rollback.started_at().is_some());
    assert_eq!(
        rollback.service_revision_arn(),
        rolling_back.source_service_revisions()[0].arn()
    );

    assert!(
        reaches(
            &ecs,
            &arn,
            ServiceDeploymentStatus::RollbackSuccessful,
            DEADLINE
        )
        .await
    );
    let done = service(&ecs, "watched").await;
    assert!(done.task_definition().unwrap().ends_with("web:1"));
    assert!(done.events().iter().any(|event| {
        let message = event.message().unwrap();
        message.contains(&failed_id) && message.contains("watched-5xx")
    }));

    // An alarm the deployment does not watch changes nothing.
    let (_, arn) = deploy().await;
    assert!(reaches(&ecs, &arn, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let completed = service_deployment(&ecs, &arn).await;
    let alarms = completed.alarms().unwrap();
    assert_eq!(
        alarms.status(),
        Some(&ServiceDeploymentRollbackMonitorsStatus::MonitoringComplete)
    );
    assert!(alarms.triggered_alarm_names().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_circuit_breaker_tasks_keep_crashing() {
    let sim = world(
        "  deployments: [{cluster: prod, service: worker, outcome: tasksFail, seconds: 0.05}]",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    ecs.update_service()
        .cluster("prod")
        .service("worker")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    assert!(
        eventually(DEADLINE, || async {
            primary(&ecs, "worker").await.failed_tasks() >= 6
        })
        .await
    );
    let deployment = primary(&ecs, "worker").await;
    assert_eq!(deployment.rollout_state().unwrap().as_str(), "IN_PROGRESS");
    let tasks = sim.tasks();
    assert!(tasks
        .iter()
        .all(|task| task["containers"][0]["exitCode"] == 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn run_task_is_idempotent_and_its_logs_arrive_while_it_runs() {
    let sim = world(
        "  tasks: [{family: migrate, outcome: exit, exitCode: 0, seconds: 0.6, logs: [applying 1, applying 2, done]}]",
    );
    let config = sdk_config(&sim).await;
    let ecs = Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets("subnet-1")
                .build()
                .unwrap(),
        )
        .build();
    let run = || {
        ecs.run_task()
            .cluster("prod")
            .task_definition("migrate")
            .started_by("ecs-deploy")
            .client_token("token-1")
            .network_configuration(network.clone())
            .send()
    };
    let first = run().await.unwrap();
    let again = run().await.unwrap();
    let task = &first.tasks()[0];
    assert_eq!(task.task_arn(), again.tasks()[0].task_arn());
    assert_eq!(
        sim.tasks().len(),
        1,
        "the same token never starts a second task"
    );
    assert_eq!(task.last_status(), Some("PROVISIONING"));
    let task_id = task
        .task_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let stream = format!("run/app/{task_id}");

    // Tail the stream as a client does: it does not exist until the task
    // runs, then each forward token picks up where the last page ended.
    let mut token: Option<String> = None;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while seen.len() < 3 && tokio::time::Instant::now() < deadline {
        let page = logs
            .get_log_events()
            .log_group_name("/ecs/migrate")
            .log_stream_name(&stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await;
        match page {
            Ok(page) => {
                seen.extend(
                    page.events()
                        .iter()
                        .map(|e| e.message().unwrap().to_string()),
                );
                token = page.next_forward_token().map(str::to_string);
            }
            Err(error) => assert!(error.into_service_error().is_resource_not_found_exception()),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, ["applying 1", "applying 2", "done"]);

    assert!(
        eventually(DEADLINE, || async {
            let described = ecs
                .describe_tasks()
                .cluster("prod")
                .tasks(&task_id)
                .send()
                .await
                .unwrap();
            described.tasks()[0].last_status() == Some("STOPPED")
        })
        .await
    );
    let described = ecs
        .describe_tasks()
        .cluster("prod")
        .tasks(&task_id)
        .send()
        .await
        .unwrap();
    let task = &described.tasks()[0];
    assert_eq!(task.containers()[0].exit_code(), Some(0));
    assert_eq!(
        task.stop_code().unwrap().as_str(),
        "EssentialContainerExited"
    );
    assert!(task.started_at().is_some() && task.stopped_at().is_some());

    let streams = logs
        .describe_log_streams()
        .log_group_name("/ecs/migrate")
        .log_stream_name_prefix("run/app/")
        .send()
        .await
        .unwrap();
    assert_eq!(
        streams.log_streams()[0].log_stream_name(),
        Some(stream.as_str())
    );
    assert!(streams.log_streams()[0].last_event_timestamp().is_some());

    let filtered = logs
        .filter_log_events()
        .log_group_name("/ecs/migrate")
        .log_stream_name_prefix("run/app/")
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(filtered.events().len(), 2);
    let rest = logs
        .filter_log_events()
        .log_group_name("/ecs/migrate")
        .set_next_token(filtered.next_token().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.events()[0].message(), Some("done"));
    assert!(rest.next_token().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_that_never_start_and_run_failures() {
    let sim = world(
        r#"  tasks:
    - {family: migrate, outcome: failToStart, seconds: 0.1, stoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth"}
    - {family: migrate, outcome: runFailure, failures: [{arn: "arn:aws:ecs:us-east-1:123456789012:container-instance/x", reason: RESOURCE:MEMORY}]}"#,
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets("subnet-1")
                .build()
                .unwrap(),
        )
        .build();
    let started = ecs
        .run_task()
        .cluster("prod")
        .task_definition("migrate:1")
        .network_configuration(network.clone())
        .send()
        .await
        .unwrap();
    let arn = started.tasks()[0].task_arn().unwrap().to_string();
    assert!(
        eventually(DEADLINE, || async {
            let described = ecs
                .describe_tasks()
                .cluster("prod")
                .tasks(&arn)
                .send()
                .await
                .unwrap();
            described.tasks()[0].last_status() == Some("STOPPED")
        })
        .await
    );
    let described = ecs
        .describe_tasks()
        .cluster("prod")
        .tasks(&arn)
        .send()
        .await
        .unwrap();
    let task = &described.tasks()[0];
    assert_eq!(task.stop_code().unwrap().as_str(), "TaskFailedToStart");
    assert!(task
        .stopped_reason()
        .unwrap()
        .starts_with("ResourceInitializationError"));
    assert_eq!(task.containers()[0].exit_code(), None);
    assert!(task.started_at().is_none());

    let refused = ecs
        .run_task()
        .cluster("prod")
        .task_definition("migrate:1")
        .network_configuration(network)
        .send()
        .await
        .unwrap();
    assert!(refused.tasks().is_empty());
    assert_eq!(refused.failures()[0].reason(), Some("RESOURCE:MEMORY"));

    let no_network = ecs
        .run_task()
        .cluster("prod")
        .task_definition("migrate:1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        no_network.is_invalid_parameter_exception(),
        "{no_network:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_task_stops_a_running_task() {
    let sim = world("  tasks: [{family: migrate, seconds: 60}]");
    let ecs = Client::new(&sdk_config(&sim).await);
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets("subnet-1")
                .build()
                .unwrap(),
        )
        .build();
    let started = ecs
        .run_task()
        .cluster("prod")
        .task_definition("migrate")
        .started_by("ecs-deploy")
        .network_configuration(network)
        .send()
        .await
        .unwrap();
    let arn = started.tasks()[0].task_arn().unwrap().to_string();
    let running = ecs
        .list_tasks()
        .cluster("prod")
        .started_by("ecs-deploy")
        .send()
        .await
        .unwrap();
    assert_eq!(running.task_arns(), std::slice::from_ref(&arn));
    let stopped = ecs
        .stop_task()
        .cluster("prod")
        .task(&arn)
        .reason("cancelled")
        .send()
        .await
        .unwrap();
    let task = stopped.task().unwrap();
    assert_eq!(task.last_status(), Some("STOPPED"));
    assert_eq!(task.stop_code().unwrap().as_str(), "UserInitiated");
    assert_eq!(task.stopped_reason(), Some("cancelled"));
    let running = ecs
        .list_tasks()
        .cluster("prod")
        .started_by("ecs-deploy")
        .send()
        .await
        .unwrap();
    assert!(running.task_arns().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn blue_green_deployments_move_through_their_lifecycle_stages() {
    let sim = world(
        "  deployments: [{cluster: prod, service: bluegreen, outcome: complete, seconds: 1.8}]",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    ecs.update_service()
        .cluster("prod")
        .service("bluegreen")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("bluegreen")
        .send()
        .await
        .unwrap();
    let arn = listed.service_deployments()[0]
        .service_deployment_arn()
        .unwrap()
        .to_string();
    let order = [
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
        "CLEAN_UP",
    ];
    let mut seen: Vec<usize> = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let finished = loop {
        let deployment = service_deployment(&ecs, &arn).await;
        let stage = deployment.lifecycle_stage().unwrap().as_str().to_string();
        let position = order.iter().position(|s| *s == stage).unwrap();
        if seen.last() != Some(&position) {
            seen.push(position);
        }
        let target = deployment.target_service_revision().unwrap();
        let production = target.requested_production_traffic_weight().unwrap();
        let shifted = position >= 5;
        assert_eq!(production, if shifted { 100.0 } else { 0.0 }, "at {stage}");
        if deployment.status() == Some(&ServiceDeploymentStatus::Successful) {
            break true;
        }
        if tokio::time::Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(finished);
    assert!(
        seen.windows(2).all(|pair| pair[0] < pair[1]),
        "stages went back: {seen:?}"
    );
    assert!(seen.len() >= 4, "saw too few stages: {seen:?}");
    assert_eq!(seen.last(), Some(&8));
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_a_service_deployment_rolls_it_back() {
    let sim = world(
        "  deployments: [{cluster: prod, service: worker, outcome: tasksFail, seconds: 0.2}]",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    ecs.update_service()
        .cluster("prod")
        .service("worker")
        .task_definition("web:2")
        .send()
        .await
        .unwrap();
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("worker")
        .send()
        .await
        .unwrap();
    let arn = listed.service_deployments()[0]
        .service_deployment_arn()
        .unwrap()
        .to_string();
    let stopped = ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.service_deployment_arn(), Some(arn.as_str()));
    assert!(
        reaches(
            &ecs,
            &arn,
            ServiceDeploymentStatus::RollbackSuccessful,
            DEADLINE
        )
        .await
    );
    assert!(service(&ecs, "worker")
        .await
        .task_definition()
        .unwrap()
        .ends_with("task-definition/web:1"));
    let again = ecs
        .stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_conflict_exception(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_can_be_in_progress_from_the_start() {
    let sim = world(
        "  deployments:
    - {cluster: prod, service: web, atStart: true, taskDefinition: 'web:2', seconds: 0.5}
    - {cluster: prod, service: web, outcome: tasksFail, seconds: 0.1}",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let in_progress = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("web")
        .status(ServiceDeploymentStatus::InProgress)
        .send()
        .await
        .unwrap();
    assert_eq!(in_progress.service_deployments().len(), 1);
    let deployment = primary(&ecs, "web").await;
    assert_eq!(deployment.rollout_state().unwrap().as_str(), "IN_PROGRESS");
    assert!(deployment.task_definition().unwrap().ends_with("web:2"));
    assert!(
        eventually(DEADLINE, || async {
            primary(&ecs, "web").await.rollout_state().unwrap().as_str() == "COMPLETED"
        })
        .await
    );
    // UpdateService takes the next entry, whose tasks fail.
    ecs.update_service()
        .cluster("prod")
        .service("web")
        .task_definition("web:1")
        .send()
        .await
        .unwrap();
    assert!(
        eventually(DEADLINE, || async {
            primary(&ecs, "web").await.failed_tasks() > 0
        })
        .await
    );
}

const EARLY_AND_THRESHOLDS: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: web
    containerDefinitions: [{name: web, image: 'nginx:1', essential: true}]
  - family: web
    containerDefinitions: [{name: web, image: 'nginx:2', essential: true}]
services:
  - cluster: prod
    serviceName: early
    taskDefinition: web:1
    desiredCount: 2
    deploymentConfiguration:
      earlySuccessCriteria: {enable: true, healthyPercent: 100, sourceServiceRevisionCleanup: DEFERRED}
  - cluster: prod
    serviceName: count
    taskDefinition: web:1
    desiredCount: 10
    deploymentConfiguration:
      deploymentCircuitBreaker: {enable: true, rollback: true, thresholdConfiguration: {type: COUNT, value: 1}}
  - cluster: prod
    serviceName: unbounded
    taskDefinition: web:1
    desiredCount: 10
    deploymentConfiguration:
      deploymentCircuitBreaker: {enable: true, rollback: true, thresholdConfiguration: {type: UNBOUNDED_PERCENT, value: 10}}
  - cluster: prod
    serviceName: bounded
    taskDefinition: web:1
    desiredCount: 10
    deploymentConfiguration:
      deploymentCircuitBreaker: {enable: true, rollback: true, thresholdConfiguration: {type: BOUNDED_PERCENT, value: 10}}
timelines:
  deployments:
    - {cluster: prod, service: early, seconds: 1, drainSeconds: 0.6}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn early_success_with_a_deferred_clean_up_succeeds_while_the_old_tasks_drain() {
    let sim = start(EARLY_AND_THRESHOLDS);
    let ecs = Client::new(&sdk_config(&sim).await);
    let arn = update_service(&ecs, "early", "web:2").await;
    assert!(reaches(&ecs, &arn, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let succeeded = service_deployment(&ecs, &arn).await;
    let during = service(&ecs, "early").await;
    let new = &during.deployments()[0];
    assert_eq!(new.running_count(), 2);
    assert_eq!(
        new.rollout_state(),
        Some(&DeploymentRolloutState::InProgress),
        "the old tasks still drain"
    );
    assert_eq!(during.deployments().len(), 2);
    assert!(
        eventually(DEADLINE, || async {
            primary(&ecs, "early").await.rollout_state() == Some(&DeploymentRolloutState::Completed)
        })
        .await
    );
    let after = service_deployment(&ecs, &arn).await;
    assert_eq!(after.status(), Some(&ServiceDeploymentStatus::Successful));
    assert_eq!(after.finished_at(), succeeded.finished_at());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_circuit_breaker_threshold_follows_its_threshold_configuration() {
    let sim = start(EARLY_AND_THRESHOLDS);
    let ecs = Client::new(&sdk_config(&sim).await);
    for (service, threshold) in [("count", 1), ("unbounded", 1), ("bounded", 3)] {
        let arn = update_service(&ecs, service, "web:2").await;
        let record = service_deployment(&ecs, &arn).await;
        let breaker = record.deployment_circuit_breaker().unwrap();
        assert_eq!(breaker.threshold(), threshold, "{service}");
        assert_eq!(breaker.failure_count(), 0, "{service}");
    }
}
