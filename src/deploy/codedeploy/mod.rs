//! CodeDeploy blue/green deployments for services with the CODE_DEPLOY
//! controller. Before anything is registered, `plan` reads and checks the
//! AppSpec and each service's deployment group. The start is
//! CreateDeployment with the AppSpec as content; the watch is a poll loop
//! that reduces what CodeDeploy shows to small views, emits each status and
//! lifecycle event once and asks `verdict::judge`.

pub mod appspec;
mod event;
mod follow;
mod verdict;

pub(crate) use event::Event;
pub(crate) use follow::{attach, follow, Attached};

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentInfo, EcsTarget};
use aws_sdk_codedeploy::Client;
use aws_sdk_ecs::types::Service;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aws::codedeploy::{
    create_deployment, get_deployment, get_deployment_group, get_deployment_target,
    list_deployment_targets, stop_deployment, stopped,
};
use crate::aws::{error_code, error_text, LazyAws, POLL_INTERVAL};
use crate::cancel::{Change, InFlight};
use crate::config::Config;
use crate::event::Sink;
use crate::links;
use crate::poll::{Outlook, Schedule};
use crate::template;

use super::{is_codedeploy, Current, DeployResult, Phase};
use crate::deploy::settings::{CodeDeployOptions, DeployOptions};
use verdict::{follows_events, is_final, CodeDeployView, LifecycleEvent, Verdict};

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
    let group_info = get_deployment_group(client, &application, &group)
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read CodeDeploy deployment group {group} of application {application} for service {service}: {e}"
            )
        })?;
    let blue_green = group_info
        .as_ref()
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
    sink: &dyn Sink,
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
    let content = appspec_content(&appspec);
    let call = in_flight.calling(Change::CreateDeployment {
        application: group.application.clone(),
        group: group.name.clone(),
    });
    let created = create(client, group, &content, options, deploy, sink).await;
    in_flight.answered(call);
    let id = created?;
    in_flight.codedeploy_deployment_started(name, &id);
    let region = links::region_of(service.service_arn());
    emit(
        sink,
        Event::Started {
            service: group.service.clone(),
            deployment_id: id.clone(),
            link: links::codedeploy_deployment(region, &id),
        },
    );
    let mut phases = vec![Phase::new("deployment created")];
    if !deploy.wait {
        return Ok((id, DeployResult::Started, phases));
    }
    let timeout = deploy.timeout + group.own_waits;
    let result = watch(
        client,
        &id,
        options.wait_until_ready,
        (timeout, deploy.max_poll_delay),
        deploy.rollback_on_failure,
        sink,
        &mut phases,
    )
    .await?;
    Ok((id, result, phases))
}

fn emit(sink: &dyn Sink, event: Event) {
    sink.emit(crate::event::Event::CodeDeploy(event));
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
    sink: &dyn Sink,
) -> Result<String> {
    let (application, group_name) = (&group.application, &group.name);
    loop {
        let created = create_deployment(
            client,
            (application, group_name),
            content,
            options,
            deploy.max_retries,
        )
        .await;
        let e = match created {
            Ok(id) => return Ok(id),
            Err(e) if error_code(&e) == Some("DeploymentLimitExceededException") => e,
            Err(e) => {
                return Err(anyhow!(
                    "failed to create a CodeDeploy deployment in {application}/{group_name}: {}",
                    crate::aws::explain("codedeploy:CreateDeployment", &e)
                ));
            }
        };
        let text = error_text(&e);
        match (active_deployment_in(&text), options.wait_for_in_progress) {
            (Some(active), true) => {
                emit(
                    sink,
                    Event::WaitingForInProgress {
                        active: active.to_owned(),
                        group: group_name.clone(),
                    },
                );
                wait_until_done(client, active, deploy.timeout).await?;
            }
            (active, _) => {
                return Err(anyhow!(
                    "deployment group {group_name} already has a deployment in progress ({}); wait for it, stop it, or set wait-for-in-progress: true",
                    active.unwrap_or("id not given")
                ))
            }
        }
    }
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

/// What the watch has told of a deployment so far.
#[derive(Default)]
struct Told {
    status: Option<String>,
    /// Lifecycle events by name and status.
    events: Vec<(String, String)>,
}

/// Follows deployment `id` to its verdict, each look when
/// `poll::Schedule` says; at the timeout it is stopped (with rollback when
/// allowed) and failed.
async fn watch(
    client: &Client,
    id: &str,
    wait_until_ready: bool,
    (timeout, max_poll_delay): (Duration, Option<Duration>),
    rollback_on_failure: bool,
    sink: &dyn Sink,
    phases: &mut Vec<Phase>,
) -> Result<DeployResult> {
    let began = Instant::now();
    let deadline = began + timeout;
    let mut schedule = Schedule::new(max_poll_delay);
    let mut outlook = Outlook::Anytime;
    let mut told = Told::default();
    let mut target_id = None;
    loop {
        let wait = schedule.wait(began.elapsed(), outlook);
        tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
        let deployment = deployment_view(&get_deployment(client, id).await?);
        schedule.polled(began.elapsed(), 1);
        if target_id.is_none() {
            target_id = list_deployment_targets(client, id)
                .await
                .ok()
                .and_then(|targets| targets.into_iter().next());
        }
        let events = match &target_id {
            Some(target) => lifecycle_events(client, id, target).await,
            None => Vec::new(),
        };
        let progress = Progress {
            id,
            status: &deployment.status,
            events: &events,
            wait_until_ready,
        };
        report_progress(sink, &progress, &mut told, phases);
        outlook = verdict::outlook(&deployment, &events);
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
            let stopped = match stop_deployment(client, id, rollback_on_failure).await {
                Ok(()) => format!("it was {}", stopped(rollback_on_failure)),
                Err(e) => format!("it could not be stopped ({e}); stop it in the console"),
            };
            return Ok(DeployResult::Failed(format!(
                "timed out after {} minutes with the deployment {}; {stopped}",
                timeout.as_secs_f64() / 60.0,
                deployment.status
            )));
        }
    }
}

/// What one poll showed of deployment `id`.
struct Progress<'a> {
    id: &'a str,
    status: &'a str,
    events: &'a [LifecycleEvent],
    wait_until_ready: bool,
}

/// A new status and the lifecycle events not told before, in the order
/// they happened: an event once it leaves Pending (every event starts
/// there), a status that waits or ends after the events seen with it.
fn report_progress(sink: &dyn Sink, progress: &Progress, told: &mut Told, phases: &mut Vec<Phase>) {
    let status_changed = told.status.as_deref() != Some(progress.status);
    if status_changed && !follows_events(progress.status) {
        report_status(sink, progress, phases);
    }
    for event in progress.events.iter().filter(|e| e.status != "Pending") {
        let key = (event.name.clone(), event.status.clone());
        if told.events.contains(&key) {
            continue;
        }
        emit(
            sink,
            Event::LifecycleEventChanged {
                deployment_id: progress.id.to_owned(),
                name: event.name.clone(),
                status: event.status.clone(),
            },
        );
        if event.status == "InProgress" {
            phases.push(Phase::new(&event.name));
        }
        told.events.push(key);
    }
    if status_changed && follows_events(progress.status) {
        report_status(sink, progress, phases);
    }
    told.status = Some(progress.status.to_owned());
}

/// A new status of the deployment, and what Ready means when we do not
/// wait for it.
fn report_status(sink: &dyn Sink, progress: &Progress, phases: &mut Vec<Phase>) {
    let deployment_id = progress.id.to_owned();
    emit(
        sink,
        Event::StatusChanged {
            deployment_id: deployment_id.clone(),
            status: progress.status.to_owned(),
        },
    );
    if progress.status == "Ready" && !progress.wait_until_ready {
        emit(sink, Event::WaitingForReroute { deployment_id });
        phases.push(Phase::new("ready, waiting for traffic rerouting"));
    }
}

/// The lifecycle events of the deployment's ECS target; none when
/// CodeDeploy does not answer, since they only tell the progress.
async fn lifecycle_events(client: &Client, id: &str, target: &str) -> Vec<LifecycleEvent> {
    match get_deployment_target(client, id, target).await {
        Ok(Some(ecs)) => lifecycle_events_of(&ecs),
        _ => Vec::new(),
    }
}

fn lifecycle_events_of(ecs: &EcsTarget) -> Vec<LifecycleEvent> {
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
    use crate::aws::ecs::{describe_services_or_fail, register_task_definition};
    use crate::aws::Aws;
    use crate::event::{self, Recorder};
    use ecs_deploy_sim::{Scenario, Sim};
    use serde_json::json;

    const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    networkMode: awsvpc
    requiresCompatibilities: [FARGATE]
    cpu: "256"
    memory: "512"
    containerDefinitions:
      - {name: web, image: "shop:1", essential: true, portMappings: [{containerPort: 8080}]}
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    launchType: FARGATE
    deploymentController: {type: CODE_DEPLOY}
    loadBalancers:
      - {targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef", containerName: web, containerPort: 8080}
    networkConfiguration:
      awsvpcConfiguration: {subnets: [subnet-0a1b2c3d], securityGroups: [sg-0a1b2c3d]}
codeDeploy:
  applications:
    - {applicationName: AppECS-prod-web, computePlatform: ECS}
  deploymentGroups:
    - applicationName: AppECS-prod-web
      deploymentGroupName: DgpECS-prod-web
      serviceRoleArn: arn:aws:iam::123456789012:role/codedeploy-ecs
      deploymentStyle: {deploymentType: BLUE_GREEN, deploymentOption: WITH_TRAFFIC_CONTROL}
      ecsServices: [{serviceName: web, clusterName: prod}]
      loadBalancerInfo:
        targetGroupPairInfoList:
          - targetGroups: [{name: web-blue}, {name: web-green}]
            prodTrafficRoute: {listenerArns: ["arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"]}
timelines:
  codeDeploy:
    - {deploymentGroup: DgpECS-prod-web, outcome: succeed, seconds: 0}
"#;

    /// The console's application and group, waited for until complete.
    fn options() -> CodeDeployOptions {
        CodeDeployOptions {
            application: None,
            deployment_group: None,
            deployment_config: None,
            description: None,
            auto_rollback_events: Vec::new(),
            wait_until_ready: false,
            wait_for_in_progress: false,
        }
    }

    #[tokio::test]
    async fn a_deployment_tells_its_start_each_lifecycle_event_and_its_status() {
        let sim = Sim::start(Scenario::from_yaml(SCENARIO).unwrap()).unwrap();
        let aws = Aws::of_sim(&sim).await;
        let definition = json!({
            "family": "shop",
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "web", "image": "shop:2", "essential": true, "portMappings": [{"containerPort": 8080}]}]
        });
        let registered = register_task_definition(&aws.ecs, &definition)
            .await
            .unwrap();
        let service = describe_services_or_fail(&aws.ecs, "prod", &["web".to_owned()])
            .await
            .unwrap()
            .remove(0);
        let codedeploy = options();
        let plan = Plan {
            appspec: None,
            groups: vec![group_of(&aws.codedeploy, "prod", "web", &codedeploy)
                .await
                .unwrap()],
        };
        let recorder = Recorder::default();
        let in_flight = InFlight::watched(|_, _| {});
        let (id, result, _) = deploy(
            &aws.codedeploy,
            &service,
            &registered.arn,
            &plan,
            &codedeploy,
            &DeployOptions::waiting(),
            &recorder,
            &in_flight,
        )
        .await
        .unwrap();
        let codedeploy = |event| event::Event::CodeDeploy(event);
        let mut expected = vec![codedeploy(Event::Started {
            service: "web".into(),
            deployment_id: id.clone(),
            link: links::codedeploy_deployment("us-east-1", &id),
        })];
        for name in verdict::ECS_EVENTS {
            expected.push(codedeploy(Event::LifecycleEventChanged {
                deployment_id: id.clone(),
                name: name.into(),
                status: "Succeeded".into(),
            }));
        }
        expected.push(codedeploy(Event::StatusChanged {
            deployment_id: id.clone(),
            status: "Succeeded".into(),
        }));
        assert_eq!(recorder.events(), expected);
        assert_eq!(result, DeployResult::Succeeded);
    }

    #[test]
    fn defaults_are_the_consoles_names() {
        assert_eq!(
            default_names("prod", "web"),
            ("AppECS-prod-web".to_owned(), "DgpECS-prod-web".to_owned())
        );
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
