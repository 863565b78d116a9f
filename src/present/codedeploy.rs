//! How the codedeploy step's events read.

use super::Presenter;
use crate::deploy::codedeploy::Event;
use crate::deploy::settings::HookAction;

impl Presenter {
    pub(super) fn codedeploy(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::Started {
                service,
                deployment_id,
                link,
            } => runner.info(&format!(
                "CodeDeploy deployment {deployment_id} started for service {service}: {link}"
            )),
            Event::Attached {
                service,
                deployment_id,
                link,
            } => runner.info(&format!(
                "Following CodeDeploy deployment {deployment_id} of service {service}, created before this step: {link}"
            )),
            Event::HookActed {
                deployment_id,
                action: HookAction::Continue,
            } => runner.info(&format!(
                "CodeDeploy {deployment_id}: traffic rerouted to the new tasks (ContinueDeployment)"
            )),
            Event::HookActed {
                deployment_id,
                action: HookAction::Rollback,
            } => runner.info(&format!(
                "CodeDeploy {deployment_id}: stopped with rollback (StopDeployment)"
            )),
            Event::WaitingForInProgress { active, group } => runner.info(&format!(
                "Deployment {active} is in progress for {group}; waiting for it to finish (wait-for-in-progress)"
            )),
            Event::StatusChanged {
                deployment_id,
                status,
            } => runner.info(&format!("CodeDeploy {deployment_id}: {status}")),
            Event::WaitingForReroute { deployment_id } => runner.notice(&format!(
                "CodeDeploy deployment {deployment_id} is Ready: the new tasks run behind the test listener and wait for traffic to be rerouted (ContinueDeployment, or the group's wait time)."
            )),
            Event::LifecycleEventChanged {
                deployment_id,
                name,
                status,
            } => runner.info(&format!("CodeDeploy {deployment_id}: {name} {status}")),
        }
    }
}
