//! Cancellation: the runner's SIGINT / SIGTERM while a deployment runs. The
//! binary stops what can be stopped safely and says what it left in which
//! state.

use crate::common;

use std::time::Duration;

use common::{sim, Job};

const CODEDEPLOY: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    deploymentController: {type: CODE_DEPLOY}
    loadBalancers: [{targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1", containerName: web, containerPort: 80}]
  - cluster: prod
    serviceName: api
    taskDefinition: shop:1
codeDeploy:
  applications: [{applicationName: AppECS-prod-web, computePlatform: ECS}]
  deploymentGroups:
    - {applicationName: AppECS-prod-web, deploymentGroupName: DgpECS-prod-web, ecsServices: [{serviceName: web, clusterName: prod}]}
timelines:
  codeDeploy:
    - {deploymentGroup: DgpECS-prod-web, outcome: waitReady, seconds: 0.2}
  deployments:
    - {cluster: prod, service: api, seconds: 60}
"#;

#[test]
fn sigint_stops_a_codedeploy_deployment_with_rollback() {
    let sim = sim(CODEDEPLOY);
    let running =
        Job::new(Some(&sim)).start(&[("cluster", "prod"), ("service", "web"), ("image", "shop:2")]);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim
        .calls_to("GetDeployment")
        .is_empty()));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let stops = sim.calls_to("StopDeployment");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].body["autoRollbackEnabled"], true);
    let id = &stops[0].body["deploymentId"];
    assert!(
        run.log().contains(&format!(
            "::error::cancelled by SIGINT: CodeDeploy deployment {} was stopped with rollback",
            id.as_str().unwrap()
        )),
        "{}",
        run.log()
    );
    // Outputs known before the signal are kept.
    assert!(run.outputs.contains_key("task-definition-arn"));
    assert_eq!(
        run.outputs["codedeploy-deployment-id"],
        id.as_str().unwrap()
    );
}

#[test]
fn sigterm_leaves_an_ecs_rolling_deployment_to_ecs() {
    let sim = sim(CODEDEPLOY);
    let running =
        Job::new(Some(&sim)).start(&[("cluster", "prod"), ("service", "api"), ("image", "shop:2")]);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| sim
        .calls_to("DescribeServices")
        .len()
        >= 2));
    running.signal("TERM");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log()
            .contains("::error::cancelled by SIGTERM: ECS deployment ecs-svc/"),
        "{}",
        run.log()
    );
    assert!(run.log().contains("of service api is left to ECS: it goes on, and its circuit breaker (if enabled) rolls it back on failure"), "{}", run.log());
    assert_eq!(
        sim.calls_to("UpdateService").len(),
        1,
        "no rollback of our own on cancel"
    );
    // The deployment's ids were written when it started, not at the end.
    assert!(
        run.outputs["ecs-deployment-id"].starts_with("ecs-svc/"),
        "{:?}",
        run.outputs
    );
    assert!(run.outputs["ecs-service-deployment-arn"].contains(":service-deployment/prod/api/"));
}

#[test]
fn a_slow_github_does_not_hold_a_cancelled_run_past_the_deadline() {
    // The in_progress status goes through; the failure status never answers.
    let sim = sim(&format!(
        "{CODEDEPLOY}faults:\n  - {{service: github, operation: \"POST /repos/{{owner}}/{{repo}}/deployments/{{deployment_id}}/statuses\", kind: slow, seconds: 60, skip: 1, always: true}}\n"
    ));
    let running = Job::new(Some(&sim)).start(&[
        ("cluster", "prod"),
        ("service", "api"),
        ("image", "shop:2"),
        ("environment", "staging"),
        ("github-token", "ghs_simulator"),
    ]);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| sim
        .calls_to("DescribeServices")
        .len()
        >= 2));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log().contains("::warning::GitHub did not take the deployment's final status before the cancellation deadline; it may still show in_progress"),
        "{}",
        run.log()
    );
    assert!(
        run.log()
            .contains("::error::cancelled by SIGINT: ECS deployment ecs-svc/"),
        "{}",
        run.log()
    );
}

/// The scenario with a call that takes effect at once but answers a minute
/// later: a cancel arrives while it is in flight.
fn answering_late(operation: &str, service: &str) -> ecs_deploy_sim::Sim {
    sim(&format!(
        "{CODEDEPLOY}  tasks:\n    - {{family: shop, seconds: 60}}\nfaults:\n  - {{service: {service}, operation: {operation}, kind: slowAfter, seconds: 60}}\n"
    ))
}

fn cancel_once(
    sim: &ecs_deploy_sim::Sim,
    inputs: &[(&str, &str)],
    took_effect: impl Fn(&ecs_deploy_sim::Sim) -> bool,
) -> common::Run {
    let running = Job::new(Some(sim)).start(inputs);
    assert!(
        sim.wait_until(Duration::from_secs(20), took_effect),
        "the call never took effect"
    );
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        !run.log().contains("nothing had been started"),
        "{}",
        run.log()
    );
    run
}

#[test]
fn a_cancel_while_update_service_is_in_flight_finds_the_deployment_it_started() {
    let sim = answering_late("UpdateService", "ecs");
    let run = cancel_once(
        &sim,
        &[("cluster", "prod"), ("service", "api"), ("image", "shop:2")],
        |sim| {
            sim.services().iter().any(|s| {
                s["serviceName"] == "api"
                    && s["taskDefinition"]
                        .as_str()
                        .unwrap_or_default()
                        .ends_with("shop:2")
            })
        },
    );
    assert!(
        run.log()
            .contains("::error::cancelled by SIGINT: ECS deployment ecs-svc/"),
        "{}",
        run.log()
    );
    assert!(
        run.log().contains("of service api is left to ECS"),
        "{}",
        run.log()
    );
}

#[test]
fn a_cancel_while_run_task_is_in_flight_stops_the_task_it_started() {
    let sim = answering_late("RunTask", "ecs");
    let run = cancel_once(
        &sim,
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("image", "shop:2"),
            ("migration-command", "bin/rails db:migrate"),
        ],
        |sim| !sim.tasks().is_empty(),
    );
    let task = sim.tasks()[0]["taskArn"].as_str().unwrap().to_owned();
    let stops = sim.calls_to("StopTask");
    assert_eq!(stops.len(), 1, "{}", run.log());
    assert_eq!(stops[0].body["task"], task);
    assert!(
        run.log()
            .contains(&format!("migration task {task} was stopped with StopTask")),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("UpdateService").is_empty());
}

#[test]
fn a_cancel_while_create_deployment_is_in_flight_stops_the_deployment_it_created() {
    let sim = answering_late("CreateDeployment", "codedeploy");
    let run = cancel_once(
        &sim,
        &[("cluster", "prod"), ("service", "web"), ("image", "shop:2")],
        |sim| !sim.codedeploy_deployments().is_empty(),
    );
    let stops = sim.calls_to("StopDeployment");
    assert_eq!(stops.len(), 1, "{}", run.log());
    assert_eq!(stops[0].body["autoRollbackEnabled"], true);
    assert!(
        run.log().contains("was stopped with rollback"),
        "{}",
        run.log()
    );
}

#[test]
fn a_cancel_while_register_is_in_flight_says_a_revision_may_exist() {
    let sim = answering_late("RegisterTaskDefinition", "ecs");
    let run = cancel_once(
        &sim,
        &[("cluster", "prod"), ("service", "api"), ("image", "shop:2")],
        |sim| !sim.task_definitions().is_empty(),
    );
    assert!(
        run.log().contains("::error::cancelled by SIGINT: RegisterTaskDefinition of shop was under way: a new revision of it may exist, unused; nothing was deployed"),
        "{}",
        run.log()
    );
}
