//! Scheduled tasks follow the deploy (`update-scheduled-tasks`): after a
//! successful deploy, every EventBridge rule target and Scheduler schedule
//! that starts a task of a deployed family in the deployed cluster is
//! pointed at the new revision (`plan` decides which). Targets and schedules
//! are read and written back as raw JSON with only the task definition
//! changed: PutTargets and UpdateSchedule replace the whole thing, so
//! whatever this build does not know must go back as it was. Both calls
//! replace with the same content when repeated, so the SDK's own retries
//! are safe for them.

pub(crate) mod plan;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::aws::raw::{replace_body, set_body_fields, ResponseBody};
use crate::aws::{explain, Aws};
use crate::runner::Runner;
use plan::{Decision, FamilyMove, Place, ScheduledTask};

/// What became of the scheduled tasks, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) moved: usize,
    /// In the dry run: what a deploy would move.
    pub(crate) would_move: usize,
    pub(crate) left: usize,
    /// Each scheduled task that could not be moved, with why.
    pub(crate) failures: Vec<String>,
}

impl Outcome {
    /// An error naming every scheduled task that still starts the old
    /// revision, when there is one.
    pub(crate) fn check(&self) -> Result<()> {
        if self.failures.is_empty() {
            return Ok(());
        }
        bail!(
            "the services are deployed, but {} scheduled task(s) still start the old revision: {}",
            self.failures.len(),
            self.failures.join("; ")
        )
    }
}

/// A scheduled task found, with the JSON it is written back from.
pub(crate) struct Found {
    task: ScheduledTask,
    /// The rule target, or the whole schedule as GetSchedule answered.
    json: Value,
}

impl Found {
    /// A task `target` starts (None when it starts no ECS task), kept with
    /// `json`, what is written back.
    fn of_ecs_target(place: Place, target: &Value, json: &Value) -> Option<Found> {
        let task_definition = target["EcsParameters"]["TaskDefinitionArn"].as_str()?;
        Some(Found {
            task: ScheduledTask {
                place,
                cluster: target["Arn"].as_str().unwrap_or_default().to_owned(),
                task_definition: task_definition.to_owned(),
            },
            json: json.clone(),
        })
    }
}

/// Decides and moves the scheduled tasks `found` (not in the dry run, whose
/// moves have no new revision yet), each line logged. A failed move is kept
/// in the outcome, and every other is still tried.
pub(crate) async fn follow(
    aws: &Aws,
    runner: &Runner,
    found: &[Found],
    cluster_arn: &str,
    moves: &[FamilyMove],
) -> Outcome {
    runner.group("Scheduled tasks");
    let mut outcome = Outcome::default();
    for Found { task, json } in found {
        let decision = plan::decide(task, cluster_arn, moves);
        let written = match &decision {
            Decision::Move { to: Some(to) } => move_one(aws, &task.place, json, to).await,
            _ => Ok(()),
        };
        match written {
            Ok(()) => {
                if let Some(line) = plan::line(task, &decision) {
                    runner.info(&line);
                }
                match decision {
                    Decision::Move { to: Some(_) } => outcome.moved += 1,
                    Decision::Move { to: None } => outcome.would_move += 1,
                    Decision::Leave(_) => outcome.left += 1,
                    Decision::Unrelated => {}
                }
            }
            Err(error) => {
                runner.info(&format!("✘ {}: {error:#}", task.place));
                outcome.failures.push(format!("{}: {error:#}", task.place));
            }
        }
    }
    if outcome.moved + outcome.would_move + outcome.left + outcome.failures.len() == 0 {
        runner.info("no scheduled task runs a deployed family in this cluster");
    }
    runner.end_group();
    outcome
}

/// The task definition each scheduled task names: the targets of the
/// rules on `buses` that start tasks in `cluster_arn`, and every schedule
/// of every group that starts an ECS task.
pub(crate) async fn task_definitions(
    aws: &Aws,
    event_buses: &[String],
    cluster_arn: &str,
) -> Result<Vec<String>> {
    let found = find(aws, event_buses, cluster_arn).await?;
    Ok(found.into_iter().map(|f| f.task.task_definition).collect())
}

/// Every rule target on `event_buses` that starts tasks in `cluster_arn`,
/// and every schedule that starts an ECS task: read before anything
/// changes, so that a bus that does not exist or a permission missing stops
/// the run while it can.
pub(crate) async fn find(
    aws: &Aws,
    event_buses: &[String],
    cluster_arn: &str,
) -> Result<Vec<Found>> {
    let mut found = rule_targets(aws, event_buses, cluster_arn).await?;
    found.extend(schedules(aws).await?);
    Ok(found)
}

/// The ECS targets of every rule on `buses` that names the cluster.
async fn rule_targets(aws: &Aws, buses: &[String], cluster_arn: &str) -> Result<Vec<Found>> {
    let events = aws_sdk_eventbridge::Client::new(&aws.config_in(None));
    let mut found = Vec::new();
    for bus in buses {
        let mut rules = Vec::new();
        let mut token = None;
        loop {
            let page = events
                .list_rule_names_by_target()
                .target_arn(cluster_arn)
                .event_bus_name(bus)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    anyhow!(
                        "failed to list the rules of event bus {bus} that start tasks in {cluster_arn}: {}",
                        explain("events:ListRuleNamesByTarget", &e)
                    )
                })?;
            rules.extend(page.rule_names().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        for rule in rules {
            let mut token: Option<String> = None;
            loop {
                let body = ResponseBody::default();
                events
                    .list_targets_by_rule()
                    .rule(&rule)
                    .event_bus_name(bus)
                    .set_next_token(token.clone())
                    .customize()
                    .interceptor(body.clone())
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow!(
                            "failed to read the targets of rule {rule}: {}",
                            explain("events:ListTargetsByRule", &e)
                        )
                    })?;
                let page = body
                    .json()
                    .with_context(|| format!("failed to read the targets of rule {rule}"))?;
                for target in page["Targets"].as_array().into_iter().flatten() {
                    let place = Place::RuleTarget {
                        bus: bus.clone(),
                        rule: rule.clone(),
                        target: target["Id"].as_str().unwrap_or_default().to_owned(),
                    };
                    found.extend(Found::of_ecs_target(place, target, target));
                }
                token = page["NextToken"].as_str().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
        }
    }
    Ok(found)
}

/// Every schedule of every group whose target is an ECS cluster, read whole.
async fn schedules(aws: &Aws) -> Result<Vec<Found>> {
    let scheduler = aws_sdk_scheduler::Client::new(&aws.config_in(None));
    let mut summaries = Vec::new();
    let mut pages = scheduler.list_schedules().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "failed to list the EventBridge Scheduler schedules: {}",
                explain("scheduler:ListSchedules", &e)
            )
        })?;
        summaries.extend(page.schedules().iter().filter_map(|summary| {
            let target = summary.target()?.arn();
            target.contains(":cluster/").then(|| {
                (
                    summary.group_name().unwrap_or("default").to_owned(),
                    summary.name().unwrap_or_default().to_owned(),
                )
            })
        }));
    }
    let mut found = Vec::new();
    for (group, name) in summaries {
        let body = ResponseBody::default();
        scheduler
            .get_schedule()
            .name(&name)
            .group_name(&group)
            .customize()
            .interceptor(body.clone())
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to read schedule {name} of group {group}: {}",
                    explain("scheduler:GetSchedule", &e)
                )
            })?;
        let schedule = body
            .json()
            .with_context(|| format!("failed to read schedule {name}"))?;
        let place = Place::Schedule { group, name };
        found.extend(Found::of_ecs_target(place, &schedule["Target"], &schedule));
    }
    Ok(found)
}

/// Writes the target or schedule back as it was, pointed at `to`.
async fn move_one(aws: &Aws, place: &Place, json: &Value, to: &str) -> Result<()> {
    match place {
        Place::RuleTarget { bus, rule, .. } => {
            let mut target = json.clone();
            target["EcsParameters"]["TaskDefinitionArn"] = Value::from(to);
            let events = aws_sdk_eventbridge::Client::new(&aws.config_in(None));
            let answer = events
                .put_targets()
                .rule(rule)
                .event_bus_name(bus)
                .customize()
                .mutate_request(set_body_fields(vec![(
                    "Targets",
                    Value::from(vec![target]),
                )]))
                .send()
                .await
                .map_err(|e| anyhow!("{}", explain("events:PutTargets", &e)))?;
            match answer.failed_entries().first() {
                Some(failed) if answer.failed_entry_count() > 0 => bail!(
                    "PutTargets did not take it: {}: {}",
                    failed.error_code().unwrap_or("?"),
                    failed.error_message().unwrap_or_default()
                ),
                _ => Ok(()),
            }
        }
        Place::Schedule { name, .. } => {
            let mut schedule = json.clone();
            schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] = Value::from(to);
            // What GetSchedule answers but UpdateSchedule does not take: the
            // name is in the path, the rest is Scheduler's own record.
            if let Some(members) = schedule.as_object_mut() {
                for key in ["Name", "Arn", "CreationDate", "LastModificationDate"] {
                    members.remove(key);
                }
            }
            let body = serde_json::to_vec(&schedule)?;
            let scheduler = aws_sdk_scheduler::Client::new(&aws.config_in(None));
            scheduler
                .update_schedule()
                .name(name)
                .customize()
                .mutate_request(move |request| replace_body(request, body.clone()))
                .send()
                .await
                .map_err(|e| anyhow!("{}", explain("scheduler:UpdateSchedule", &e)))?;
            Ok(())
        }
    }
}
