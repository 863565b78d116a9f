//! CodeDeploy calls made by more than one step.

use std::time::SystemTime;

use aws_sdk_codedeploy::primitives::DateTime;
use aws_sdk_codedeploy::types::{DeploymentStatus, TimeRange};
use aws_sdk_codedeploy::Client;

use super::{error_text, explain};

/// Which deployments of a deployment group to list.
pub(crate) struct DeploymentsOf<'a> {
    pub(crate) application: &'a str,
    pub(crate) group: &'a str,
    /// Only these statuses; every status when empty.
    pub(crate) statuses: &'a [DeploymentStatus],
    /// Only those created since then.
    pub(crate) created_since: Option<SystemTime>,
    /// At most this many ids, newest first as CodeDeploy lists them.
    pub(crate) limit: usize,
}

/// ListDeployments, page after page up to the limit; the error explained
/// (`codedeploy:ListDeployments`).
pub(crate) async fn list_deployments(
    client: &Client,
    of: &DeploymentsOf<'_>,
) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    let mut pages = client
        .list_deployments()
        .application_name(of.application)
        .deployment_group_name(of.group)
        .set_include_only_statuses((!of.statuses.is_empty()).then(|| of.statuses.to_vec()))
        .set_create_time_range(
            of.created_since
                .map(|since| TimeRange::builder().start(DateTime::from(since)).build()),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("codedeploy:ListDeployments", &e))?;
        ids.extend(page.deployments().iter().cloned());
        if ids.len() >= of.limit {
            break;
        }
    }
    ids.truncate(of.limit);
    Ok(ids)
}

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
