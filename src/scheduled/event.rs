//! What the scheduled step tells a person (`crate::event`); `present::scheduled` words it.

use super::plan::{Decision, Place, ScheduledTask};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The scheduled tasks are gone through (moved, or in the dry run
    /// looked at); `Ended` follows.
    Began,
    /// What became of one scheduled task.
    Decided {
        task: ScheduledTask,
        decision: Decision,
    },
    /// Its read or its write failed: it still starts the old revision.
    MoveFailed {
        place: Place,
        error: String,
    },
    /// Nothing was moved, left or failed: no scheduled task in the cluster
    /// runs a deployed family.
    NoneRelated,
    Ended,
    /// A schedule of the cluster that may not be read: left as it is.
    ScheduleUnread {
        group: String,
        name: String,
        error: String,
    },
}
