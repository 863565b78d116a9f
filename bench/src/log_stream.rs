//! A migration task that writes 100,000 lines, for how fast ecs-deploy
//! carries a task's log stream into the step log, and whether it carries
//! every line once, in order.

use anyhow::{bail, Context as _};

use ecs_deploy_sim::Scenario;

use crate::kinds::MIGRATION_FAILS;

/// The lines the task writes.
pub const LINES: usize = 100_000;
/// The task writes its lines over this time (the simulator spaces them
/// evenly), short enough that writing them is not what limits the rate.
const WRITE_SECONDS: f64 = 0.5;
/// How every written line begins, and so how relayed lines are told from
/// ecs-deploy's own.
const LINE_PREFIX: &str = "backfill ";

/// The `number`th line (from 1), about as long as a migration's progress
/// line.
pub fn line(number: usize) -> String {
    format!("{LINE_PREFIX}orders.archived_at: batch {number:06} of {LINES}, 1000 rows (0.0042s)")
}

/// The failing migration of `MIGRATION_FAILS`, its task writing `LINES`
/// lines over `WRITE_SECONDS`.
pub fn scenario() -> anyhow::Result<Scenario> {
    let mut scenario = Scenario::from_yaml(MIGRATION_FAILS)?;
    let task = scenario
        .timelines
        .tasks
        .first_mut()
        .context("the migration scenario has no task timeline")?;
    task.logs = (1..=LINES).map(line).collect();
    task.seconds = WRITE_SECONDS;
    Ok(scenario)
}

/// Whether the step log's lines hold every written line once, in order.
pub fn check_relayed<'a>(step_log: impl IntoIterator<Item = &'a str>) -> anyhow::Result<()> {
    let relayed: Vec<&str> = step_log
        .into_iter()
        .filter(|text| text.starts_with(LINE_PREFIX))
        .collect();
    if let Some((index, text)) = relayed
        .iter()
        .enumerate()
        .find(|(index, text)| **text != line(index + 1))
    {
        bail!(
            "line {} of the step log's task lines is {text:?}, expected {:?}",
            index + 1,
            line(index + 1)
        );
    }
    if relayed.len() != LINES {
        bail!(
            "the step log holds {} of the task's {LINES} lines",
            relayed.len()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_writes_every_line_quickly() {
        let scenario = scenario().unwrap();
        let task = &scenario.timelines.tasks[0];
        assert_eq!(task.logs.len(), LINES);
        assert_eq!(task.logs[LINES - 1], line(LINES));
        assert_eq!(task.seconds, WRITE_SECONDS);
        assert!(scenario.rehearsal.inputs.contains_key("migration-command"));
    }

    #[test]
    fn relayed_lines_must_be_all_and_in_order() {
        let written: Vec<String> = (1..=LINES).map(line).collect();
        let mut step_log: Vec<&str> = vec!["Task status: RUNNING"];
        step_log.extend(written.iter().map(String::as_str));
        step_log.push("::error::migration failed");
        assert!(check_relayed(step_log.iter().copied()).is_ok());

        step_log.swap(1, 2);
        let swapped = check_relayed(step_log.iter().copied()).unwrap_err();
        assert!(swapped.to_string().starts_with("line 1 of"), "{swapped}");

        step_log.swap(1, 2);
        step_log.remove(LINES);
        let lost = check_relayed(step_log.iter().copied()).unwrap_err();
        assert_eq!(
            lost.to_string(),
            format!(
                "the step log holds {} of the task's {LINES} lines",
                LINES - 1
            )
        );
    }
}
