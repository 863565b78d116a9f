//! Which scheduled tasks follow the deploy: for each EventBridge rule target
//! and Scheduler schedule that starts a task, whether it moves to the new
//! revision or is left, and why. Pure.

use std::fmt;

use crate::deploy::ecs::short_name;

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

/// The log line for one scheduled task.
pub(crate) fn line(task: &ScheduledTask, decision: &Decision) -> Option<String> {
    let from = short_name(&task.task_definition);
    match decision {
        Decision::Move { to: Some(to) } => {
            Some(format!("moved {}: {from} → {}", task.place, short_name(to)))
        }
        Decision::Move { to: None } => Some(format!(
            "would move {}: {from} → the new revision",
            task.place
        )),
        Decision::Leave(why) => Some(format!("left {} on {from}: it {why}", task.place)),
        Decision::Unrelated => None,
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
    fn the_log_says_what_moved_and_what_was_left() {
        let rule = ScheduledTask {
            place: Place::RuleTarget {
                bus: "jobs".into(),
                rule: "nightly".into(),
                target: "report".into(),
            },
            cluster: CLUSTER.into(),
            task_definition: format!("{TD}/shop:5"),
        };
        assert_eq!(
            line(
                &rule,
                &Decision::Move {
                    to: Some(format!("{TD}/shop:6"))
                }
            )
            .unwrap(),
            "moved rule nightly (bus jobs) target report: shop:5 → shop:6"
        );
        assert_eq!(
            line(&task(CLUSTER, "shop:5"), &Decision::Move { to: None }).unwrap(),
            "would move schedule nightly: shop:5 → the new revision"
        );
        assert_eq!(
            line(
                &task(CLUSTER, "shop:7"),
                &Decision::Leave("pins shop:7".into())
            )
            .unwrap(),
            "left schedule nightly on shop:7: it pins shop:7"
        );
        assert_eq!(line(&task(CLUSTER, "x:1"), &Decision::Unrelated), None);
    }
}
