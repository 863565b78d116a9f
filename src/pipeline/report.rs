//! Everything a person sees of the run as a whole: the rendered definition
//! and its changes, the registered revisions, the dry run's plan, each
//! service's verdict, and the summary's rows.

use anyhow::Result;
use serde_json::Value;

use crate::arn::resource_name;
use crate::config::Config;
use crate::deploy::{self, Current, DeployResult, Deployed, Started};
use crate::diff;
use crate::links::{self, task_definition_markdown};
use crate::migration;
use crate::outcome::Failed;
use crate::present::runner::Runner;
use crate::present::summary::{code, text, Bar, Summary};
use crate::render::{self, family};
use crate::revisions;
use crate::scheduled;

use super::{Progress, Release};

/// The whole rendered definition (values redacted), in the dry run only.
pub(super) fn rendered(runner: &Runner, rendered: &Value, dry_run: bool) {
    if dry_run {
        runner.group(&format!("Rendered task definition {}", family(rendered)));
        runner.info(&serde_json::to_string_pretty(&render::redacted(rendered)).unwrap_or_default());
        runner.end_group();
    }
}

/// What changes against `name`, the definition `base` is.
pub(super) fn changes(runner: &Runner, rendered: &Value, name: &str, base: &Value) {
    let changes = diff::diff(base, rendered);
    runner.group(&format!(
        "Changes against {name} ({} changed)",
        changes.len()
    ));
    if changes.is_empty() {
        runner.info("no changes");
    }
    for change in &changes {
        runner.info(&change.to_string());
    }
    runner.end_group();
}

pub(super) fn registered(runner: &Runner, arn: &str) {
    runner.info(&format!("Registered {arn}"));
}

/// `task-definition: previous`: where a service goes back to.
pub(super) fn going_back(runner: &Runner, current: &Current, previous: &str) {
    runner.info(&format!(
        "Service {}: going back to {}, the revision it ran before {}",
        current.service.service_name().unwrap_or_default(),
        resource_name(previous),
        resource_name(&current.task_definition_arn)
    ));
}

/// `task-definition: previous` going back to a revision ECS no longer
/// deploys (INACTIVE): a new revision with its content is registered.
pub(super) fn registering_again(runner: &Runner, previous: &str, definition: &Value) {
    runner.info(&format!(
        "Registering {} again as a new revision: it is {}, and ECS moves a service only to an ACTIVE revision",
        resource_name(previous),
        definition["status"].as_str().unwrap_or("not ACTIVE")
    ));
}

/// The rendered definition is what `service` runs: nothing registered.
pub(super) fn already_runs(runner: &Runner, service: &str, arn: &str) {
    runner.info(&format!(
        "Keeping {arn}: service {service} runs it and the rendered task definition is identical, so no revision is registered"
    ));
}

pub(super) fn as_is(runner: &Runner, arn: &str) {
    runner.info(&format!(
        "Deploying {arn} as is: the inputs change nothing in it, so no revision is registered"
    ));
}

/// What the dry run rendered, the services it would move, and what it
/// would have run.
pub(super) fn dry_run(runner: &Runner, config: &Config, current: &[Current], releases: &[Release]) {
    let cluster = resource_name(&config.cluster);
    for release in releases {
        runner.notice(&format!(
            "Dry run: task definition {} was rendered to {} and not registered.",
            family(&release.rendered),
            release.path.display()
        ));
        let revision = match &release.as_is {
            Some(as_is) => resource_name(&as_is.revision.arn).to_owned(),
            None => format!("a new revision of {}", family(&release.rendered)),
        };
        for &i in &release.services {
            let service = current[i].service.service_name().unwrap_or_default();
            let now = resource_name(&current[i].task_definition_arn);
            let starts = release.as_is.as_ref().is_none_or(|as_is| {
                deploy::starts_deployment(&config.deploy, &current[i], &as_is.revision.arn)
            });
            if !starts {
                runner.info(&format!(
                    "Dry run: service {service} in cluster {cluster} already runs {now} and would be left as it is (force-new-deployment: true starts a deployment)"
                ));
                continue;
            }
            let through = if deploy::is_codedeploy(&current[i].service) {
                " through CodeDeploy"
            } else {
                ""
            };
            runner.info(&format!(
                "Dry run: would deploy {revision} to service {service} in cluster {cluster}{through} (now {now})"
            ));
        }
    }
    if let Some(migration) = &config.migration {
        migration::show_plan(runner, config, migration, &releases[0].rendered);
    }
}

/// Each service's verdict, and the run's: an error when any service could
/// not be deployed, otherwise a failure when any failed.
pub(super) fn verdicts(runner: &Runner, deployed: &[Deployed]) -> Result<()> {
    let (mut failures, mut errors) = (Vec::new(), Vec::new());
    // Lines after the reasons: what explains them.
    let mut details = String::new();
    for d in deployed {
        let id = d.deployment_id().unwrap_or_default();
        match &d.result {
            DeployResult::Succeeded => runner.info(&format!(
                "✔ {}: deployment {} completed",
                d.service, id
            )),
            DeployResult::Ready => runner.info(&format!(
                "✔ {}: deployment {} is Ready; traffic has not been rerouted yet (codedeploy-wait-until: ready)",
                d.service, id
            )),
            DeployResult::Started => runner.info(&format!(
                "{}: deployment {} started; not waiting (wait-for-service-stability is false)",
                d.service, id
            )),
            DeployResult::AlreadyRunning => runner.info(&format!(
                "✔ {}: already runs this revision; no deployment started (force-new-deployment: true starts one)",
                d.service
            )),
            DeployResult::Failed(reason) => {
                runner.info(&format!("✘ {}: {reason}", d.service));
                failures.push(format!("service {}: {reason}", d.service));
                details.push_str(&last_log_lines(d));
            }
            DeployResult::Error(reason) => {
                runner.info(&format!("✘ {}: {reason}", d.service));
                errors.push(format!("service {}: {reason}", d.service));
            }
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

/// A deployment's phases as its lane of the timeline, each until the next.
fn timeline(summary: &mut Summary, deployed: &Deployed) {
    let ends = deployed
        .phases
        .iter()
        .skip(1)
        .map(|next| next.since)
        .chain([deployed.ended]);
    for (phase, end) in deployed.phases.iter().zip(ends) {
        summary.add_bar(
            &deployed.service,
            Bar {
                name: phase.name.clone(),
                start: phase.since,
                end: end.max(phase.since),
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
            Some(DeployResult::AlreadyRunning) => "already runs it".to_owned(),
            Some(DeployResult::Failed(reason)) => format!("**failed**: {}", text(reason)),
            Some(DeployResult::Error(reason)) => format!("**error**: {}", text(reason)),
            None => "not deployed".to_owned(),
        };
        let new = progress
            .releases
            .iter()
            .position(|release| release.services.contains(&i))
            .and_then(|r| progress.registered.get(r))
            .map(|revision| format!(" → {}", task_definition_markdown(&revision.arn)))
            .unwrap_or_default();
        summary.add(
            format!("Service {}", code(name)),
            format!(
                "{}{new}: {result}",
                task_definition_markdown(&current.task_definition_arn)
            ),
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
