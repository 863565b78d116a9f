//! Which scheduled tasks follow the deploy: for each EventBridge rule target
//! and Scheduler schedule that starts a task, whether it moves to the new
//! revision or is left, and why. Pure.

use std::fmt;

use serde_json::{Map, Value};

/// Where a task is started on a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    RuleTarget {
        bus: String,
        rule: String,
        target: String,
    },
    Schedule {
        group: String,
        name: String,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::RuleTarget { bus, rule, target } if bus == "default" => {
                write!(f, "rule {rule} target {target}")
            }
            Place::RuleTarget { bus, rule, target } => {
                write!(f, "rule {rule} (bus {bus}) target {target}")
            }
            Place::Schedule { group, name } if group == "default" => write!(f, "schedule {name}"),
            Place::Schedule { group, name } => write!(f, "schedule {name} (group {group})"),
        }
    }
}

/// A scheduled start as found: where, the cluster it runs in and the task
/// definition it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScheduledTask {
    pub(crate) place: Place,
    pub(crate) cluster: String,
    pub(crate) task_definition: String,
    /// A schedule whose end date has passed: it starts nothing any more.
    pub(crate) ended: bool,
}

/// A deployed family: the revision its services ran before this deploy
/// (None when they ran another family) and the one they run now (None in
/// the dry run, before anything is registered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FamilyMove {
    pub(crate) family: String,
    pub(crate) previous_revision: Option<i64>,
    pub(crate) new_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Point it at the new revision (None: the dry run's "new revision").
    Move {
        to: Option<String>,
    },
    Leave(String),
    /// Removed while the deploy ran: it stays removed.
    Gone,
    /// Neither this cluster nor a deployed family: not ours to mention.
    Unrelated,
}

/// What to do with `task` after the deploy of `moves` in `cluster`.
pub(crate) fn decide(task: &ScheduledTask, cluster: &str, moves: &[FamilyMove]) -> Decision {
    let (family, revision) = family_and_revision(&task.task_definition);
    let deployed = moves.iter().find(|m| m.family == family);
    let Some(deployed) = deployed else {
        return if task.cluster == cluster {
            Decision::Leave(format!("runs {family}, which this deploy does not change"))
        } else {
            Decision::Unrelated
        };
    };
    if task.cluster != cluster {
        return Decision::Leave(format!("runs in another cluster, {}", task.cluster));
    }
    if task.ended {
        return Decision::Leave("has ended: its end date has passed".to_owned());
    }
    if deployed.new_arn.as_deref() == Some(task.task_definition.as_str()) {
        return Decision::Leave("already runs the new revision".to_owned());
    }
    let Some(revision) = revision else {
        return Decision::Leave(format!(
            "names {family} without a revision, so ECS starts its latest ACTIVE revision"
        ));
    };
    match deployed.previous_revision {
        Some(previous) if revision <= previous => Decision::Move {
            to: deployed.new_arn.clone(),
        },
        Some(previous) => Decision::Leave(format!(
            "pins {family}:{revision}, newer than {family}:{previous} that the service ran"
        )),
        None => Decision::Leave(format!(
            "pins {family}:{revision}, and the service ran another family before"
        )),
    }
}

/// `family` and `revision` of an ARN or `family:revision`; no revision for
/// a bare family.
pub(crate) fn family_and_revision(task_definition: &str) -> (&str, Option<i64>) {
    let name = task_definition
        .rsplit_once(":task-definition/")
        .map_or(task_definition, |(_, name)| name);
    match name.rsplit_once(':') {
        Some((family, revision)) => match revision.parse() {
            Ok(revision) => (family, Some(revision)),
            Err(_) => (name, None),
        },
        None => (name, None),
    }
}

/// The task definition a schedule's target starts: a templated ECS
/// target's `EcsParameters`, or the RunTask request a universal target
/// (`arn:aws:scheduler:::aws-sdk:ecs:runTask`) carries as its input.
pub(crate) fn schedule_task_definition(target: &Value) -> Option<String> {
    if let Some(arn) = target["EcsParameters"]["TaskDefinitionArn"].as_str() {
        return Some(arn.to_owned());
    }
    let input: Value = serde_json::from_str(target["Input"].as_str()?).ok()?;
    ["TaskDefinition", "taskDefinition"]
        .iter()
        .find_map(|key| input[key].as_str().map(str::to_owned))
}

/// The members of GetSchedule's answer that UpdateSchedule takes in its
/// body (the name goes in the path); the rest (Arn, CreationDate,
/// LastModificationDate) is Scheduler's own record.
const UPDATE_SCHEDULE_MEMBERS: [&str; 11] = [
    "ActionAfterCompletion",
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "GroupName",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
    "Target",
];

/// The UpdateSchedule body that points `schedule` (as GetSchedule answered
/// it, read just before) at `to` and changes nothing else: only the members
/// UpdateSchedule takes, none of them null, and no StartDate that has
/// passed (`now`, in epoch seconds): Scheduler refuses one, and a start in
/// the past no longer delays anything.
pub(crate) fn schedule_update(schedule: &Value, to: &str, now: f64) -> Value {
    let mut body: Map<String, Value> = UPDATE_SCHEDULE_MEMBERS
        .iter()
        .filter_map(|&key| Some((key.to_owned(), without_nulls(schedule.get(key)?)?)))
        .collect();
    if body
        .get("StartDate")
        .and_then(Value::as_f64)
        .is_some_and(|start| start <= now)
    {
        body.remove("StartDate");
    }
    if let Some(target) = body.get_mut("Target") {
        target["EcsParameters"]["TaskDefinitionArn"] = Value::from(to);
    }
    Value::Object(body)
}

/// A rule target (as ListTargetsByRule answered it, read just before)
/// pointed at `to`, nothing else changed: PutTargets replaces the whole
/// target.
pub(crate) fn target_update(target: &Value, to: &str) -> Value {
    let mut target = without_nulls(target).unwrap_or_default();
    target["EcsParameters"]["TaskDefinitionArn"] = Value::from(to);
    target
}

/// `value` without the members that are null, at any depth (None when it
/// is null itself): an AWS request never carries null for an absent member.
fn without_nulls(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(members) => Some(Value::Object(
            members
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), without_nulls(value)?)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(without_nulls).collect(),
        )),
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    fn task(cluster: &str, task_definition: &str) -> ScheduledTask {
        ScheduledTask {
            place: Place::Schedule {
                group: "default".into(),
                name: "nightly".into(),
            },
            cluster: cluster.to_owned(),
            task_definition: task_definition.to_owned(),
            ended: false,
        }
    }

    #[test]
    fn a_task_of_a_deployed_family_at_or_below_the_previous_revision_moves() {
        let moves = [FamilyMove {
            family: "shop".into(),
            previous_revision: Some(5),
            new_arn: Some(format!("{TD}/shop:6")),
        }];
        let decide = |cluster: &str, td: &str| decide(&task(cluster, td), CLUSTER, &moves);
        let moved = Decision::Move {
            to: Some(format!("{TD}/shop:6")),
        };
        assert_eq!(decide(CLUSTER, &format!("{TD}/shop:5")), moved);
        assert_eq!(decide(CLUSTER, &format!("{TD}/shop:3")), moved);
        assert_eq!(decide(CLUSTER, "shop:5"), moved);
        let leave = |why: &str| Decision::Leave(why.to_owned());
        assert_eq!(
            decide(CLUSTER, &format!("{TD}/shop:7")),
            leave("pins shop:7, newer than shop:5 that the service ran")
        );
        assert_eq!(
            decide(CLUSTER, &format!("{TD}/shop:6")),
            leave("already runs the new revision")
        );
        assert_eq!(
            decide(CLUSTER, &format!("{TD}/shop")),
            leave("names shop without a revision, so ECS starts its latest ACTIVE revision")
        );
        assert_eq!(
            decide(CLUSTER, &format!("{TD}/report:2")),
            leave("runs report, which this deploy does not change")
        );
        let ended = ScheduledTask {
            ended: true,
            ..task(CLUSTER, &format!("{TD}/shop:5"))
        };
        assert_eq!(
            super::decide(&ended, CLUSTER, &moves),
            leave("has ended: its end date has passed")
        );
        let other = "arn:aws:ecs:us-east-1:123456789012:cluster/staging";
        assert_eq!(
            decide(other, &format!("{TD}/shop:5")),
            leave(&format!("runs in another cluster, {other}"))
        );
        assert_eq!(
            decide(other, &format!("{TD}/report:2")),
            Decision::Unrelated
        );
    }

    #[test]
    fn a_schedule_update_carries_only_what_update_schedule_takes() {
        let schedule = serde_json::json!({
            "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/jobs/nightly",
            "Name": "nightly",
            "GroupName": "jobs",
            "CreationDate": 1700000000.0,
            "LastModificationDate": 1700000500.0,
            "State": "DISABLED",
            "Description": null,
            "EndDate": null,
            "KmsKeyArn": null,
            "ActionAfterCompletion": null,
            "StartDate": 1767225600,
            "ScheduleExpression": "rate(1 day)",
            "FlexibleTimeWindow": {"Mode": "OFF", "MaximumWindowInMinutes": null},
            "Target": {
                "Arn": CLUSTER,
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "DeadLetterConfig": null,
                "EcsParameters": {"TaskDefinitionArn": format!("{TD}/shop:1"), "TaskCount": 2, "Tags": [{"team": "shop"}]}
            }
        });
        let to = format!("{TD}/shop:3");
        let expected = serde_json::json!({
            "GroupName": "jobs",
            "State": "DISABLED",
            "ScheduleExpression": "rate(1 day)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": CLUSTER,
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "EcsParameters": {"TaskDefinitionArn": to, "TaskCount": 2, "Tags": [{"team": "shop"}]}
            }
        });
        // The start date has passed: not sent.
        assert_eq!(schedule_update(&schedule, &to, 1_800_000_000.0), expected);
        // Still ahead: sent as it was.
        let mut later = expected.clone();
        later["StartDate"] = 1767225600.into();
        assert_eq!(schedule_update(&schedule, &to, 1_700_000_000.0), later);
    }

    #[test]
    fn a_target_update_changes_only_the_task_definition() {
        let target = serde_json::json!({
            "Id": "cleanup", "Arn": CLUSTER, "Input": null,
            "EcsParameters": {"TaskDefinitionArn": format!("{TD}/shop:1"), "TaskCount": 3, "PlatformVersion": null}
        });
        assert_eq!(
            target_update(&target, &format!("{TD}/shop:3")),
            serde_json::json!({
                "Id": "cleanup", "Arn": CLUSTER,
                "EcsParameters": {"TaskDefinitionArn": format!("{TD}/shop:3"), "TaskCount": 3}
            })
        );
    }

    #[test]
    fn a_schedule_starts_the_task_definition_of_its_ecs_parameters_or_its_run_task_input() {
        let templated = serde_json::json!({
            "Arn": CLUSTER,
            "EcsParameters": {"TaskDefinitionArn": format!("{TD}/shop:3")}
        });
        let universal = serde_json::json!({
            "Arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask",
            "Input": format!(r#"{{"Cluster": "prod", "TaskDefinition": "{TD}/shop:4"}}"#)
        });
        let other = serde_json::json!({"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "Input": "{}"});
        assert_eq!(
            schedule_task_definition(&templated),
            Some(format!("{TD}/shop:3"))
        );
        assert_eq!(
            schedule_task_definition(&universal),
            Some(format!("{TD}/shop:4"))
        );
        assert_eq!(schedule_task_definition(&other), None);
    }
}
