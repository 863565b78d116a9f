//! A workflow that used aws-actions/amazon-ecs-render-task-definition and
//! aws-actions/amazon-ecs-deploy-task-definition switches by merging their
//! `with:` blocks: the binary runs with those inputs exactly, every other
//! input at its action.yml default as the runner passes it.

use crate::common;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;
use serde_json::{json, Value};

/// A Fargate service in a VPC; `timelines` says what its deployment and the
/// one-off task do.
fn scenario(timelines: &str) -> Sim {
    sim(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    networkMode: awsvpc
    requiresCompatibilities: [FARGATE]
    cpu: "256"
    memory: "512"
    containerDefinitions:
      - name: web
        image: "shop:1"
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/shop, awslogs-stream-prefix: ecs}}}}
services:
  - cluster: prod
    serviceName: shop-web
    taskDefinition: shop:1
    desiredCount: 2
    launchType: FARGATE
    deploymentConfiguration: {{deploymentCircuitBreaker: {{enable: true, rollback: true}}, strategy: ROLLING}}
    networkConfiguration:
      awsvpcConfiguration: {{subnets: [subnet-service], securityGroups: [sg-service], assignPublicIp: DISABLED}}
logGroups: [/ecs/shop]
timelines:
{timelines}
"#
    ))
}

const DEPLOYS: &str =
    "  deployments:\n    - {cluster: prod, service: shop-web, outcome: complete, seconds: 1}\n";
const ROLLS_BACK: &str = "  deployments:\n    - {cluster: prod, service: shop-web, outcome: tasksFail, seconds: 1, exitCode: 1}\n";

fn task(entry: &str) -> String {
    format!("  tasks:\n    - {{family: shop, {entry}}}\n")
}

/// The template file of the render action's own README, with a
/// configuredAtLaunch volume when asked.
fn template(volume: bool) -> String {
    let mut definition = json!({
        "family": "shop",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "web",
            "image": "shop:1",
            "essential": true,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/shop", "awslogs-stream-prefix": "ecs"}}
        }]
    });
    if volume {
        definition["volumes"] = json!([{"name": "scratch", "configuredAtLaunch": true}]);
    }
    definition.to_string()
}

/// The two official `with:` blocks, merged: the render action's, then the
/// deploy action's without its `task-definition` (the render's output).
const MERGED: &[(&str, &str)] = &[
    ("task-definition", "task-definition.json"),
    ("container-name", "web"),
    ("image", "shop:2"),
    ("service", "shop-web"),
    ("cluster", "prod"),
    ("wait-for-service-stability", "true"),
];

/// The deploy action's `with:` for a migration before the service update.
const RUN_TASK: &[(&str, &str)] = &[
    ("run-task", "true"),
    ("wait-for-task-stopped", "true"),
    (
        "run-task-container-overrides",
        r#"[{"name": "web", "command": ["bin/rails", "db:migrate"], "environmentFiles": [{"value": "arn:aws:s3:::shop-env/migrate.env", "type": "s3"}]}]"#,
    ),
    ("run-task-subnets", "subnet-a,subnet-b"),
    ("run-task-security-groups", "sg-db"),
    ("run-task-assign-public-IP", "DISABLED"),
    ("run-task-launch-type", "FARGATE"),
    (
        "run-task-tags",
        r#"[{"key": "purpose", "value": "migration"}]"#,
    ),
];

fn run(sim: &Sim, with: &[&[(&str, &str)]], volume: bool) -> Run {
    let with: Vec<(&str, &str)> = with
        .iter()
        .flat_map(|block| block.iter().copied())
        .collect();
    Job::new(Some(sim))
        .file("task-definition.json", &template(volume))
        .run_with_defaults(&with)
}

fn run_task_body(sim: &Sim) -> Value {
    let calls = sim.calls_to("RunTask");
    assert_eq!(calls.len(), 1, "one RunTask");
    calls[0].body.clone()
}

#[test]
fn a_rolling_deploy_with_the_official_inputs_succeeds() {
    let sim = scenario(DEPLOYS);
    let run = run(&sim, &[MERGED], false);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to("UpdateService").len(), 1);
    assert!(run.outputs["task-definition-arn"].ends_with(":task-definition/shop:2"));
    assert!(run.outputs["task-definition"].ends_with(".json"));
    assert!(!run.outputs.contains_key("run-task-arn"), "no task was run");
}

#[test]
fn a_circuit_breaker_rollback_with_the_official_inputs_fails() {
    let sim = scenario(ROLLS_BACK);
    let run = run(&sim, &[MERGED], false);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log()
            .contains("::error::deployment failed: service shop-web: "),
        "{}",
        run.log()
    );
    assert!(
        run.log().contains("shop:1"),
        "names the revision it went back to: {}",
        run.log()
    );
}

#[test]
fn a_run_task_migration_runs_as_given_in_the_given_network_before_the_deploy() {
    let sim = scenario(&format!(
        "{}{DEPLOYS}",
        task("outcome: exit, exitCode: 0, seconds: 0.3, logs: ['migrated']")
    ));
    let run = run(&sim, &[MERGED, RUN_TASK], false);
    assert_eq!(run.code, 0, "{}", run.log());
    let body = run_task_body(&sim);
    assert_eq!(
        body["overrides"]["containerOverrides"],
        json!([{"name": "web", "command": ["bin/rails", "db:migrate"], "environmentFiles": [{"value": "arn:aws:s3:::shop-env/migrate.env", "type": "s3"}]}])
    );
    assert_eq!(body["startedBy"], "GitHub-Actions");
    assert_eq!(
        body["tags"],
        json!([{"key": "purpose", "value": "migration"}])
    );
    assert_eq!(
        body["networkConfiguration"]["awsvpcConfiguration"],
        json!({"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-db"], "assignPublicIp": "DISABLED"})
    );
    assert_eq!(body["launchType"], "FARGATE");
    assert!(body["clientToken"].is_string(), "idempotent: {body}");
    let task_arn = sim.tasks()[0]["taskArn"].as_str().unwrap().to_owned();
    assert_eq!(run.outputs["run-task-arn"], json!([task_arn]).to_string());
    assert!(
        run.stdout.contains("migrated"),
        "its logs are shown: {}",
        run.log()
    );
    // The migration ran first, then the service moved.
    let order: Vec<String> = sim
        .calls()
        .into_iter()
        .map(|call| call.operation)
        .filter(|op| op == "RunTask" || op == "UpdateService")
        .collect();
    assert_eq!(order, ["RunTask", "UpdateService"]);
}

/// The migration's one-off task does `entry`, fails, and nothing is deployed.
fn failed_run_task(entry: &str) -> Run {
    let sim = scenario(&format!("{}{DEPLOYS}", task(entry)));
    let run = run(&sim, &[MERGED, RUN_TASK], false);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(sim.calls_to("UpdateService").is_empty(), "nothing deployed");
    run
}

#[test]
fn a_run_task_that_exits_non_zero_stops_the_deploy() {
    let run = failed_run_task("outcome: exit, exitCode: 1, seconds: 0.3, logs: ['rake aborted!']");
    assert!(
        run.log()
            .contains("::error::migration failed: container web exited with 1"),
        "{}",
        run.log()
    );
    assert!(run.log().contains("rake aborted!"), "{}", run.log());
    assert!(run.outputs.contains_key("run-task-arn"));
}

#[test]
fn a_run_task_that_cannot_start_says_why_and_stops_the_deploy() {
    let run = failed_run_task("outcome: failToStart, seconds: 0.3");
    assert!(
        run.log()
            .contains("the task never started (TaskFailedToStart: CannotPullContainerError"),
        "{}",
        run.log()
    );
}

#[test]
fn without_wait_for_task_stopped_the_task_is_started_and_the_deploy_goes_on() {
    let sim = scenario(&format!(
        "{}{DEPLOYS}",
        task("outcome: exit, exitCode: 1, seconds: 30")
    ));
    let run = run(
        &sim,
        &[MERGED, RUN_TASK, &[("wait-for-task-stopped", "false")]],
        false,
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log()
            .contains("not waiting for it (wait-for-task-stopped is false)"),
        "{}",
        run.log()
    );
    assert_eq!(sim.calls_to("UpdateService").len(), 1);
    let task_arn = sim.tasks()[0]["taskArn"].clone();
    assert!(
        !sim.calls_to("DescribeTasks")
            .iter()
            .any(|call| call.body["tasks"].as_array().unwrap().contains(&task_arn)),
        "not followed"
    );
}

#[test]
fn managed_ebs_volumes_reach_run_task_and_update_service_as_given() {
    let sim = scenario(&format!(
        "{}{DEPLOYS}",
        task("outcome: exit, exitCode: 0, seconds: 0.3")
    ));
    let volume = r#"{"roleArn": "arn:aws:iam::123456789012:role/ebs", "sizeInGiB": 20, "volumeType": "gp3"}"#;
    let run = run(
        &sim,
        &[
            MERGED,
            RUN_TASK,
            &[
                ("run-task-managed-ebs-volume-name", "scratch"),
                ("run-task-managed-ebs-volume", volume),
                ("service-managed-ebs-volume-name", "scratch"),
                ("service-managed-ebs-volume", volume),
            ],
        ],
        true,
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let expected = json!([{"name": "scratch", "managedEBSVolume": serde_json::from_str::<Value>(volume).unwrap()}]);
    assert_eq!(run_task_body(&sim)["volumeConfigurations"], expected);
    assert_eq!(
        sim.calls_to("UpdateService")[0].body["volumeConfigurations"],
        expected
    );
}

#[test]
fn a_volume_configured_at_launch_without_its_configuration_is_refused_before_anything_changes() {
    let sim = scenario(DEPLOYS);
    let run = run(&sim, &[MERGED, RUN_TASK], true);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log().contains("leaves volume scratch to be configured at launch: give run-task-managed-ebs-volume-name and run-task-managed-ebs-volume"),
        "{}",
        run.log()
    );
    for mutating in ["RegisterTaskDefinition", "RunTask", "UpdateService"] {
        assert!(sim.calls_to(mutating).is_empty(), "{mutating} was called");
    }
}

#[test]
fn the_render_actions_task_definition_family_names_the_template() {
    let sim = scenario(DEPLOYS);
    let with: Vec<(&str, &str)> = MERGED
        .iter()
        .copied()
        .filter(|(name, _)| *name != "task-definition")
        .chain([
            ("task-definition-family", "shop"),
            ("task-definition-revision", "1"),
        ])
        .collect();
    let run = Job::new(Some(&sim)).run_with_defaults(&with);
    assert_eq!(run.code, 0, "{}", run.log());
    let registered = sim.calls_to("RegisterTaskDefinition");
    assert_eq!(registered.len(), 1);
    assert_eq!(
        registered[0].body["containerDefinitions"][0]["image"],
        "shop:2"
    );
}

#[test]
fn a_codedeploy_deploy_with_the_official_inputs_and_appspec_file_succeeds() {
    let sim = sim(r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true, portMappings: [{containerPort: 8080}]}]
services:
  - cluster: prod
    serviceName: shop-web
    taskDefinition: shop:1
    desiredCount: 2
    deploymentController: {type: CODE_DEPLOY}
    loadBalancers: [{targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1", containerName: web, containerPort: 8080}]
codeDeploy:
  applications:
    - {applicationName: shop, computePlatform: ECS}
  deploymentGroups:
    - applicationName: shop
      deploymentGroupName: shop-web
      deploymentStyle: {deploymentType: BLUE_GREEN, deploymentOption: WITH_TRAFFIC_CONTROL}
      ecsServices: [{serviceName: shop-web, clusterName: prod}]
timelines:
  codeDeploy:
    - {deploymentGroup: shop-web, outcome: succeed, seconds: 0.2}
"#);
    // The official action's README AppSpec, TaskDefinition left as a placeholder.
    let appspec = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n";
    let run = Job::new(Some(&sim))
        .file(
            "task-definition.json",
            r#"{"family": "shop", "containerDefinitions": [{"name": "web", "image": "shop:1", "essential": true, "portMappings": [{"containerPort": 8080}]}]}"#,
        )
        .file("appspec.yaml", appspec)
        .run_with_defaults(&[
            ("task-definition", "task-definition.json"),
            ("container-name", "web"),
            ("image", "shop:2"),
            ("service", "shop-web"),
            ("cluster", "prod"),
            ("wait-for-service-stability", "true"),
            ("codedeploy-appspec", "appspec.yaml"),
            ("codedeploy-application", "shop"),
            ("codedeploy-deployment-group", "shop-web"),
            ("codedeploy-deployment-description", "deploy shop:2"),
        ]);
    assert_eq!(run.code, 0, "{}", run.log());
    let created = sim.calls_to("CreateDeployment");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].body["description"], "deploy shop:2");
    let content = created[0].body["revision"]["appSpecContent"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        content.contains(run.outputs["task-definition-arn"].as_str()),
        "{content}"
    );
    assert!(run.outputs["codedeploy-deployment-id"].starts_with("d-"));
}
