//! What the deploy time breakdown tells a person (`crate::event`);
//! `present::timings` words it.

use std::path::PathBuf;

use super::Breakdown;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// Where each successful deployment's time went, with the advice, once
    /// every read is done; `file` is where the JSON goes (`timings`).
    Measured {
        breakdowns: Vec<Breakdown>,
        file: Option<PathBuf>,
    },
    /// A read the breakdown or its advice needed was refused or failed:
    /// what it would have given is left out.
    Unread { what: Read, reason: String },
}

/// What could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The new tasks' timestamps (ListTasks, DescribeTasks).
    Tasks,
    /// The services' events (DescribeServices).
    Events,
    /// The target groups and their attributes (ELBv2).
    TargetGroups,
    /// The images' sizes (ECR DescribeImages).
    ImageSizes,
}
