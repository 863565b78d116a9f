//! What the codedeploy step tells a person (`crate::event`); `present::codedeploy` words it.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// CreateDeployment made deployment `deployment_id`; `link` is its
    /// console page.
    Started {
        service: String,
        deployment_id: String,
        link: String,
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
