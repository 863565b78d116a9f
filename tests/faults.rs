//! Faults on the way (throttling, lost connections, server errors, expired
//! credentials, missing permissions) and secrets: the verdict stays right,
//! nothing changes twice, the messages say what to do, nothing secret is
//! printed.

use crate::common;

use common::{sim, Job};

const SETUP: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}
timelines:
  deployments:
    - {cluster: prod, service: web, seconds: 1}
"#;

fn with_faults(faults: &str) -> ecs_deploy_sim::Sim {
    sim(&format!("{SETUP}faults:\n{faults}"))
}

const INPUTS: [(&str, &str); 4] = [
    ("cluster", "prod"),
    ("service", "web"),
    ("container-name", "web"),
    ("image", "shop:2"),
];

/// Rollouts the service went through: one per UpdateService that took effect.
fn rollouts_started(sim: &ecs_deploy_sim::Sim) -> usize {
    let service = sim
        .services()
        .into_iter()
        .find(|s| s["serviceName"] == "web")
        .unwrap();
    service["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("has started 2 tasks")
        })
        .count()
}

#[test]
fn a_lost_update_is_checked_then_repeated_once() {
    let sim = with_faults("  - {service: ecs, operation: UpdateService, kind: drop, times: 1}\n");
    let run = Job::new(Some(&sim)).run(&INPUTS);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to("UpdateService").len(), 2);
    assert_eq!(rollouts_started(&sim), 1);
    // The check between the two attempts.
    let operations: Vec<String> = sim.calls().into_iter().map(|c| c.operation).collect();
    let first = operations
        .iter()
        .position(|o| o == "UpdateService")
        .unwrap();
    assert_eq!(operations[first + 1], "DescribeServices", "{operations:?}");
    assert_eq!(operations[first + 2], "UpdateService", "{operations:?}");
}

#[test]
fn throttling_and_server_errors_are_retried_to_the_right_verdict() {
    let sim = with_faults(
        "  - {service: ecs, operation: UpdateService, kind: throttle, times: 2}\n  - {service: ecs, operation: DescribeTaskDefinition, kind: serverError, times: 2}\n  - {service: ecs, operation: RegisterTaskDefinition, kind: throttle, times: 1}\n",
    );
    let run = Job::new(Some(&sim)).run(&INPUTS);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to("UpdateService").len(), 3);
    assert_eq!(rollouts_started(&sim), 1);
    assert_eq!(sim.task_definitions().len(), 1, "registered once");
}

#[test]
fn retries_end_at_max_retries() {
    let sim =
        with_faults("  - {service: ecs, operation: UpdateService, kind: throttle, always: true}\n");
    let run = Job::new(Some(&sim)).run(&[INPUTS.as_slice(), &[("max-retries", "2")]].concat());
    assert_eq!(run.code, 1);
    assert_eq!(sim.calls_to("UpdateService").len(), 3);
    assert!(run.log().contains("::error::deployment did not finish: service web: failed to update service web in cluster prod: ThrottlingException: Rate exceeded (AWS kept throttling through every retry: raise max-retries or deploy fewer services at once)"), "{}", run.log());
}

#[test]
fn expired_credentials_while_waiting_say_what_to_do() {
    let sim = with_faults("  - {service: ecs, operation: DescribeServices, kind: expiredToken, skip: 1, always: true}\n");
    let run = Job::new(Some(&sim)).run(&INPUTS);
    assert_eq!(run.code, 1);
    let log = run.log();
    assert!(log.contains("ExpiredTokenException: The security token included in the request is expired [the AWS credentials expired during the run: give the role a longer session"), "{log}");
    assert!(
        log.contains("while waiting for web (deployment ecs-svc/"),
        "{log}"
    );
}

#[test]
fn access_denied_names_the_action() {
    let sim = with_faults("  - {service: ecs, operation: UpdateService, kind: accessDenied}\n");
    let run = Job::new(Some(&sim)).run(&INPUTS);
    assert_eq!(run.code, 1);
    assert!(
        run.log().contains("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: ecs:UpdateService because no identity-based policy allows the ecs:UpdateService action (the role needs ecs:UpdateService and iam:PassRole on the task roles)"),
        "{}",
        run.log()
    );
}

#[test]
fn secrets_never_reach_the_log_or_the_summary() {
    // The secret exists, so that the preflight lets the run go on.
    let sim = sim(&format!(
        "{SETUP}secrets:\n  - {{name: db-password, suffix: AbCdEf}}\n"
    ));
    let token = "ghs_TopSecretToken123";
    let secret_from = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf";
    let value = "hunter2-env-value";
    for dry_run in ["true", "false"] {
        let run = Job::new(Some(&sim)).run(
            &[
                INPUTS.as_slice(),
                &[
                    ("github-token", token),
                    ("secrets", &format!("DB_PASSWORD={secret_from}")),
                    ("environment-variables", &format!("API_KEY={value}")),
                    ("dry-run", dry_run),
                ],
            ]
            .concat(),
        );
        assert_eq!(run.code, 0, "{}", run.log());
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines[0], format!("::add-mask::{token}"));
        assert_eq!(lines[1], format!("::add-mask::{secret_from}"));
        let after_masks = format!("{}\n{}", lines[2..].join("\n"), run.stderr);
        assert!(!after_masks.contains(token), "token printed");
        assert!(
            !after_masks.contains(value),
            "environment value printed: {after_masks}"
        );
        assert!(!run.summary.contains(value) && !run.summary.contains(token));
        assert!(after_masks.contains("API_KEY"), "names are shown");
    }
}

#[test]
fn an_update_that_took_effect_without_an_answer_is_adopted_not_repeated() {
    let sim =
        with_faults("  - {service: ecs, operation: UpdateService, kind: dropAfter, times: 1}\n");
    let run = Job::new(Some(&sim)).run(&INPUTS);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        sim.calls_to("UpdateService").len(),
        1,
        "repeated an update that had taken effect"
    );
    assert_eq!(rollouts_started(&sim), 1);
    assert!(
        run.log().contains("✔ web: deployment ecs-svc/"),
        "{}",
        run.log()
    );
}
