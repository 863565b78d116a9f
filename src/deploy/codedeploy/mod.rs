//! CodeDeploy blue/green deployments for services with the CODE_DEPLOY
//! controller. Before anything is registered, `plan` reads and checks the
//! AppSpec and each service's deployment group. The start is
//! CreateDeployment with the AppSpec as content; the watch is a poll loop
//! that prints each status and lifecycle event once, reduces what CodeDeploy
//! shows to small views and asks `verdict::judge`.

pub mod appspec;
mod event;
mod verdict;

pub(crate) use event::Event;

use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context, Result};
use aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentOutput;
use aws_sdk_codedeploy::types::{
    AppSpecContent, AutoRollbackConfiguration, DeploymentInfo, RevisionLocation,
    RevisionLocationType,
};
use aws_sdk_codedeploy::Client;
use aws_sdk_ecs::types::Service;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aws::codedeploy::{self as aws_codedeploy, list_deployments, DeploymentsOf};
use crate::aws::{call_once, error_code, error_text, explain, no_retries, LazyAws, POLL_INTERVAL};
use crate::cancel::{Change, InFlight};
use crate::config::Config;
use crate::links;
use crate::present::runner::Runner;
use crate::template;

use super::{is_codedeploy, Current, DeployResult, Phase};
use crate::deploy::settings::{CodeDeployOptions, DeployOptions};
use verdict::{follows_events, is_final, CodeDeployView, LifecycleEvent, Verdict};

/// CreateDeployment's limit on the description.
const DESCRIPTION_LIMIT: usize = 512;

/// The names the ECS console gives a service's CodeDeploy application and group.
fn default_names(cluster: &str, service: &str) -> (String, String) {
    (
        format!("AppECS-{cluster}-{service}"),
        format!("DgpECS-{cluster}-{service}"),
    )
}

/// The service's CodeDeploy application and deployment group: as the
/// inputs name them, else the console's names.
pub(crate) fn application_and_group(
    cluster: &str,
    service: &str,
    options: &CodeDeployOptions,
) -> (String, String) {
    let (default_application, default_group) = default_names(cluster, service);
    (
        options.application.clone().unwrap_or(default_application),
        options.deployment_group.clone().unwrap_or(default_group),
    )
}

/// Cuts at a character boundary to CodeDeploy's limit.
fn cut_description(text: &str) -> String {
    text.chars().take(DESCRIPTION_LIMIT).collect()
}

/// The deployment id in DeploymentLimitExceededException's message
/// ("... already has an active Deployment 'd-ABC123'").
fn active_deployment_in(message: &str) -> Option<&str> {
    let start = message.find("'d-")? + 1;
    let end = start + message[start..].find('\'')?;
    Some(&message[start..end])
}

/// For CODE_DEPLOY services, checked before anything is registered: the
/// AppSpec (read and checked, or generated per service) and each service's
/// deployment group.
pub(crate) struct Plan {
    appspec: Option<Value>,
    groups: Vec<DeploymentGroup>,
}

pub(crate) async fn plan(aws: &LazyAws, config: &Config, current: &[Current]) -> Result<Plan> {
    let services: Vec<&Service> = current
        .iter()
        .map(|c| &c.service)
        .filter(|s| is_codedeploy(s))
        .collect();
    let mut plan = Plan {
        appspec: None,
        groups: Vec::new(),
    };
    if services.is_empty() {
        return Ok(plan);
    }
    match &config.appspec {
        Some(source) => {
            let document = template::load_document(source, aws)
                .await
                .with_context(|| format!("failed to load the AppSpec {source}"))?;
            appspec::set_task_definition(&mut document.clone(), "")
                .with_context(|| format!("the AppSpec {source} cannot be used"))?;
            plan.appspec = Some(document);
        }
        None => {
            for service in &services {
                appspec::generate(service, "")?;
            }
        }
    }
    let client = &aws.get().await?.codedeploy;
    for service in services {
        let name = service.service_name().unwrap_or_default();
        plan.groups
            .push(group_of(client, &config.cluster, name, &config.codedeploy).await?);
    }
    Ok(plan)
}

/// A service's deployment group, checked to exist before anything changes.
#[derive(Debug, Clone)]
struct DeploymentGroup {
    service: String,
    application: String,
    name: String,
    /// The group's own ready wait and blue termination wait, which count on
    /// top of `wait-for-minutes`.
    own_waits: Duration,
}

async fn group_of(
    client: &Client,
    cluster: &str,
    service: &str,
    options: &CodeDeployOptions,
) -> Result<DeploymentGroup> {
    let (application, group) = application_and_group(cluster, service, options);
    let group_info = client
        .get_deployment_group()
        .application_name(&application)
        .deployment_group_name(&group)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read CodeDeploy deployment group {group} of application {application} for service {service}: {}",
                explain("codedeploy:GetDeploymentGroup", &e)
            )
        })?;
    let blue_green = group_info
        .deployment_group_info()
        .and_then(|g| g.blue_green_deployment_configuration());
    let minutes = blue_green.map_or(0, |c| {
        c.deployment_ready_option()
            .map_or(0, |r| r.wait_time_in_minutes())
            + c.terminate_blue_instances_on_deployment_success()
                .map_or(0, |t| t.termination_wait_time_in_minutes())
    });
    Ok(DeploymentGroup {
        service: service.to_owned(),
        application,
        name: group,
        own_waits: Duration::from_secs(60 * minutes.max(0) as u64),
    })
}

/// Creates the deployment of `task_definition_arn` to `service` and (unless
/// told not to wait) follows it. Returns its id and result.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn deploy(
    client: &Client,
    service: &Service,
    task_definition_arn: &str,
    plan: &Plan,
    options: &CodeDeployOptions,
    deploy: &DeployOptions,
    runner: &Runner,
    in_flight: &InFlight<'_>,
) -> Result<(String, DeployResult, Vec<Phase>)> {
    let name = service.service_name().unwrap_or_default();
    let group = plan
        .groups
        .iter()
        .find(|g| g.service == name)
        .expect("every CODE_DEPLOY service has its group in the plan");
    let appspec = match &plan.appspec {
        Some(template) => {
            let mut document = template.clone();
            appspec::set_task_definition(&mut document, task_definition_arn)?;
            document
        }
        None => appspec::generate(service, task_definition_arn)?,
    };
    let (application, group_name) = (&group.application, &group.name);
    let content = appspec_content(&appspec);
    let call = in_flight.calling(Change::CreateDeployment {
        application: application.clone(),
        group: group_name.clone(),
    });
    let created = create(client, group, &content, options, deploy, runner).await;
    in_flight.answered(call);
    let id = created?;
    in_flight.codedeploy_deployment_started(name, &id);
    let region = links::region_of(service.service_arn());
    runner.info(&format!(
        "CodeDeploy deployment {id} started for service {}: {}",
        group.service,
        links::codedeploy_deployment(region, &id)
    ));
    let mut phases = vec![Phase::new("deployment created")];
    if !deploy.wait {
        return Ok((id, DeployResult::Started, phases));
    }
    let timeout = deploy.timeout + group.own_waits;
    let interval = POLL_INTERVAL.min(deploy.max_poll_delay.unwrap_or(Duration::MAX));
    let result = watch(
        client,
        &id,
        options.wait_until_ready,
        (timeout, interval),
        deploy.rollback_on_failure,
        runner,
        &mut phases,
    )
    .await?;
    Ok((id, result, phases))
}

/// CreateDeployment of our AppSpec, at most once in effect; with
/// `wait-for-in-progress`, after the deployment in progress in the group
/// has finished.
async fn create(
    client: &Client,
    group: &DeploymentGroup,
    content: &AppSpecContent,
    options: &CodeDeployOptions,
    deploy: &DeployOptions,
    runner: &Runner,
) -> Result<String> {
    let (application, group_name) = (&group.application, &group.name);
    loop {
        let since = SystemTime::now() - Duration::from_secs(5);
        let created = call_once(
            deploy.max_retries,
            async || {
                client
                    .create_deployment()
                    .application_name(application)
                    .deployment_group_name(group_name)
                    .revision(
                        RevisionLocation::builder()
                            .revision_type(RevisionLocationType::AppSpecContent)
                            .app_spec_content(content.clone())
                            .build(),
                    )
                    .set_deployment_config_name(options.deployment_config.clone())
                    .set_description(options.description.as_deref().map(cut_description))
                    .set_auto_rollback_configuration(
                        (!options.auto_rollback_events.is_empty()).then(|| {
                            AutoRollbackConfiguration::builder()
                                .enabled(true)
                                .set_events(Some(options.auto_rollback_events.clone()))
                                .build()
                        }),
                    )
                    .customize()
                    .config_override(
                        aws_sdk_codedeploy::config::Builder::default().retry_config(no_retries()),
                    )
                    .send()
                    .await
            },
            async || {
                find_created(client, application, group_name, content, since)
                    .await
                    .map(|id| CreateDeploymentOutput::builder().deployment_id(id).build())
            },
        )
        .await;
        match created {
            Ok(output) => return Ok(output.deployment_id().unwrap_or_default().to_owned()),
            Err(e) if error_code(&e) == Some("DeploymentLimitExceededException") => {
                let text = error_text(&e);
                let active = active_deployment_in(&text).map(str::to_owned);
                match (&active, options.wait_for_in_progress) {
                    (Some(active), true) => {
                        runner.info(&format!("Deployment {active} is in progress for {group_name}; waiting for it to finish (wait-for-in-progress)"));
                        wait_until_done(client, active, deploy.timeout).await?;
                    }
                    _ => {
                        return Err(anyhow!(
                            "deployment group {group_name} already has a deployment in progress ({}); wait for it, stop it, or set wait-for-in-progress: true",
                            active.as_deref().unwrap_or("id not given")
                        ))
                    }
                }
            }
            Err(e) => {
                return Err(anyhow!(
                    "failed to create a CodeDeploy deployment in {application}/{group_name}: {}",
                    explain("codedeploy:CreateDeployment", &e)
                ));
            }
        }
    }
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

fn appspec_content(appspec: &Value) -> AppSpecContent {
    let content = appspec.to_string();
    let sha256 = Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    AppSpecContent::builder()
        .content(content)
        .sha256(sha256)
        .build()
}

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

/// Waits, at most `timeout`, for another deployment of the group to end.
async fn wait_until_done(client: &Client, id: &str, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = deployment_view(&get_deployment(client, id).await?).status;
        if is_final(&status) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let waiting = if status == "Ready" {
                " (it waits for its traffic to be rerouted: continue or stop it)"
            } else {
                ""
            };
            return Err(anyhow!(
                "deployment {id}, which blocks this one, was still {status}{waiting} after {} minutes of waiting (wait-for-in-progress); nothing was deployed",
                timeout.as_secs_f64() / 60.0
            ));
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())))
            .await;
    }
}

async fn watch(
    client: &Client,
    id: &str,
    wait_until_ready: bool,
    (timeout, interval): (Duration, Duration),
    rollback_on_failure: bool,
    runner: &Runner,
    phases: &mut Vec<Phase>,
) -> Result<DeployResult> {
    let deadline = Instant::now() + timeout;
    let mut last_status = None;
    let mut events_seen: Vec<(String, String)> = Vec::new();
    let mut target_id = None;
    loop {
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        let deployment = deployment_view(&get_deployment(client, id).await?);
        let status = deployment.status.clone();
        let status_changed = last_status.as_ref() != Some(&status);
        if status_changed && !follows_events(&status) {
            report_status(runner, id, &status, wait_until_ready, phases);
        }
        if target_id.is_none() {
            target_id = client
                .list_deployment_targets()
                .deployment_id(id)
                .send()
                .await
                .ok()
                .and_then(|t| t.target_ids().first().cloned());
        }
        let events = match &target_id {
            Some(target) => lifecycle_events(client, id, target).await,
            None => Vec::new(),
        };
        // Every event starts Pending: only a move from there is news.
        for event in events.iter().filter(|e| e.status != "Pending") {
            let key = (event.name.clone(), event.status.clone());
            if !events_seen.contains(&key) {
                runner.info(&format!("CodeDeploy {id}: {} {}", event.name, event.status));
                if event.status == "InProgress" {
                    phases.push(Phase::new(&event.name));
                }
                events_seen.push(key);
            }
        }
        if status_changed && follows_events(&status) {
            report_status(runner, id, &status, wait_until_ready, phases);
        }
        last_status = Some(status.clone());
        match verdict::judge(&deployment, &events, wait_until_ready) {
            Verdict::InProgress => {}
            Verdict::Succeeded => return Ok(DeployResult::Succeeded),
            Verdict::Ready => return Ok(DeployResult::Ready),
            Verdict::Failed(reason) => {
                phases.push(Phase::failed("failed"));
                return Ok(DeployResult::Failed(reason));
            }
        }
        if Instant::now() >= deadline {
            phases.push(Phase::failed("timed out, stopped"));
            let stopped =
                match aws_codedeploy::stop_deployment(client, id, rollback_on_failure).await {
                    Ok(()) => format!("it was {}", aws_codedeploy::stopped(rollback_on_failure)),
                    Err(e) => format!("it could not be stopped ({e}); stop it in the console"),
                };
            return Ok(DeployResult::Failed(format!(
                "timed out after {} minutes with the deployment {}; {stopped}",
                timeout.as_secs_f64() / 60.0,
                status
            )));
        }
    }
}

/// A new status of deployment `id`, and what Ready means when we do not
/// wait for it.
fn report_status(
    runner: &Runner,
    id: &str,
    status: &str,
    wait_until_ready: bool,
    phases: &mut Vec<Phase>,
) {
    runner.info(&format!("CodeDeploy {id}: {status}"));
    if status == "Ready" && !wait_until_ready {
        runner.notice(&format!(
            "CodeDeploy deployment {id} is Ready: the new tasks run behind the test listener and wait for traffic to be rerouted (ContinueDeployment, or the group's wait time)."
        ));
        phases.push(Phase::new("ready, waiting for traffic rerouting"));
    }
}

async fn lifecycle_events(client: &Client, id: &str, target: &str) -> Vec<LifecycleEvent> {
    let Ok(output) = client
        .get_deployment_target()
        .deployment_id(id)
        .target_id(target)
        .send()
        .await
    else {
        return Vec::new();
    };
    let Some(ecs) = output.deployment_target().and_then(|t| t.ecs_target()) else {
        return Vec::new();
    };
    ecs.lifecycle_events()
        .iter()
        .map(|e| LifecycleEvent {
            name: e.lifecycle_event_name().unwrap_or("?").to_owned(),
            status: e.status().map_or("Pending", |s| s.as_str()).to_owned(),
            diagnostics: e
                .diagnostics()
                .map(|d| {
                    [
                        d.error_code().map(|c| c.as_str()),
                        d.message(),
                        d.log_tail(),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned)
                    .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// What GetDeployment shows, for the verdict.
fn deployment_view(info: &DeploymentInfo) -> CodeDeployView {
    CodeDeployView {
        status: info.status().map_or("Created", |s| s.as_str()).to_owned(),
        error: info.error_information().map(|error| {
            (
                error.code().map_or("no code", |c| c.as_str()).to_owned(),
                error.message().unwrap_or("no message").to_owned(),
            )
        }),
        rollback_deployment_id: info
            .rollback_info()
            .and_then(|r| r.rollback_deployment_id())
            .map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_consoles_names() {
        assert_eq!(
            default_names("prod", "web"),
            ("AppECS-prod-web".to_owned(), "DgpECS-prod-web".to_owned())
        );
    }

    #[test]
    fn descriptions_are_cut_to_the_limit_on_a_character_boundary() {
        assert_eq!(cut_description(&"é".repeat(600)).chars().count(), 512);
        assert_eq!(cut_description("short"), "short");
    }

    #[test]
    fn the_active_deployment_is_read_from_the_limit_message() {
        assert_eq!(
            active_deployment_in("DeploymentLimitExceededException: The Deployment DeploymentGroup 'g' already has an active Deployment 'd-123ABC'"),
            Some("d-123ABC")
        );
        assert_eq!(active_deployment_in("no id here"), None);
    }

    #[test]
    fn appspec_content_carries_its_sha256() {
        let content = appspec_content(&serde_json::json!({"version": "0.0"}));
        assert_eq!(content.content(), Some("{\"version\":\"0.0\"}"));
        assert_eq!(
            content.sha256(),
            Some("8c646f429c72f1549ff181e2280ff4f250773b4a7d8cfd5aa0c90a1f489d978b")
        );
    }
}
