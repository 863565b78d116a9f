//! What DescribeServices and DescribeServiceDeployments show, reduced to
//! the small views `verdict` judges.

use aws_sdk_ecs::types::{
    DeploymentLifecycleHookStatus, DeploymentLifecycleHookTargetType, Service, ServiceDeployment,
    Task,
};
use aws_smithy_types::date_time::Format as DateTimeFormat;

use super::verdict::{
    BreakerCount, DeploymentView, PausedHook, ServiceDeploymentView, ServiceView, TrafficWeights,
};

pub(super) fn service_deployment_view(record: &ServiceDeployment) -> ServiceDeploymentView {
    let paused_hooks = record
        .lifecycle_hook_details()
        .iter()
        .filter(|h| {
            h.target_type() == Some(&DeploymentLifecycleHookTargetType::Pause)
                && h.status() == Some(&DeploymentLifecycleHookStatus::AwaitingAction)
        })
        .map(|h| PausedHook {
            id: h.hook_id().unwrap_or("?").to_owned(),
            expires_at: h
                .expires_at()
                .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
            timeout_action: h.timeout_action().map(|a| a.as_str().to_owned()),
        })
        .collect();
    ServiceDeploymentView {
        status: record
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: record.status_reason().map(str::to_owned),
        rollback_reason: record
            .rollback()
            .and_then(|r| r.reason())
            .map(str::to_owned),
        lifecycle_stage: record.lifecycle_stage().map(|s| s.as_str().to_owned()),
        triggered_alarms: record
            .alarms()
            .map(|a| a.triggered_alarm_names().to_vec())
            .unwrap_or_default(),
        traffic: record.target_service_revision().and_then(|target| {
            Some(TrafficWeights {
                production: target.requested_production_traffic_weight()?,
                test: target.requested_test_traffic_weight().unwrap_or(0.0),
            })
        }),
        paused_hooks,
        tasks: record.target_service_revision().map(|target| {
            (
                target.requested_task_count(),
                target.running_task_count(),
                target.pending_task_count(),
            )
        }),
        running_hooks: lambda_hooks(record, DeploymentLifecycleHookStatus::InProgress),
        failed_hooks: lambda_hooks(record, DeploymentLifecycleHookStatus::Failed),
        breaker: record
            .deployment_circuit_breaker()
            .map(|breaker| BreakerCount {
                failures: breaker.failure_count(),
                threshold: breaker.threshold(),
            }),
    }
}

/// The functions of the record's AWS_LAMBDA hooks in `status`, by name.
fn lambda_hooks(record: &ServiceDeployment, status: DeploymentLifecycleHookStatus) -> Vec<String> {
    record
        .lifecycle_hook_details()
        .iter()
        .filter(|h| {
            h.target_type() == Some(&DeploymentLifecycleHookTargetType::AwsLambda)
                && h.status() == Some(&status)
        })
        .map(|h| function_name(h.target_arn().unwrap_or("?")).to_owned())
        .collect()
}

/// A Lambda function's name from its ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`), or the
/// reference as it is.
fn function_name(reference: &str) -> &str {
    match reference.split_once(":function:") {
        Some((_, name)) => name.split(':').next().unwrap_or(name),
        None => reference,
    }
}

pub(super) fn service_view(service: &Service) -> ServiceView {
    ServiceView {
        status: service.status().unwrap_or_default().to_owned(),
        deployments: service
            .deployments()
            .iter()
            .map(|d| DeploymentView {
                id: d.id().unwrap_or_default().to_owned(),
                status: d.status().unwrap_or_default().to_owned(),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                desired: d.desired_count(),
                pending: d.pending_count(),
                running: d.running_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect(),
        alarms_watched: service
            .deployment_configuration()
            .and_then(|c| c.alarms())
            .is_some_and(|a| a.enable()),
    }
}

/// Tasks that stopped alike: the reason, how many, and the first one's ARN
/// to show as an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoppedTasks {
    pub(crate) reason: String,
    pub(crate) count: usize,
    pub(crate) example: String,
    /// The example's containers that exited with a code other than 0: their
    /// output says why.
    pub(crate) exited: Vec<ExitedContainer>,
}

/// A container that exited with a code other than 0, and the last lines it
/// wrote once they are read (for a failed deployment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExitedContainer {
    pub(crate) name: String,
    pub(crate) last_lines: Vec<String>,
}

/// Why each task stopped (its stoppedReason and each container's exit or
/// reason), with how many stopped alike, in the order first seen.
pub(super) fn stopped_reasons(tasks: &[Task]) -> Vec<StoppedTasks> {
    let mut groups: Vec<StoppedTasks> = Vec::new();
    for task in tasks {
        let exits: Vec<String> = task
            .containers()
            .iter()
            .map(|c| match c.exit_code() {
                Some(code) => format!("{} exited {code}", c.name().unwrap_or("?")),
                None => format!(
                    "{}: {}",
                    c.name().unwrap_or("?"),
                    c.reason().unwrap_or("did not run")
                ),
            })
            .collect();
        let reason = format!(
            "{} ({})",
            task.stopped_reason().unwrap_or("no reason given"),
            exits.join(", ")
        );
        match groups.iter_mut().find(|group| group.reason == reason) {
            Some(group) => group.count += 1,
            None => groups.push(StoppedTasks {
                reason,
                count: 1,
                example: task.task_arn().unwrap_or_default().to_owned(),
                exited: task
                    .containers()
                    .iter()
                    .filter(|c| c.exit_code().is_some_and(|code| code != 0))
                    .map(|c| ExitedContainer {
                        name: c.name().unwrap_or("?").to_owned(),
                        last_lines: Vec::new(),
                    })
                    .collect(),
            }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Container;

    fn task(arn: &str, reason: &str, exit: Option<i32>) -> Task {
        Task::builder()
            .task_arn(arn)
            .stopped_reason(reason)
            .containers(
                Container::builder()
                    .name("web")
                    .set_exit_code(exit)
                    .set_reason(
                        exit.is_none()
                            .then(|| "CannotPullContainerError".to_owned()),
                    )
                    .build(),
            )
            .build()
    }

    #[test]
    fn stopped_tasks_are_grouped_by_reason_in_the_order_first_seen() {
        let tasks = [
            task("t1", "Essential container in task exited", Some(1)),
            task("t2", "Task failed to start", None),
            task("t3", "Essential container in task exited", Some(1)),
            task("t4", "Essential container in task exited", Some(137)),
            task("t5", "Essential container in task exited", Some(0)),
        ];
        let group = |reason: &str, count, example: &str, exited: &[&str]| StoppedTasks {
            reason: reason.to_owned(),
            count,
            example: example.to_owned(),
            exited: exited
                .iter()
                .map(|name| ExitedContainer {
                    name: name.to_string(),
                    last_lines: Vec::new(),
                })
                .collect(),
        };
        assert_eq!(
            stopped_reasons(&tasks),
            [
                group(
                    "Essential container in task exited (web exited 1)",
                    2,
                    "t1",
                    &["web"]
                ),
                group(
                    "Task failed to start (web: CannotPullContainerError)",
                    1,
                    "t2",
                    &[]
                ),
                group(
                    "Essential container in task exited (web exited 137)",
                    1,
                    "t4",
                    &["web"]
                ),
                group(
                    "Essential container in task exited (web exited 0)",
                    1,
                    "t5",
                    &[]
                ),
            ]
        );
    }
}
