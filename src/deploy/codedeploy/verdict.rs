//! Pure judgement of one CodeDeploy deployment from a small view of
//! GetDeployment and its target's lifecycle events.

use crate::deploy::settings::HookAction;
use crate::poll::Outlook;

/// What GetDeployment shows of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CodeDeployView {
    /// Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped.
    pub(super) status: String,
    /// errorInformation: code and message.
    pub(super) error: Option<(String, String)>,
    pub(super) rollback_deployment_id: Option<String>,
}

/// One lifecycle event of the deployment's ECS target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LifecycleEvent {
    pub(super) name: String,
    pub(super) status: String,
    /// The parts of its diagnostics that say something: error code,
    /// message, log tail.
    pub(super) diagnostics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    InProgress,
    Succeeded,
    /// Waiting for traffic rerouting, where that is as far as we wait.
    Ready,
    Failed(String),
}

/// Whether a deployment has ended, one way or another.
pub(super) fn is_final(status: &str) -> bool {
    matches!(status, "Succeeded" | "Failed" | "Stopped")
}

/// Why `hook-action` cannot act on deployment `id` in `status`: traffic
/// is rerouted only from Ready, and an ended deployment cannot be stopped.
pub(super) fn cannot_act(action: HookAction, id: &str, status: &str) -> Option<String> {
    match action {
        HookAction::Continue if status != "Ready" => Some(format!(
            "hook-action: continue, but CodeDeploy deployment {id} is {status}, not Ready (waiting for traffic to be rerouted); nothing was changed"
        )),
        HookAction::Rollback if is_final(status) => Some(format!(
            "hook-action: rollback, but CodeDeploy deployment {id} has ended ({status}); nothing was changed"
        )),
        _ => None,
    }
}

/// Whether a status comes after lifecycle events that a poll may show with
/// it: Ready and Baking wait once the traffic hooks are done, the final
/// statuses end them all. Told after that poll's events, the log reads
/// in the order things happened; the others (Created, Queued, InProgress)
/// come before any event.
pub(super) fn follows_events(status: &str) -> bool {
    is_final(status) || matches!(status, "Ready" | "Baking")
}

/// What the last look says of the transition that decides the deployment,
/// for `poll::Schedule`: due in its last lifecycle event, AfterAllowTraffic,
/// or once every event has succeeded (the final status follows); later
/// while Ready waits for a person to reroute traffic; at any time otherwise
/// (tasks that fail to start, a test hook, alarms and health checks fail
/// a deployment with no sign first).
pub(super) fn outlook(deployment: &CodeDeployView, events: &[LifecycleEvent]) -> Outlook {
    let last_runs = events
        .last()
        .is_some_and(|e| e.status == "InProgress" || e.status == "Succeeded");
    match deployment.status.as_str() {
        "InProgress" if last_runs => Outlook::Due,
        "Ready" => Outlook::Later,
        _ => Outlook::Anytime,
    }
}

pub(super) fn judge(
    deployment: &CodeDeployView,
    events: &[LifecycleEvent],
    wait_until_ready: bool,
) -> Verdict {
    match deployment.status.as_str() {
        "Succeeded" => Verdict::Succeeded,
        "Ready" if wait_until_ready => Verdict::Ready,
        "Failed" | "Stopped" => Verdict::Failed(explain_failure(deployment, events)),
        _ => Verdict::InProgress,
    }
}

/// CodeDeploy's error, the failing lifecycle event with what its
/// diagnostics add (CodeDeploy often copies the hook's message into the
/// deployment's error: it is said once), and the rollback it started.
fn explain_failure(deployment: &CodeDeployView, events: &[LifecycleEvent]) -> String {
    let mut text = format!("CodeDeploy deployment {}", deployment.status.to_lowercase());
    let mut said = String::new();
    if let Some((code, message)) = &deployment.error {
        text.push_str(&format!(": {code}: {message}"));
        said = message.clone();
    }
    if let Some(failed) = events.iter().find(|e| e.status == "Failed") {
        text.push_str(&format!("; lifecycle event {} failed", failed.name));
        let news: Vec<&str> = failed
            .diagnostics
            .iter()
            .map(|part| part.trim())
            .filter(|part| !part.is_empty() && !said.contains(part))
            .collect();
        if !news.is_empty() {
            text.push_str(&format!(" ({})", news.join(": ")));
        }
    }
    match &deployment.rollback_deployment_id {
        Some(rollback) => text.push_str(&format!("; rollback deployment {rollback} started")),
        None => text.push_str("; no rollback deployment was started"),
    }
    text
}

/// An ECS target's lifecycle events, in the order CodeDeploy runs them.
#[cfg(test)]
pub(super) const ECS_EVENTS: [&str; 8] = [
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(status: &str) -> CodeDeployView {
        CodeDeployView {
            status: status.into(),
            error: None,
            rollback_deployment_id: None,
        }
    }

    /// An ECS target's lifecycle events in order, those before `current`
    /// succeeded, `current` in progress, the rest pending.
    fn events_at(current: usize) -> Vec<LifecycleEvent> {
        ECS_EVENTS
            .iter()
            .enumerate()
            .map(|(index, name)| LifecycleEvent {
                name: (*name).into(),
                status: match index.cmp(&current) {
                    std::cmp::Ordering::Less => "Succeeded",
                    std::cmp::Ordering::Equal => "InProgress",
                    std::cmp::Ordering::Greater => "Pending",
                }
                .into(),
                diagnostics: Vec::new(),
            })
            .collect()
    }

    /// Each row: the deployment's status, the lifecycle event in progress
    /// (8: every one succeeded), and the outlook.
    #[test]
    fn the_outlook_is_due_in_the_last_event_and_later_while_ready() {
        use Outlook::{Anytime, Due, Later};
        let rows = [
            ("InProgress", 0, Anytime),
            ("InProgress", 1, Anytime),
            ("InProgress", 4, Anytime),
            ("InProgress", 6, Anytime),
            ("InProgress", 7, Due),
            ("InProgress", 8, Due),
            ("Ready", 5, Later),
            ("Baking", 8, Anytime),
        ];
        for (status, current, expected) in rows {
            assert_eq!(
                outlook(&deployment(status), &events_at(current)),
                expected,
                "{status}, event {current}"
            );
        }
        assert_eq!(outlook(&deployment("Created"), &[]), Anytime);
    }

    #[test]
    fn only_the_end_or_the_ready_we_wait_for_is_a_verdict() {
        let cases = [
            ("InProgress", false, Verdict::InProgress),
            ("Ready", false, Verdict::InProgress),
            ("Ready", true, Verdict::Ready),
            ("Baking", false, Verdict::InProgress),
            ("Succeeded", false, Verdict::Succeeded),
        ];
        for (status, wait_until_ready, expected) in cases {
            assert_eq!(
                judge(&deployment(status), &[], wait_until_ready),
                expected,
                "{status}"
            );
        }
    }

    #[test]
    fn a_failure_names_the_error_the_failed_event_and_the_rollback() {
        let failed = CodeDeployView {
            status: "Failed".into(),
            error: Some((
                "HEALTH_CONSTRAINTS".into(),
                "The overall deployment failed".into(),
            )),
            rollback_deployment_id: Some("d-ROLLBACK".into()),
        };
        let events = [
            LifecycleEvent {
                name: "BeforeInstall".into(),
                status: "Succeeded".into(),
                diagnostics: Vec::new(),
            },
            LifecycleEvent {
                name: "AfterAllowTestTraffic".into(),
                status: "Failed".into(),
                diagnostics: vec!["ScriptFailed".into(), "smoke test returned 500".into()],
            },
        ];
        assert_eq!(
            judge(&failed, &events, false),
            Verdict::Failed(
                "CodeDeploy deployment failed: HEALTH_CONSTRAINTS: The overall deployment failed; \
                 lifecycle event AfterAllowTestTraffic failed (ScriptFailed: smoke test returned 500); \
                 rollback deployment d-ROLLBACK started"
                    .into()
            )
        );
        assert_eq!(
            judge(&deployment("Stopped"), &[], false),
            Verdict::Failed(
                "CodeDeploy deployment stopped; no rollback deployment was started".into()
            )
        );
    }

    #[test]
    fn the_hook_message_the_error_already_gives_is_not_repeated() {
        let message = "The deployment failed because a specified lifecycle event hook (AfterAllowTestTraffic) failed: smoke test returned 500.";
        let failed = CodeDeployView {
            status: "Failed".into(),
            error: Some(("HOOK_EXECUTION_FAILURE".into(), message.into())),
            rollback_deployment_id: Some("d-ROLLBACK".into()),
        };
        let events = [LifecycleEvent {
            name: "AfterAllowTestTraffic".into(),
            status: "Failed".into(),
            diagnostics: vec!["ScriptFailed".into(), message.into(), "".into()],
        }];
        assert_eq!(
            judge(&failed, &events, false),
            Verdict::Failed(format!(
                "CodeDeploy deployment failed: HOOK_EXECUTION_FAILURE: {message}; \
                 lifecycle event AfterAllowTestTraffic failed (ScriptFailed); \
                 rollback deployment d-ROLLBACK started"
            ))
        );
    }

    #[test]
    fn a_status_that_waits_or_ends_follows_the_events_seen_with_it() {
        for status in ["Ready", "Baking", "Succeeded", "Failed", "Stopped"] {
            assert!(follows_events(status), "{status}");
        }
        for status in ["Created", "Queued", "InProgress"] {
            assert!(!follows_events(status), "{status}");
        }
    }
}
