//! What the preflight step tells a person (`crate::event`); `present::preflight` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// Images in other registries, which the preflight cannot look up.
    OutsideEcr { images: Vec<String> },
    /// A dry run without AWS: nothing was looked up.
    CheckedNothing { why: String },
    /// A lookup the role may not make, or that failed: that check is skipped.
    Unsure { warning: String },
    /// What was found, missing and not checked.
    Tallied { tally: String },
}
