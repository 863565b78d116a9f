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
    /// The status poll that the "30 a minute of waiting" target counts.
    pub status_poll: &'static str,
}

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

pub const KINDS: [Kind; 6] = [
    Kind {
        name: "ECS rolling, success",
        scenario: include_str!("../../sim/scenarios/deploy-ok.yaml"),
        terminal: Terminal::RolloutCompleted,
        succeeds: true,
        verdict: SUCCESS_MARK,
        start_operation: "UpdateService",
        status_poll: "DescribeServices",
    },
    Kind {
        name: "ECS circuit-breaker rollback",
        scenario: include_str!("../../sim/scenarios/circuit-breaker.yaml"),
        terminal: Terminal::RolloutFailed,
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "UpdateService",
        status_poll: "DescribeServices",
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
        status_poll: "DescribeServices",
    },
    Kind {
        name: "CodeDeploy, success",
        scenario: include_str!("../../sim/scenarios/codedeploy-ok.yaml"),
        terminal: Terminal::CodeDeploy("Succeeded"),
        succeeds: true,
        verdict: SUCCESS_MARK,
        start_operation: "CreateDeployment",
        status_poll: "GetDeployment",
    },
    Kind {
        name: "CodeDeploy, failure",
        scenario: include_str!("../../sim/scenarios/codedeploy-fails.yaml"),
        terminal: Terminal::CodeDeploy("Failed"),
        succeeds: false,
        verdict: FAILURE_MARK,
        start_operation: "CreateDeployment",
        status_poll: "GetDeployment",
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
        status_poll: "DescribeTasks",
    },
];

/// Makes every timeline of `scenario` last `factor` times as long.
pub fn stretch(scenario: &mut Scenario, factor: f64) {
    let timelines = &mut scenario.timelines;
    for rollout in &mut timelines.deployments {
        rollout.seconds *= factor;
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
