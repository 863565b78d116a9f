//! Everything a person sees of the run as a whole: the rendered definition
//! and its changes, the registered revisions, the dry run's plan, each
//! service's verdict, and the summary's rows.

use anyhow::Result;
use serde_json::Value;

use crate::config::Config;
use crate::deploy::ecs::short_name;
use crate::deploy::{Current, DeployResult, Deployed, Started};
use crate::diff;
use crate::links::task_definition_markdown;
use crate::migration;
use crate::outcome::Failed;
use crate::render::{self, family};
use crate::runner::Runner;
use crate::summary::{code, text, Summary};

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
        short_name(previous),
        short_name(&current.task_definition_arn)
    ));
}

pub(super) fn as_is(runner: &Runner, arn: &str) {
    runner.info(&format!(
        "Deploying {arn} as is: the inputs change nothing in it, so no revision is registered"
    ));
}

/// What the dry run rendered and would have run.
pub(super) fn dry_run(runner: &Runner, config: &Config, releases: &[Release]) {
    for release in releases {
        runner.notice(&format!(
            "Dry run: task definition {} was rendered to {} and not registered.",
            family(&release.rendered),
            release.path.display()
        ));
    }
    if let Some(migration) = &config.migration {
        migration::show_plan(runner, config, migration, &releases[0].rendered);
    }
}

/// Each service's verdict, and the run's: an error when any service could
/// not be deployed, otherwise a failure when any failed.
pub(super) fn verdicts(runner: &Runner, deployed: &[Deployed]) -> Result<()> {
    let (mut failures, mut errors) = (Vec::new(), Vec::new());
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
            }
            DeployResult::Error(reason) => {
                runner.info(&format!("✘ {}: {reason}", d.service));
                errors.push(format!("service {}: {reason}", d.service));
            }
        }
    }
    if !errors.is_empty() {
        errors.extend(failures);
        anyhow::bail!("deployment did not finish: {}", errors.join("; "))
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failed(format!("deployment failed: {}", failures.join("; "))).into())
    }
}

/// The summary's rows for as far as the run got.
pub(super) fn describe_run(summary: &mut Summary, config: &Config, progress: &Progress) {
    let Progress {
        current,
        releases,
        registered,
        deployed,
        ..
    } = progress;
    for (i, release) in releases.iter().enumerate() {
        let name = match registered.get(i) {
            Some(r) => task_definition_markdown(&r.arn),
            None => format!(
                "{} rendered, not registered (dry run)",
                code(family(&release.rendered))
            ),
        };
        summary.add("Task definition", name);
    }
    if let Some(source) = &config.template {
        summary.add("Template", code(&source.to_string()));
    }
    for (i, current) in current.iter().enumerate() {
        let name = &config.services[i];
        let result = match deployed.iter().find(|d| d.index == i).map(|d| &d.result) {
            Some(DeployResult::Succeeded) => "deployed".to_owned(),
            Some(DeployResult::Started) => "deployment started".to_owned(),
            Some(DeployResult::Ready) => "ready for traffic rerouting".to_owned(),
            Some(DeployResult::AlreadyRunning) => "already runs it".to_owned(),
            Some(DeployResult::Failed(reason)) => format!("**failed**: {}", text(reason)),
            Some(DeployResult::Error(reason)) => format!("**error**: {}", text(reason)),
            None => "not deployed".to_owned(),
        };
        let new = releases
            .iter()
            .position(|release| release.services.contains(&i))
            .and_then(|r| registered.get(r))
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
    for d in deployed {
        let Started::Ecs { stopped_tasks, .. } = &d.started else {
            continue;
        };
        for line in stopped_tasks {
            summary.add(format!("Stopped tasks of {}", code(&d.service)), text(line));
        }
    }
    if let Some(outcome) = &progress.scheduled {
        let mut counts = vec![
            format!("{} moved", outcome.moved),
            format!("{} left", outcome.left),
        ];
        if !outcome.failures.is_empty() {
            counts.push(format!("**{} failed**", outcome.failures.len()));
        }
        summary.add("Scheduled tasks", counts.join(", "));
    }
    if let Some(outcome) = &progress.old_revisions {
        let names: Vec<String> = outcome
            .deregistered
            .iter()
            .map(|arn| code(short_name(arn)))
            .collect();
        let mut cell = match names.len() {
            0 => "none deregistered".to_owned(),
            n => format!("{n} deregistered: {}", names.join(", ")),
        };
        if outcome.deleted > 0 {
            cell.push_str(&format!(" ({} deleted)", outcome.deleted));
        }
        summary.add("Old revisions", cell);
    }
    let images = releases.iter().flat_map(|r| {
        r.rendered["containerDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
    });
    for container in images {
        summary.add(
            format!(
                "Image of {}",
                code(container["name"].as_str().unwrap_or("?"))
            ),
            code(container["image"].as_str().unwrap_or("(none)")),
        );
    }
}
