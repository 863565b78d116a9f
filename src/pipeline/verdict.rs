//! The run's verdict from each service's: the error that ends a run whose
//! deployments failed, or that was cancelled.

use anyhow::Result;

use crate::arn::resource_name;
use crate::config::Config;
use crate::deploy::{DeployResult, Deployed, Started};
use crate::outcome::Failed;
use crate::revisions;

use super::Progress;

/// An error when any service could not be deployed, otherwise a failure
/// when any failed.
pub(super) fn of_deployments(deployed: &[Deployed]) -> Result<()> {
    let (mut failures, mut errors) = (Vec::new(), Vec::new());
    // Lines after the reasons: what explains them.
    let mut details = String::new();
    for d in deployed {
        match &d.result {
            DeployResult::Failed(reason) => {
                failures.push(format!("service {}: {reason}", d.service));
                details.push_str(&last_log_lines(d));
            }
            DeployResult::Error(reason) => {
                errors.push(format!("service {}: {reason}", d.service));
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        errors.extend(failures);
        anyhow::bail!("deployment did not finish: {}{details}", errors.join("; "))
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failed(format!(
            "deployment failed: {}{details}",
            failures.join("; ")
        ))
        .into())
    }
}

/// What the exited containers of a deployment's stopped tasks wrote last,
/// each line after a line break, indented under the task it comes from.
fn last_log_lines(deployed: &Deployed) -> String {
    let Started::Ecs { stopped_tasks, .. } = &deployed.started else {
        return String::new();
    };
    let mut text = String::new();
    for group in stopped_tasks {
        for container in group.exited.iter().filter(|c| !c.last_lines.is_empty()) {
            text.push_str(&format!(
                "\n{}: last log lines of stopped task {} (container {}):",
                deployed.service,
                resource_name(&group.example),
                container.name
            ));
            for line in &container.last_lines {
                text.push_str(&format!("\n  {line}"));
            }
        }
    }
    text
}

/// The error of a run cancelled by `signal`: before every service was
/// deployed, what each thing under way was left as (`stopped`); after, what
/// of the scheduled tasks and old revisions was done and what was not.
pub(super) fn cancelled(
    signal: &str,
    stopped: &[String],
    config: &Config,
    progress: &Progress,
) -> anyhow::Error {
    if !progress.all_deployed() {
        let state = match stopped.is_empty() {
            true => "nothing had been started in AWS".to_owned(),
            false => stopped.join("; "),
        };
        return Failed(format!("cancelled by {signal}: {state}")).into();
    }
    let mut said = vec![format!(
        "cancelled by {signal} after every service was deployed"
    )];
    if config.update_scheduled_tasks {
        said.push(match &progress.scheduled {
            Some(outcome) => {
                let mut said = format!(
                    "scheduled tasks: {} moved, {} left",
                    outcome.moved, outcome.left
                );
                if !outcome.failures.is_empty() {
                    said.push_str(&format!(", failed: {}", outcome.failures.join(", ")));
                }
                if !outcome.not_done.is_empty() {
                    said.push_str(&format!(
                        ", not moved or not confirmed: {}",
                        outcome.not_done.join(", ")
                    ));
                }
                said
            }
            None => "no scheduled task was moved".to_owned(),
        });
    }
    if config.old_revisions.is_some() {
        said.push(match &progress.old_revisions {
            Some(outcome) => {
                let mut done = Vec::new();
                if !outcome.deregistered.is_empty() {
                    done.push(format!("deregistered {}", revisions::short_names(&outcome.deregistered)));
                }
                if !outcome.deleted.is_empty() {
                    done.push(format!("deleted {}", revisions::short_names(&outcome.deleted)));
                }
                let confirmed = match done.is_empty() {
                    true => "no change confirmed".to_owned(),
                    false => done.join(" and "),
                };
                match outcome.not_done.is_empty() {
                    true => format!("the old revisions' clean-up was cut short ({confirmed})"),
                    false => format!(
                        "the old revisions' clean-up was cut short ({confirmed}; not done or not confirmed: {})",
                        revisions::short_names(&outcome.not_done)
                    ),
                }
            }
            None => "no old revision was deregistered".to_owned(),
        });
    }
    anyhow::anyhow!("{}", said.join("; "))
}
