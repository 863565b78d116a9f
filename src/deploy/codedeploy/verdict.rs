//! Pure judgement of one CodeDeploy deployment from a small view of
//! GetDeployment and its target's lifecycle events.

/// What GetDeployment shows of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DeploymentView {
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
    pub(super) diagnostics: Option<String>,
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

pub(super) fn judge(
    deployment: &DeploymentView,
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

/// CodeDeploy's error, the failing lifecycle event with its diagnostics, and
/// the rollback it started.
fn explain_failure(deployment: &DeploymentView, events: &[LifecycleEvent]) -> String {
    let mut text = format!("CodeDeploy deployment {}", deployment.status.to_lowercase());
    if let Some((code, message)) = &deployment.error {
        text.push_str(&format!(": {code}: {message}"));
    }
    if let Some(failed) = events.iter().find(|e| e.status == "Failed") {
        text.push_str(&format!("; lifecycle event {} failed", failed.name));
        if let Some(diagnostics) = failed.diagnostics.as_deref().filter(|d| !d.is_empty()) {
            text.push_str(&format!(" ({diagnostics})"));
        }
    }
    match &deployment.rollback_deployment_id {
        Some(rollback) => text.push_str(&format!("; rollback deployment {rollback} started")),
        None => text.push_str("; no rollback deployment was started"),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(status: &str) -> DeploymentView {
        DeploymentView {
            status: status.into(),
            error: None,
            rollback_deployment_id: None,
        }
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
        let failed = DeploymentView {
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
                diagnostics: None,
            },
            LifecycleEvent {
                name: "AfterAllowTestTraffic".into(),
                status: "Failed".into(),
                diagnostics: Some("ScriptFailed: smoke test returned 500".into()),
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
}
