//! What the migration step tells a person (`crate::event`); `present::migration` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// run-task-launch-type was given with a capacity provider strategy.
    LaunchTypeIgnored,
    /// `migration-task-definition`'s own revision.
    SeparateRegistered {
        arn: String,
    },
    /// The task started and is followed.
    Started(StartedTask),
    /// The task started and is not followed (wait-for-task-stopped: false).
    NotWaiting(StartedTask),
    /// The container's logs cannot be read, and why.
    LogsUnavailable {
        why: String,
        link: String,
    },
    /// The task is followed, its status and logs folded under its id...
    FollowBegan {
        task_id: String,
    },
    /// ... or, after StopTask, followed until it has stopped ...
    StopWaitBegan,
    /// ... until the fold closes.
    FoldEnded,
    Status {
        status: String,
    },
    /// The container's own lines, not ours.
    LogLines {
        lines: Vec<String>,
    },
    /// The logs could not be read any more; the task is still followed.
    LogsLost {
        error: String,
        link: String,
    },
    StoppedOnTimeout {
        reason: String,
        task_id: String,
    },
    /// The verdict: `failure` is its headline, None for success.
    Concluded {
        task_id: String,
        link: String,
        failure: Option<String>,
    },
    /// What the dry run would have run: `template` is
    /// `migration-task-definition`'s source, None for the service's `family`.
    DryRunWouldRun {
        command: Option<Vec<String>>,
        template: Option<String>,
        family: String,
        cluster: String,
    },
}

/// A one-off task RunTask started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartedTask {
    pub(crate) task_arn: String,
    /// None: the task definition's own command.
    pub(crate) command: Option<Vec<String>>,
    pub(crate) container: String,
}
