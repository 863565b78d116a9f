//! The summary's rows for the run as a whole, for as far as it got: the
//! task definitions, each service's result and timeline lane, the evidence
//! of a failure, the changes, the scheduled tasks, the old revisions and
//! the images.

use crate::arn::resource_name;
use crate::config::Config;
use crate::deploy::{Current, DeployResult, Deployed, Started};
use crate::diff;
use crate::links::{self, task_definition_markdown};
use crate::pipeline::{release_index, Progress, Release};
use crate::render::{self, family};
use crate::revisions;
use crate::scheduled;

use super::summary::{code, text, Bar, Summary};

/// A deployment's phases as its lane of the timeline, each until it ended.
fn timeline(summary: &mut Summary, deployed: &Deployed) {
    for (phase, end) in deployed.phase_ends() {
        summary.add_bar(
            &deployed.service,
            Bar {
                name: phase.name.clone(),
                start: phase.since,
                end,
                failed: phase.failed,
            },
        );
    }
}

/// The summary's rows for as far as the run got.
pub(super) fn describe_run(summary: &mut Summary, config: &Config, progress: &Progress) {
    task_definition_rows(summary, config, progress);
    service_rows(summary, config, progress);
    for d in &progress.deployed {
        timeline(summary, d);
        deployment_evidence(summary, config, &progress.current[d.index], d);
    }
    change_rows(summary, config, progress);
    if let Some(moves) = &progress.scheduled {
        scheduled_tasks_row(summary, config, moves);
    }
    if let Some(clean_up) = &progress.old_revisions {
        old_revisions_row(summary, clean_up);
    }
    image_rows(summary, &progress.releases);
}

/// What each release registered, or why it did not.
fn task_definition_rows(summary: &mut Summary, config: &Config, progress: &Progress) {
    for (i, release) in progress.releases.iter().enumerate() {
        let name = match progress.registered.get(i) {
            Some(r) => task_definition_markdown(&r.arn),
            None if config.dry_run => format!(
                "{} rendered, not registered (dry run)",
                code(family(&release.rendered))
            ),
            None => format!(
                "{} rendered, not registered",
                code(family(&release.rendered))
            ),
        };
        summary.add("Task definition", name);
    }
    if let Some(source) = &config.template {
        summary.add("Template", code(&source.to_string()));
    }
}

/// Each service: the revision it ran, the one it was moved to, the result.
fn service_rows(summary: &mut Summary, config: &Config, progress: &Progress) {
    for (i, current) in progress.current.iter().enumerate() {
        let name = &config.services[i];
        let result = match progress
            .deployed
            .iter()
            .find(|d| d.index == i)
            .map(|d| &d.result)
        {
            Some(DeployResult::Succeeded) => "deployed".to_owned(),
            Some(DeployResult::Started) => "deployment started".to_owned(),
            Some(DeployResult::Ready) => "ready for traffic rerouting".to_owned(),
            Some(DeployResult::HandedOff(handoff)) => {
                match (&handoff.paused_hook, &handoff.stage) {
                    (Some(hook), _) => format!(
                        "paused at lifecycle hook {}, left for a later job",
                        code(hook)
                    ),
                    (None, Some(stage)) => format!("at {}, left for a later job", code(stage)),
                    (None, None) => "left for a later job".to_owned(),
                }
            }
            Some(DeployResult::AlreadyRunning) => "already runs it".to_owned(),
            Some(DeployResult::Failed(reason)) => format!("**failed**: {}", text(reason)),
            Some(DeployResult::Error(reason)) => format!("**error**: {}", text(reason)),
            None => "not deployed".to_owned(),
        };
        let registered = release_index(&progress.releases, i)
            .and_then(|r| progress.registered.get(r))
            .map(|revision| revision.arn.as_str());
        let (from, to) = match &progress.followed {
            Some((from, to)) => (from.as_str(), Some(to.as_str())),
            None => (current.task_definition_arn.as_str(), registered),
        };
        let to = to
            .map(|to| format!(" → {}", task_definition_markdown(to)))
            .unwrap_or_default();
        summary.add(
            format!("Service {}", code(name)),
            format!("{}{to}: {result}", task_definition_markdown(from)),
        );
    }
}

/// A deployment's stopped tasks and, when it failed, where to look next.
fn deployment_evidence(summary: &mut Summary, config: &Config, current: &Current, d: &Deployed) {
    let region = links::region_of(current.service.service_arn());
    match (&d.started, &d.result) {
        (Started::Ecs { stopped_tasks, .. }, result) => {
            for group in stopped_tasks {
                let example = links::task(resource_name(&config.cluster), &group.example);
                summary.add(
                    format!("Stopped tasks of {}", code(&d.service)),
                    format!(
                        "{} — e.g. [{}]({example})",
                        text(&format!(
                            "{} task(s) stopped: {}",
                            group.count, group.reason
                        )),
                        text(resource_name(&group.example))
                    ),
                );
            }
            if matches!(result, DeployResult::Failed(_)) {
                summary.add_evidence(format!(
                    "Next: the events of {} in the console: {}",
                    code(&d.service),
                    links::service_events(region, resource_name(&config.cluster), &d.service)
                ));
            }
        }
        (Started::CodeDeploy { deployment_id }, DeployResult::Failed(_)) => {
            summary.add_evidence(format!(
                "Next: CodeDeploy deployment {} in the console: {}",
                code(deployment_id),
                links::codedeploy_deployment(region, deployment_id)
            ));
        }
        _ => {}
    }
}

/// What each release changes in each service's definition, in words.
fn change_rows(summary: &mut Summary, config: &Config, progress: &Progress) {
    let several = progress.current.len() > 1;
    for release in &progress.releases {
        for &i in &release.services {
            let base = render::normalize(progress.current[i].task_definition.clone());
            for change in diff::diff(&base, &release.rendered) {
                summary.add_change(match several {
                    true => format!("{}: {change}", config.services[i]),
                    false => change.to_string(),
                });
            }
        }
    }
}

fn scheduled_tasks_row(summary: &mut Summary, config: &Config, moves: &scheduled::Moves) {
    let mut counts = vec![match config.dry_run {
        true => format!("{} would move", moves.would_move),
        false => format!("{} moved", moves.moved),
    }];
    counts.push(format!("{} left", moves.left));
    if !moves.failures.is_empty() {
        counts.push(format!("**{} failed**", moves.failures.len()));
    }
    summary.add("Scheduled tasks", counts.join(", "));
}

fn old_revisions_row(summary: &mut Summary, clean_up: &revisions::CleanUp) {
    let names = |arns: &[String]| -> String {
        let names: Vec<String> = arns.iter().map(|arn| code(resource_name(arn))).collect();
        names.join(", ")
    };
    let cell = [
        ("would be deregistered", &clean_up.would_deregister),
        ("would be deleted", &clean_up.would_delete),
        ("deregistered", &clean_up.deregistered),
        ("deleted", &clean_up.deleted),
    ]
    .iter()
    .filter(|(_, arns)| !arns.is_empty())
    .map(|(what, arns)| format!("{} {what}: {}", arns.len(), names(arns)))
    .collect::<Vec<_>>();
    let cell = match cell.is_empty() {
        true => "none deregistered or deleted".to_owned(),
        false => cell.join("; "),
    };
    summary.add("Old revisions", cell);
}

/// The image of every container of every release.
fn image_rows(summary: &mut Summary, releases: &[Release]) {
    let containers = releases.iter().flat_map(|r| {
        r.rendered["containerDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
    });
    for container in containers {
        summary.add(
            format!(
                "Image of {}",
                code(container["name"].as_str().unwrap_or("?"))
            ),
            code(container["image"].as_str().unwrap_or("(none)")),
        );
    }
}
