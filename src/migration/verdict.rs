//! The verdict on a stopped migration task: success only when the decisive
//! container exited 0 and so did every other essential container. A missing
//! exit code is never a success.

use aws_sdk_ecs::types::{Container, Task, TaskStopCode};

use crate::poll::Outlook;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The decisive container's exit code, when it has one.
    pub exit_code: Option<i32>,
    /// What went wrong, in one line; None when the migration succeeded.
    pub failure: Option<String>,
    /// The task's stop code and reason, then each container's exit.
    pub details: Vec<String>,
}

/// What the task's last status says of its stop, for `poll::Schedule`:
/// due once it runs (its command may exit at any moment); before, it may
/// fail to start at any time (an image that cannot be pulled).
pub(super) fn outlook(last_status: &str) -> Outlook {
    match last_status {
        "" | "PROVISIONING" | "PENDING" | "ACTIVATING" => Outlook::Anytime,
        _ => Outlook::Due,
    }
}

pub(crate) fn verdict(task: &Task, decisive: &str, essential: &[String]) -> Verdict {
    let containers = task.containers();
    let find = |name: &str| containers.iter().find(|c| c.name() == Some(name));
    let exit_code = find(decisive).and_then(Container::exit_code);
    let never_started = task.stop_code() == Some(&TaskStopCode::TaskFailedToStart);
    let failure = match (find(decisive), exit_code) {
        _ if never_started => Some(format!("the task never started ({})", stop_text(task))),
        (None, _) => Some(format!("the task has no container {decisive}")),
        (Some(container), None) => Some(format!(
            "container {decisive} has no exit code ({})",
            container.reason().unwrap_or("no reason given")
        )),
        (Some(_), Some(code)) if code != 0 => {
            Some(format!("container {decisive} exited with {code}"))
        }
        (Some(_), Some(_)) => essential
            .iter()
            .filter(|name| *name != decisive)
            .find_map(|name| {
                let failed = match find(name).and_then(Container::exit_code) {
                    Some(0) => return None,
                    Some(code) => format!("exited with {code}"),
                    None => "has no exit code".to_owned(),
                };
                Some(format!(
                    "container {decisive} exited with 0, but essential container {name} {failed}"
                ))
            }),
    };
    let mut details = vec![format!("task stopped: {}", stop_text(task))];
    details.extend(containers.iter().map(|container| {
        let name = container.name().unwrap_or("?");
        let role = if name == decisive {
            " (migration)"
        } else if essential.iter().any(|e| e == name) {
            " (essential)"
        } else {
            ""
        };
        let exit = container.exit_code().map_or_else(
            || "no exit code".to_owned(),
            |code| format!("exit code {code}"),
        );
        let reason = container
            .reason()
            .map(|reason| format!(", {reason}"))
            .unwrap_or_default();
        format!("container {name}{role}: {exit}{reason}")
    }));
    Verdict {
        exit_code,
        failure,
        details,
    }
}

fn stop_text(task: &Task) -> String {
    let code = task
        .stop_code()
        .map_or("no stop code", |code| code.as_str());
    let reason = task.stopped_reason().unwrap_or("no reason given");
    format!("{code}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(
        stop_code: &str,
        reason: &str,
        containers: &[(&str, Option<i32>, Option<&str>)],
    ) -> Task {
        let mut task = Task::builder()
            .stop_code(TaskStopCode::from(stop_code))
            .stopped_reason(reason);
        for (name, exit_code, reason) in containers {
            task = task.containers(
                Container::builder()
                    .name(*name)
                    .set_exit_code(*exit_code)
                    .set_reason(reason.map(String::from))
                    .build(),
            );
        }
        task.build()
    }

    #[test]
    fn the_stop_is_due_from_the_moment_the_task_runs() {
        use crate::poll::Outlook::{Anytime, Due};
        let rows = [
            ("", Anytime),
            ("PROVISIONING", Anytime),
            ("PENDING", Anytime),
            ("ACTIVATING", Anytime),
            ("RUNNING", Due),
            ("DEACTIVATING", Due),
            ("STOPPING", Due),
            ("DEPROVISIONING", Due),
        ];
        for (status, expected) in rows {
            assert_eq!(outlook(status), expected, "{status:?}");
        }
    }

    #[test]
    fn verdicts() {
        let exited = "EssentialContainerExited";
        let essential = ["app".to_owned(), "envoy".to_owned()];
        let pull =
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): not found";
        let cases: Vec<(Task, Option<i32>, Option<&str>)> = vec![
            (task(exited, "Essential container in task exited", &[("app", Some(0), None), ("envoy", Some(0), None)]), Some(0), None),
            (task(exited, "Essential container in task exited", &[("app", Some(1), None), ("envoy", Some(0), None)]), Some(1), Some("container app exited with 1")),
            (task(exited, "Essential container in task exited", &[("app", Some(0), None), ("envoy", Some(137), None)]), Some(0), Some("container app exited with 0, but essential container envoy exited with 137")),
            (task(exited, "Essential container in task exited", &[("app", Some(0), None), ("envoy", None, None)]), Some(0), Some("container app exited with 0, but essential container envoy has no exit code")),
            (task(exited, "Essential container in task exited", &[("app", Some(0), None), ("agent", Some(1), None), ("envoy", Some(0), None)]), Some(0), None),
            (task("TaskFailedToStart", pull, &[("app", None, Some(pull)), ("envoy", None, Some(pull))]), None, Some("the task never started (TaskFailedToStart: CannotPullContainerError: pull image manifest has been retried 7 time(s): not found)")),
            (task("UserInitiated", "Stopped by user", &[("app", None, Some("OutOfMemoryError: Container killed due to memory usage"))]), None, Some("container app has no exit code (OutOfMemoryError: Container killed due to memory usage)")),
            (task(exited, "Essential container in task exited", &[("web", Some(0), None)]), None, Some("the task has no container app")),
        ];
        for (task, exit_code, failure) in cases {
            let got = verdict(&task, "app", &essential);
            assert_eq!(
                (got.exit_code, got.failure.as_deref()),
                (exit_code, failure),
                "{:?}",
                task.containers()
            );
        }
    }

    #[test]
    fn details_name_every_container_and_never_say_null() {
        let reason = "ResourceInitializationError: unable to pull secrets or registry auth";
        let got = verdict(
            &task(
                "TaskFailedToStart",
                reason,
                &[("app", None, Some(reason)), ("agent", None, None)],
            ),
            "app",
            &["app".to_owned()],
        );
        assert_eq!(
            got.details,
            [
                format!("task stopped: TaskFailedToStart: {reason}"),
                format!("container app (migration): no exit code, {reason}"),
                "container agent: no exit code".to_owned(),
            ]
        );
    }
}
