//! Scheduled tasks follow the deploy (`update-scheduled-tasks`): after a
//! successful deploy, every EventBridge rule target and Scheduler schedule
//! that starts a task of a deployed family in the deployed cluster is
//! pointed at the new revision (`plan` decides which). They are found
//! before anything changes; each is read again just before its write and
//! decided from that fresh copy, so that what an operator changed while the
//! deploy ran (a schedule disabled, a target removed or moved on) stays.
//! The write is the fresh copy with only the task definition changed
//! (`plan::target_update`, `plan::schedule_update`): PutTargets and
//! UpdateSchedule replace the whole thing, so whatever this build does not
//! know must go back as it was. Both calls replace with the same content
//! when repeated, so the SDK's own retries are safe for them.

mod event;
pub(crate) mod plan;

pub(crate) use event::Event;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::aws::raw::{replace_body, set_body_fields, ResponseBody};
use crate::aws::{error_code, explain, Aws, CONCURRENT_CALLS};
use crate::present::runner::Runner;
use plan::{Decision, FamilyMove, Place, ScheduledTask};

/// What became of the scheduled tasks, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Moves {
    pub(crate) moved: usize,
    /// In the dry run: what a deploy would move.
    pub(crate) would_move: usize,
    pub(crate) left: usize,
    /// Each scheduled task that could not be moved, with why.
    pub(crate) failures: Vec<String>,
    /// Those not reached yet: what a cancelled run did not do.
    pub(crate) not_done: Vec<String>,
}

impl Moves {
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

    /// Logs what became of `task` and counts it.
    fn record(&mut self, runner: &Runner, task: &ScheduledTask, decision: &Decision) {
        if let Some(line) = plan::line(task, decision) {
            runner.info(&line);
        }
        match decision {
            Decision::Move { to: Some(_) } => self.moved += 1,
            Decision::Move { to: None } => self.would_move += 1,
            Decision::Leave(_) | Decision::Gone => self.left += 1,
            Decision::Unrelated => {}
        }
    }
}

/// A scheduled task found, with the JSON it was read as.
pub(crate) struct Found {
    task: ScheduledTask,
    /// The rule target, or the whole schedule as GetSchedule answered.
    json: Value,
}

impl Found {
    /// A task `target` starts (None when it starts no ECS task), kept with
    /// `json`, what it was read as.
    fn of_ecs_target(place: Place, target: &Value, json: Value) -> Option<Found> {
        let task_definition = target["EcsParameters"]["TaskDefinitionArn"].as_str()?;
        let ended = json["EndDate"]
            .as_f64()
            .is_some_and(|end| end <= now_in_seconds());
        Some(Found {
            task: ScheduledTask {
                place,
                cluster: target["Arn"].as_str().unwrap_or_default().to_owned(),
                task_definition: task_definition.to_owned(),
                ended,
            },
            json,
        })
    }

    fn of_rule_target(bus: &str, rule: &str, target: &Value) -> Option<Found> {
        let place = Place::RuleTarget {
            bus: bus.to_owned(),
            rule: rule.to_owned(),
            target: target["Id"].as_str().unwrap_or_default().to_owned(),
        };
        Found::of_ecs_target(place, target, target.clone())
    }

    fn of_schedule(group: &str, name: &str, schedule: Value) -> Option<Found> {
        let place = Place::Schedule {
            group: group.to_owned(),
            name: name.to_owned(),
        };
        let target = schedule["Target"].clone();
        Found::of_ecs_target(place, &target, schedule)
    }
}

/// The dry run's account: what a deploy would move, from what was found.
pub(crate) fn would_move(
    runner: &Runner,
    found: &[Found],
    cluster_arn: &str,
    moves: &[FamilyMove],
) -> Moves {
    runner.group("Scheduled tasks");
    let mut outcome = Moves::default();
    for Found { task, .. } in found {
        outcome.record(runner, task, &plan::decide(task, cluster_arn, moves));
    }
    say_if_none(runner, &outcome);
    runner.end_group();
    outcome
}

/// Moves the scheduled tasks `found` before the deploy to the new
/// revisions, each read again just before its write and decided from that
/// copy; each line logged. A failed move is kept in `outcome`, and every
/// other is still tried; `outcome` is filled as they go, so that a
/// cancelled run can say what it did.
pub(crate) async fn repoint(
    aws: &Aws,
    runner: &Runner,
    found: &[Found],
    cluster_arn: &str,
    moves: &[FamilyMove],
    outcome: &mut Moves,
) {
    runner.group("Scheduled tasks");
    outcome.not_done = found
        .iter()
        .filter(|f| {
            matches!(
                plan::decide(&f.task, cluster_arn, moves),
                Decision::Move { .. }
            )
        })
        .map(|f| f.task.place.to_string())
        .collect();
    for before in found {
        let place = &before.task.place;
        let moved = async {
            let Some(fresh) = read_again(aws, place).await? else {
                return Ok((before.task.clone(), Decision::Gone));
            };
            let decision = plan::decide(&fresh.task, cluster_arn, moves);
            if let Decision::Move { to: Some(to) } = &decision {
                write(aws, &fresh, to).await?;
            }
            anyhow::Ok((fresh.task, decision))
        }
        .await;
        let shown = place.to_string();
        outcome.not_done.retain(|p| *p != shown);
        match moved {
            Ok((task, decision)) => outcome.record(runner, &task, &decision),
            Err(error) => {
                runner.info(&format!("✘ {place}: {error:#}"));
                outcome.failures.push(format!("{place}: {error:#}"));
            }
        }
    }
    say_if_none(runner, outcome);
    runner.end_group();
}

fn say_if_none(runner: &Runner, outcome: &Moves) {
    if outcome.moved + outcome.would_move + outcome.left + outcome.failures.len() == 0 {
        runner.info("no scheduled task runs a deployed family in this cluster");
    }
}

/// Every rule target on `event_buses` and every schedule that starts tasks
/// in `cluster_arn`: read before anything changes, so that a bus that does
/// not exist or a permission missing stops the run while it can. A
/// schedule of the cluster that may not be read is left, with a warning:
/// it may be another team's.
pub(crate) async fn find(
    aws: &Aws,
    runner: &Runner,
    event_buses: &[String],
    cluster_arn: &str,
) -> Result<Vec<Found>> {
    let events = aws_sdk_eventbridge::Client::new(&aws.config_in(None));
    let mut found = Vec::new();
    for bus in event_buses {
        for rule in rule_names(&events, bus, cluster_arn).await? {
            for target in rule_targets(&events, bus, &rule).await? {
                found.extend(Found::of_rule_target(bus, &rule, &target));
            }
        }
    }
    let scheduler = aws_sdk_scheduler::Client::new(&aws.config_in(None));
    for (group, name, _) in ecs_schedules(&scheduler)
        .await?
        .into_iter()
        .filter(|(_, _, cluster)| cluster == cluster_arn)
    {
        match get_schedule(&scheduler, &group, &name).await {
            Ok(Some(schedule)) => found.extend(Found::of_schedule(&group, &name, schedule)),
            Ok(None) => {}
            Err(error) => runner.warning(&format!(
                "schedule {name} of group {group} is left as it is: {error:#}"
            )),
        }
    }
    Ok(found)
}

/// The task definition every rule target and schedule in the region names
/// that starts tasks in one of `clusters`: the rules of every event bus,
/// every schedule of every group. Whatever cannot be read is an error: the
/// answer must be whole.
pub(crate) async fn task_definitions_in_region(
    aws: &Aws,
    clusters: &[String],
) -> Result<BTreeSet<String>> {
    let events = aws_sdk_eventbridge::Client::new(&aws.config_in(None));
    let mut used = BTreeSet::new();
    for bus in event_buses(&events).await? {
        let mut rules = BTreeSet::new();
        for cluster in clusters {
            rules.extend(rule_names(&events, &bus, cluster).await?);
        }
        for rule in rules {
            for target in rule_targets(&events, &bus, &rule).await? {
                used.extend(
                    target["EcsParameters"]["TaskDefinitionArn"]
                        .as_str()
                        .map(str::to_owned),
                );
            }
        }
    }
    let scheduler = aws_sdk_scheduler::Client::new(&aws.config_in(None));
    let scheduler = &scheduler;
    let schedules: Vec<Option<Value>> = stream::iter(ecs_schedules(scheduler).await?)
        .map(|(group, name, _)| async move { get_schedule(scheduler, &group, &name).await })
        .buffered(CONCURRENT_CALLS)
        .try_collect()
        .await?;
    used.extend(
        schedules
            .iter()
            .flatten()
            .filter_map(|schedule| plan::schedule_task_definition(&schedule["Target"])),
    );
    Ok(used)
}

async fn event_buses(events: &aws_sdk_eventbridge::Client) -> Result<Vec<String>> {
    let mut buses = Vec::new();
    let mut token = None;
    loop {
        let page = events
            .list_event_buses()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to list the event buses: {}",
                    explain("events:ListEventBuses", &e)
                )
            })?;
        buses.extend(
            page.event_buses()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(buses);
        }
    }
}

/// The rules of `bus` with a target in `cluster_arn`.
async fn rule_names(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    cluster_arn: &str,
) -> Result<Vec<String>> {
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
            return Ok(rules);
        }
    }
}

/// Every target of `rule`, as raw JSON.
async fn rule_targets(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    rule: &str,
) -> Result<Vec<Value>> {
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let body = ResponseBody::default();
        events
            .list_targets_by_rule()
            .rule(rule)
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
        targets.extend(page["Targets"].as_array().into_iter().flatten().cloned());
        token = page["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            return Ok(targets);
        }
    }
}

/// (group, name, target ARN) of every schedule, in every group, that
/// starts ECS tasks (a templated target's ARN is the cluster's; a universal
/// target's is ECS's RunTask), from ListSchedules' summaries alone.
async fn ecs_schedules(
    scheduler: &aws_sdk_scheduler::Client,
) -> Result<Vec<(String, String, String)>> {
    let mut schedules = Vec::new();
    let mut pages = scheduler.list_schedules().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "failed to list the EventBridge Scheduler schedules: {}",
                explain("scheduler:ListSchedules", &e)
            )
        })?;
        schedules.extend(page.schedules().iter().filter_map(|summary| {
            let target = summary.target()?.arn();
            let starts_tasks =
                target.contains(":cluster/") || target.contains(":scheduler:::aws-sdk:ecs:");
            starts_tasks.then(|| {
                (
                    summary.group_name().unwrap_or("default").to_owned(),
                    summary.name().unwrap_or_default().to_owned(),
                    target.to_owned(),
                )
            })
        }));
    }
    Ok(schedules)
}

/// The schedule as GetSchedule answers it, raw; None when it no longer
/// exists.
async fn get_schedule(
    scheduler: &aws_sdk_scheduler::Client,
    group: &str,
    name: &str,
) -> Result<Option<Value>> {
    let body = ResponseBody::default();
    let answer = scheduler
        .get_schedule()
        .name(name)
        .group_name(group)
        .customize()
        .interceptor(body.clone())
        .send()
        .await;
    match answer {
        Ok(_) => {
            Ok(Some(body.json().with_context(|| {
                format!("failed to read schedule {name}")
            })?))
        }
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(anyhow!(
            "failed to read schedule {name} of group {group}: {}",
            explain("scheduler:GetSchedule", &e)
        )),
    }
}

/// The target or schedule at `place` as it is now; None when it is gone.
async fn read_again(aws: &Aws, place: &Place) -> Result<Option<Found>> {
    match place {
        Place::RuleTarget { bus, rule, target } => {
            let events = aws_sdk_eventbridge::Client::new(&aws.config_in(None));
            let targets = match rule_targets(&events, bus, rule).await {
                Ok(targets) => targets,
                Err(_) if !rule_exists(&events, bus, rule).await? => return Ok(None),
                Err(error) => return Err(error),
            };
            Ok(targets
                .iter()
                .find(|t| t["Id"] == target.as_str())
                .and_then(|t| Found::of_rule_target(bus, rule, t)))
        }
        Place::Schedule { group, name } => {
            let scheduler = aws_sdk_scheduler::Client::new(&aws.config_in(None));
            Ok(get_schedule(&scheduler, group, name)
                .await?
                .and_then(|schedule| Found::of_schedule(group, name, schedule)))
        }
    }
}

/// Whether `rule` still exists on `bus`.
async fn rule_exists(events: &aws_sdk_eventbridge::Client, bus: &str, rule: &str) -> Result<bool> {
    match events
        .describe_rule()
        .name(rule)
        .event_bus_name(bus)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(anyhow!(
            "failed to read rule {rule}: {}",
            explain("events:DescribeRule", &e)
        )),
    }
}

/// Writes `fresh` back pointed at `to`, nothing else changed.
async fn write(aws: &Aws, fresh: &Found, to: &str) -> Result<()> {
    match &fresh.task.place {
        Place::RuleTarget { bus, rule, .. } => {
            let target = plan::target_update(&fresh.json, to);
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
            let update = plan::schedule_update(&fresh.json, to, now_in_seconds());
            let body = serde_json::to_vec(&update)?;
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

fn now_in_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
