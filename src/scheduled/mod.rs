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

use anyhow::{bail, Result};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::aws::{events, scheduler, Aws, CONCURRENT_CALLS};
use crate::event::Sink;
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

    /// Counts what became of `task` and says it.
    fn record(&mut self, sink: &dyn Sink, task: ScheduledTask, decision: Decision) {
        match decision {
            Decision::Move { to: Some(_) } => self.moved += 1,
            Decision::Move { to: None } => self.would_move += 1,
            Decision::Leave(_) | Decision::Gone => self.left += 1,
            Decision::Unrelated => {}
        }
        emit(sink, Event::Decided { task, decision });
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
    sink: &dyn Sink,
    found: &[Found],
    cluster_arn: &str,
    moves: &[FamilyMove],
) -> Moves {
    emit(sink, Event::Began);
    let mut outcome = Moves::default();
    for Found { task, .. } in found {
        let decision = plan::decide(task, cluster_arn, moves);
        outcome.record(sink, task.clone(), decision);
    }
    end(sink, &outcome);
    outcome
}

/// Moves the scheduled tasks `found` before the deploy to the new
/// revisions, each read again just before its write and decided from that
/// copy; each said as it is done. A failed move is kept in `outcome`, and
/// every other is still tried; `outcome` is filled as they go, so that a
/// cancelled run can say what it did.
pub(crate) async fn repoint(
    aws: &Aws,
    sink: &dyn Sink,
    found: &[Found],
    cluster_arn: &str,
    moves: &[FamilyMove],
    outcome: &mut Moves,
) {
    emit(sink, Event::Began);
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
        let moved = move_one(aws, before, cluster_arn, moves).await;
        let shown = place.to_string();
        outcome.not_done.retain(|p| *p != shown);
        match moved {
            Ok((task, decision)) => outcome.record(sink, task, decision),
            Err(error) => {
                outcome.failures.push(format!("{place}: {error:#}"));
                let error = format!("{error:#}");
                let place = place.clone();
                emit(sink, Event::MoveFailed { place, error });
            }
        }
    }
    end(sink, outcome);
}

/// `before` read again, decided from that copy and, when it moves, written.
async fn move_one(
    aws: &Aws,
    before: &Found,
    cluster_arn: &str,
    moves: &[FamilyMove],
) -> Result<(ScheduledTask, Decision)> {
    let Some(fresh) = read_again(aws, &before.task.place).await? else {
        return Ok((before.task.clone(), Decision::Gone));
    };
    let decision = plan::decide(&fresh.task, cluster_arn, moves);
    if let Decision::Move { to: Some(to) } = &decision {
        write(aws, &fresh, to).await?;
    }
    Ok((fresh.task, decision))
}

fn end(sink: &dyn Sink, outcome: &Moves) {
    if outcome.moved + outcome.would_move + outcome.left + outcome.failures.len() == 0 {
        emit(sink, Event::NoneRelated);
    }
    emit(sink, Event::Ended);
}

fn emit(sink: &dyn Sink, event: Event) {
    sink.emit(event.into());
}

/// Every rule target on `event_buses` and every schedule that starts tasks
/// in `cluster_arn`: read before anything changes, so that a bus that does
/// not exist or a permission missing stops the run while it can. A
/// schedule of the cluster that may not be read is left, with a warning:
/// it may be another team's.
pub(crate) async fn find(
    aws: &Aws,
    sink: &dyn Sink,
    event_buses: &[String],
    cluster_arn: &str,
) -> Result<Vec<Found>> {
    let events = events_client(aws);
    let mut found = Vec::new();
    for bus in event_buses {
        for rule in events::list_rule_names_by_target(&events, bus, cluster_arn).await? {
            for target in events::list_targets_by_rule(&events, bus, &rule).await? {
                found.extend(Found::of_rule_target(bus, &rule, &target));
            }
        }
    }
    let scheduler = scheduler_client(aws);
    for (group, name) in ecs_schedules(&scheduler, Some(cluster_arn)).await? {
        match scheduler::get_schedule(&scheduler, &group, &name).await {
            Ok(Some(schedule)) => found.extend(Found::of_schedule(&group, &name, schedule)),
            Ok(None) => {}
            Err(error) => {
                let error = format!("{error:#}");
                emit(sink, Event::ScheduleUnread { group, name, error });
            }
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
    let events = events_client(aws);
    let mut used = BTreeSet::new();
    for bus in events::list_event_buses(&events).await? {
        let mut rules = BTreeSet::new();
        for cluster in clusters {
            rules.extend(events::list_rule_names_by_target(&events, &bus, cluster).await?);
        }
        for rule in rules {
            for target in events::list_targets_by_rule(&events, &bus, &rule).await? {
                used.extend(
                    target["EcsParameters"]["TaskDefinitionArn"]
                        .as_str()
                        .map(str::to_owned),
                );
            }
        }
    }
    let scheduler = &scheduler_client(aws);
    let schedules: Vec<Option<Value>> = stream::iter(ecs_schedules(scheduler, None).await?)
        .map(|(group, name)| async move { scheduler::get_schedule(scheduler, &group, &name).await })
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

/// (group, name) of every schedule, in every group, that starts ECS tasks
/// (a templated target's ARN is the cluster's; a universal target's is
/// ECS's RunTask) in `cluster_arn`, or in any cluster when None, from
/// ListSchedules' summaries alone.
async fn ecs_schedules(
    scheduler: &aws_sdk_scheduler::Client,
    cluster_arn: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let summaries = scheduler::list_schedules(scheduler).await?;
    Ok(summaries
        .iter()
        .filter_map(|summary| {
            let target = summary.target()?.arn();
            let starts_tasks =
                target.contains(":cluster/") || target.contains(":scheduler:::aws-sdk:ecs:");
            let in_cluster = cluster_arn.is_none_or(|cluster| target == cluster);
            (starts_tasks && in_cluster).then(|| {
                (
                    summary.group_name().unwrap_or("default").to_owned(),
                    summary.name().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect())
}

/// The target or schedule at `place` as it is now; None when it is gone.
async fn read_again(aws: &Aws, place: &Place) -> Result<Option<Found>> {
    match place {
        Place::RuleTarget { bus, rule, target } => {
            let events = events_client(aws);
            let targets = match events::list_targets_by_rule(&events, bus, rule).await {
                Ok(targets) => targets,
                Err(_) if !events::rule_exists(&events, bus, rule).await? => return Ok(None),
                Err(error) => return Err(error),
            };
            Ok(targets
                .iter()
                .find(|t| t["Id"] == target.as_str())
                .and_then(|t| Found::of_rule_target(bus, rule, t)))
        }
        Place::Schedule { group, name } => {
            Ok(scheduler::get_schedule(&scheduler_client(aws), group, name)
                .await?
                .and_then(|schedule| Found::of_schedule(group, name, schedule)))
        }
    }
}

/// Writes `fresh` back pointed at `to`, nothing else changed.
async fn write(aws: &Aws, fresh: &Found, to: &str) -> Result<()> {
    match &fresh.task.place {
        Place::RuleTarget { bus, rule, .. } => {
            let target = plan::target_update(&fresh.json, to);
            events::put_target(&events_client(aws), bus, rule, target).await
        }
        Place::Schedule { name, .. } => {
            let update = plan::schedule_update(&fresh.json, to, now_in_seconds());
            scheduler::update_schedule(&scheduler_client(aws), name, &update).await
        }
    }
}

fn events_client(aws: &Aws) -> aws_sdk_eventbridge::Client {
    aws_sdk_eventbridge::Client::new(&aws.config_in(None))
}

fn scheduler_client(aws: &Aws) -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&aws.config_in(None))
}

fn now_in_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Recorder;
    use ecs_deploy_sim::{Scenario, Sim};

    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    /// shop:1 and shop:2; rule nightly's target cleanup and schedule
    /// check (group jobs) start shop:1 in prod, target report starts
    /// another family.
    fn sim(extra: &str) -> Sim {
        let yaml = format!(
            r#"
clusters: [prod]
taskDefinitions:
  - {{family: shop, containerDefinitions: [{{name: web, image: "shop:1"}}]}}
  - {{family: shop, containerDefinitions: [{{name: web, image: "shop:2"}}]}}
  - {{family: report, containerDefinitions: [{{name: report, image: "report:1"}}]}}
eventRules:
  - name: nightly
    scheduleExpression: "cron(0 3 * * ? *)"
    targets:
      - Id: cleanup
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{TD}/shop:1"}}
      - Id: report
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{TD}/report:1"}}
schedules:
  - Name: check
    GroupName: jobs
    ScheduleExpression: "rate(1 day)"
    FlexibleTimeWindow: {{Mode: "OFF"}}
    Target:
      Arn: {CLUSTER}
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {{TaskDefinitionArn: "{TD}/shop:1"}}
{extra}"#
        );
        Sim::start(Scenario::from_yaml(&yaml).unwrap()).unwrap()
    }

    fn shop_moves(new_arn: Option<String>) -> Vec<FamilyMove> {
        vec![FamilyMove {
            family: "shop".into(),
            previous_revision: Some(1),
            new_arn,
        }]
    }

    fn task(place: Place, task_definition: &str) -> ScheduledTask {
        ScheduledTask {
            place,
            cluster: CLUSTER.into(),
            task_definition: format!("{TD}/{task_definition}"),
            ended: false,
        }
    }

    fn rule_target(target: &str) -> Place {
        Place::RuleTarget {
            bus: "default".into(),
            rule: "nightly".into(),
            target: target.into(),
        }
    }

    fn schedule() -> Place {
        Place::Schedule {
            group: "jobs".into(),
            name: "check".into(),
        }
    }

    #[tokio::test]
    async fn each_scheduled_task_of_the_family_moves_and_says_so() {
        let sim = sim("");
        let aws = Aws::of_sim(&sim).await;
        let recorder = Recorder::default();
        let found = find(&aws, &recorder, &["default".into()], CLUSTER)
            .await
            .unwrap();
        let mut outcome = Moves::default();
        let new_arn = format!("{TD}/shop:2");
        let moves = shop_moves(Some(new_arn.clone()));
        repoint(&aws, &recorder, &found, CLUSTER, &moves, &mut outcome).await;
        let moved = Decision::Move { to: Some(new_arn) };
        assert_eq!(
            recorder.step_events::<Event>(),
            vec![
                Event::Began,
                Event::Decided {
                    task: task(rule_target("cleanup"), "shop:1"),
                    decision: moved.clone(),
                },
                Event::Decided {
                    task: task(rule_target("report"), "report:1"),
                    decision: Decision::Leave(
                        "runs report, which this deploy does not change".into()
                    ),
                },
                Event::Decided {
                    task: task(schedule(), "shop:1"),
                    decision: moved,
                },
                Event::Ended,
            ]
        );
        assert_eq!((outcome.moved, outcome.left), (2, 1));
        assert_eq!(sim.calls_to("PutTargets").len(), 1);
        assert_eq!(sim.calls_to("UpdateSchedule").len(), 1);
    }

    #[tokio::test]
    async fn the_dry_run_says_what_would_move_and_a_schedule_not_read_is_left() {
        let sim = sim(
            "faults:\n  - {service: scheduler, operation: GetSchedule, kind: accessDenied, always: true}\n",
        );
        let aws = Aws::of_sim(&sim).await;
        let recorder = Recorder::default();
        let found = find(&aws, &recorder, &["default".into()], CLUSTER)
            .await
            .unwrap();
        let outcome = would_move(&recorder, &found, CLUSTER, &shop_moves(None));
        let events = recorder.step_events::<Event>();
        let Some(Event::ScheduleUnread { error, .. }) = events.first() else {
            panic!("{events:?}");
        };
        assert!(
            error.starts_with("failed to read schedule check of group jobs: AccessDeniedException"),
            "{error}"
        );
        assert_eq!(
            events,
            vec![
                Event::ScheduleUnread {
                    group: "jobs".into(),
                    name: "check".into(),
                    error: error.clone(),
                },
                Event::Began,
                Event::Decided {
                    task: task(rule_target("cleanup"), "shop:1"),
                    decision: Decision::Move { to: None },
                },
                Event::Decided {
                    task: task(rule_target("report"), "report:1"),
                    decision: Decision::Leave(
                        "runs report, which this deploy does not change".into()
                    ),
                },
                Event::Ended,
            ]
        );
        assert_eq!((outcome.would_move, outcome.left), (1, 1));
    }
}
