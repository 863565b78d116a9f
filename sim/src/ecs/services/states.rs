//! The states of services, their deployments and service deployments, and
//! of task definitions, each an enum whose variants are spelled, here and
//! only here, as the ECS API spells them.

/// A state the ECS API names with a string.
pub(in crate::ecs) trait ApiState: Copy + 'static {
    /// Every state, in declaration order.
    const ALL: &'static [Self];

    /// How the API spells the state.
    fn as_str(self) -> &'static str;

    /// The state the API spells `text`, if any.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == text)
    }
}

/// Declares state enums with the API string of each variant.
macro_rules! api_states {
    ($(
        $(#[$meta:meta])*
        $name:ident { $($variant:ident = $text:literal,)+ }
    )+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub(in crate::ecs) enum $name {
            $($variant,)+
        }

        impl ApiState for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    )+};
}

api_states! {
    /// TaskDefinition.status: registered, deregistered, and submitted for
    /// deletion.
    TaskDefinitionStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
    }

    /// Service.status.
    ServiceStatus {
        Active = "ACTIVE",
        Draining = "DRAINING",
        Inactive = "INACTIVE",
    }

    /// Deployment.status: the deployment the service rolls out, or an older
    /// one still running tasks. (INACTIVE ones are not kept.)
    DeploymentStatus {
        Primary = "PRIMARY",
        Active = "ACTIVE",
    }

    /// DeploymentRolloutState.
    RolloutState {
        InProgress = "IN_PROGRESS",
        Completed = "COMPLETED",
        Failed = "FAILED",
    }

    /// ServiceDeploymentStatus, of those a deployment here goes through.
    ServiceDeploymentStatus {
        InProgress = "IN_PROGRESS",
        Successful = "SUCCESSFUL",
        Stopped = "STOPPED",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackSuccessful = "ROLLBACK_SUCCESSFUL",
    }

    /// ServiceDeploymentRollbackMonitorsStatus: the circuit breaker's and
    /// the alarms'.
    MonitorStatus {
        Disabled = "DISABLED",
        Monitoring = "MONITORING",
        MonitoringComplete = "MONITORING_COMPLETE",
        Triggered = "TRIGGERED",
    }

    /// ServiceDeploymentLifecycleStage: the stages of a native blue/green or
    /// canary deployment, in the order it goes through them (RECONCILE_SERVICE, for
    /// services with several active revisions, aside). A rolling deployment
    /// scales up, then cleans up. Being declared in that order, stages
    /// compare, and convert to their position, by it.
    LifecycleStage {
        PreScaleUp = "PRE_SCALE_UP",
        ScaleUp = "SCALE_UP",
        PostScaleUp = "POST_SCALE_UP",
        TestTrafficShift = "TEST_TRAFFIC_SHIFT",
        PostTestTrafficShift = "POST_TEST_TRAFFIC_SHIFT",
        ProductionTrafficShift = "PRODUCTION_TRAFFIC_SHIFT",
        PostProductionTrafficShift = "POST_PRODUCTION_TRAFFIC_SHIFT",
        BakeTime = "BAKE_TIME",
        CleanUp = "CLEAN_UP",
    }

    /// DeploymentLifecycleHookStatus, of a hook the rollout reached: a
    /// PAUSE hook awaits action, an AWS_LAMBDA hook's function runs.
    HookStatus {
        AwaitingAction = "AWAITING_ACTION",
        InProgress = "IN_PROGRESS",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        TimedOut = "TIMED_OUT",
    }

    /// DeploymentLifecycleHookAction: a paused rollout carries on or rolls
    /// back.
    HookAction {
        Continue = "CONTINUE",
        Rollback = "ROLLBACK",
    }
}
