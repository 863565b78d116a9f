//! CodeDeploy calls made by more than one step.

use aws_sdk_codedeploy::Client;

use super::error_text;

/// StopDeployment, rolled back or not; the error as text a person can act
/// on.
pub(crate) async fn stop_deployment(
    client: &Client,
    id: &str,
    rollback: bool,
) -> Result<(), String> {
    client
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(rollback)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e))
}

/// How a stopped deployment was left, after "was".
pub(crate) fn stopped(rollback: bool) -> &'static str {
    if rollback {
        "stopped with rollback"
    } else {
        "stopped without rollback (rollback-on-failure is false)"
    }
}
