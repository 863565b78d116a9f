//! Native blue/green PAUSE lifecycle hooks: a rollout waits at the hook's
//! stage until ContinueServiceDeployment or the hook's timeout, driven by
//! the official SDK.

use crate::common;

use std::time::Duration;

use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookAction,
    DeploymentLifecycleHookDetail, DeploymentLifecycleHookStage, DeploymentLifecycleHookStatus,
    DeploymentLifecycleHookTargetType, DeploymentStrategy, ServiceDeployment,
    ServiceDeploymentLifecycleStage, ServiceDeploymentStatus, ServiceRevisionSummary,
};
use aws_sdk_ecs::Client;
use common::{eventually, sdk_config, service, service_deployment, start, update_service};

const DEADLINE: Duration = Duration::from_secs(10);

/// A blue/green service that pauses after the test traffic shift (for ten
/// minutes, then carries on), after a Lambda hook at POST_SCALE_UP that
/// succeeds.
fn world(timelines: &str) -> ecs_deploy_sim::Sim {
    start(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - {{family: web, containerDefinitions: [{{name: web, image: 'nginx:1'}}]}}
  - {{family: web, containerDefinitions: [{{name: web, image: 'nginx:2'}}]}}
  - {{family: web, containerDefinitions: [{{name: web, image: 'nginx:3'}}]}}
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    deploymentConfiguration:
      strategy: BLUE_GREEN
      bakeTimeInMinutes: 0
      lifecycleHooks:
        - targetType: PAUSE
          lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]
          timeoutConfiguration: {{timeoutInMinutes: 10, action: CONTINUE}}
        - targetType: AWS_LAMBDA
          hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke-test
          roleArn: arn:aws:iam::123456789012:role/ecs-hooks
          lifecycleStages: [POST_SCALE_UP]
timelines:
  deployments: [{timelines}]
"#
    ))
}

/// The service deployment once `condition` holds for it.
async fn once(
    ecs: &Client,
    arn: &str,
    condition: impl Fn(&ServiceDeployment) -> bool,
) -> ServiceDeployment {
    let held = eventually(DEADLINE, || async {
        condition(&service_deployment(ecs, arn).await)
    })
    .await;
    assert!(held, "{:?}", service_deployment(ecs, arn).await);
    service_deployment(ecs, arn).await
}

/// Deploys web:2 with a rollout of nine stages of 0.1 s, and waits for the
/// pause that begins at 0.9 s (0.4 s of stages, then the Lambda hook's
/// half second, which holds the rollout): the simulator, a client, the service
/// deployment's ARN and the service deployment as paused.
async fn paused_deployment() -> (ecs_deploy_sim::Sim, Client, String, ServiceDeployment) {
    let sim = world("{cluster: prod, service: web, seconds: 0.9}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let arn = update_service(&ecs, "web", "web:2").await;
    let paused = once(&ecs, &arn, awaiting_action).await;
    (sim, ecs, arn, paused)
}

fn awaiting_action(deployment: &ServiceDeployment) -> bool {
    deployment
        .lifecycle_hook_details()
        .iter()
        .any(|hook| hook.status() == Some(&DeploymentLifecycleHookStatus::AwaitingAction))
}

fn status_is(wanted: ServiceDeploymentStatus) -> impl Fn(&ServiceDeployment) -> bool {
    move |deployment| deployment.status() == Some(&wanted)
}

/// (test, production) traffic weights.
fn weights(revision: &ServiceRevisionSummary) -> (f64, f64) {
    (
        revision.requested_test_traffic_weight().unwrap(),
        revision.requested_production_traffic_weight().unwrap(),
    )
}

/// Seconds from the service deployment's start until its first hook times out.
/// The deployment's PAUSE hook, as DescribeServiceDeployments details it.
fn pause_hook(deployment: &ServiceDeployment) -> &DeploymentLifecycleHookDetail {
    deployment
        .lifecycle_hook_details()
        .iter()
        .find(|hook| hook.target_type() == Some(&DeploymentLifecycleHookTargetType::Pause))
        .expect("a PAUSE hook")
}

fn hook_expires_in(deployment: &ServiceDeployment) -> f64 {
    let expires_at = pause_hook(deployment).expires_at().unwrap();
    expires_at.as_secs_f64() - deployment.started_at().unwrap().as_secs_f64()
}

async fn service_task_definition(ecs: &Client) -> String {
    service(ecs, "web")
        .await
        .task_definition()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_hook_holds_the_rollout_until_continued() {
    let (_sim, ecs, arn, paused) = paused_deployment().await;
    assert_eq!(
        paused.lifecycle_stage(),
        Some(&ServiceDeploymentLifecycleStage::PostTestTrafficShift)
    );
    assert_eq!(paused.status(), Some(&ServiceDeploymentStatus::InProgress));
    let hooks = paused.lifecycle_hook_details();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    let lambda = &hooks[0];
    assert_eq!(
        lambda.target_type(),
        Some(&DeploymentLifecycleHookTargetType::AwsLambda)
    );
    assert_eq!(
        lambda.target_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:smoke-test")
    );
    assert_eq!(
        lambda.status(),
        Some(&DeploymentLifecycleHookStatus::Succeeded)
    );
    let hook = pause_hook(&paused);
    let hook_id = hook.hook_id().unwrap().to_string();
    assert!(hook_id.starts_with("ecs-pause-"), "{hook_id}");
    assert_eq!(
        hook.target_type(),
        Some(&DeploymentLifecycleHookTargetType::Pause)
    );
    assert_eq!(hook.target_arn(), None);
    assert_eq!(
        hook.timeout_action(),
        Some(&DeploymentLifecycleHookAction::Continue)
    );
    let expires_in = hook_expires_in(&paused);
    assert!(
        (600.8..601.0).contains(&expires_in),
        "ten minutes after the pause began (0.9 s in): {expires_in}"
    );
    assert_eq!(
        weights(paused.target_service_revision().unwrap()),
        (100.0, 0.0)
    );
    assert_eq!(weights(&paused.source_service_revisions()[0]), (0.0, 100.0));

    // Twice the rollout's time later it still waits at the hook, traffic unchanged.
    tokio::time::sleep(Duration::from_secs_f64(1.8)).await;
    let still = service_deployment(&ecs, &arn).await;
    assert_eq!(still.lifecycle_stage(), paused.lifecycle_stage());
    assert_eq!(still.status(), Some(&ServiceDeploymentStatus::InProgress));
    assert!(awaiting_action(&still));
    assert_eq!(
        weights(still.target_service_revision().unwrap()),
        (100.0, 0.0)
    );
    assert_eq!(weights(&still.source_service_revisions()[0]), (0.0, 100.0));

    let wrong_hook = ecs
        .continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id("ecs-pause-not-this-one")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        wrong_hook.is_invalid_parameter_exception(),
        "{wrong_hook:?}"
    );
    let unknown = ecs
        .continue_service_deployment()
        .service_deployment_arn(format!("{arn}X"))
        .hook_id(&hook_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        unknown.is_service_deployment_not_found_exception(),
        "{unknown:?}"
    );

    let continued = ecs
        .continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&hook_id)
        .action(DeploymentLifecycleHookAction::Continue)
        .send()
        .await
        .unwrap();
    assert_eq!(continued.service_deployment_arn(), Some(arn.as_str()));
    let done = once(&ecs, &arn, status_is(ServiceDeploymentStatus::Successful)).await;
    assert_eq!(
        pause_hook(&done).status(),
        Some(&DeploymentLifecycleHookStatus::Succeeded)
    );
    // The rollout's 0.9 s, and the pause of more than 1.8 s.
    let took = done.finished_at().unwrap().as_secs_f64() - done.started_at().unwrap().as_secs_f64();
    assert!(took > 2.7, "{took}");
    assert!(service_task_definition(&ecs).await.ends_with("web:2"));

    let again = ecs
        .continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(&hook_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_invalid_parameter_exception(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn continuing_with_rollback_returns_to_the_old_definition() {
    let (_sim, ecs, arn, paused) = paused_deployment().await;
    let hook_id = pause_hook(&paused).hook_id().unwrap();
    ecs.continue_service_deployment()
        .service_deployment_arn(&arn)
        .hook_id(hook_id)
        .action(DeploymentLifecycleHookAction::Rollback)
        .send()
        .await
        .unwrap();

    let rolling_back = service_deployment(&ecs, &arn).await;
    assert_eq!(
        rolling_back.status(),
        Some(&ServiceDeploymentStatus::RollbackInProgress)
    );
    assert_eq!(
        pause_hook(&rolling_back).status(),
        Some(&DeploymentLifecycleHookStatus::Failed)
    );
    let rollback = rolling_back.rollback().unwrap();
    assert!(rollback.started_at().is_some());
    assert_eq!(
        rollback.service_revision_arn(),
        rolling_back.source_service_revisions()[0].arn()
    );
    assert_eq!(
        weights(rolling_back.target_service_revision().unwrap()),
        (0.0, 0.0),
        "traffic back on the source"
    );
    assert_eq!(
        weights(&rolling_back.source_service_revisions()[0]),
        (100.0, 100.0)
    );

    once(
        &ecs,
        &arn,
        status_is(ServiceDeploymentStatus::RollbackSuccessful),
    )
    .await;
    assert!(service_task_definition(&ecs).await.ends_with("web:1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hook_left_waiting_takes_its_timeout_action() {
    let sim = world("{cluster: prod, service: web, seconds: 0.9, hookTimeoutSeconds: 0.3}");
    let ecs = Client::new(&sdk_config(&sim).await);

    // The service's hook carries on when it times out.
    let arn = update_service(&ecs, "web", "web:2").await;
    let done = once(&ecs, &arn, status_is(ServiceDeploymentStatus::Successful)).await;
    let hook = &pause_hook(&done);
    assert_eq!(
        hook.status(),
        Some(&DeploymentLifecycleHookStatus::TimedOut)
    );
    let expires_in = hook_expires_in(&done);
    assert!(
        (1.15..1.25).contains(&expires_in),
        "0.3 s after the pause began (0.9 s in): {expires_in}"
    );

    // Without a timeoutConfiguration, a hook rolls back when it times out.
    let pause_only = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .target_type(DeploymentLifecycleHookTargetType::Pause)
                .lifecycle_stages(DeploymentLifecycleHookStage::PostTestTrafficShift)
                .build(),
        )
        .build();
    let arn = ecs
        .update_service()
        .cluster("prod")
        .service("web")
        .task_definition("web:3")
        .deployment_configuration(pause_only)
        .send()
        .await
        .unwrap()
        .service()
        .unwrap()
        .current_service_deployment()
        .unwrap()
        .to_string();
    let rolled_back = once(
        &ecs,
        &arn,
        status_is(ServiceDeploymentStatus::RollbackSuccessful),
    )
    .await;
    let hook = &pause_hook(&rolled_back);
    assert_eq!(
        hook.status(),
        Some(&DeploymentLifecycleHookStatus::TimedOut)
    );
    assert_eq!(
        hook.timeout_action(),
        Some(&DeploymentLifecycleHookAction::Rollback)
    );
    assert!(service_task_definition(&ecs).await.ends_with("web:2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_a_paused_deployment_fails_its_hook() {
    let (_sim, ecs, arn, _) = paused_deployment().await;
    ecs.stop_service_deployment()
        .service_deployment_arn(&arn)
        .send()
        .await
        .unwrap();
    let stopped = once(
        &ecs,
        &arn,
        status_is(ServiceDeploymentStatus::RollbackSuccessful),
    )
    .await;
    assert_eq!(
        pause_hook(&stopped).status(),
        Some(&DeploymentLifecycleHookStatus::Failed)
    );
    assert!(service_task_definition(&ecs).await.ends_with("web:1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_lambda_hook_rolls_the_deployment_back() {
    let sim = world("{cluster: prod, service: web, seconds: 0.9, lambdaHookFails: true}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let arn = update_service(&ecs, "web", "web:2").await;
    let running = once(&ecs, &arn, |d| {
        d.lifecycle_hook_details()
            .iter()
            .any(|hook| hook.status() == Some(&DeploymentLifecycleHookStatus::InProgress))
    })
    .await;
    assert_eq!(
        running.lifecycle_stage(),
        Some(&ServiceDeploymentLifecycleStage::PostScaleUp)
    );
    let rolled_back = once(
        &ecs,
        &arn,
        status_is(ServiceDeploymentStatus::RollbackSuccessful),
    )
    .await;
    let hooks = rolled_back.lifecycle_hook_details();
    // The PAUSE hook after it is never reached.
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    assert_eq!(
        hooks[0].target_type(),
        Some(&DeploymentLifecycleHookTargetType::AwsLambda)
    );
    assert_eq!(
        hooks[0].target_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:smoke-test")
    );
    assert_eq!(
        hooks[0].status(),
        Some(&DeploymentLifecycleHookStatus::Failed)
    );
    assert_eq!(
        rolled_back.status_reason(),
        Some("Service deployment rolled back because a lifecycle hook failed.")
    );
    assert!(service_task_definition(&ecs).await.ends_with("web:1"));
}
