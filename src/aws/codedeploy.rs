//! CodeDeploy calls, one function per operation.

use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Result};
use aws_sdk_codedeploy::operation::create_deployment::{
    CreateDeploymentError, CreateDeploymentOutput,
};
use aws_sdk_codedeploy::primitives::DateTime;
use aws_sdk_codedeploy::types::{
    AppSpecContent, AutoRollbackConfiguration, DeploymentGroupInfo, DeploymentInfo,
    DeploymentStatus, DeploymentWaitType, EcsTarget, RevisionLocation, RevisionLocationType,
    TimeRange,
};
use aws_sdk_codedeploy::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::{call_once, error_text, explain, no_retries};
use crate::deploy::settings::CodeDeployOptions;

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

/// ContinueDeployment of a Ready deployment (READY_WAIT: reroute the
/// traffic), at most once in effect: after an ambiguous failure, a
/// deployment no longer Ready took it. The error explained
/// (`codedeploy:ContinueDeployment`).
pub(crate) async fn continue_deployment(client: &Client, id: &str, max_retries: u32) -> Result<()> {
    call_once(
        max_retries,
        async || {
            client
                .continue_deployment()
                .deployment_id(id)
                .deployment_wait_type(DeploymentWaitType::ReadyWait)
                .customize()
                .config_override(
                    aws_sdk_codedeploy::config::Builder::default().retry_config(no_retries()),
                )
                .send()
                .await
                .map(|_| ())
        },
        async || {
            let info = get_deployment(client, id).await.ok()?;
            (info.status().map(|s| s.as_str()) != Some("Ready")).then_some(())
        },
    )
    .await
    .map_err(|e| anyhow!("{}", explain("codedeploy:ContinueDeployment", &e)))
}

/// How a stopped deployment was left, after "was".
pub(crate) fn stopped(rollback: bool) -> &'static str {
    if rollback {
        "stopped with rollback"
    } else {
        "stopped without rollback (rollback-on-failure is false)"
    }
}

/// GetDeploymentGroup; the error explained
/// (`codedeploy:GetDeploymentGroup`).
pub(crate) async fn get_deployment_group(
    client: &Client,
    application: &str,
    group: &str,
) -> Result<Option<DeploymentGroupInfo>, String> {
    let output = client
        .get_deployment_group()
        .application_name(application)
        .deployment_group_name(group)
        .send()
        .await
        .map_err(|e| explain("codedeploy:GetDeploymentGroup", &e))?;
    Ok(output.deployment_group_info().cloned())
}

/// CreateDeployment's limit on the description.
const DESCRIPTION_LIMIT: usize = 512;

/// Cuts at a character boundary to CodeDeploy's limit.
fn cut_description(text: &str) -> String {
    text.chars().take(DESCRIPTION_LIMIT).collect()
}

/// CreateDeployment of `content` (an AppSpec) in `application`'s `group`
/// with the deployment options, at most once in effect: after an ambiguous
/// failure it looks for a deployment of the group with exactly this
/// AppSpec before trying again. The deployment id; the error as CodeDeploy
/// gave it, for its code.
pub(crate) async fn create_deployment(
    client: &Client,
    (application, group): (&str, &str),
    content: &AppSpecContent,
    options: &CodeDeployOptions,
    max_retries: u32,
) -> Result<String, SdkError<CreateDeploymentError, HttpResponse>> {
    let since = SystemTime::now() - Duration::from_secs(5);
    let created = call_once(
        max_retries,
        async || {
            client
                .create_deployment()
                .application_name(application)
                .deployment_group_name(group)
                .revision(
                    RevisionLocation::builder()
                        .revision_type(RevisionLocationType::AppSpecContent)
                        .app_spec_content(content.clone())
                        .build(),
                )
                .set_deployment_config_name(options.deployment_config.clone())
                .set_description(options.description.as_deref().map(cut_description))
                .set_auto_rollback_configuration((!options.auto_rollback_events.is_empty()).then(
                    || {
                        AutoRollbackConfiguration::builder()
                            .enabled(true)
                            .set_events(Some(options.auto_rollback_events.clone()))
                            .build()
                    },
                ))
                .customize()
                .config_override(
                    aws_sdk_codedeploy::config::Builder::default().retry_config(no_retries()),
                )
                .send()
                .await
        },
        async || {
            find_created(client, application, group, content, since)
                .await
                .map(|id| CreateDeploymentOutput::builder().deployment_id(id).build())
        },
    )
    .await?;
    Ok(created.deployment_id().unwrap_or_default().to_owned())
}

/// A deployment of this group with exactly our AppSpec, created since
/// `since`: the one an ambiguous CreateDeployment made.
async fn find_created(
    client: &Client,
    application: &str,
    group: &str,
    content: &AppSpecContent,
    since: SystemTime,
) -> Option<String> {
    let of = DeploymentsOf {
        application,
        group,
        statuses: &[],
        created_since: Some(since),
        limit: usize::MAX,
    };
    let listed = list_deployments(client, &of).await.ok()?;
    for id in &listed {
        let info = get_deployment(client, id).await.ok()?;
        let revision = info.revision().and_then(|r| r.app_spec_content());
        if revision.and_then(|r| r.sha256()) == content.sha256() {
            return Some(id.clone());
        }
    }
    None
}

/// GetDeployment: the deployment `id` as CodeDeploy shows it.
pub(crate) async fn get_deployment(client: &Client, id: &str) -> Result<DeploymentInfo> {
    client
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read CodeDeploy deployment {id}: {}",
                explain("codedeploy:GetDeployment", &e)
            )
        })?
        .deployment_info()
        .cloned()
        .ok_or_else(|| anyhow!("GetDeployment answered without the deployment {id}"))
}

/// ListDeploymentTargets of deployment `id` (its first page: an ECS
/// deployment has one target); the error explained
/// (`codedeploy:ListDeploymentTargets`).
pub(crate) async fn list_deployment_targets(
    client: &Client,
    id: &str,
) -> Result<Vec<String>, String> {
    let listed = client
        .list_deployment_targets()
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| explain("codedeploy:ListDeploymentTargets", &e))?;
    Ok(listed.target_ids().to_vec())
}

/// GetDeploymentTarget: the ECS target `target` of deployment `id`, with
/// its lifecycle events; the error explained
/// (`codedeploy:GetDeploymentTarget`).
pub(crate) async fn get_deployment_target(
    client: &Client,
    id: &str,
    target: &str,
) -> Result<Option<EcsTarget>, String> {
    let output = client
        .get_deployment_target()
        .deployment_id(id)
        .target_id(target)
        .send()
        .await
        .map_err(|e| explain("codedeploy:GetDeploymentTarget", &e))?;
    Ok(output
        .deployment_target()
        .and_then(|t| t.ecs_target())
        .cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_cut_to_the_limit_on_a_character_boundary() {
        assert_eq!(cut_description(&"é".repeat(600)).chars().count(), 512);
        assert_eq!(cut_description("short"), "short");
    }
}
