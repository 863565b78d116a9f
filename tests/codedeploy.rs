//! CodeDeploy blue/green deployments, end to end: the binary against the
//! simulator's CodeDeploy timelines.

use crate::common;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;
use serde_json::Value;
use sha2::{Digest, Sha256};

const SETUP: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true, portMappings: [{containerPort: 8080}]}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    platformVersion: "1.4.0"
    deploymentController: {type: CODE_DEPLOY}
    loadBalancers: [{targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1", containerName: web, containerPort: 8080}]
    networkConfiguration: {awsvpcConfiguration: {subnets: [subnet-1], securityGroups: [sg-1], assignPublicIp: DISABLED}}
s3Objects:
  - bucket: infra
    key: appspec.yaml
    body: |
      version: 0.0
      Resources:
        - TargetService:
            Type: AWS::ECS::Service
            Properties:
              TaskDefinition: "<TASK_DEFINITION>"
              LoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}
      Hooks:
        - AfterAllowTestTraffic: "arn:aws:lambda:us-east-1:123456789012:function:smoke"
  - bucket: infra
    key: empty-appspec.yaml
    body: "version: 0.0\n"
codeDeploy:
  applications:
    - {applicationName: AppECS-prod-web, computePlatform: ECS}
  deploymentGroups:
    - applicationName: AppECS-prod-web
      deploymentGroupName: DgpECS-prod-web
      deploymentStyle: {deploymentType: BLUE_GREEN, deploymentOption: WITH_TRAFFIC_CONTROL}
      blueGreenDeploymentConfiguration:
        deploymentReadyOption: {actionOnTimeout: STOP_DEPLOYMENT, waitTimeInMinutes: 0}
        terminateBlueInstancesOnDeploymentSuccess: {action: TERMINATE, terminationWaitTimeInMinutes: 0}
      ecsServices: [{serviceName: web, clusterName: prod}]
"#;

fn scenario(extra: &str) -> Sim {
    sim(&format!("{SETUP}{extra}"))
}

fn timeline(outcome: &str) -> String {
    format!("timelines:\n  codeDeploy:\n    - {{deploymentGroup: DgpECS-prod-web, outcome: {outcome}, seconds: 0.2}}\n")
}

fn deploy(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![("cluster", "prod"), ("service", "web"), ("image", "shop:2")];
    inputs.extend_from_slice(extra);
    Job::new(Some(sim)).run(&inputs)
}

/// The AppSpec CreateDeployment carried, after checking its SHA-256.
fn sent_appspec(sim: &Sim) -> Value {
    let calls = sim.calls_to("CreateDeployment");
    assert_eq!(calls.len(), 1, "one CreateDeployment");
    let content = &calls[0].body["revision"]["appSpecContent"];
    let text = content["content"].as_str().unwrap();
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(content["sha256"], digest);
    serde_json::from_str(text).unwrap()
}

/// What the log says of CodeDeploy deployment `id`, line by line.
fn codedeploy_lines<'a>(log: &'a str, id: &str) -> Vec<&'a str> {
    let prefix = format!("CodeDeploy {id}: ");
    log.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .collect()
}

const NEW_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2";

#[test]
fn a_generated_appspec_deploys_and_succeeds() {
    let sim = scenario(&timeline("succeed"));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let properties = sent_appspec(&sim)["Resources"][0]["TargetService"]["Properties"].clone();
    assert_eq!(properties["TaskDefinition"], NEW_ARN);
    assert_eq!(
        properties["LoadBalancerInfo"],
        serde_json::json!({"ContainerName": "web", "ContainerPort": 8080})
    );
    assert_eq!(properties["PlatformVersion"], "1.4.0");
    assert_eq!(
        properties["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"],
        serde_json::json!(["subnet-1"])
    );
    let id = &run.outputs["codedeploy-deployment-id"];
    assert!(id.starts_with("d-"), "{id}");
    assert!(!run.outputs.contains_key("ecs-deployment-id"));
    let log = run.log();
    assert!(log.contains(&format!("CodeDeploy deployment {id} started for service web: https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/{id}?region=us-east-1")), "{log}");
    // Every lifecycle event in its order, none while still Pending, and the
    // deployment's own status after its last hook. (How many InProgress
    // lines the polls catch depends on timing; the order does not.)
    let lines = codedeploy_lines(&log, id);
    // A poll may come only once the deployment is over.
    let statuses: Vec<usize> = (0..lines.len())
        .filter(|&i| !lines[i].contains(' '))
        .collect();
    assert!(
        statuses == [lines.len() - 1] || statuses == [0, lines.len() - 1],
        "{log}"
    );
    let first_event = usize::from(statuses.len() == 2);
    assert_eq!(
        lines[lines.len() - 2..],
        ["AfterAllowTraffic Succeeded", "Succeeded"][..],
        "{log}"
    );
    let events: Vec<&str> = lines[first_event..lines.len() - 1]
        .iter()
        .map(|line| line.split(' ').next().unwrap_or_default())
        .collect();
    let order = [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ];
    let positions: Vec<usize> = events
        .iter()
        .map(|name| order.iter().position(|o| o == name).expect(name))
        .collect();
    assert!(positions.is_sorted(), "{log}");
    assert!(!log.contains(" Pending\n"), "{log}");
    assert!(
        log.contains(&format!("✔ web: deployment {id} completed")),
        "{log}"
    );
    assert_eq!(
        sim.calls_to("UpdateService").len(),
        0,
        "a CODE_DEPLOY service is never updated directly"
    );
}

#[test]
fn an_s3_appspec_keeps_its_hooks() {
    let sim = scenario(&timeline("succeed"));
    let run = deploy(
        &sim,
        &[
            ("codedeploy-appspec", "s3://infra/appspec.yaml"),
            ("codedeploy-deployment-description", "release 2"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let appspec = sent_appspec(&sim);
    assert_eq!(
        appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"],
        NEW_ARN
    );
    assert_eq!(
        appspec["Hooks"][0]["AfterAllowTestTraffic"],
        "arn:aws:lambda:us-east-1:123456789012:function:smoke"
    );
    assert_eq!(
        sim.calls_to("CreateDeployment")[0].body["description"],
        "release 2"
    );
}

#[test]
fn a_failed_deployment_explains_itself() {
    let sim = scenario(&timeline("fail"));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    // The hook's message, which CodeDeploy copies into the deployment's
    // error, is said once; the event adds its error code.
    let message =
        "The deployment failed because one or more of the lifecycle event validation functions failed.";
    let annotation = log
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap_or_default();
    assert_eq!(annotation.matches(message).count(), 1, "{annotation}");
    assert!(annotation.starts_with(&format!("::error::deployment failed: service web: CodeDeploy deployment failed: HOOK_EXECUTION_FAILURE: {message}")), "{annotation}");
    assert!(
        annotation.contains(&format!(
            "{message}; lifecycle event AfterAllowTestTraffic failed (ScriptFailed); no rollback deployment was started"
        )),
        "{annotation}"
    );
    let id = &run.outputs["codedeploy-deployment-id"];
    let lines = codedeploy_lines(&log, id);
    assert_eq!(
        lines[lines.len() - 5..],
        [
            "AfterAllowTestTraffic Failed",
            "BeforeAllowTraffic Skipped",
            "AllowTraffic Skipped",
            "AfterAllowTraffic Skipped",
            "Failed",
        ][..],
        "{log}"
    );
}

#[test]
fn ready_ends_the_step_when_asked() {
    let sim = scenario(&timeline("waitReady"));
    let run = deploy(&sim, &[("codedeploy-wait-until", "ready")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log()
            .contains("is Ready; traffic has not been rerouted yet (codedeploy-wait-until: ready)"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("StopDeployment").is_empty());
}

#[test]
fn a_timeout_stops_the_deployment_with_rollback() {
    let sim = scenario(&timeline("waitReady"));
    let run = deploy(&sim, &[("wait-for-minutes", "0.05")]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(log.contains("::notice::CodeDeploy deployment d-"), "{log}");
    assert!(
        log.contains(
            "timed out after 0.05 minutes with the deployment Ready; it was stopped with rollback"
        ),
        "{log}"
    );
    let stops = sim.calls_to("StopDeployment");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].body["autoRollbackEnabled"], true);
}

#[test]
fn a_deployment_in_progress_is_named() {
    let sim = scenario("  deploymentsInProgress:\n    - {applicationName: AppECS-prod-web, deploymentGroupName: DgpECS-prod-web}\n");
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains("deployment group DgpECS-prod-web already has a deployment in progress (d-"),
        "{log}"
    );
    assert!(
        log.contains("wait for it, stop it, or set wait-for-in-progress: true"),
        "{log}"
    );
}

#[test]
fn waiting_for_a_deployment_in_progress_has_a_deadline() {
    // A blocking deployment parked in Ready waits for a person; waiting
    // for it must end with the step's own timeout, saying where it stood.
    let sim = scenario("  deploymentsInProgress:\n    - {applicationName: AppECS-prod-web, deploymentGroupName: DgpECS-prod-web, status: Ready}\n");
    let run = deploy(
        &sim,
        &[
            ("wait-for-in-progress", "true"),
            ("wait-for-minutes", "0.05"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains(
            "is in progress for DgpECS-prod-web; waiting for it to finish (wait-for-in-progress)"
        ),
        "{log}"
    );
    assert!(
        log.contains(", which blocks this one, was still Ready (it waits for its traffic to be rerouted: continue or stop it) after 0.05 minutes of waiting (wait-for-in-progress); nothing was deployed"),
        "{log}"
    );
    assert_eq!(
        sim.calls_to("CreateDeployment").len(),
        1,
        "only the refused create"
    );
}

#[test]
fn problems_are_found_before_anything_is_registered() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("codedeploy-application", "Nope")],
            "of application Nope for service web: ApplicationDoesNotExistException: No application found for name: Nope (the CodeDeploy application does not exist; set codedeploy-application to the service's application)",
        ),
        (
            &[("codedeploy-appspec", "s3://infra/empty-appspec.yaml")],
            "::error::the AppSpec s3://infra/empty-appspec.yaml cannot be used: the AppSpec has no Resources list; it needs one TargetService of Type AWS::ECS::Service",
        ),
    ];
    for (inputs, expected) in cases {
        let sim = scenario(&timeline("succeed"));
        let run = deploy(&sim, inputs);
        assert_eq!(run.code, 1, "{inputs:?}: {}", run.log());
        assert!(run.log().contains(expected), "{inputs:?}: {}", run.log());
        assert!(sim.task_definitions().is_empty(), "{inputs:?}: registered");
        assert!(sim.calls_to("CreateDeployment").is_empty());
    }
}

#[test]
fn a_created_deployment_whose_answer_was_lost_is_adopted_not_repeated() {
    let sim = scenario(&format!(
        "{}faults:\n  - {{service: codedeploy, operation: CreateDeployment, kind: dropAfter, times: 1}}\n",
        timeline("succeed")
    ));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        sim.calls_to("CreateDeployment").len(),
        1,
        "repeated a create that had taken effect"
    );
    assert_eq!(sim.codedeploy_deployments().len(), 1);
    assert_eq!(
        run.outputs["codedeploy-deployment-id"],
        sim.codedeploy_deployments()[0]["deploymentId"]
    );
}

fn ready_for(seconds: &str) -> String {
    format!("timelines:\n  codeDeploy:\n    - {{deploymentGroup: DgpECS-prod-web, outcome: waitReady, seconds: 0.2, readySeconds: {seconds}}}\n")
}

#[test]
fn ready_then_rerouted_succeeds() {
    // The group continues by itself once its ready wait is over.
    let setup = SETUP.replace(
        "actionOnTimeout: STOP_DEPLOYMENT",
        "actionOnTimeout: CONTINUE_DEPLOYMENT",
    );
    let sim = sim(&format!("{setup}{}", ready_for("4")));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains("is Ready: the new tasks run behind the test listener"),
        "{log}"
    );
    assert!(log.contains(": Succeeded"), "{log}");
}

#[test]
fn a_stopped_deployment_is_a_failure() {
    // The group stops the deployment when nobody reroutes traffic in time.
    let sim = scenario(&ready_for("0.3"));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log()
            .contains("::error::deployment failed: service web: CodeDeploy deployment stopped"),
        "{}",
        run.log()
    );
    assert!(
        sim.calls_to("StopDeployment").is_empty(),
        "the group stopped it, not us"
    );
}

#[test]
fn previous_goes_back_through_codedeploy_to_the_revision_before() {
    let sim = scenario(&timeline("succeed"));
    for image in ["shop:2", "shop:3"] {
        let run = Job::new(Some(&sim)).run(&[
            ("cluster", "prod"),
            ("service", "web"),
            ("container-name", "web"),
            ("image", image),
        ]);
        assert_eq!(run.code, 0, "{}", run.log());
    }
    let rollback = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web"),
        ("task-definition", "previous"),
    ]);
    assert_eq!(rollback.code, 0, "{}", rollback.log());
    assert!(
        rollback
            .stdout
            .contains("Service web: going back to shop:2, the revision it ran before shop:3\n"),
        "{}",
        rollback.log()
    );
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 2);
    let created = sim.calls_to("CreateDeployment");
    let content = created.last().unwrap().body["revision"]["appSpecContent"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        content.contains("arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"),
        "{content}"
    );
}
