//! What the ecs step tells a person (`crate::event`); `present::ecs` words it.

use std::time::Duration;

use super::verdict::{PausedHook, TrafficWeights};
use crate::deploy::settings::HookAction;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// UpdateService started our deployment, from one revision (ARNs) to
    /// the other.
    Started {
        service: String,
        deployment_id: String,
        from: String,
        to: String,
    },
    /// `service-deployment`: a deployment started before this step is
    /// followed, from one revision (ARNs) to the other.
    Attached {
        service: String,
        service_deployment_arn: String,
        from: String,
        to: String,
    },
    /// `hook-action`: ContinueServiceDeployment told the paused hook to
    /// carry on or roll back.
    HookActed {
        service: String,
        hook_id: String,
        action: HookAction,
    },
    /// ECS throttled a poll's `operation`; the watch waits longer.
    Throttled {
        operation: &'static str,
        error: String,
        next_poll: Duration,
    },
    /// A message ECS added to the service's events since our update, as
    /// ECS wrote it.
    ServiceMessage { service: String, message: String },
    /// A native strategy's lifecycle stage, or the traffic it requests for
    /// the new revision, changed.
    StageChanged {
        service: String,
        stage: String,
        traffic: Option<TrafficWeights>,
    },
    /// A PAUSE lifecycle hook waits for ContinueServiceDeployment.
    HookPaused {
        service: String,
        stage: Option<String>,
        hook: PausedHook,
        service_deployment_arn: Option<String>,
    },
    /// A Lambda lifecycle hook runs (and may fail the deployment).
    HookRuns {
        service: String,
        stage: Option<String>,
        function: String,
    },
    /// ECS declared the deployment successful early (`earlySuccessCriteria`
    /// with a DEFERRED clean-up); `draining` tasks of the old revision
    /// still run, and drain after the verdict.
    SucceededEarly { service: String, draining: i32 },
    /// Our deployment's task counts changed.
    CountsChanged {
        service: String,
        running: i32,
        desired: i32,
        pending: i32,
        failed: i32,
    },
    /// Tasks of our deployment stopped, `count` of them for one reason.
    TasksStopped {
        service: String,
        count: usize,
        reason: String,
    },
    /// The last log lines of a stopped task could not be read; `link` is
    /// the task's console page.
    LastLinesUnread {
        service: String,
        task: String,
        why: String,
        link: String,
    },
}
