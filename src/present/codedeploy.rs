//! How the codedeploy step's events read.

use super::Presenter;
use crate::deploy::codedeploy::Event;

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
