//! How the scheduled step's events read.

use super::Presenter;
use crate::arn::resource_name;
use crate::scheduled::plan::{Decision, ScheduledTask};
use crate::scheduled::Event;

impl Presenter {
    pub(super) fn scheduled(&self, event: Event) {
        match event {
            Event::Began => self.runner.group("Scheduled tasks"),
            Event::Decided { task, decision } => {
                if let Some(line) = line(&task, &decision) {
                    self.runner.info(&line);
                }
            }
            Event::MoveFailed { place, error } => self.runner.info(&format!("✘ {place}: {error}")),
            Event::NoneRelated => self
                .runner
                .info("no scheduled task runs a deployed family in this cluster"),
            Event::Ended => self.runner.end_group(),
            Event::ScheduleUnread { group, name, error } => self.runner.warning(&format!(
                "schedule {name} of group {group} is left as it is: {error}"
            )),
        }
    }
}

/// The log line for one scheduled task; none for one that is not ours.
fn line(task: &ScheduledTask, decision: &Decision) -> Option<String> {
    let from = resource_name(&task.task_definition);
    match decision {
        Decision::Move { to: Some(to) } => Some(format!(
            "moved {}: {from} → {}",
            task.place,
            resource_name(to)
        )),
        Decision::Move { to: None } => Some(format!(
            "would move {}: {from} → the new revision",
            task.place
        )),
        Decision::Leave(why) => Some(format!("left {} on {from}: it {why}", task.place)),
        Decision::Gone => Some(format!(
            "left {}: it was removed while the deploy ran, and stays removed",
            task.place
        )),
        Decision::Unrelated => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduled::plan::Place;

    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    fn schedule(task_definition: &str) -> ScheduledTask {
        ScheduledTask {
            place: Place::Schedule {
                group: "default".into(),
                name: "nightly".into(),
            },
            cluster: CLUSTER.to_owned(),
            task_definition: task_definition.to_owned(),
            ended: false,
        }
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
            ended: false,
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
            line(&schedule("shop:5"), &Decision::Move { to: None }).unwrap(),
            "would move schedule nightly: shop:5 → the new revision"
        );
        assert_eq!(
            line(&schedule("shop:7"), &Decision::Leave("pins shop:7".into())).unwrap(),
            "left schedule nightly on shop:7: it pins shop:7"
        );
        assert_eq!(
            line(&schedule("shop:5"), &Decision::Gone).unwrap(),
            "left schedule nightly: it was removed while the deploy ran, and stays removed"
        );
        assert_eq!(line(&schedule("x:1"), &Decision::Unrelated), None);
    }
}
