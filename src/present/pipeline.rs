//! How the run's own events read: inputs, the rendered definitions and
//! their changes, the registered revisions, the dry run's plan, the
//! verdicts, the steps' times and the outputs.

use super::summary::code;
use super::Presenter;
use crate::arn::resource_name;
use serde_json::Value;

use crate::deploy::{DeployResult, Handoff};
use crate::diff::Difference;
use crate::inputs;
use crate::pipeline::{Event, WouldDeploy};
use crate::render::{self, family};

impl Presenter {
    pub(super) fn pipeline(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::ArgumentsRejected { reason } => runner.error(&reason, None),
            Event::InputsInvalid { problems } => {
                for problem in problems {
                    runner.error(&format!("invalid input {problem}"), None);
                }
            }
            Event::HelpAsked => print!("{}", inputs::help_text()),
            Event::VersionAsked => println!("ecs-deploy {}", env!("CARGO_PKG_VERSION")),
            Event::Secret { value } => runner.add_mask(&value),
            Event::Changes { against, changes } => self.changes(&against, &changes),
            Event::Rendered { definition } => self.rendered(&definition),
            Event::GoingBack { service, to, from } => runner.info(&format!(
                "Service {service}: going back to {}, the revision it ran before {}",
                resource_name(&to),
                resource_name(&from)
            )),
            Event::RegisteringAgain { arn, status } => runner.info(&format!(
                "Registering {} again as a new revision: it is {status}, and ECS moves a service only to an ACTIVE revision",
                resource_name(&arn)
            )),
            Event::Registered { arn } => runner.info(&format!("Registered {arn}")),
            Event::KeptRunning { service, arn } => runner.info(&format!(
                "Keeping {arn}: service {service} runs it and the rendered task definition is identical, so no revision is registered"
            )),
            Event::DeployingAsIs { arn } => runner.info(&format!(
                "Deploying {arn} as is: the inputs change nothing in it, so no revision is registered"
            )),
            Event::DryRunRendered { family, path } => runner.notice(&format!(
                "Dry run: task definition {family} was rendered to {} and not registered.",
                path.display()
            )),
            Event::DryRunWouldLeave {
                service,
                cluster,
                runs,
            } => runner.info(&format!(
                "Dry run: service {service} in cluster {cluster} already runs {runs} and would be left as it is (force-new-deployment: true starts a deployment)"
            )),
            Event::DryRunWouldDeploy(plan) => runner.info(&would_deploy_line(plan)),
            Event::DeployBegan => runner.group("Deployment"),
            Event::DeployEnded => runner.end_group(),
            Event::Judged {
                service,
                deployment_id,
                result,
            } => self.judged(&service, &deployment_id, &result),
            Event::ExpressEndpointUnread { reason } => runner.warning(&reason),
            Event::OldRevisionsUnread { reason } => {
                runner.warning(&format!("old revisions were not looked at: {reason}"));
            }
            Event::FollowUpsSkipped => runner.notice("Scheduled tasks and old revisions were left as they are: the deployment was not followed to its end (wait-for-service-stability, wait-until, codedeploy-wait-until)"),
            Event::FinalStatusLate => runner.warning("GitHub did not take the deployment's final status before the cancellation deadline; it may still show in_progress"),
            Event::StepTimed {
                step,
                started,
                ended,
                failed,
            } => self.summary().add_step(step, started, ended, failed),
            Event::OutputUnwritten { reason } => runner.warning(&reason),
        }
    }
}

impl Presenter {
    /// A rendered definition's changes, folded.
    fn changes(&self, against: &str, changes: &[Difference]) {
        let runner = &self.runner;
        runner.group(&format!(
            "Changes against {against} ({} changed)",
            changes.len()
        ));
        if changes.is_empty() {
            runner.info("no changes");
        }
        for change in changes {
            runner.info(&change.to_string());
        }
        runner.end_group();
    }

    /// The whole rendered definition, folded, with values that may be
    /// secret hidden.
    fn rendered(&self, definition: &Value) {
        let runner = &self.runner;
        runner.group(&format!("Rendered task definition {}", family(definition)));
        runner
            .info(&serde_json::to_string_pretty(&render::redacted(definition)).unwrap_or_default());
        runner.end_group();
    }
}

impl Presenter {
    /// A service's verdict in the log; a deployment left for a later job
    /// also in the summary, with how that job takes it on.
    fn judged(&self, service: &str, deployment_id: &str, result: &DeployResult) {
        self.runner
            .info(&verdict_line(service, deployment_id, result));
        let next = match result {
            DeployResult::HandedOff(handoff) => next_step_markdown(handoff),
            DeployResult::Ready => format!(
                "the traffic waits to be rerouted: a later job with {} and {} (or {}) continues it and gives the verdict",
                code(&format!("codedeploy-deployment-id: {deployment_id}")),
                code("hook-action: continue"),
                code("rollback")
            ),
            _ => return,
        };
        let mut summary = self.summary();
        summary.handed_off();
        summary.add(format!("Next for {}", code(service)), next);
    }
}

fn would_deploy_line(plan: WouldDeploy) -> String {
    let WouldDeploy {
        service,
        cluster,
        revision,
        family,
        through_codedeploy,
        runs,
    } = plan;
    let revision = revision.unwrap_or_else(|| format!("a new revision of {family}"));
    let through = if through_codedeploy {
        " through CodeDeploy"
    } else {
        ""
    };
    format!(
        "Dry run: would deploy {revision} to service {service} in cluster {cluster}{through} (now {runs})"
    )
}

/// A deployment left under way (`wait-until`): where it is, and how a
/// later job takes it on.
fn handoff_line(service: &str, id: &str, handoff: &Handoff) -> String {
    let stage = handoff.stage.as_deref().unwrap_or("its first stage");
    let at = match &handoff.paused_hook {
        Some(hook) => format!("waits at {stage} for lifecycle hook {hook}"),
        None => format!("is at {stage}"),
    };
    let arn = handoff
        .service_deployment_arn
        .as_deref()
        .unwrap_or("(the ecs-service-deployment-arn output)");
    let action = match handoff.paused_hook {
        Some(_) => " with hook-action: continue (or rollback)",
        None => "",
    };
    format!(
        "⏸ {service}: deployment {id} {at}; left under way as wait-until says. A later job follows it to its verdict with service-deployment: {arn}{action}"
    )
}

/// The summary's word on how a later job takes a deployment on.
fn next_step_markdown(handoff: &Handoff) -> String {
    let arn = handoff
        .service_deployment_arn
        .as_deref()
        .unwrap_or("the ecs-service-deployment-arn output");
    match &handoff.paused_hook {
        Some(hook) => format!(
            "the deployment waits at lifecycle hook {}: a later job with {} and {} (or {}) continues it and gives the verdict",
            code(hook),
            code(&format!("service-deployment: {arn}")),
            code("hook-action: continue"),
            code("rollback")
        ),
        None => format!(
            "ECS goes on with the deployment: a later job with {} follows it to its verdict",
            code(&format!("service-deployment: {arn}"))
        ),
    }
}

/// A service's verdict in the log.
fn verdict_line(service: &str, id: &str, result: &DeployResult) -> String {
    match result {
        DeployResult::Succeeded => format!("✔ {service}: deployment {id} completed"),
        DeployResult::Ready => format!(
            "✔ {service}: deployment {id} is Ready; traffic has not been rerouted yet (codedeploy-wait-until: ready)"
        ),
        DeployResult::HandedOff(handoff) => handoff_line(service, id, handoff),
        DeployResult::Started => format!(
            "{service}: deployment {id} started; not waiting (wait-for-service-stability is false)"
        ),
        DeployResult::AlreadyRunning => format!(
            "✔ {service}: already runs this revision; no deployment started (force-new-deployment: true starts one)"
        ),
        DeployResult::Failed(reason) | DeployResult::Error(reason) => {
            format!("✘ {service}: {reason}")
        }
    }
}
