//! What the github step tells a person (`crate::event`); `present::github` words it.

use super::request::State;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A dry run creates no deployment to `environment`.
    DryRun { environment: String },
    /// The workflow's `deployment` event names the deployment reported to.
    Adopted { id: u64 },
    /// `github-deployment-id` names the deployment reported to.
    AdoptedById { id: u64 },
    /// The adopted deployment's event is for another environment than the
    /// `environment` input; its deployment is reported to all the same.
    AdoptedForOtherEnvironment {
        id: u64,
        event_environment: String,
        environment: String,
    },
    /// The token may not create deployments: the run goes on unreported.
    CreateForbidden,
    /// GitHub did not answer the create: the run goes on unreported.
    CreateUnavailable { error: String },
    StatusReported {
        id: u64,
        environment: String,
        state: State,
    },
    /// The token may not write statuses: no later status is tried.
    StatusForbidden { id: u64 },
    StatusNotReported {
        id: u64,
        state: State,
        error: String,
    },
    /// The run's final state, for the summary: `id` None when a create's
    /// answer was lost and its deployment not found; `reported` whether
    /// GitHub took the status.
    Finished {
        id: Option<u64>,
        environment: String,
        environment_page: Option<String>,
        state: State,
        reported: bool,
    },
    /// A create whose answer was lost (the run stopped meanwhile) made no
    /// deployment that a lookup by its request id finds.
    RequestedNotFound { environment: String, state: State },
    /// A create whose answer was lost, and the lookup of its deployment
    /// failed too.
    RequestedLookupFailed {
        environment: String,
        state: State,
        error: String,
    },
}
