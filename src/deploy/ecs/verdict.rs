//! Judging one ECS deployment from what ECS shows of its service: pure
//! functions over small views of DescribeServices and
//! DescribeServiceDeployments, so that every rule has a table test. The
//! deployment judged is the one our UpdateService started, never "the
//! service is stable", which a circuit-breaker rollback also ends with.

use crate::arn::resource_name;
use crate::deploy::settings::{HookAction, WaitUntil, LIFECYCLE_STAGES};
use crate::poll::Outlook;

/// A deployment as DescribeServices lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DeploymentView {
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: String,
    pub task_definition: String,
    /// IN_PROGRESS, COMPLETED or FAILED.
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub desired: i32,
    pub pending: i32,
    pub running: i32,
    pub failed_tasks: i32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ServiceView {
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: String,
    pub deployments: Vec<DeploymentView>,
    /// Whether CloudWatch alarms watch its deployments (and may fail them).
    pub alarms_watched: bool,
}

/// A service deployment as DescribeServiceDeployments shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ServiceDeploymentView {
    pub status: String,
    pub status_reason: Option<String>,
    pub rollback_reason: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// CloudWatch alarms of the deployment that went into ALARM.
    pub triggered_alarms: Vec<String>,
    /// The new revision's requested traffic weights (blue/green, linear,
    /// canary).
    pub traffic: Option<TrafficWeights>,
    /// PAUSE lifecycle hooks waiting for ContinueServiceDeployment.
    pub paused_hooks: Vec<PausedHook>,
    /// The new revision's tasks: requested, running, pending.
    pub tasks: Option<(i32, i32, i32)>,
    /// The circuit breaker's count of failed tasks and its threshold.
    pub breaker: Option<BreakerCount>,
    /// The Lambda functions of the lifecycle hooks that run (and may fail
    /// it), and of those that failed, by name.
    pub running_hooks: Vec<String>,
    pub failed_hooks: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BreakerCount {
    pub failures: i32,
    pub threshold: i32,
}

/// Percentages of traffic requested for the new service revision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TrafficWeights {
    pub(crate) production: f64,
    pub(crate) test: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PausedHook {
    pub(crate) id: String,
    /// When ECS stops waiting, and what it does then (CONTINUE or ROLLBACK).
    pub(crate) expires_at: Option<String>,
    pub(crate) timeout_action: Option<String>,
}

/// What we started and how far we let it go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OurDeployment {
    pub deployment_id: String,
    pub task_definition: String,
    pub previous_task_definition: String,
    /// Fail once this many tasks of our deployment stopped; None when the
    /// service's circuit breaker decides.
    pub max_failed_tasks: Option<i32>,
    /// Where the step leaves the deployment to a later job.
    pub wait_until: WaitUntil,
    /// The circuit breaker's own threshold, once its record gave it: it
    /// stays the deployment's (`thresholdConfiguration` against the
    /// desired count), so it is read once.
    pub breaker_threshold: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    InProgress,
    Succeeded,
    Failed(Failure),
    /// Where `wait-until` said to stop following it, under way: in `stage`,
    /// maybe at a PAUSE hook that awaits action.
    Reached {
        stage: Option<String>,
        paused_hook: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    pub reason: String,
    /// Our own threshold stopped it; ECS keeps trying until we restore.
    pub by_threshold: bool,
}

fn failed(reason: String) -> Verdict {
    Verdict::Failed(Failure {
        reason,
        by_threshold: false,
    })
}

/// Whether the service-deployment record is needed to explain what ECS
/// shows: ours is no longer the primary deployment, or it failed; or to
/// foresee it: tasks of ours failed, the circuit breaker decides, and its
/// own threshold (`thresholdConfiguration`) is not known yet.
pub(super) fn needs_record(watch: &OurDeployment, service: &ServiceView) -> bool {
    service
        .deployments
        .iter()
        .find(|d| d.id == watch.deployment_id)
        .is_none_or(|ours| {
            ours.status != "PRIMARY"
                || ours.rollout_state.as_deref() == Some("FAILED")
                || (watch.max_failed_tasks.is_none()
                    && watch.breaker_threshold.is_none()
                    && ours.failed_tasks > 0)
        })
}

pub(super) fn judge(
    watch: &OurDeployment,
    service: &ServiceView,
    record: Option<&ServiceDeploymentView>,
) -> Verdict {
    if service.status != "ACTIVE" {
        return failed(format!(
            "the service became {} during the deployment",
            service.status
        ));
    }
    let primary = service.deployments.iter().find(|d| d.status == "PRIMARY");
    if let Some(ended) = record.and_then(|record| ended_by_record(watch, record, primary)) {
        return ended;
    }
    // ECS's own SUCCESSFUL is the verdict: also an early success that
    // leaves tasks to scale up or drain after it, and a success a newer
    // deployment has replaced since.
    if record.is_some_and(|record| record.status == "SUCCESSFUL") {
        return Verdict::Succeeded;
    }
    let Some(ours) = service
        .deployments
        .iter()
        .find(|d| d.id == watch.deployment_id)
    else {
        return gone(watch, primary);
    };
    if let Some(failure) = failed_or_displaced(watch, ours, primary) {
        return failure;
    }
    if let Some(max) = watch.max_failed_tasks {
        if ours.failed_tasks >= max {
            return Verdict::Failed(Failure {
                reason: format!(
                    "{} tasks of the new deployment stopped (threshold {max}), {} of {} running",
                    ours.failed_tasks, ours.running, ours.desired
                ),
                by_threshold: true,
            });
        }
    }
    if let Some(reached) = record.filter(|record| reached(&watch.wait_until, record)) {
        return Verdict::Reached {
            stage: reached.lifecycle_stage.clone(),
            paused_hook: reached.paused_hooks.first().map(|hook| hook.id.clone()),
        };
    }
    if ours.task_definition == watch.task_definition
        && completed(service, ours)
        && ours.running == ours.desired
    {
        Verdict::Succeeded
    } else {
        Verdict::InProgress
    }
}

/// What the service-deployment record says when it ended ours: a rollback
/// (with the alarms that triggered it) or a stop, which a newer
/// deployment's start also is.
fn ended_by_record(
    watch: &OurDeployment,
    record: &ServiceDeploymentView,
    primary: Option<&DeploymentView>,
) -> Option<Verdict> {
    let previous = resource_name(&watch.previous_task_definition);
    match record.status.as_str() {
        "ROLLBACK_REQUESTED"
        | "ROLLBACK_IN_PROGRESS"
        | "ROLLBACK_SUCCESSFUL"
        | "ROLLBACK_FAILED" => {
            let mut why = record
                .rollback_reason
                .as_deref()
                .or(record.status_reason.as_deref())
                .unwrap_or("no reason given")
                .to_owned();
            if !record.triggered_alarms.is_empty() {
                why.push_str(&format!(
                    " (alarms in ALARM: {})",
                    record.triggered_alarms.join(", ")
                ));
            }
            if !record.failed_hooks.is_empty() {
                why.push_str(&format!(
                    " (lifecycle hook failed: Lambda function {})",
                    record.failed_hooks.join(", ")
                ));
            }
            let state = match record.status.as_str() {
                "ROLLBACK_SUCCESSFUL" => "rolled back",
                "ROLLBACK_FAILED" => "failed to roll back",
                _ => "is rolling back",
            };
            Some(failed(format!("ECS {state} to {previous}: {why}")))
        }
        "STOPPED" | "STOP_REQUESTED" => {
            let why = record.status_reason.as_deref().unwrap_or("no reason given");
            Some(match primary.filter(|p| p.id != watch.deployment_id) {
                Some(p) => failed(format!(
                    "the deployment was superseded by deployment {} of {}: {why}",
                    p.id,
                    resource_name(&p.task_definition)
                )),
                None => failed(format!("the deployment was stopped: {why}")),
            })
        }
        _ => None,
    }
}

/// Where `wait-until` leaves a deployment still in progress, once it got
/// there: a PAUSE hook awaits action, or the stage (or one after it) began,
/// since a poll may miss a stage that passes in seconds.
fn reached(wait_until: &WaitUntil, record: &ServiceDeploymentView) -> bool {
    if record.status != "IN_PROGRESS" {
        return false;
    }
    let order = |stage: &str| LIFECYCLE_STAGES.iter().position(|known| *known == stage);
    match wait_until {
        WaitUntil::Done => false,
        WaitUntil::Paused => !record.paused_hooks.is_empty(),
        WaitUntil::Stage(stage) => {
            match (
                record.lifecycle_stage.as_deref().and_then(order),
                order(stage),
            ) {
                (Some(now), Some(wanted)) => now >= wanted,
                _ => false,
            }
        }
    }
}

/// The PAUSE hook of service deployment `arn` (seen as `record`) that
/// `hook-action` acts on: the one that awaits action, else why none can be.
pub(super) fn hook_to_act_on(
    action: HookAction,
    arn: &str,
    record: &ServiceDeploymentView,
) -> Result<String, String> {
    match record.paused_hooks.first() {
        Some(hook) => Ok(hook.id.clone()),
        None => Err(format!(
            "hook-action: {}, but no lifecycle hook of service deployment {arn} awaits action (it is {}{}); nothing was changed",
            action.as_str().to_lowercase(),
            record.status,
            record
                .lifecycle_stage
                .as_deref()
                .map(|stage| format!(" at {stage}"))
                .unwrap_or_default()
        )),
    }
}

/// Why `wait-until` could never stop a deployment of a service that
/// deploys with `strategy` (ROLLING, BLUE_GREEN, LINEAR, CANARY, or
/// CODE_DEPLOY for the controller) and has
/// `pause_hooks` PAUSE lifecycle hooks; None when it can.
pub(super) fn cannot_stop(
    wait_until: &WaitUntil,
    service: &str,
    strategy: &str,
    pause_hooks: usize,
) -> Option<String> {
    match wait_until {
        WaitUntil::Done => None,
        _ if strategy == "CODE_DEPLOY" => Some(format!(
            "wait-until: service {service} is deployed by CodeDeploy, which has no ECS lifecycle stage or hook; use codedeploy-wait-until: ready to stop when traffic waits to be rerouted"
        )),
        _ if strategy == "ROLLING" => Some(format!(
            "wait-until: service {service} deploys ROLLING, which has no lifecycle stage or hook to stop at; use done, or give the service a BLUE_GREEN, LINEAR or CANARY strategy"
        )),
        WaitUntil::Paused if pause_hooks == 0 => Some(format!(
            "wait-until: paused, but service {service} has no PAUSE lifecycle hook (deploymentConfiguration.lifecycleHooks), so its deployment never pauses; add one, or stop at a lifecycle stage"
        )),
        _ => None,
    }
}

/// Ours is no longer among the service's deployments: what replaced it.
fn gone(watch: &OurDeployment, primary: Option<&DeploymentView>) -> Verdict {
    match primary {
        Some(p) if p.task_definition == watch.previous_task_definition => failed(format!(
            "the deployment was rolled back: the service runs {} again (deployment {})",
            resource_name(&watch.previous_task_definition),
            p.id
        )),
        Some(p) if p.task_definition == watch.task_definition => failed(format!(
            "deployment {} was replaced by deployment {} of the same task definition",
            watch.deployment_id, p.id
        )),
        Some(p) => failed(format!(
            "deployment {} was replaced: the service now runs {} (deployment {})",
            watch.deployment_id,
            resource_name(&p.task_definition),
            p.id
        )),
        None => failed(format!(
            "deployment {} disappeared from the service",
            watch.deployment_id
        )),
    }
}

/// Ours is still listed, but its rollout failed or another deployment took
/// its place as the PRIMARY one.
fn failed_or_displaced(
    watch: &OurDeployment,
    ours: &DeploymentView,
    primary: Option<&DeploymentView>,
) -> Option<Verdict> {
    let previous = resource_name(&watch.previous_task_definition);
    let primary_is_previous = |p: &&DeploymentView| {
        p.id != ours.id && p.task_definition == watch.previous_task_definition
    };
    if ours.rollout_state.as_deref() == Some("FAILED") {
        let why = ours
            .rollout_state_reason
            .as_deref()
            .unwrap_or("no reason given");
        return Some(match primary.filter(primary_is_previous) {
            Some(_) => failed(format!(
                "the deployment failed and ECS is rolling back to {previous}: {why}"
            )),
            None => failed(format!("the deployment failed: {why}")),
        });
    }
    if ours.status == "PRIMARY" {
        return None;
    }
    let now = primary.map_or("another deployment".to_owned(), |p| {
        format!(
            "deployment {} of {}",
            p.id,
            resource_name(&p.task_definition)
        )
    });
    Some(match primary.filter(primary_is_previous) {
        Some(_) => failed(format!(
            "the deployment was rolled back: the service returned to {previous} ({now})"
        )),
        None => failed(format!("the deployment was superseded by {now}")),
    })
}

/// Whether DescribeServices shows ours done: the rollout is COMPLETED, or
/// (older APIs, no rollout state) ours is the only deployment.
fn completed(service: &ServiceView, ours: &DeploymentView) -> bool {
    match ours.rollout_state.as_deref() {
        Some(state) => state == "COMPLETED",
        None => service.deployments.len() == 1,
    }
}

/// What the last look says of the transition that decides ours, for
/// `poll::Schedule`. It is due when one more failed task reaches the
/// threshold (ours, the breaker's as its record gives it, or else ECS's
/// default for the desired count); when a rolling deployment's new tasks
/// all run (it completes once the old ones drained); when a native
/// strategy cleans up (success follows) or runs a lifecycle hook (which
/// may fail it), and throughout when `wait-until` stops it at a pause or
/// a stage, whose stages pass in seconds. Otherwise it comes later, after
/// a sign (the bake time
/// ends in the clean-up; a person continues a paused hook), or at any
/// time when alarms watch the deployment.
pub(super) fn outlook(
    watch: &OurDeployment,
    native_strategy: bool,
    service: &ServiceView,
    record: Option<&ServiceDeploymentView>,
) -> Outlook {
    let ours = service
        .deployments
        .iter()
        .find(|d| d.id == watch.deployment_id);
    let breaker = record.and_then(|r| r.breaker);
    let threshold = watch
        .max_failed_tasks
        .or(breaker.map(|b| b.threshold))
        .or(watch.breaker_threshold)
        .unwrap_or_else(|| default_failed_task_threshold(ours.map_or(0, |d| d.desired)));
    let failures = ours
        .map_or(0, |d| d.failed_tasks)
        .max(breaker.map_or(0, |b| b.failures));
    let paused = record.is_some_and(|r| !r.paused_hooks.is_empty());
    let due = if native_strategy {
        watch.wait_until != WaitUntil::Done
            || record.is_some_and(|r| {
                !r.running_hooks.is_empty()
                    || (!paused && r.lifecycle_stage.as_deref() == Some("CLEAN_UP"))
            })
    } else {
        ours.is_some_and(|d| d.desired > 0 && d.running >= d.desired)
    };
    if due || failures + 1 >= threshold {
        Outlook::Due
    } else if service.alarms_watched && !paused {
        Outlook::Anytime
    } else {
        Outlook::Later
    }
}

/// ECS's own circuit-breaker threshold: half the desired count, 3 to 200.
pub(super) fn default_failed_task_threshold(desired: i32) -> i32 {
    (desired / 2).clamp(3, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop:2";
    const OLD: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop:1";

    fn watch() -> OurDeployment {
        OurDeployment {
            deployment_id: "ecs-svc/new".into(),
            task_definition: NEW.into(),
            previous_task_definition: OLD.into(),
            max_failed_tasks: None,
            wait_until: WaitUntil::Done,
            breaker_threshold: None,
        }
    }

    fn deployment(
        id: &str,
        status: &str,
        td: &str,
        rollout: &str,
        running: i32,
        failed: i32,
    ) -> DeploymentView {
        DeploymentView {
            id: id.into(),
            status: status.into(),
            task_definition: td.into(),
            rollout_state: Some(rollout.into()),
            rollout_state_reason: Some(format!("ECS deployment {id} {rollout}")),
            desired: 2,
            pending: 0,
            running,
            failed_tasks: failed,
        }
    }

    fn service(deployments: Vec<DeploymentView>) -> ServiceView {
        ServiceView {
            status: "ACTIVE".into(),
            deployments,
            alarms_watched: false,
        }
    }

    fn record(status: &str, reason: Option<&str>, rollback: Option<&str>) -> ServiceDeploymentView {
        ServiceDeploymentView {
            status: status.into(),
            status_reason: reason.map(Into::into),
            rollback_reason: rollback.map(Into::into),
            ..Default::default()
        }
    }

    fn reason(verdict: Verdict) -> String {
        match verdict {
            Verdict::Failed(failure) => failure.reason,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    /// Each row: what the watch saw (ours and the old deployment, the
    /// record's stage, hooks and breaker), and the outlook.
    #[test]
    fn the_outlook_is_due_where_the_deciding_transition_comes_next() {
        use Outlook::{Anytime, Due, Later};
        let rolling = |running: i32, failed: i32| {
            service(vec![
                deployment(
                    "ecs-svc/new",
                    "PRIMARY",
                    NEW,
                    "IN_PROGRESS",
                    running,
                    failed,
                ),
                deployment("ecs-svc/old", "ACTIVE", OLD, "COMPLETED", 2, 0),
            ])
        };
        let watched = ServiceView {
            alarms_watched: true,
            ..rolling(1, 0)
        };
        let hook_runs = ServiceDeploymentView {
            running_hooks: vec!["smoke-test".into()],
            ..record("IN_PROGRESS", None, None)
        };
        let staged = |stage: &str| ServiceDeploymentView {
            lifecycle_stage: Some(stage.into()),
            ..record("IN_PROGRESS", None, None)
        };
        let paused = ServiceDeploymentView {
            paused_hooks: vec![PausedHook::default()],
            ..staged("BAKE_TIME")
        };
        let breaker = |failures: i32, threshold: i32| ServiceDeploymentView {
            breaker: Some(BreakerCount {
                failures,
                threshold,
            }),
            ..staged("SCALE_UP")
        };
        let ours_threshold = |max: i32| OurDeployment {
            max_failed_tasks: Some(max),
            ..watch()
        };
        let rows = [
            (
                "rolling, tasks starting",
                watch(),
                false,
                rolling(1, 0),
                None,
                Later,
            ),
            (
                "rolling, tasks starting, alarms watched",
                watch(),
                false,
                watched.clone(),
                None,
                Anytime,
            ),
            (
                "rolling, every new task runs: the drain ends next",
                watch(),
                false,
                rolling(2, 0),
                None,
                Due,
            ),
            (
                "rolling, one failed of ECS's 3",
                watch(),
                false,
                rolling(0, 1),
                None,
                Later,
            ),
            (
                "rolling, two failed of ECS's 3",
                watch(),
                false,
                rolling(0, 2),
                None,
                Due,
            ),
            (
                "rolling, one failed of our 2",
                ours_threshold(2),
                false,
                rolling(0, 1),
                None,
                Due,
            ),
            (
                "rolling, none failed of our 1",
                ours_threshold(1),
                false,
                rolling(0, 0),
                None,
                Due,
            ),
            (
                "rolling, the breaker's 10 from its record",
                watch(),
                false,
                rolling(0, 2),
                Some(breaker(2, 10)),
                Later,
            ),
            (
                "native, scaling up with every task running",
                watch(),
                true,
                rolling(2, 0),
                Some(staged("SCALE_UP")),
                Later,
            ),
            (
                "native, shifting traffic",
                watch(),
                true,
                rolling(2, 0),
                Some(staged("PRODUCTION_TRAFFIC_SHIFT")),
                Later,
            ),
            (
                "native, shifting traffic, alarms watched",
                watch(),
                true,
                watched.clone(),
                Some(staged("PRODUCTION_TRAFFIC_SHIFT")),
                Anytime,
            ),
            (
                "native, a Lambda hook runs",
                watch(),
                true,
                rolling(2, 0),
                Some(hook_runs),
                Due,
            ),
            (
                "native, baking: the clean-up comes first",
                watch(),
                true,
                rolling(2, 0),
                Some(staged("BAKE_TIME")),
                Later,
            ),
            (
                "native, cleaning up",
                watch(),
                true,
                rolling(2, 0),
                Some(staged("CLEAN_UP")),
                Due,
            ),
            (
                "native, a hook waits for a person",
                watch(),
                true,
                watched,
                Some(paused),
                Later,
            ),
            (
                "native, the breaker one short",
                watch(),
                true,
                rolling(0, 0),
                Some(breaker(4, 5)),
                Due,
            ),
        ];
        for (name, watch, native, service, record, expected) in rows {
            assert_eq!(
                outlook(&watch, native, &service, record.as_ref()),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn in_progress_until_completed_with_all_tasks_running() {
        let cases = [
            (
                vec![
                    deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 1, 0),
                    deployment("ecs-svc/old", "ACTIVE", OLD, "COMPLETED", 2, 0),
                ],
                Verdict::InProgress,
            ),
            (
                vec![deployment("ecs-svc/new", "PRIMARY", NEW, "COMPLETED", 1, 0)],
                Verdict::InProgress,
            ),
            (
                vec![deployment("ecs-svc/new", "PRIMARY", NEW, "COMPLETED", 2, 0)],
                Verdict::Succeeded,
            ),
        ];
        for (deployments, expected) in cases {
            assert_eq!(
                judge(&watch(), &service(deployments.clone()), None),
                expected,
                "{deployments:?}"
            );
        }
    }

    #[test]
    fn a_successful_service_deployment_counts_as_completed() {
        let mut ours = deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 2, 0);
        ours.rollout_state = None;
        let verdict = judge(
            &watch(),
            &service(vec![ours]),
            Some(&record("SUCCESSFUL", None, None)),
        );
        assert_eq!(verdict, Verdict::Succeeded);
    }

    #[test]
    fn a_circuit_breaker_rollback_is_a_failure_that_names_the_old_revision() {
        let deployments = vec![
            deployment("ecs-svc/rollback", "PRIMARY", OLD, "IN_PROGRESS", 0, 0),
            DeploymentView {
                rollout_state_reason: Some(
                    "ECS deployment circuit breaker: tasks failed to start.".into(),
                ),
                ..deployment("ecs-svc/new", "ACTIVE", NEW, "FAILED", 0, 3)
            },
        ];
        let verdict = judge(&watch(), &service(deployments), None);
        assert_eq!(
            verdict,
            Verdict::Failed(Failure {
                reason: "the deployment failed and ECS is rolling back to shop:1: ECS deployment circuit breaker: tasks failed to start.".into(),
                by_threshold: false,
            })
        );
    }

    #[test]
    fn failures_and_their_messages() {
        let ours_in_progress = deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 1, 0);
        let cases: Vec<(ServiceView, Option<ServiceDeploymentView>, &str)> = vec![
            (
                service(vec![ours_in_progress.clone()]),
                Some(record("ROLLBACK_IN_PROGRESS", None, Some("alarm shop-5xx in ALARM"))),
                "ECS is rolling back to shop:1: alarm shop-5xx in ALARM",
            ),
            (
                service(vec![deployment("ecs-svc/old", "PRIMARY", OLD, "COMPLETED", 2, 0)]),
                Some(record("ROLLBACK_SUCCESSFUL", Some("circuit breaker"), None)),
                "ECS rolled back to shop:1: circuit breaker",
            ),
            (
                service(vec![ours_in_progress.clone()]),
                Some(record("STOPPED", Some("A newer service deployment started."), None)),
                "the deployment was stopped: A newer service deployment started.",
            ),
            (
                service(vec![
                    deployment("ecs-svc/other", "PRIMARY", NEW, "IN_PROGRESS", 0, 0),
                    deployment("ecs-svc/new", "ACTIVE", NEW, "IN_PROGRESS", 1, 0),
                ]),
                Some(record("STOPPED", Some("A newer service deployment started."), None)),
                "the deployment was superseded by deployment ecs-svc/other of shop:2: A newer service deployment started.",
            ),
            (
                service(vec![deployment("ecs-svc/other", "PRIMARY", "arn:aws:ecs:us-east-1:1:task-definition/shop:3", "IN_PROGRESS", 0, 0)]),
                None,
                "deployment ecs-svc/new was replaced: the service now runs shop:3 (deployment ecs-svc/other)",
            ),
            (
                service(vec![deployment("ecs-svc/back", "PRIMARY", OLD, "COMPLETED", 2, 0)]),
                None,
                "the deployment was rolled back: the service runs shop:1 again (deployment ecs-svc/back)",
            ),
            (
                service(vec![deployment("ecs-svc/again", "PRIMARY", NEW, "IN_PROGRESS", 0, 0)]),
                None,
                "deployment ecs-svc/new was replaced by deployment ecs-svc/again of the same task definition",
            ),
            (
                service(vec![
                    deployment("ecs-svc/other", "PRIMARY", "arn:aws:ecs:us-east-1:1:task-definition/shop:3", "IN_PROGRESS", 0, 0),
                    deployment("ecs-svc/new", "ACTIVE", NEW, "IN_PROGRESS", 1, 0),
                ]),
                None,
                "the deployment was superseded by deployment ecs-svc/other of shop:3",
            ),
            (
                service(vec![
                    deployment("ecs-svc/old", "PRIMARY", OLD, "IN_PROGRESS", 1, 0),
                    deployment("ecs-svc/new", "ACTIVE", NEW, "IN_PROGRESS", 1, 0),
                ]),
                None,
                "the deployment was rolled back: the service returned to shop:1 (deployment ecs-svc/old of shop:1)",
            ),
            (
                service(vec![deployment("ecs-svc/new", "PRIMARY", NEW, "FAILED", 0, 4)]),
                None,
                "the deployment failed: ECS deployment ecs-svc/new FAILED",
            ),
            (
                ServiceView { status: "DRAINING".into(), deployments: vec![ours_in_progress], alarms_watched: false },
                None,
                "the service became DRAINING during the deployment",
            ),
        ];
        for (service, record, expected) in cases {
            assert_eq!(reason(judge(&watch(), &service, record.as_ref())), expected);
        }
    }

    #[test]
    fn an_alarm_rollback_names_the_alarms() {
        let record = ServiceDeploymentView {
            triggered_alarms: vec!["shop-5xx".into(), "shop-latency".into()],
            ..record("ROLLBACK_SUCCESSFUL", None, Some("Alarms triggered"))
        };
        let ours = deployment("ecs-svc/new", "PRIMARY", NEW, "FAILED", 2, 0);
        assert_eq!(
            reason(judge(&watch(), &service(vec![ours]), Some(&record))),
            "ECS rolled back to shop:1: Alarms triggered (alarms in ALARM: shop-5xx, shop-latency)"
        );
    }

    #[test]
    fn without_a_breaker_our_threshold_fails_a_crash_loop() {
        let watch = OurDeployment {
            max_failed_tasks: Some(3),
            ..watch()
        };
        let looping = |failed| {
            service(vec![
                deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 0, failed),
                deployment("ecs-svc/old", "ACTIVE", OLD, "COMPLETED", 2, 0),
            ])
        };
        assert_eq!(judge(&watch, &looping(2), None), Verdict::InProgress);
        assert_eq!(
            judge(&watch, &looping(3), None),
            Verdict::Failed(Failure {
                reason: "3 tasks of the new deployment stopped (threshold 3), 0 of 2 running"
                    .into(),
                by_threshold: true,
            })
        );
    }

    #[test]
    fn thresholds_follow_ecs() {
        assert_eq!(default_failed_task_threshold(1), 3);
        assert_eq!(default_failed_task_threshold(10), 5);
        assert_eq!(default_failed_task_threshold(1000), 200);
    }

    /// Each row: where the step is told to stop, the record's status,
    /// stage and paused hook, and whether the verdict hands it off there.
    #[test]
    fn wait_until_hands_off_a_deployment_in_progress_at_or_past_its_stop() {
        let ours = deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 0, 0);
        let rows: [(WaitUntil, &str, &str, bool, bool); 9] = [
            (
                WaitUntil::Paused,
                "IN_PROGRESS",
                "POST_TEST_TRAFFIC_SHIFT",
                true,
                true,
            ),
            (
                WaitUntil::Paused,
                "IN_PROGRESS",
                "TEST_TRAFFIC_SHIFT",
                false,
                false,
            ),
            (
                WaitUntil::Stage("BAKE_TIME"),
                "IN_PROGRESS",
                "BAKE_TIME",
                false,
                true,
            ),
            // A stage passed between two polls still stops it.
            (
                WaitUntil::Stage("BAKE_TIME"),
                "IN_PROGRESS",
                "CLEAN_UP",
                false,
                true,
            ),
            (
                WaitUntil::Stage("BAKE_TIME"),
                "IN_PROGRESS",
                "SCALE_UP",
                false,
                false,
            ),
            // A pause at or past the stage: handed off, with the hook.
            (
                WaitUntil::Stage("TEST_TRAFFIC_SHIFT"),
                "IN_PROGRESS",
                "POST_TEST_TRAFFIC_SHIFT",
                true,
                true,
            ),
            // Ended: the verdict is the ending's, not a hand-off.
            (
                WaitUntil::Stage("BAKE_TIME"),
                "SUCCESSFUL",
                "CLEAN_UP",
                false,
                false,
            ),
            (
                WaitUntil::Paused,
                "ROLLBACK_IN_PROGRESS",
                "POST_TEST_TRAFFIC_SHIFT",
                true,
                false,
            ),
            (
                WaitUntil::Done,
                "IN_PROGRESS",
                "POST_TEST_TRAFFIC_SHIFT",
                true,
                false,
            ),
        ];
        for (wait_until, status, stage, paused, handed_off) in rows {
            let record = ServiceDeploymentView {
                lifecycle_stage: Some(stage.into()),
                paused_hooks: match paused {
                    true => vec![PausedHook {
                        id: "ecs-pause-1".into(),
                        ..PausedHook::default()
                    }],
                    false => Vec::new(),
                },
                ..record(status, None, None)
            };
            let watch = OurDeployment {
                wait_until: wait_until.clone(),
                ..watch()
            };
            let verdict = judge(&watch, &service(vec![ours.clone()]), Some(&record));
            let row = format!("{wait_until:?} {status} {stage} paused {paused}: {verdict:?}");
            if handed_off {
                let expected = Verdict::Reached {
                    stage: Some(stage.into()),
                    paused_hook: paused.then(|| "ecs-pause-1".to_owned()),
                };
                assert_eq!(verdict, expected, "{row}");
            } else {
                assert!(!matches!(verdict, Verdict::Reached { .. }), "{row}");
            }
        }
    }

    #[test]
    fn wait_until_is_refused_where_the_strategy_never_stops_there() {
        let paused = WaitUntil::Paused;
        let bake = WaitUntil::Stage("BAKE_TIME");
        assert_eq!(cannot_stop(&WaitUntil::Done, "web", "ROLLING", 0), None);
        assert_eq!(cannot_stop(&paused, "web", "BLUE_GREEN", 1), None);
        assert_eq!(cannot_stop(&bake, "web", "CANARY", 0), None);
        assert_eq!(
            cannot_stop(&bake, "web", "ROLLING", 0).as_deref(),
            Some("wait-until: service web deploys ROLLING, which has no lifecycle stage or hook to stop at; use done, or give the service a BLUE_GREEN, LINEAR or CANARY strategy")
        );
        assert_eq!(
            cannot_stop(&paused, "web", "LINEAR", 0).as_deref(),
            Some("wait-until: paused, but service web has no PAUSE lifecycle hook (deploymentConfiguration.lifecycleHooks), so its deployment never pauses; add one, or stop at a lifecycle stage")
        );
        assert_eq!(
            cannot_stop(&paused, "web", "CODE_DEPLOY", 0).as_deref(),
            Some("wait-until: service web is deployed by CodeDeploy, which has no ECS lifecycle stage or hook; use codedeploy-wait-until: ready to stop when traffic waits to be rerouted")
        );
    }

    #[test]
    fn the_record_is_read_to_explain_a_failure_or_to_count_by_the_breaker() {
        let ours = |status: &str, rollout: &str, failed: i32| {
            service(vec![deployment(
                "ecs-svc/new",
                status,
                NEW,
                rollout,
                1,
                failed,
            )])
        };
        let ours_threshold = OurDeployment {
            max_failed_tasks: Some(3),
            ..watch()
        };
        assert!(!needs_record(&watch(), &ours("PRIMARY", "IN_PROGRESS", 0)));
        assert!(needs_record(&watch(), &ours("ACTIVE", "IN_PROGRESS", 0)));
        assert!(needs_record(&watch(), &ours("PRIMARY", "FAILED", 0)));
        assert!(needs_record(&watch(), &service(Vec::new())));
        // The breaker decides: its own threshold, once tasks fail.
        assert!(needs_record(&watch(), &ours("PRIMARY", "IN_PROGRESS", 1)));
        // Our own threshold decides: DescribeServices' count is enough.
        assert!(!needs_record(
            &ours_threshold,
            &ours("PRIMARY", "IN_PROGRESS", 1)
        ));
        // The breaker's threshold was read once: it is known.
        let breaker_known = OurDeployment {
            breaker_threshold: Some(5),
            ..watch()
        };
        assert!(!needs_record(
            &breaker_known,
            &ours("PRIMARY", "IN_PROGRESS", 2)
        ));
    }

    #[test]
    fn a_failed_lambda_hook_is_named_in_the_rollback() {
        let record = ServiceDeploymentView {
            failed_hooks: vec!["smoke-test".into()],
            ..record(
                "ROLLBACK_IN_PROGRESS",
                Some("Service deployment rolled back because a lifecycle hook failed."),
                Some("Service deployment rolled back because a lifecycle hook failed."),
            )
        };
        let ours = deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 0, 0);
        assert_eq!(
            reason(judge(&watch(), &service(vec![ours]), Some(&record))),
            "ECS is rolling back to shop:1: Service deployment rolled back because a lifecycle hook failed. (lifecycle hook failed: Lambda function smoke-test)"
        );
    }

    #[test]
    fn an_early_success_is_a_success_while_old_tasks_still_run() {
        let ours = deployment("ecs-svc/new", "PRIMARY", NEW, "IN_PROGRESS", 2, 0);
        let old = deployment("ecs-svc/old", "ACTIVE", OLD, "COMPLETED", 2, 0);
        let view = service(vec![ours, old]);
        assert_eq!(judge(&watch(), &view, None), Verdict::InProgress);
        let successful = record("SUCCESSFUL", None, None);
        assert_eq!(
            judge(&watch(), &view, Some(&successful)),
            Verdict::Succeeded
        );
        // Followed later, after a newer deployment replaced it: ECS's word.
        let newer = deployment("ecs-svc/newer", "PRIMARY", OLD, "COMPLETED", 2, 0);
        assert_eq!(
            judge(&watch(), &service(vec![newer]), Some(&successful)),
            Verdict::Succeeded
        );
    }
}
