//! CodeDeploy blue/green deployments over time, driven by the official SDK.

use crate::common;

use std::time::Duration;

use aws_sdk_codedeploy::types::{
    AppSpecContent, DeploymentStatus, DeploymentWaitType, LifecycleEventStatus, RevisionLocation,
    RevisionLocationType,
};
use aws_sdk_codedeploy::Client;
use common::{eventually, sdk_config, start};

const DEADLINE: Duration = Duration::from_secs(10);

fn world(timelines: &str) -> ecs_deploy_sim::Sim {
    start(&format!(
        r#"
taskDefinitions:
  - family: web
    containerDefinitions: [{{name: web, image: "nginx:1"}}]
  - family: web
    containerDefinitions: [{{name: web, image: "nginx:2"}}]
services:
  - serviceName: web
    taskDefinition: web:1
    deploymentController: {{type: CODE_DEPLOY}}
codeDeploy:
  applications: [{{applicationName: shop, computePlatform: ECS}}]
  deploymentGroups:
    - applicationName: shop
      deploymentGroupName: web
      serviceRoleArn: arn:aws:iam::123456789012:role/codedeploy
      ecsServices: [{{serviceName: web, clusterName: default}}]
      autoRollbackConfiguration: {{enabled: true, events: [DEPLOYMENT_FAILURE]}}
      blueGreenDeploymentConfiguration:
        deploymentReadyOption: {{actionOnTimeout: STOP_DEPLOYMENT, waitTimeInMinutes: 30}}
        terminateBlueInstancesOnDeploymentSuccess: {{action: TERMINATE, terminationWaitTimeInMinutes: 5}}
      loadBalancerInfo:
        targetGroupPairInfoList:
          - targetGroups: [{{name: blue}}, {{name: green}}]
            prodTrafficRoute: {{listenerArns: [arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2]}}
timelines:
  codeDeploy:
{timelines}
"#
    ))
}

fn appspec() -> RevisionLocation {
    let content = r#"{"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80}}}}]}"#;
    RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(content).build())
        .build()
}

async fn create(codedeploy: &Client) -> String {
    codedeploy
        .create_deployment()
        .application_name("shop")
        .deployment_group_name("web")
        .revision(appspec())
        .description("deploy web:2")
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string()
}

async fn status(codedeploy: &Client, id: &str) -> DeploymentStatus {
    let info = codedeploy
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .unwrap();
    info.deployment_info().unwrap().status().unwrap().clone()
}

async fn reaches(codedeploy: &Client, id: &str, wanted: DeploymentStatus) -> bool {
    eventually(DEADLINE, || async {
        status(codedeploy, id).await == wanted
    })
    .await
}

async fn lifecycle(codedeploy: &Client, id: &str) -> Vec<(String, LifecycleEventStatus)> {
    let targets = codedeploy
        .list_deployment_targets()
        .deployment_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.target_ids(), ["default:web"]);
    let target = codedeploy
        .get_deployment_target()
        .deployment_id(id)
        .target_id("default:web")
        .send()
        .await
        .unwrap();
    let ecs_target = target
        .deployment_target()
        .unwrap()
        .ecs_target()
        .unwrap()
        .clone();
    assert_eq!(
        ecs_target.target_arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/default/web")
    );
    ecs_target
        .lifecycle_events()
        .iter()
        .map(|event| {
            (
                event.lifecycle_event_name().unwrap().to_string(),
                event.status().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_succeeds_and_the_service_runs_the_new_revision() {
    let sim = world("    - {deploymentGroup: web, outcome: succeed, seconds: 0.05}");
    let config = sdk_config(&sim).await;
    let codedeploy = Client::new(&config);

    let application = codedeploy
        .get_application()
        .application_name("shop")
        .send()
        .await
        .unwrap();
    assert_eq!(
        application
            .application()
            .unwrap()
            .compute_platform()
            .unwrap()
            .as_str(),
        "ECS"
    );
    let group = codedeploy
        .get_deployment_group()
        .application_name("shop")
        .deployment_group_name("web")
        .send()
        .await
        .unwrap();
    let info = group.deployment_group_info().unwrap();
    let ready = info
        .blue_green_deployment_configuration()
        .unwrap()
        .deployment_ready_option()
        .unwrap();
    assert_eq!(ready.wait_time_in_minutes(), 30);
    assert_eq!(info.ecs_services()[0].service_name(), Some("web"));

    let id = create(&codedeploy).await;
    assert!(id.starts_with("d-") && id.len() == 11, "{id}");
    let busy = codedeploy
        .create_deployment()
        .application_name("shop")
        .deployment_group_name("web")
        .revision(appspec())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(busy.is_deployment_limit_exceeded_exception(), "{busy:?}");

    assert!(reaches(&codedeploy, &id, DeploymentStatus::Succeeded).await);
    let deployment = codedeploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    let info = deployment.deployment_info().unwrap();
    assert!(info.complete_time().is_some());
    assert_eq!(info.deployment_overview().unwrap().succeeded(), 1);
    assert_eq!(info.description(), Some("deploy web:2"));
    assert!(lifecycle(&codedeploy, &id)
        .await
        .iter()
        .all(|(_, status)| *status == LifecycleEventStatus::Succeeded));
    let batch = codedeploy
        .batch_get_deployment_targets()
        .deployment_id(&id)
        .target_ids("default:web")
        .send()
        .await
        .unwrap();
    let target = batch.deployment_targets()[0].ecs_target().unwrap();
    assert_eq!(target.status().unwrap().as_str(), "Succeeded");
    let listed = codedeploy
        .list_deployments()
        .application_name("shop")
        .deployment_group_name("web")
        .include_only_statuses(DeploymentStatus::Succeeded)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.deployments(), std::slice::from_ref(&id));

    let ecs = aws_sdk_ecs::Client::new(&config);
    let services = ecs
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        services.services()[0].task_definition(),
        Some("arn:aws:ecs:us-east-1:123456789012:task-definition/web:2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_hook_fails_the_deployment_and_rolls_back() {
    let sim = world(
        "    - {deploymentGroup: web, outcome: fail, failAt: AfterAllowTestTraffic, seconds: 0.05, errorCode: HOOK_EXECUTION_FAILURE}",
    );
    let codedeploy = Client::new(&sdk_config(&sim).await);
    let id = create(&codedeploy).await;
    assert!(reaches(&codedeploy, &id, DeploymentStatus::Failed).await);
    let deployment = codedeploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    let info = deployment.deployment_info().unwrap();
    assert_eq!(
        info.error_information().unwrap().code().unwrap().as_str(),
        "HOOK_EXECUTION_FAILURE"
    );
    let rollback_id = info
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap()
        .to_string();
    let events = lifecycle(&codedeploy, &id).await;
    let failed = events
        .iter()
        .position(|(_, s)| *s == LifecycleEventStatus::Failed)
        .unwrap();
    assert_eq!(events[failed].0, "AfterAllowTestTraffic");
    assert!(events[failed + 1..]
        .iter()
        .all(|(_, s)| *s == LifecycleEventStatus::Skipped));

    assert!(reaches(&codedeploy, &rollback_id, DeploymentStatus::Succeeded).await);
    let rollback = codedeploy
        .get_deployment()
        .deployment_id(&rollback_id)
        .send()
        .await
        .unwrap();
    let rollback_info = rollback
        .deployment_info()
        .unwrap()
        .rollback_info()
        .unwrap()
        .clone();
    assert_eq!(
        rollback_info.rollback_triggering_deployment_id(),
        Some(id.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_waits_in_ready_until_continued() {
    let sim = world("    - {deploymentGroup: web, outcome: waitReady, seconds: 0.05}");
    let codedeploy = Client::new(&sdk_config(&sim).await);
    let id = create(&codedeploy).await;
    let early = codedeploy
        .continue_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(early
        .into_service_error()
        .is_deployment_is_not_in_ready_state_exception());
    assert!(reaches(&codedeploy, &id, DeploymentStatus::Ready).await);
    codedeploy
        .continue_deployment()
        .deployment_id(&id)
        .deployment_wait_type(DeploymentWaitType::ReadyWait)
        .send()
        .await
        .unwrap();
    assert!(reaches(&codedeploy, &id, DeploymentStatus::Succeeded).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_can_be_stopped_once() {
    let sim = world("    - {deploymentGroup: web, outcome: succeed, seconds: 30}");
    let codedeploy = Client::new(&sdk_config(&sim).await);
    let id = create(&codedeploy).await;
    let stopped = codedeploy
        .stop_deployment()
        .deployment_id(&id)
        .auto_rollback_enabled(false)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status().unwrap().as_str(), "Succeeded");
    assert_eq!(status(&codedeploy, &id).await, DeploymentStatus::Stopped);
    let again = codedeploy
        .stop_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(again
        .into_service_error()
        .is_deployment_already_completed_exception());
    assert_eq!(
        sim.codedeploy_deployments().len(),
        1,
        "no rollback was asked for"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_already_in_progress_blocks_new_ones() {
    let sim = start(
        r#"
codeDeploy:
  applications: [{applicationName: shop}]
  deploymentGroups: [{applicationName: shop, deploymentGroupName: web, ecsServices: [{serviceName: web, clusterName: default}]}]
  deploymentsInProgress: [{applicationName: shop, deploymentGroupName: web}]
"#,
    );
    let codedeploy = Client::new(&sdk_config(&sim).await);
    let error = codedeploy
        .create_deployment()
        .application_name("shop")
        .deployment_group_name("web")
        .revision(appspec())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(error.is_deployment_limit_exceeded_exception(), "{error:?}");
    let missing = codedeploy
        .get_deployment()
        .deployment_id("d-NOTHERE00")
        .send()
        .await
        .unwrap_err();
    assert!(missing
        .into_service_error()
        .is_deployment_does_not_exist_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ready_deployment_not_continued_in_time_stops() {
    // The group's deploymentReadyOption says STOP_DEPLOYMENT on timeout.
    let sim =
        world("    - {deploymentGroup: web, outcome: waitReady, seconds: 0.05, readySeconds: 0.2}");
    let codedeploy = Client::new(&sdk_config(&sim).await);
    let id = create(&codedeploy).await;
    assert!(reaches(&codedeploy, &id, DeploymentStatus::Ready).await);
    assert!(reaches(&codedeploy, &id, DeploymentStatus::Stopped).await);
    let deployment = codedeploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    let error = deployment
        .deployment_info()
        .unwrap()
        .error_information()
        .unwrap()
        .clone();
    assert_eq!(error.code().unwrap().as_str(), "TIMEOUT");
}
