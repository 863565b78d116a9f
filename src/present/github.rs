//! How the github step's events read.

use super::summary::{code, text};
use super::Presenter;
use crate::github::Event;

impl Presenter {
    pub(super) fn github(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::DryRun { environment } => runner.notice(&format!(
                "Dry run: no GitHub deployment to {environment} was created."
            )),
            Event::Adopted { id } => runner.info(&format!(
                "Reporting to GitHub deployment {id} from the deployment event"
            )),
            Event::AdoptedById { id } => runner.info(&format!(
                "Reporting to GitHub deployment {id} (github-deployment-id)"
            )),
            Event::AdoptedForOtherEnvironment {
                id,
                event_environment,
                environment,
            } => runner.warning(&format!(
                "The deployment event is for environment {event_environment}, not {environment}: the statuses go to its deployment {id}."
            )),
            Event::Finished {
                id,
                environment,
                environment_page,
                state,
                reported,
            } => {
                let environment = match environment_page {
                    Some(page) => format!("[{}]({page})", text(&environment)),
                    None => code(&environment),
                };
                let state = match reported {
                    true => format!("`{}`", state.as_str()),
                    false => format!("`{}` (not reported: GitHub did not answer)", state.as_str()),
                };
                let row = match id {
                    Some(id) => format!("{id} to {environment}: {state}"),
                    None => format!("to {environment}: not found (its create was under way)"),
                };
                self.summary().add("GitHub deployment", row);
            }
            Event::CreateForbidden => runner.warning(&permission_warning("a GitHub deployment")),
            Event::CreateUnavailable { error } => runner.warning(&format!(
                "GitHub deployment not created ({error}); the AWS deployment goes on without one."
            )),
            Event::StatusReported {
                id,
                environment,
                state,
            } => runner.info(&format!(
                "GitHub deployment {id} ({environment}): {}",
                state.as_str()
            )),
            Event::StatusForbidden { id } => runner.warning(&permission_warning(&format!(
                "the status of GitHub deployment {id}"
            ))),
            Event::StatusNotReported { id, state, error } => runner.warning(&format!(
                "GitHub deployment {id}: the {} status was not reported ({error}); the AWS deployment is not affected.",
                state.as_str()
            )),
            Event::RequestedNotFound { environment, state } => runner.warning(&format!(
                "The GitHub deployment to {environment} that was being created when the run stopped was not found; if GitHub made it, it has no {} status.",
                state.as_str()
            )),
            Event::RequestedLookupFailed {
                environment,
                state,
                error,
            } => runner.warning(&format!(
                "The GitHub deployment to {environment} that was being created when the run stopped could not be looked up ({error}); if GitHub made it, it has no {} status.",
                state.as_str()
            )),
        }
    }
}

fn permission_warning(what: &str) -> String {
    format!(
        "ecs-deploy could not write {what}: the token lacks permission (403 Resource not accessible by integration). \
         Add `permissions: deployments: write` to the job (fork and Dependabot pull requests only get read access). \
         The AWS deployment goes on without it."
    )
}
