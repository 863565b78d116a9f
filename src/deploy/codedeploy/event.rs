//! What the codedeploy step tells a person (`crate::event`); `present::codedeploy` words it.

use crate::deploy::settings::HookAction;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// CreateDeployment made deployment `deployment_id`; `link` is its
    /// console page.
    Started {
        service: String,
        deployment_id: String,
        link: String,
    },
    /// `codedeploy-deployment-id`: a deployment created before this step
    /// is followed; `link` is its console page.
    Attached {
        service: String,
        deployment_id: String,
        link: String,
    },
    /// `hook-action`: the deployment was told to reroute its traffic
    /// (ContinueDeployment) or to stop and roll back (StopDeployment).
    HookActed {
        deployment_id: String,
        action: HookAction,
    },
    /// Another deployment of the group is in progress, and we wait for it
    /// (`wait-for-in-progress`).
    WaitingForInProgress { active: String, group: String },
    StatusChanged {
        deployment_id: String,
        status: String,
    },
    /// The deployment is Ready: its new tasks wait for traffic to be
    /// rerouted, and we wait on for the end (`codedeploy-wait-until:
    /// complete`).
    WaitingForReroute { deployment_id: String },
    /// A lifecycle event moved on from Pending.
    LifecycleEventChanged {
        deployment_id: String,
        name: String,
        status: String,
    },
}
