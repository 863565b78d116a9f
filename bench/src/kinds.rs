//! The deployment kinds whose verdict is timed: each a scenario the
//! simulator ships, the moment in its world that decides the verdict, the
//! line that reports it, and the calls that start and poll the wait.

use std::collections::HashSet;

use serde_json::Value;

use ecs_deploy_sim::{Scenario, Sim};

pub struct Kind {
    pub name: &'static str,
    /// A scenario of sim/scenarios; its `rehearsal.inputs` are the step's inputs.
    pub scenario: &'static str,
    pub terminal: Terminal,
    /// Whether ecs-deploy must report success (exit 0) or failure (exit 1).
    pub succeeds: bool,
    /// How the stdout line that reports the verdict begins.
    pub verdict: &'static str,
    /// The call after which ecs-deploy waits for the verdict.
    pub start_operation: &'static str,
    /// The status calls that the "30 a minute of waiting" target counts.
    pub status_calls: &'static [&'static str],
    /// What the kind changes in its scenario, if anything.
    pub adapt: Option<fn(&mut Scenario)>,
    /// How many times as long as written its timelines last, before the
    /// run's stretch: the slow success lasts twice as long.
    pub lasts: f64,
}

/// The kinds' timelines last ten times as long as written (a 3 s rollout:
/// 30 s), as real deployments take minutes: a watch saves calls while a
/// sign must come first and spends them when the deciding transition is
/// due, which a rollout of a few seconds leaves no room for.
pub const TIMELINE_SCALE: f64 = 10.0;

/// What ECS's own status calls are: the services, and the service
/// deployments of native strategies and of failures.
const ECS_STATUS: &[&str] = &["DescribeServices", "DescribeServiceDeployments"];

/// The world's transition that decides a deployment, as ecs-deploy's
/// verdict rules read it.
pub enum Terminal {
    /// The deployment we started is COMPLETED.
    RolloutCompleted,
    /// The circuit breaker failed the deployment we started (the rollback
    /// starts at the same moment; ecs-deploy reports it without waiting for
    /// the rollback to finish).
    RolloutFailed,
    /// The deployment we started has this many failed tasks: the threshold
    /// at which ecs-deploy stops a crash loop on a service without breaker.
    FailedTasks(i64),
    /// Every task of the deployment we started runs: with an early success
    /// (a DEFERRED clean-up), the moment ECS calls it SUCCESSFUL, while the
    /// old tasks still drain.
    NewTasksRunning,
    /// A CodeDeploy deployment reached this status.
    CodeDeploy(&'static str),
    /// The migration task is STOPPED (the scenario's only task: a failed
    /// migration updates no service).
    TaskStopped,
}

/// How ecs-deploy's deployment verdict lines begin (pipeline::report_verdicts).
pub const SUCCESS_MARK: &str = "✔ ";
const FAILURE_MARK: &str = "✘ ";

/// The failing migration: a failed migration ends the run, so that its
/// verdict is not followed by a deployment's wait. The log streaming run's
/// task writes more lines.
pub const MIGRATION_FAILS: &str = include_str!("../../sim/scenarios/migration-fails.yaml");

/// The kind whose runs give the start-up and memory figures: a whole
/// single-service rolling deploy.
pub const START_UP_KIND: usize = 0;

/// A rolling deployment that completes once its old tasks have drained.
const ROLLING_SUCCESS: Kind = Kind {
    name: "ECS rolling, success",
    scenario: include_str!("../../sim/scenarios/deploy-ok.yaml"),
    terminal: Terminal::RolloutCompleted,
    succeeds: true,
    verdict: SUCCESS_MARK,
    start_operation: "UpdateService",
    status_calls: ECS_STATUS,
    adapt: None,
    lasts: 1.0,
};

pub const KINDS: [Kind; 11] = [
    ROLLING_SUCCESS,
    Kind {
        name: "ECS circuit-breaker rollback",
        scenario: include_str!("../../sim/scenarios/circuit-breaker.yaml"),
        terminal: Terminal::RolloutFailed,
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "UpdateService",
        status_calls: ECS_STATUS,
        adapt: None,
        lasts: 1.0,
    },
    Kind {
        name: "ECS crash loop, no breaker",
        scenario: include_str!("../../sim/scenarios/crash-loop.yaml"),
        // ECS's own threshold for the scenario's 2 desired tasks, which
        // ecs-deploy applies when the service has no breaker.
        terminal: Terminal::FailedTasks(3),
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "UpdateService",
        status_calls: ECS_STATUS,
        adapt: None,
        lasts: 1.0,
    },
    Kind {
        name: "CodeDeploy, success",
        scenario: include_str!("../../sim/scenarios/codedeploy-ok.yaml"),
        terminal: Terminal::CodeDeploy("Succeeded"),
        succeeds: true,
        verdict: SUCCESS_MARK,
        start_operation: "CreateDeployment",
        status_calls: &["GetDeployment"],
        adapt: None,
        lasts: 1.0,
    },
    Kind {
        name: "CodeDeploy, failure",
        scenario: include_str!("../../sim/scenarios/codedeploy-fails.yaml"),
        terminal: Terminal::CodeDeploy("Failed"),
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "CreateDeployment",
        status_calls: &["GetDeployment"],
        adapt: None,
        lasts: 1.0,
    },
    Kind {
        name: "migration, failure",
        scenario: MIGRATION_FAILS,
        terminal: Terminal::TaskStopped,
        succeeds: false,
        // The run's error annotation (pipeline::run): a failed migration
        // ends the run.
        verdict: "::error::migration failed",
        start_operation: "RunTask",
        status_calls: &["DescribeTasks"],
        adapt: None,
        lasts: 1.0,
    },
    Kind {
        name: "ECS rolling, slow success",
        lasts: 2.0,
        ..ROLLING_SUCCESS
    },
    Kind {
        name: "ECS blue/green, success",
        scenario: include_str!("../../sim/scenarios/bluegreen-pause.yaml"),
        terminal: Terminal::RolloutCompleted,
        succeeds: true,
        verdict: SUCCESS_MARK,
        start_operation: "UpdateService",
        status_calls: ECS_STATUS,
        adapt: Some(without_pause_hooks),
        lasts: 1.0,
    },
    Kind {
        name: "ECS canary, alarm rollback",
        scenario: include_str!("../../sim/scenarios/alarm-rollback.yaml"),
        terminal: Terminal::RolloutFailed,
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "UpdateService",
        status_calls: ECS_STATUS,
        adapt: Some(as_canary),
        lasts: 1.0,
    },
    Kind {
        name: "ECS blue/green, failed Lambda hook",
        scenario: include_str!("../../sim/scenarios/bluegreen-pause.yaml"),
        terminal: Terminal::RolloutFailed,
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "UpdateService",
        status_calls: ECS_STATUS,
        adapt: Some(with_failing_lambda_hook),
        lasts: 1.0,
    },
    Kind {
        name: "ECS rolling, early success",
        terminal: Terminal::NewTasksRunning,
        adapt: Some(with_early_success),
        ..ROLLING_SUCCESS
    },
];

/// The blue/green scenario without its PAUSE hook: nothing waits for a person.
fn without_pause_hooks(scenario: &mut Scenario) {
    change_deployment_configuration(scenario, |configuration| {
        configuration.remove("lifecycleHooks");
    });
}

/// The blue/green scenario with a Lambda hook after the scale-up, whose
/// function runs for a second (as written) and fails, instead of its
/// PAUSE hook.
fn with_failing_lambda_hook(scenario: &mut Scenario) {
    change_deployment_configuration(scenario, |configuration| {
        configuration.insert(
            "lifecycleHooks".into(),
            serde_json::json!([{
                "targetType": "AWS_LAMBDA",
                "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke-test",
                "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks",
                "lifecycleStages": ["POST_SCALE_UP"],
            }]),
        );
    });
    for rollout in &mut scenario.timelines.deployments {
        rollout.lambda_hook_seconds = Some(1.0);
        rollout.lambda_hook_fails = true;
    }
}

/// The rolling scenario succeeding early: ECS calls it successful once
/// every new task runs, and the old ones drain after.
fn with_early_success(scenario: &mut Scenario) {
    change_deployment_configuration(scenario, |configuration| {
        configuration.insert(
            "earlySuccessCriteria".into(),
            serde_json::json!({
                "enable": true,
                "healthyPercent": 100,
                "sourceServiceRevisionCleanup": "DEFERRED",
            }),
        );
    });
}

/// The alarm scenario's service deploying by canary (ECS's default 5 %).
fn as_canary(scenario: &mut Scenario) {
    change_deployment_configuration(scenario, |configuration| {
        configuration.insert("strategy".into(), "CANARY".into());
    });
}

fn change_deployment_configuration(
    scenario: &mut Scenario,
    change: impl Fn(&mut serde_json::Map<String, Value>),
) {
    for service in &mut scenario.services {
        if let Some(Value::Object(configuration)) = service.other.get_mut("deploymentConfiguration")
        {
            change(configuration);
        }
    }
}

/// Makes every timeline of `scenario` last `factor` times as long.
pub fn stretch(scenario: &mut Scenario, factor: f64) {
    let timelines = &mut scenario.timelines;
    for rollout in &mut timelines.deployments {
        rollout.seconds *= factor;
        for seconds in [
            &mut rollout.drain_seconds,
            &mut rollout.hook_timeout_seconds,
            &mut rollout.lambda_hook_seconds,
        ]
        .into_iter()
        .flatten()
        {
            *seconds *= factor;
        }
    }
    for task in &mut timelines.tasks {
        task.seconds *= factor;
    }
    for deployment in &mut timelines.code_deploy {
        deployment.seconds *= factor;
    }
}

/// ECS deployment ids the world has before ecs-deploy runs: not ours.
pub fn existing_deployments(sim: &Sim) -> HashSet<String> {
    new_deployments(sim, &HashSet::new())
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect()
}

impl Terminal {
    /// Whether the world has reached this transition; `existing` are the
    /// ECS deployments that were there before ecs-deploy ran.
    pub fn holds(&self, sim: &Sim, existing: &HashSet<String>) -> bool {
        match self {
            Terminal::RolloutCompleted => new_deployments(sim, existing)
                .iter()
                .any(|d| d["rolloutState"] == "COMPLETED"),
            Terminal::NewTasksRunning => new_deployments(sim, existing).iter().any(|d| {
                d["desiredCount"].as_i64() > Some(0) && d["runningCount"] == d["desiredCount"]
            }),
            Terminal::RolloutFailed => new_deployments(sim, existing)
                .iter()
                .any(|d| d["rolloutState"] == "FAILED"),
            Terminal::FailedTasks(threshold) => new_deployments(sim, existing)
                .iter()
                .any(|d| d["failedTasks"].as_i64() >= Some(*threshold)),
            Terminal::CodeDeploy(status) => sim
                .codedeploy_deployments()
                .iter()
                .any(|d| d["status"] == *status),
            Terminal::TaskStopped => any_task(sim, "STOPPED"),
        }
    }
}

/// Whether a task (RunTask's, or a failed one of a deployment) has this lastStatus.
pub fn any_task(sim: &Sim, status: &str) -> bool {
    sim.tasks().iter().any(|task| task["lastStatus"] == status)
}

/// The ECS deployments of every service that are not in `existing`.
fn new_deployments(sim: &Sim, existing: &HashSet<String>) -> Vec<Value> {
    sim.services()
        .into_iter()
        .flat_map(|service| match service["deployments"].clone() {
            Value::Array(deployments) => deployments,
            _ => Vec::new(),
        })
        .filter(|d| d["id"].as_str().is_some_and(|id| !existing.contains(id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline_seconds(scenario: &Scenario) -> f64 {
        let timelines = &scenario.timelines;
        timelines.deployments.iter().map(|t| t.seconds).sum::<f64>()
            + timelines.tasks.iter().map(|t| t.seconds).sum::<f64>()
            + timelines.code_deploy.iter().map(|t| t.seconds).sum::<f64>()
    }

    #[test]
    fn every_kind_has_inputs_and_timelines_that_stretch() {
        for kind in &KINDS {
            let mut scenario = Scenario::from_yaml(kind.scenario).unwrap();
            let inputs = &scenario.rehearsal.inputs;
            assert!(!inputs.is_empty(), "{}", kind.name);
            if matches!(kind.terminal, Terminal::TaskStopped) {
                assert!(inputs.contains_key("migration-command"), "{}", kind.name);
            }
            let written = timeline_seconds(&scenario);
            assert!(written > 0.0, "{}", kind.name);
            stretch(&mut scenario, 2.0);
            assert_eq!(timeline_seconds(&scenario), 2.0 * written, "{}", kind.name);
        }
    }
}
