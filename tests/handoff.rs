//! Deployments that outlive a job: the binary run twice against one
//! simulator, as two jobs of a workflow run it. The first deploys and stops
//! where `wait-until` says; the second follows the same deployment
//! (`service-deployment`), after acting on its paused hook (`hook-action`),
//! and reports to the same GitHub deployment.

use std::time::Duration;

use crate::common::{self, running_revision, sim, status_states, Job, Run};
use ecs_deploy_sim::Sim;

const BLUE_GREEN_PAUSE: &str = include_str!("../sim/scenarios/bluegreen-pause.yaml");
const TOKEN: &str = "ghs_simulator";

/// shop-web deploys blue/green and pauses at POST_TEST_TRAFFIC_SHIFT for
/// as long as a test takes, then `timeout_action` applies.
fn paused_for_long(timeout_action: &str) -> Sim {
    sim(&BLUE_GREEN_PAUSE
        .replace("action: CONTINUE", &format!("action: {timeout_action}"))
        .replace("hookTimeoutSeconds: 5", "hookTimeoutSeconds: 600"))
}

fn job(sim: &Sim) -> Job {
    Job::new(Some(sim)).env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
}

/// The first job: deploys shop:2 to shop-web and reports to staging.
fn first_job(sim: &Sim, wait_until: &str) -> Run {
    job(sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
        ("wait-until", wait_until),
        ("environment", "staging"),
        ("github-token", TOKEN),
    ])
}

/// The second job: follows what the first left, with `extra` inputs.
fn second_job(sim: &Sim, first: &Run, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![
        ("cluster", "prod"),
        ("service", "shop-web"),
        (
            "service-deployment",
            first.outputs["ecs-service-deployment-arn"].as_str(),
        ),
        ("environment", "staging"),
        (
            "github-deployment-id",
            first.outputs["github-deployment-id"].as_str(),
        ),
        ("github-token", TOKEN),
    ];
    inputs.extend_from_slice(extra);
    job(sim).run(&inputs)
}

/// shop-web's current service deployment, as DescribeServiceDeployments
/// shows it.
fn current_record(sim: &Sim) -> Option<aws_sdk_ecs::types::ServiceDeployment> {
    let arn = sim.services()[0]["currentServiceDeployment"]
        .as_str()?
        .to_owned();
    let client = common::ecs_client(sim);
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let described = client
            .describe_service_deployments()
            .service_deployment_arns(arn)
            .send()
            .await
            .unwrap();
        described.service_deployments().first().cloned()
    })
}

/// When, on the simulator's clock (`Call::at`), shop-web's deployment
/// began to wait at the PAUSE hook that expires `timeout` after.
fn paused_at(sim: &Sim, timeout: Duration) -> Duration {
    let record = current_record(sim).expect("a service deployment");
    let expires_at = record.lifecycle_hook_details()[0]
        .expires_at()
        .expect("a PAUSE hook")
        .as_secs_f64();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = now - sim.elapsed().as_secs_f64();
    Duration::from_secs_f64(expires_at - timeout.as_secs_f64() - started)
}

/// Whether shop-web's current service deployment waits at a PAUSE hook,
/// as DescribeServiceDeployments shows it.
fn awaits_action(sim: &Sim) -> bool {
    current_record(sim).is_some_and(|record| {
        record.lifecycle_hook_details().iter().any(|hook| {
            hook.status()
                == Some(&aws_sdk_ecs::types::DeploymentLifecycleHookStatus::AwaitingAction)
        })
    })
}

/// The states of the only GitHub deployment, oldest first.
fn github_states(sim: &Sim) -> Vec<String> {
    let deployments = sim.github_deployments();
    assert_eq!(deployments.len(), 1, "{deployments:#?}");
    status_states(&deployments[0])
}

/// Every call that changes something in AWS or GitHub.
fn changes(sim: &Sim) -> Vec<String> {
    sim.calls()
        .into_iter()
        .filter(|call| {
            call.operation.starts_with("POST")
                || [
                    "RegisterTaskDefinition",
                    "UpdateService",
                    "ContinueServiceDeployment",
                    "StopServiceDeployment",
                    "RunTask",
                    "CreateDeployment",
                    "ContinueDeployment",
                    "StopDeployment",
                ]
                .contains(&call.operation.as_str())
        })
        .map(|call| call.operation)
        .collect()
}

/// The first job ends once the deployment waits at its PAUSE hook, with
/// where it waits as outputs, exit 0, and the GitHub deployment left
/// in_progress.
fn paused_first_job(sim: &Sim) -> Run {
    let first = first_job(sim, "paused");
    assert_eq!(first.code, 0, "{}", first.log());
    assert!(
        first.outputs["paused-hook-id"].starts_with("ecs-pause-"),
        "{:?}",
        first.outputs
    );
    assert_eq!(first.outputs["lifecycle-stage"], "POST_TEST_TRAFFIC_SHIFT");
    let arn = &first.outputs["ecs-service-deployment-arn"];
    let verdict = first
        .log()
        .lines()
        .find(|l| l.starts_with("⏸ "))
        .map(str::to_owned);
    assert_eq!(
        verdict.as_deref(),
        Some(
            format!(
                "⏸ shop-web: deployment {} waits at POST_TEST_TRAFFIC_SHIFT for lifecycle hook {}; left under way as wait-until says. A later job follows it to its verdict with service-deployment: {arn} with hook-action: continue (or rollback)",
                first.outputs["ecs-deployment-id"], first.outputs["paused-hook-id"]
            )
            .as_str()
        ),
        "{}",
        first.log()
    );
    assert_eq!(github_states(sim), ["in_progress"]);
    for row in [
        "| Result | ⏸ left under way for a later job |",
        "| Next for `shop-web` | the deployment waits at lifecycle hook `ecs-pause-",
    ] {
        assert!(first.summary.contains(row), "{row}: {}", first.summary);
    }
    // Still paused: nothing was continued.
    assert!(sim.calls_to("ContinueServiceDeployment").is_empty());
    first
}

#[test]
fn pause_then_continue_from_a_second_job_succeeds_on_the_same_github_deployment() {
    let sim = paused_for_long("ROLLBACK");
    let first = paused_first_job(&sim);
    // The first job ended at the first poll that showed the pause: no
    // status call of its came later (a margin for the clocks' rounding).
    let polls = sim.calls_to("DescribeServiceDeployments");
    let paused = paused_at(&sim, Duration::from_secs(600));
    let margin = Duration::from_millis(50);
    assert!(
        polls.iter().filter(|c| c.at > paused + margin).count() <= 1
            && polls.iter().any(|c| c.at + margin >= paused),
        "paused at {paused:?}, polls at {:?}",
        polls.iter().map(|c| c.at).collect::<Vec<_>>()
    );
    let second = second_job(&sim, &first, &[("hook-action", "continue")]);
    assert_eq!(second.code, 0, "{}", second.log());
    let continued = sim.calls_to("ContinueServiceDeployment");
    assert_eq!(continued.len(), 1, "exactly one ContinueServiceDeployment");
    assert_eq!(
        continued[0].body["hookId"],
        first.outputs["paused-hook-id"].as_str()
    );
    assert_eq!(continued[0].body["action"], "CONTINUE");
    assert_eq!(
        continued[0].body["serviceDeploymentArn"],
        first.outputs["ecs-service-deployment-arn"].as_str()
    );
    let log = second.log();
    assert!(
        log.contains(&format!(
            "Service shop-web: following service deployment {}, shop:1 → shop:2, started before this step",
            first.outputs["ecs-service-deployment-arn"]
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "✔ shop-web: deployment {} completed",
            first.outputs["ecs-deployment-id"]
        )),
        "{log}"
    );
    assert_eq!(running_revision(&sim, "shop-web"), "shop:2");
    // Nothing rendered or registered by the second job.
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 1);
    assert_eq!(sim.calls_to("UpdateService").len(), 1);
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "success"]
    );
    assert_eq!(
        second.outputs["ecs-service-deployment-arn"],
        first.outputs["ecs-service-deployment-arn"]
    );
    let row = second
        .summary
        .lines()
        .find(|l| l.starts_with("| Service `shop-web` |"))
        .unwrap_or_default();
    assert!(
        row.starts_with("| Service `shop-web` | [`shop:1`](")
            && row.contains(") → [`shop:2`](")
            && row.ends_with("): deployed |"),
        "{row}"
    );
    assert_eq!(
        second.outputs["previous-task-definition-arn"]
            .rsplit('/')
            .next(),
        Some("shop:1")
    );
}

#[test]
fn pause_then_roll_back_from_a_second_job_fails_back_on_the_old_revision() {
    let sim = paused_for_long("CONTINUE");
    let first = paused_first_job(&sim);
    let second = second_job(&sim, &first, &[("hook-action", "rollback")]);
    assert_eq!(second.code, 1, "{}", second.log());
    let continued = sim.calls_to("ContinueServiceDeployment");
    assert_eq!(continued.len(), 1);
    assert_eq!(continued[0].body["action"], "ROLLBACK");
    let error = second.error_lines().join("\n");
    assert!(
        error.starts_with("::error::deployment failed: service shop-web: ECS ")
            && error.contains("back to shop:1"),
        "{error}"
    );
    assert!(
        sim.wait_until(Duration::from_secs(10), |sim| running_revision(
            sim, "shop-web"
        ) == "shop:1")
    );
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "failure"]
    );
}

/// The scenario with no PAUSE hook: the rollout runs its stages through.
fn without_pause_hook(scenario: &str) -> String {
    scenario
        .replace(
            "      lifecycleHooks:\n        - targetType: PAUSE\n          lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]\n          timeoutConfiguration: {timeoutInMinutes: 30, action: CONTINUE}\n",
            "",
        )
        .replace("      hookTimeoutSeconds: 5\n", "")
}

#[test]
fn stop_at_bake_time_then_follow_to_success() {
    // Two seconds a stage, so that a poll sees the bake or the clean-up.
    let sim = sim(&without_pause_hook(BLUE_GREEN_PAUSE).replace("seconds: 4.5", "seconds: 18"));
    let first = first_job(&sim, "BAKE_TIME");
    assert_eq!(first.code, 0, "{}", first.log());
    assert!(
        ["BAKE_TIME", "CLEAN_UP"].contains(&first.outputs["lifecycle-stage"].as_str()),
        "{:?}",
        first.outputs
    );
    assert_eq!(first.outputs["paused-hook-id"], "");
    let second = second_job(&sim, &first, &[]);
    assert_eq!(second.code, 0, "{}", second.log());
    assert!(
        second.log().contains("✔ shop-web: deployment "),
        "{}",
        second.log()
    );
    assert!(sim.calls_to("ContinueServiceDeployment").is_empty());
    assert_eq!(running_revision(&sim, "shop-web"), "shop:2");
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "success"]
    );
}

#[test]
fn a_deployment_that_fails_while_nobody_watches_is_a_failure_for_the_job_that_follows_it() {
    // The pause times out 3 s in and ECS rolls back on its own.
    let sim = sim(&BLUE_GREEN_PAUSE
        .replace("action: CONTINUE", "action: ROLLBACK")
        .replace("hookTimeoutSeconds: 5", "hookTimeoutSeconds: 3"));
    let first = paused_first_job(&sim);
    assert!(
        sim.wait_until(Duration::from_secs(20), |sim| running_revision(
            sim, "shop-web"
        ) == "shop:1")
    );
    let second = second_job(&sim, &first, &[]);
    assert_eq!(second.code, 1, "{}", second.log());
    let error = second.error_lines().join("\n");
    assert!(
        error.contains("back to shop:1") && error.contains("lifecycle hook timed out"),
        "{error}"
    );
    assert!(sim.calls_to("ContinueServiceDeployment").is_empty());
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "failure"]
    );
}

/// A second job refused before any change: exit 1, the error's words, and
/// no call that changes something in AWS or GitHub.
fn assert_refused(sim: &Sim, run: &Run, words: &str) {
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.error_lines().join("\n");
    assert!(error.contains(words), "{error}");
    assert_eq!(changes(sim), Vec::<String>::new(), "{}", run.log());
}

/// A second job reporting to GitHub deployment 1001, as it would in a
/// workflow: a refusal must come before its first status too.
fn follow_job(sim: &Sim, service_deployment: &str, hook_action: Option<&str>) -> Run {
    let mut inputs = vec![
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("service-deployment", service_deployment),
        ("environment", "staging"),
        ("github-deployment-id", "1001"),
        ("github-token", TOKEN),
    ];
    inputs.extend(hook_action.map(|action| ("hook-action", action)));
    job(sim).run(&inputs)
}

#[test]
fn a_service_deployment_that_does_not_exist_is_refused_before_any_change() {
    let sim = paused_for_long("ROLLBACK");
    let run = follow_job(
        &sim,
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/shop-web/NoSuchDeployment",
        Some("continue"),
    );
    assert_refused(&sim, &run, "was not found");
}

#[test]
fn a_deployment_of_another_service_is_refused_before_any_change() {
    let sim = sim(&format!(
        "{}\n",
        BLUE_GREEN_PAUSE.replace(
            "github:\n",
            "  - {cluster: prod, serviceName: shop-worker, taskDefinition: shop:1, desiredCount: 1}\ngithub:\n"
        )
    ));
    let first = first_job(&sim, "paused");
    assert_eq!(first.code, 0, "{}", first.log());
    let before = changes(&sim);
    let run = job(&sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-worker"),
        (
            "service-deployment",
            first.outputs["ecs-service-deployment-arn"].as_str(),
        ),
        ("hook-action", "continue"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.error_lines().join("\n");
    assert!(
        error.contains("is a deployment of service shop-web, not of shop-worker"),
        "{error}"
    );
    assert_eq!(changes(&sim), before, "{}", run.log());
}

#[test]
fn hook_action_with_nothing_paused_is_refused_before_any_change() {
    let sim = sim(&without_pause_hook(BLUE_GREEN_PAUSE));
    let first = first_job(&sim, "done");
    assert_eq!(first.code, 0, "{}", first.log());
    let before = changes(&sim);
    let run = follow_job(&sim, "current", Some("continue"));
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.error_lines().join("\n");
    assert!(
        error.contains(&format!(
            "hook-action: continue, but no lifecycle hook of service deployment {} awaits action (it is SUCCESSFUL",
            first.outputs["ecs-service-deployment-arn"]
        )),
        "{error}"
    );
    assert_eq!(changes(&sim), before, "{}", run.log());
}

#[test]
fn wait_until_on_a_rolling_service_is_refused_before_any_change() {
    let sim = sim(&BLUE_GREEN_PAUSE.replace("strategy: BLUE_GREEN", "strategy: ROLLING"));
    let run = first_job(&sim, "paused");
    assert_refused(
        &sim,
        &run,
        "deploys ROLLING, which has no lifecycle stage or hook to stop at",
    );
    let run = first_job(&sim, "PRODUCTION_TRAFFIC_SHIFT");
    assert_refused(&sim, &run, "deploys ROLLING");
}

#[test]
fn wait_until_paused_without_a_pause_hook_is_refused_before_any_change() {
    let sim = sim(&without_pause_hook(BLUE_GREEN_PAUSE));
    let run = first_job(&sim, "paused");
    assert_refused(&sim, &run, "has no PAUSE lifecycle hook");
}

#[test]
fn the_inputs_of_a_follow_are_checked_together_before_any_call() {
    let sim = paused_for_long("ROLLBACK");
    let run = job(&sim).run(&[
        ("service", "shop-web"),
        ("service-deployment", "not-an-arn"),
        ("image", "shop:2"),
        ("wait-until", "LUNCH"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    for words in [
        "image: not with service-deployment, which follows a deployment already started",
        "wait-until: \"LUNCH\" is not done, paused or a lifecycle stage",
        "service-deployment: \"not-an-arn\" is not an ECS service deployment ARN",
    ] {
        assert!(log.contains(words), "{words}: {log}");
    }
    assert!(sim.calls().is_empty(), "{:?}", sim.calls());
    let run = job(&sim).run(&[("service", "shop-web"), ("hook-action", "continue")]);
    assert!(
        run.log()
            .contains("hook-action: needs service-deployment or codedeploy-deployment-id"),
        "{}",
        run.log()
    );
    assert!(sim.calls().is_empty());
}

#[test]
fn on_cancel_rollback_rolls_a_paused_deployment_back_when_the_job_is_cancelled() {
    let sim = paused_for_long("CONTINUE");
    let running = job(&sim).start(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
        ("on-cancel", "rollback"),
    ]);
    // Once the deployment waits at its hook, for a reviewer.
    assert!(sim.wait_until(Duration::from_secs(30), awaits_action));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let stops = sim.calls_to("StopServiceDeployment");
    assert_eq!(stops.len(), 1, "{}", run.log());
    assert_eq!(stops[0].body["stopType"], "ROLLBACK");
    let arn = run.outputs["ecs-service-deployment-arn"].clone();
    assert_eq!(stops[0].body["serviceDeploymentArn"], arn.as_str());
    let error = run.error_lines().join("\n");
    assert!(
        error.contains(&format!(
            "of service shop-web is rolling back (StopServiceDeployment ROLLBACK of {arn})"
        )),
        "{error}"
    );
    assert!(
        sim.wait_until(Duration::from_secs(10), |sim| running_revision(
            sim, "shop-web"
        ) == "shop:1")
    );
}

#[test]
fn on_cancel_rollback_rolls_back_a_deployment_that_outlasts_wait_for_minutes() {
    let sim = paused_for_long("CONTINUE");
    let run = job(&sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
        ("on-cancel", "rollback"),
        ("wait-for-minutes", "0.1"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let stops = sim.calls_to("StopServiceDeployment");
    assert_eq!(stops.len(), 1, "{}", run.log());
    let error = run.error_lines().join("\n");
    assert!(
        error.contains("timed out after 0.1 minutes")
            && error.contains("ECS rolls it back to shop:1 (on-cancel: rollback)"),
        "{error}"
    );
    assert!(
        sim.wait_until(Duration::from_secs(10), |sim| running_revision(
            sim, "shop-web"
        ) == "shop:1")
    );
}

const CODEDEPLOY_OK: &str = include_str!("../sim/scenarios/codedeploy-ok.yaml");

/// shop-web deploys through CodeDeploy and waits at Ready until told.
fn codedeploy_waiting_at_ready() -> Sim {
    sim(&CODEDEPLOY_OK.replace("outcome: succeed", "outcome: waitReady"))
}

/// The first job: creates the CodeDeploy deployment and ends at Ready.
fn codedeploy_first_job(sim: &Sim) -> Run {
    let first = job(sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
        ("codedeploy-wait-until", "ready"),
        ("environment", "staging"),
        ("github-token", TOKEN),
    ]);
    assert_eq!(first.code, 0, "{}", first.log());
    assert_eq!(github_states(sim), ["in_progress"]);
    let next = format!(
        "| Next for `shop-web` | the traffic waits to be rerouted: a later job with `codedeploy-deployment-id: {}` and `hook-action: continue` (or `rollback`) continues it and gives the verdict |",
        first.outputs["codedeploy-deployment-id"]
    );
    for row in ["| Result | ⏸ left under way for a later job |", &next] {
        assert!(first.summary.contains(row), "{row}: {}", first.summary);
    }
    first
}

fn codedeploy_second_job(sim: &Sim, first: &Run, hook_action: &str) -> Run {
    job(sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        (
            "codedeploy-deployment-id",
            first.outputs["codedeploy-deployment-id"].as_str(),
        ),
        ("hook-action", hook_action),
        ("environment", "staging"),
        (
            "github-deployment-id",
            first.outputs["github-deployment-id"].as_str(),
        ),
        ("github-token", TOKEN),
    ])
}

#[test]
fn codedeploy_ready_then_continue_from_a_second_job_succeeds() {
    let sim = codedeploy_waiting_at_ready();
    let first = codedeploy_first_job(&sim);
    let id = first.outputs["codedeploy-deployment-id"].clone();
    let second = codedeploy_second_job(&sim, &first, "continue");
    assert_eq!(second.code, 0, "{}", second.log());
    let continued = sim.calls_to("ContinueDeployment");
    assert_eq!(continued.len(), 1);
    assert_eq!(continued[0].body["deploymentId"], id.as_str());
    assert_eq!(continued[0].body["deploymentWaitType"], "READY_WAIT");
    let log = second.log();
    assert!(
        log.contains(&format!(
            "Following CodeDeploy deployment {id} of service shop-web, created before this step: "
        )) && log.contains(&format!(
            "CodeDeploy {id}: traffic rerouted to the new tasks (ContinueDeployment)"
        )) && log.contains(&format!("✔ shop-web: deployment {id} completed")),
        "{log}"
    );
    assert_eq!(sim.calls_to("CreateDeployment").len(), 1);
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "success"]
    );
}

#[test]
fn codedeploy_ready_then_roll_back_from_a_second_job_fails() {
    let sim = codedeploy_waiting_at_ready();
    let first = codedeploy_first_job(&sim);
    let id = first.outputs["codedeploy-deployment-id"].clone();
    let second = codedeploy_second_job(&sim, &first, "rollback");
    assert_eq!(second.code, 1, "{}", second.log());
    let stops = sim.calls_to("StopDeployment");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].body["deploymentId"], id.as_str());
    assert_eq!(stops[0].body["autoRollbackEnabled"], true);
    assert!(sim.calls_to("ContinueDeployment").is_empty());
    assert!(
        second.log().contains(&format!(
            "CodeDeploy {id}: stopped with rollback (StopDeployment)"
        )),
        "{}",
        second.log()
    );
    assert_eq!(
        github_states(&sim),
        ["in_progress", "in_progress", "failure"]
    );
}

#[test]
fn codedeploy_continue_of_a_deployment_not_ready_is_refused_before_any_change() {
    let sim = sim(CODEDEPLOY_OK);
    let first = job(&sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
    ]);
    assert_eq!(first.code, 0, "{}", first.log());
    let id = first.outputs["codedeploy-deployment-id"].clone();
    let before = changes(&sim);
    let run = job(&sim).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("codedeploy-deployment-id", id.as_str()),
        ("hook-action", "continue"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run.error_lines().join("\n");
    assert!(
        error.contains(&format!(
            "hook-action: continue, but CodeDeploy deployment {id} is Succeeded, not Ready"
        )),
        "{error}"
    );
    assert_eq!(changes(&sim), before);
    assert!(sim.calls_to("ContinueDeployment").is_empty());
}
