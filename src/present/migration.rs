//! How the migration step's events read.

use super::summary::text;
use super::Presenter;
use crate::migration::Event;

impl Presenter {
    pub(super) fn migration(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::LaunchTypeIgnored => runner.warning(
                "run-task-launch-type is ignored: run-task-capacity-provider-strategy places the task",
            ),
            Event::SeparateRegistered { arn } => {
                runner.info(&format!("Registered migration task definition {arn}"))
            }
            Event::Started(started) => runner.info(&format!(
                "Started migration task {}: {} in container {}",
                started.task_arn,
                shown_command(started.command.as_deref()),
                started.container
            )),
            Event::NotWaiting(started) => runner.notice(&format!(
                "Started task {} ({} in container {}); not waiting for it (wait-for-task-stopped is false), so its result does not hold back the deployment",
                started.task_arn,
                shown_command(started.command.as_deref()),
                started.container
            )),
            Event::LogsUnavailable { why, link } => runner.notice(&format!(
                "The migration's output is not shown here: {why}. See the task in the console: {link}"
            )),
            Event::FollowBegan { task_id } => runner.group(&format!("Migration task {task_id}")),
            Event::StopWaitBegan => runner.group("Migration task stopping"),
            Event::FoldEnded => runner.end_group(),
            Event::Status { status } => runner.info(&format!("Task status: {status}")),
            // Plain text: the task's lines are not ours, so the runner must
            // not take one of them for a workflow command.
            Event::LogLines { lines } => runner.relay(lines.iter().map(String::as_str)),
            Event::LogsLost { error, link } => runner.warning(&format!(
                "{error}; the migration goes on without its logs: {link}"
            )),
            Event::StoppedOnTimeout { reason, task_id } => runner.warning(&format!(
                "{reason}: stopped migration task {task_id} with StopTask"
            )),
            Event::Concluded {
                task_id,
                link,
                failure,
            } => self.migration_concluded(&task_id, &link, failure.as_deref()),
            Event::DryRunWouldRun {
                command,
                template,
                family,
                cluster,
            } => {
                let definition = match template {
                    Some(source) => format!("the task definition rendered from {source}"),
                    None => format!("task definition {family}"),
                };
                runner.notice(&format!(
                    "Dry run: the migration {} would run as a one-off task of {definition} in cluster {cluster}, before any deployment; nothing was started.",
                    shown_command(command.as_deref()),
                ));
            }
        }
    }

    /// The migration's line in the job summary, written as it ends: the run
    /// page is a report, so losing it must not fail a migration.
    fn migration_concluded(&self, task_id: &str, link: &str, failure: Option<&str>) {
        let runner = &self.runner;
        let outcome = match failure {
            Some(headline) => format!("failed: {}", text(headline)),
            None => "succeeded".to_owned(),
        };
        if let Err(error) = runner.append_summary(&format!(
            "Migration task [{}]({link}) {outcome}\n\n",
            text(task_id)
        )) {
            runner.warning(&format!("{error:#}"));
        }
        if failure.is_none() {
            runner.info(&format!(
                "Migration succeeded: task {task_id} exited with 0"
            ));
        }
    }
}

/// `migration-command` as a shell line, or what `run-task` runs.
fn shown_command(command: Option<&[String]>) -> String {
    match command {
        Some(command) => format!(
            "`{}`",
            shlex::try_join(command.iter().map(String::as_str))
                .unwrap_or_else(|_| command.join(" "))
        ),
        None => "the task definition's command, with run-task-container-overrides".to_owned(),
    }
}
