//! What the revisions step tells a person (`crate::event`); `present::revisions` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The old revisions are looked at; `Ended` follows.
    Began,
    /// No deployment was started, so none left a revision behind.
    NothingLeftBehind,
    /// What is in use in the region could not be read: every revision stays.
    InUseUnknown {
        error: String,
    },
    /// A family's revisions could not be listed: they all stay.
    FamilyKept {
        family: String,
        error: String,
    },
    /// A candidate kept for its dates (`plan::Fate::Keep`), with why.
    Kept {
        why: String,
    },
    /// A candidate whose dates could not be read: it stays.
    Unreadable {
        arn: String,
        error: String,
    },
    /// Every ACTIVE revision of `family` is among the newest, in use or kept.
    NoneToDeregister {
        family: String,
    },
    WouldDeregister {
        arns: Vec<String>,
    },
    Deregistered {
        arns: Vec<String>,
    },
    DeregisterFailed {
        arn: String,
        error: String,
    },
    WouldDelete {
        arns: Vec<String>,
    },
    Deleted {
        arns: Vec<String>,
    },
    /// ECS answered and did not delete this one.
    DeleteRefused {
        arn: String,
        reason: String,
    },
    DeleteFailed {
        arns: Vec<String>,
        error: String,
    },
    Ended,
}
