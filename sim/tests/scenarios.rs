//! Every shipped scenario under sim/scenarios loads, and gives the verdict
//! its name promises when driven the way ecs-deploy drives it.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_codedeploy::types::{
    AppSpecContent, DeploymentStatus, RevisionLocation, RevisionLocationType,
};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, DeploymentLifecycleHookStatus, DeploymentRolloutState,
    DesiredStatus, NetworkConfiguration, NetworkMode, ServiceDeploymentStatus,
};
use common::{eventually, reaches, sdk_config, service, service_deployment, tasks_of};
use ecs_deploy_sim::{Scenario, Sim};

const DEADLINE: Duration = Duration::from_secs(20);
const SHIPPED: [&str; 11] = [
    "deploy-ok",
    "migration-fails",
    "circuit-breaker",
    "crash-loop",
    "alarm-rollback",
    "bluegreen-pause",
    "codedeploy-ok",
    "codedeploy-fails",
    "express-ok",
    "express-rollback",
    "slow-drain",
];

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.yaml"))
}

fn start(name: &str) -> Sim {
    Sim::start(Scenario::from_file(path(name)).unwrap()).unwrap()
}

#[test]
fn every_shipped_scenario_is_tested_here() {
    let mut found: Vec<String> = std::fs::read_dir(path("x").parent().unwrap())
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = SHIPPED.iter().map(|name| name.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn every_shipped_scenario_says_in_one_line_what_it_shows() {
    for name in SHIPPED {
        let description = Scenario::from_file(path(name)).unwrap().description;
        let description = description.unwrap_or_else(|| panic!("{name} has no description"));
        assert!(
            !description.trim().is_empty() && !description.contains('\n'),
            "{name}: {description:?}"
        );
    }
}

/// Runs the migration as ecs-deploy does and returns its exit code and log lines.
async fn migrate(sim: &Sim) -> (Option<i32>, Vec<String>) {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(sim).await);
    let network = NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets("subnet-0a1b2c3d")
                .build()
                .unwrap(),
        )
        .build();
    let run = ecs
        .run_task()
        .cluster("prod")
        .task_definition("shop")
        .started_by("ecs-deploy")
        .network_configuration(network)
        .send()
        .await
        .unwrap();
    let arn = run.tasks()[0].task_arn().unwrap().to_string();
    let stopped = eventually(DEADLINE, || async {
        let described = ecs
            .describe_tasks()
            .cluster("prod")
            .tasks(&arn)
            .send()
            .await
            .unwrap();
        described.tasks()[0].last_status() == Some("STOPPED")
    })
    .await;
    assert!(stopped);
    let described = ecs
        .describe_tasks()
        .cluster("prod")
        .tasks(&arn)
        .send()
        .await
        .unwrap();
    let exit_code = described.tasks()[0].containers()[0].exit_code();
    let id = arn.rsplit('/').next().unwrap();
    (
        exit_code,
        sim.log_messages("/ecs/shop", &format!("shop/web/{id}")),
    )
}

/// Registers shop:2 and points shop-web at it.
async fn deploy(sim: &Sim) -> aws_sdk_ecs::Client {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(sim).await);
    let current = ecs
        .describe_task_definition()
        .task_definition("shop")
        .send()
        .await
        .unwrap();
    let td = current.task_definition().unwrap();
    ecs.register_task_definition()
        .family("shop")
        .set_container_definitions(Some(td.container_definitions().to_vec()))
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .cluster("prod")
        .service("shop-web")
        .task_definition("shop:2")
        .send()
        .await
        .unwrap();
    ecs
}

async fn latest_service_deployment(ecs: &aws_sdk_ecs::Client) -> Option<ServiceDeploymentStatus> {
    let listed = ecs
        .list_service_deployments()
        .cluster("prod")
        .service("shop-web")
        .send()
        .await
        .unwrap();
    listed.service_deployments()[0].status().cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_ok_migrates_and_completes() {
    let sim = start("deploy-ok");
    let (exit_code, lines) = migrate(&sim).await;
    assert_eq!(exit_code, Some(0));
    assert_eq!(lines.len(), 3);
    let ecs = deploy(&sim).await;
    // The new tasks all run before the deployment completes, while the
    // old ones drain (drainSeconds), and the service says so.
    assert!(
        eventually(DEADLINE, || async {
            let service = service(&ecs, "shop-web").await;
            let new = &service.deployments()[0];
            new.running_count() == 2
                && new.rollout_state() == Some(&DeploymentRolloutState::InProgress)
        })
        .await
    );
    let draining = service(&ecs, "shop-web").await;
    assert_eq!(
        draining.events()[0].message(),
        Some("(service shop-web) has begun draining connections on 2 tasks.")
    );
    assert!(
        eventually(DEADLINE, || async {
            latest_service_deployment(&ecs).await == Some(ServiceDeploymentStatus::Successful)
        })
        .await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn migration_fails_exits_non_zero() {
    let sim = start("migration-fails");
    let (exit_code, lines) = migrate(&sim).await;
    assert_eq!(exit_code, Some(1));
    assert!(
        lines.iter().any(|line| line == "rake aborted!"),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn circuit_breaker_rolls_back_to_the_old_definition() {
    let sim = start("circuit-breaker");
    let ecs = deploy(&sim).await;
    assert!(
        eventually(DEADLINE, || async {
            latest_service_deployment(&ecs).await
                == Some(ServiceDeploymentStatus::RollbackSuccessful)
        })
        .await
    );
    let services = ecs
        .describe_services()
        .cluster("prod")
        .services("shop-web")
        .send()
        .await
        .unwrap();
    assert!(services.services()[0]
        .task_definition()
        .unwrap()
        .ends_with("task-definition/shop:1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_loop_never_completes() {
    let sim = start("crash-loop");
    let ecs = deploy(&sim).await;
    let failing = || async {
        let services = ecs
            .describe_services()
            .cluster("prod")
            .services("shop-web")
            .send()
            .await
            .unwrap();
        let primary = services.services()[0].deployments()[0].clone();
        primary.failed_tasks() >= 2 && primary.rollout_state().unwrap().as_str() == "IN_PROGRESS"
    };
    assert!(eventually(DEADLINE, failing).await);
    assert_eq!(
        latest_service_deployment(&ecs).await,
        Some(ServiceDeploymentStatus::InProgress)
    );
}

async fn current_service_deployment(ecs: &aws_sdk_ecs::Client) -> String {
    let service = service(ecs, "shop-web").await;
    service.current_service_deployment().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn alarm_rollback_rolls_back_on_the_alarm() {
    let sim = start("alarm-rollback");
    let ecs = deploy(&sim).await;
    let arn = current_service_deployment(&ecs).await;
    assert!(
        reaches(
            &ecs,
            &arn,
            ServiceDeploymentStatus::RollbackSuccessful,
            DEADLINE
        )
        .await
    );
    let alarms = service_deployment(&ecs, &arn)
        .await
        .alarms()
        .unwrap()
        .clone();
    assert_eq!(alarms.triggered_alarm_names(), ["shop-web-5xx"]);
    assert!(service(&ecs, "shop-web")
        .await
        .task_definition()
        .unwrap()
        .ends_with("task-definition/shop:1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bluegreen_pause_waits_at_the_hook_then_times_out_into_success() {
    let sim = start("bluegreen-pause");
    let ecs = deploy(&sim).await;
    let arn = current_service_deployment(&ecs).await;
    let paused = || async {
        service_deployment(&ecs, &arn)
            .await
            .lifecycle_hook_details()
            .iter()
            .any(|hook| hook.status() == Some(&DeploymentLifecycleHookStatus::AwaitingAction))
    };
    assert!(eventually(DEADLINE, paused).await);
    assert!(reaches(&ecs, &arn, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let done = service_deployment(&ecs, &arn).await;
    assert_eq!(
        done.lifecycle_hook_details()[0].status(),
        Some(&DeploymentLifecycleHookStatus::TimedOut)
    );
}

/// Registers shop-web:2 and updates the Express service shop-web with it, as
/// ecs-deploy does; answers the service deployment that starts.
async fn express_deploy(sim: &Sim) -> (aws_sdk_ecs::Client, String) {
    let ecs = aws_sdk_ecs::Client::new(&sdk_config(sim).await);
    let current = ecs
        .describe_task_definition()
        .task_definition("shop-web")
        .send()
        .await
        .unwrap();
    let td = current.task_definition().unwrap();
    let registered = ecs
        .register_task_definition()
        .family("shop-web")
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("512")
        .memory("1024")
        .set_container_definitions(Some(td.container_definitions().to_vec()))
        .send()
        .await
        .unwrap();
    let arn = service(&ecs, "shop-web")
        .await
        .service_arn()
        .unwrap()
        .to_string();
    ecs.update_express_gateway_service()
        .service_arn(arn)
        .task_definition_arn(
            registered
                .task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deployment = current_service_deployment(&ecs).await;
    (ecs, deployment)
}

#[tokio::test(flavor = "multi_thread")]
async fn express_ok_rolls_out_the_canary() {
    let sim = start("express-ok");
    let (ecs, arn) = express_deploy(&sim).await;
    assert!(reaches(&ecs, &arn, ServiceDeploymentStatus::Successful, DEADLINE).await);
    let done = service_deployment(&ecs, &arn).await;
    assert_eq!(
        done.deployment_configuration()
            .unwrap()
            .strategy()
            .unwrap()
            .as_str(),
        "CANARY"
    );
    assert!(service(&ecs, "shop-web")
        .await
        .task_definition()
        .unwrap()
        .ends_with("task-definition/shop-web:2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn express_rollback_rolls_back_on_the_alarm() {
    let sim = start("express-rollback");
    let (ecs, arn) = express_deploy(&sim).await;
    assert!(
        reaches(
            &ecs,
            &arn,
            ServiceDeploymentStatus::RollbackSuccessful,
            DEADLINE
        )
        .await
    );
    let done = service_deployment(&ecs, &arn).await;
    assert_eq!(
        done.alarms().unwrap().triggered_alarm_names(),
        ["shop-web-express-5xx"]
    );
    assert_eq!(
        done.rollback().unwrap().service_revision_arn(),
        done.source_service_revisions()[0].arn()
    );
    assert!(service(&ecs, "shop-web")
        .await
        .task_definition()
        .unwrap()
        .ends_with("task-definition/shop-web:1"));
}

async fn code_deploy(sim: &Sim) -> (aws_sdk_codedeploy::Client, String) {
    let codedeploy = aws_sdk_codedeploy::Client::new(&sdk_config(sim).await);
    let appspec = r#"{"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}}}}]}"#;
    let created = codedeploy
        .create_deployment()
        .application_name("AppECS-prod-shop-web")
        .deployment_group_name("DgpECS-prod-shop-web")
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(AppSpecContent::builder().content(appspec).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    (codedeploy, created.deployment_id().unwrap().to_string())
}

async fn ends(codedeploy: &aws_sdk_codedeploy::Client, id: &str, wanted: DeploymentStatus) -> bool {
    eventually(DEADLINE, || async {
        let got = codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .unwrap();
        got.deployment_info().unwrap().status() == Some(&wanted)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn codedeploy_ok_succeeds() {
    let sim = start("codedeploy-ok");
    let (codedeploy, id) = code_deploy(&sim).await;
    assert!(ends(&codedeploy, &id, DeploymentStatus::Succeeded).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn codedeploy_fails_and_rolls_back() {
    let sim = start("codedeploy-fails");
    let (codedeploy, id) = code_deploy(&sim).await;
    assert!(ends(&codedeploy, &id, DeploymentStatus::Failed).await);
    let got = codedeploy
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    let info = got.deployment_info().unwrap();
    assert!(info
        .error_information()
        .unwrap()
        .message()
        .unwrap()
        .contains("AfterAllowTestTraffic"));
    assert!(info
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_drain_pulls_checks_and_drains_behind_elbv2s_defaults() {
    let sim = start("slow-drain");
    let config = sdk_config(&sim).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let groups = elb.describe_target_groups().send().await.unwrap();
    let group = &groups.target_groups()[0];
    assert_eq!(
        (
            group.health_check_interval_seconds(),
            group.healthy_threshold_count()
        ),
        (Some(30), Some(5))
    );
    let attributes = elb
        .describe_target_group_attributes()
        .target_group_arn(group.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(attributes.attributes().iter().any(|a| {
        a.key() == Some("deregistration_delay.timeout_seconds") && a.value() == Some("300")
    }));
    let ecs = deploy(&sim).await;
    assert!(
        eventually(DEADLINE, || async {
            latest_service_deployment(&ecs).await == Some(ServiceDeploymentStatus::Successful)
        })
        .await
    );
    let deployed = service(&ecs, "shop-web").await;
    let id = deployed.deployments()[0].id().unwrap();
    let tasks = tasks_of(&ecs, id, DesiredStatus::Running).await;
    assert_eq!(tasks.len(), 2);
    for task in &tasks {
        let pulled = task.pull_stopped_at().unwrap().as_secs_f64()
            - task.pull_started_at().unwrap().as_secs_f64();
        assert!((pulled - 3.2).abs() < 0.01, "{pulled}");
    }
    let messages: Vec<String> = service(&ecs, "shop-web")
        .await
        .events()
        .iter()
        .filter_map(|e| e.message().map(str::to_owned))
        .collect();
    for said in [
        "registered 2 targets in (target-group",
        "has begun draining connections on 2 tasks.",
    ] {
        assert!(messages.iter().any(|m| m.contains(said)), "{messages:#?}");
    }
}
