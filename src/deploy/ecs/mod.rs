//! Services deployed by ECS itself (rolling, or a native blue/green, linear
//! or canary strategy): UpdateService for every service (the start), then
//! one poll loop (the watch) that reduces what ECS shows to small views
//! (`view`) and asks `verdict::judge` for each deployment we started.
//! DescribeServices covers ten services a call, so twenty services cost two
//! calls a poll, not twenty.

mod event;
mod verdict;
mod view;

pub(crate) use event::Event;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context, Result};
use aws_sdk_ecs::types::{CreatedAt, DeploymentStrategy, Service, Task};
use aws_sdk_ecs::Client;
use aws_smithy_types::DateTime;
use futures::{future, stream, StreamExt};
use serde_json::Value;

use aws_sdk_ecs::operation::update_service::{UpdateServiceError, UpdateServiceOutput};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::arn::resource_name;
use crate::aws::ecs::{describe_tasks, list_tasks};
use crate::aws::errors::is_throttling;
use crate::aws::logs::{last_lines, log_source};
use crate::aws::raw::set_body_fields;
use crate::aws::retry::Backoff;
use crate::aws::{
    call_once, error_text, explain, no_retries, Aws, CONCURRENT_CALLS, POLL_INTERVAL,
};
use crate::cancel::{Change, InFlight};
use crate::links;
use crate::present::runner::Runner;

use super::{DeployResult, Deployed, Phase, Started};
use crate::deploy::settings::DeployOptions;
use verdict::{OurDeployment, ServiceDeploymentView, Verdict};
pub(crate) use view::StoppedTasks;
use view::{event_text, service_deployment_view, service_view, stopped_reasons};

/// The waits between polls while ECS throttles us: from twice the usual
/// interval up to 16 s.
const THROTTLED_POLL: Backoff = Backoff {
    first: POLL_INTERVAL,
    cap: Duration::from_secs(16),
};
/// Stopped tasks whose last log lines explain a failure: one per reason.
const TASKS_WITH_LOGS: usize = 2;
/// DescribeServiceDeployments takes at most this many ARNs a call.
const DESCRIBE_SERVICE_DEPLOYMENTS_MAX: usize = 20;

/// One service to move to a new task definition.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The service's place in the `service` input.
    pub index: usize,
    pub service: String,
    pub task_definition: String,
    /// The definition the service runs now (`previous-task-definition-arn`).
    pub previous_task_definition: String,
    pub breaker_enabled: bool,
    pub native_strategy: bool,
    /// An Express Mode service, updated through UpdateExpressGatewayService.
    pub express: bool,
    pub service_arn: String,
    /// The content of `task_definition`: where its containers write.
    pub definition: Value,
}

impl Target {
    pub(crate) fn new(
        index: usize,
        service: &Service,
        task_definition: &str,
        definition: &Value,
    ) -> Target {
        let configuration = service.deployment_configuration();
        Target {
            index,
            definition: definition.clone(),
            service: service.service_name().unwrap_or_default().to_owned(),
            express: super::is_express(service),
            service_arn: service.service_arn().unwrap_or_default().to_owned(),
            task_definition: task_definition.to_owned(),
            previous_task_definition: service.task_definition().unwrap_or_default().to_owned(),
            breaker_enabled: configuration
                .and_then(|c| c.deployment_circuit_breaker())
                .is_some_and(|b| b.enable()),
            native_strategy: configuration
                .and_then(|c| c.strategy())
                .is_some_and(|s| *s != DeploymentStrategy::Rolling),
        }
    }
}

/// Updates every service at once, then (unless told not to wait) watches
/// them all in one poll loop. A service whose update failed gets that as its
/// result; the others are still followed to their verdict.
pub(crate) async fn deploy(
    clients: &Aws,
    cluster: &str,
    targets: &[Target],
    options: &DeployOptions,
    runner: &Runner,
    in_flight: &InFlight<'_>,
) -> Result<Vec<Deployed>> {
    let ecs = &clients.ecs;
    let started: Vec<Result<Followed>> = stream::iter(targets)
        .map(|target| async move {
            let call = in_flight.calling(Change::UpdateService {
                cluster: cluster.to_owned(),
                service: target.service.clone(),
                task_definition: target.task_definition.clone(),
            });
            let started = start(ecs, cluster, target, options, runner).await;
            in_flight.answered(call);
            let started = started?;
            in_flight.ecs_deployment_started(
                &target.service,
                &started.watch.deployment_id,
                started.service_deployment_arn.as_deref(),
            );
            Ok(started)
        })
        .buffered(CONCURRENT_CALLS)
        .collect()
        .await;
    let mut watched = Vec::new();
    let mut not_started = Vec::new();
    for (target, started) in targets.iter().zip(started) {
        match started {
            Ok(tracked) => watched.push(tracked),
            Err(e) => not_started.push(Deployed::not_started(target.index, &target.service, &e)),
        }
    }
    if options.wait {
        watch_all(clients, cluster, &mut watched, options, runner).await?;
    }
    let mut deployed: Vec<Deployed> = watched.into_iter().map(Followed::into_deployed).collect();
    deployed.extend(not_started);
    Ok(deployed)
}

/// What we follow of one deployment while it runs.
struct Followed {
    target: Target,
    watch: OurDeployment,
    service_deployment_arn: Option<String>,
    result: Option<DeployResult>,
    seen_events: HashSet<String>,
    seen_tasks: HashSet<String>,
    last_counts: Option<(i32, i32, i32)>,
    last_stage_line: Option<String>,
    /// PAUSE hooks already warned about.
    warned_hooks: HashSet<String>,
    /// Why tasks of our deployment stopped, with how many, over the run.
    stopped_tasks: Vec<StoppedTasks>,
    /// What the deployment went through, for the summary's timeline.
    phases: Vec<Phase>,
    /// When the verdict came.
    ended: Option<SystemTime>,
}

impl Followed {
    /// Where the deployment stood at the last poll, for messages.
    fn state(&self) -> String {
        let counts = self.last_counts.map_or(
            "no progress seen yet".to_owned(),
            |(running, pending, failed)| {
                format!("{running} running, {pending} pending, {failed} failed")
            },
        );
        format!(
            "{} (deployment {}: {counts})",
            self.target.service, self.watch.deployment_id
        )
    }

    fn into_deployed(self) -> Deployed {
        Deployed {
            index: self.target.index,
            service: self.target.service,
            started: Started::Ecs {
                deployment_id: self.watch.deployment_id,
                service_deployment_arn: self.service_deployment_arn,
                stopped_tasks: self.stopped_tasks,
            },
            result: self.result.unwrap_or(DeployResult::Started),
            phases: self.phases,
            ended: self.ended.unwrap_or_else(SystemTime::now),
        }
    }
}

async fn start(
    ecs: &Client,
    cluster: &str,
    target: &Target,
    options: &DeployOptions,
    runner: &Runner,
) -> Result<Followed> {
    let service = &target.service;
    // A little before the call, so that the service deployment it creates is
    // found even with clock skew.
    let started_at = DateTime::from(SystemTime::now() - Duration::from_secs(5));
    let updated = update(
        ecs,
        cluster,
        target,
        &target.task_definition,
        Some(options),
        options.max_retries,
    )
    .await
    .with_context(|| format!("failed to update service {service} in cluster {cluster}"))?;
    let primary = Some(&updated)
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
        })
        .filter(|d| d.task_definition() == Some(target.task_definition.as_str()))
        .and_then(|d| d.id())
        .ok_or_else(|| {
            anyhow!(
                "{} for {service} answered without a PRIMARY deployment of {}",
                if target.express {
                    "UpdateExpressGatewayService"
                } else {
                    "UpdateService"
                },
                resource_name(&target.task_definition)
            )
        })?
        .to_owned();
    let service_deployment_arn = find_service_deployment(ecs, cluster, service, started_at).await;
    // Events ECS had before our update are history, not progress.
    let seen_events = Some(&updated)
        .map(|s| {
            s.events()
                .iter()
                .filter_map(|e| e.id())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    runner.info(&format!(
        "Service {service}: deployment {primary} started, {} → {}",
        resource_name(&target.previous_task_definition),
        resource_name(&target.task_definition)
    ));
    let max_failed_tasks = match (options.max_failed_tasks, target.breaker_enabled) {
        (Some(max), _) => Some(max),
        (None, true) => None,
        (None, false) => Some(verdict::default_failed_task_threshold(
            options
                .desired_count
                .unwrap_or_else(|| updated.desired_count()),
        )),
    };
    Ok(Followed {
        target: target.clone(),
        watch: OurDeployment {
            deployment_id: primary,
            task_definition: target.task_definition.clone(),
            previous_task_definition: target.previous_task_definition.clone(),
            max_failed_tasks,
        },
        service_deployment_arn,
        result: None,
        seen_events,
        seen_tasks: HashSet::new(),
        last_counts: None,
        last_stage_line: None,
        warned_hooks: HashSet::new(),
        stopped_tasks: Vec::new(),
        phases: vec![Phase::new(if target.native_strategy {
            "deployment started"
        } else {
            "new tasks starting"
        })],
        ended: None,
    })
}

/// UpdateService to `task_definition` (with the deployment options, when
/// given), at most once in effect: after an ambiguous failure it looks for a
/// new PRIMARY deployment of that definition before trying again.
async fn update_service(
    ecs: &Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    options: Option<&DeployOptions>,
    max_retries: u32,
) -> Result<UpdateServiceOutput, SdkError<UpdateServiceError, HttpResponse>> {
    let since = SystemTime::now() - Duration::from_secs(5);
    call_once(
        max_retries,
        async || {
            let mut request = ecs
                .update_service()
                .cluster(cluster)
                .service(service)
                .task_definition(task_definition);
            if let Some(options) = options {
                request = request
                    .set_desired_count(options.desired_count)
                    .force_new_deployment(options.force_new_deployment)
                    .set_enable_ecs_managed_tags(options.enable_ecs_managed_tags)
                    .set_propagate_tags(options.propagate_tags.clone());
            }
            let volumes = options.and_then(|o| o.volume_configurations.clone());
            request
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .mutate_request(set_body_fields(
                    volumes
                        .map(|v| ("volumeConfigurations", v))
                        .into_iter()
                        .collect(),
                ))
                .send()
                .await
        },
        async || {
            let current = deployed_since(ecs, cluster, service, task_definition, since).await?;
            Some(UpdateServiceOutput::builder().service(current).build())
        },
    )
    .await
}

/// Moves the service to `task_definition` (UpdateService, or for an Express
/// service UpdateExpressGatewayService, whose answer is not the service)
/// and returns the service as it is after.
async fn update(
    ecs: &Client,
    cluster: &str,
    target: &Target,
    task_definition: &str,
    options: Option<&DeployOptions>,
    max_retries: u32,
) -> Result<Service> {
    let service = &target.service;
    if !target.express {
        let updated = update_service(ecs, cluster, service, task_definition, options, max_retries)
            .await
            .map_err(|e| anyhow!("{}", explain("ecs:UpdateService", &e)))?;
        return updated
            .service()
            .cloned()
            .ok_or_else(|| anyhow!("UpdateService answered without the service"));
    }
    let since = SystemTime::now() - Duration::from_secs(5);
    let updated = call_once(
        max_retries,
        async || {
            ecs.update_express_gateway_service()
                .service_arn(&target.service_arn)
                .task_definition_arn(task_definition)
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .send()
                .await
                .map(|_| None)
        },
        async || {
            deployed_since(ecs, cluster, service, task_definition, since)
                .await
                .map(Some)
        },
    )
    .await
    .map_err(|e| anyhow!("{}", explain("ecs:UpdateExpressGatewayService", &e)))?;
    match updated {
        Some(current) => Ok(current),
        None => {
            crate::aws::ecs::describe_services_or_fail(ecs, cluster, std::slice::from_ref(service))
                .await?
                .pop()
                .ok_or_else(|| anyhow!("service {service} was not found after its update"))
        }
    }
}

/// The service, when its PRIMARY deployment runs `task_definition` and was
/// created since `since`: an update that took effect.
async fn deployed_since(
    ecs: &Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    since: SystemTime,
) -> Option<Service> {
    let described = crate::aws::ecs::describe_services(ecs, cluster, &[service.to_owned()])
        .await
        .ok()?;
    let current = described.services.into_iter().next()?;
    let started = current.deployments().iter().any(|d| {
        d.status() == Some("PRIMARY")
            && d.task_definition() == Some(task_definition)
            && d.created_at()
                .is_some_and(|t| SystemTime::try_from(*t).is_ok_and(|t| t >= since))
    });
    started.then_some(current)
}

/// The ARN of the service deployment our update created, when the service
/// deployments API answers (it is newer than some IAM policies).
async fn find_service_deployment(
    ecs: &Client,
    cluster: &str,
    service: &str,
    after: DateTime,
) -> Option<String> {
    let listed = ecs
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .created_at(CreatedAt::builder().after(after).build())
        .send()
        .await
        .ok()?;
    listed
        .service_deployments()
        .iter()
        .max_by_key(|d| d.created_at().map(|t| (t.secs(), t.subsec_nanos())))
        .and_then(|d| d.service_deployment_arn())
        .map(str::to_owned)
}

async fn watch_all(
    clients: &Aws,
    cluster: &str,
    tracked: &mut [Followed],
    options: &DeployOptions,
    runner: &Runner,
) -> Result<()> {
    let ecs = &clients.ecs;
    let deadline = Instant::now() + options.timeout;
    // Polls in a row that ECS throttled; each makes the next wait longer,
    // up to `wait-max-delay-seconds` when given.
    let max_delay = options.max_poll_delay.unwrap_or(Duration::MAX);
    let steady = POLL_INTERVAL.min(max_delay);
    let mut throttled = 0;
    let mut interval = steady;
    loop {
        let pending: Vec<&mut Followed> =
            tracked.iter_mut().filter(|t| t.result.is_none()).collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for tracked in pending {
                tracked.result = Some(DeployResult::Failed(format!(
                    "timed out after {} minutes with {} still in progress; ECS goes on with it",
                    options.timeout.as_secs_f64() / 60.0,
                    tracked.state()
                )));
            }
            return Ok(());
        }
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        let names: Vec<String> = pending.iter().map(|t| t.target.service.clone()).collect();
        let services = match crate::aws::ecs::describe_services(ecs, cluster, &names).await {
            Ok(described) => {
                (throttled, interval) = (0, steady);
                described.services
            }
            Err(e) if is_throttling(&e) => {
                throttled += 1;
                interval = THROTTLED_POLL.wait(throttled + 1).min(max_delay);
                runner.info(&format!(
                    "ECS is throttling DescribeServices ({}); next poll in {:.1}s",
                    error_text(&e),
                    interval.as_secs_f64()
                ));
                continue;
            }
            Err(e) => {
                let states: Vec<String> = pending.iter().map(|t| t.state()).collect();
                return Err(anyhow!(
                    "failed to describe services in cluster {cluster} while waiting for {}: {}",
                    states.join(", "),
                    error_text(&e)
                ));
            }
        };
        let mut polled = Vec::new();
        for tracked in pending {
            match services
                .iter()
                .find(|s| s.service_name() == Some(tracked.target.service.as_str()))
            {
                Some(service) => polled.push((tracked, service)),
                None => {
                    tracked.result = Some(DeployResult::Failed(
                        "the service disappeared during the deployment".into(),
                    ))
                }
            }
        }
        // Rolling deployments are judged from DescribeServices alone; the
        // record explains a rollback, and native strategies report their
        // stages in it. One call covers the records of twenty services.
        let wanted: Vec<String> = polled
            .iter()
            .filter(|(t, service)| {
                t.target.native_strategy || verdict::needs_record(&t.watch, &service_view(service))
            })
            .filter_map(|(t, _)| t.service_deployment_arn.clone())
            .collect();
        let records = describe_service_deployments(ecs, &wanted).await;
        future::join_all(polled.into_iter().map(|(tracked, service)| {
            let record = tracked
                .service_deployment_arn
                .as_ref()
                .and_then(|arn| records.get(arn));
            observe(clients, cluster, tracked, service, record, options, runner)
        }))
        .await;
    }
}

async fn observe(
    clients: &Aws,
    cluster: &str,
    tracked: &mut Followed,
    service: &Service,
    record: Option<&ServiceDeploymentView>,
    options: &DeployOptions,
    runner: &Runner,
) {
    let ecs = &clients.ecs;
    let name = tracked.target.service.clone();
    report_events(tracked, service, runner);
    let view = service_view(service);
    if let Some(record) = record.filter(|_| tracked.target.native_strategy) {
        report_stage(tracked, record, runner);
    }
    if let Some(ours) = view
        .deployments
        .iter()
        .find(|d| d.id == tracked.watch.deployment_id)
    {
        let counts = (ours.running, ours.pending, ours.failed_tasks);
        if !tracked.target.native_strategy
            && ours.desired > 0
            && ours.running >= ours.desired
            && tracked.phases.len() == 1
        {
            tracked
                .phases
                .push(Phase::new("new tasks running, old ones stopping"));
        }
        if tracked.last_counts != Some(counts) {
            runner.info(&format!(
                "{name}: {} of {} running, {} pending, {} failed",
                ours.running, ours.desired, ours.pending, ours.failed_tasks
            ));
            if ours.failed_tasks > tracked.last_counts.map_or(0, |c| c.2) {
                report_stopped_tasks(ecs, cluster, tracked, runner).await;
            }
            tracked.last_counts = Some(counts);
        }
    }
    tracked.result = match verdict::judge(&tracked.watch, &view, record) {
        Verdict::InProgress => None,
        Verdict::Succeeded => Some(DeployResult::Succeeded),
        Verdict::Failed(failure) => {
            // The reasons tasks stopped, and what they wrote last, are the
            // why of most failures.
            report_stopped_tasks(ecs, cluster, tracked, runner).await;
            read_last_lines(clients, cluster, tracked, runner).await;
            let mut message = failure.reason;
            let phase = if failure.by_threshold {
                message.push_str(&restore(ecs, cluster, &tracked.target, options).await);
                "failed-task threshold reached, previous revision restored"
            } else if record.is_some_and(|r| r.status.starts_with("ROLLBACK")) {
                "failed, rolled back"
            } else {
                "failed"
            };
            tracked.phases.push(Phase::failed(phase));
            Some(DeployResult::Failed(message))
        }
    };
    if tracked.result.is_some() {
        tracked.ended = Some(SystemTime::now());
    }
}

/// A native strategy's stage and traffic when they change, and a warning
/// once per PAUSE hook: the deployment waits for a person (or a pipeline) to
/// call ContinueServiceDeployment, and would otherwise look stuck.
fn report_stage(tracked: &mut Followed, record: &ServiceDeploymentView, runner: &Runner) {
    let name = &tracked.target.service;
    if let Some(line) = verdict::stage_line(record) {
        if tracked.last_stage_line.as_ref() != Some(&line) {
            runner.info(&format!("{name}: {line}"));
            tracked.last_stage_line = Some(line);
        }
    }
    if let Some(stage) = &record.lifecycle_stage {
        let stage = stage.to_lowercase().replace('_', " ");
        if tracked.phases.last().map(|p| &p.name) != Some(&stage) {
            tracked.phases.push(Phase::new(&stage));
        }
    }
    for hook in &record.paused_hooks {
        if !tracked.warned_hooks.insert(hook.id.clone()) {
            continue;
        }
        let stage = record
            .lifecycle_stage
            .as_deref()
            .unwrap_or("a lifecycle stage");
        let timeout = match (&hook.expires_at, &hook.timeout_action) {
            (Some(at), Some(action)) => format!("; at {at} ECS will {action} on its own"),
            _ => String::new(),
        };
        tracked
            .phases
            .push(Phase::new(&format!("paused by lifecycle hook {}", hook.id)));
        runner.warning(&format!(
            "{name}: the deployment is paused at {stage} by lifecycle hook {id} and waits for ContinueServiceDeployment: \
             aws ecs continue-service-deployment --service-deployment-arn {arn} --hook-id {id} --action CONTINUE (or ROLLBACK){timeout}",
            id = hook.id,
            arn = tracked.service_deployment_arn.as_deref().unwrap_or("?"),
        ));
    }
}

fn report_events(tracked: &mut Followed, service: &Service, runner: &Runner) {
    let mut fresh: Vec<_> = service
        .events()
        .iter()
        .filter(|e| {
            e.id()
                .is_some_and(|id| tracked.seen_events.insert(id.to_owned()))
        })
        .collect();
    fresh.reverse(); // ECS lists events newest first
    let name = &tracked.target.service;
    for event in fresh {
        runner.info(&format!(
            "{name}: {}",
            event_text(name, event.message().unwrap_or_default())
        ));
    }
}

/// Prints the newly stopped tasks of our deployment, grouped by reason.
async fn report_stopped_tasks(
    ecs: &Client,
    cluster: &str,
    tracked: &mut Followed,
    runner: &Runner,
) {
    let tasks = newly_stopped_tasks(
        ecs,
        cluster,
        &tracked.watch.deployment_id,
        &tracked.seen_tasks,
    )
    .await;
    tracked
        .seen_tasks
        .extend(tasks.iter().filter_map(|t| t.task_arn()).map(str::to_owned));
    for group in stopped_reasons(&tasks) {
        runner.info(&format!(
            "{}: {} task(s) stopped: {}",
            tracked.target.service, group.count, group.reason
        ));
        match tracked
            .stopped_tasks
            .iter_mut()
            .find(|seen| seen.reason == group.reason)
        {
            Some(seen) => seen.count += group.count,
            None => tracked.stopped_tasks.push(group),
        }
    }
}

/// Reads what the exited containers of the stopped tasks wrote last, for
/// the failure: the example task of each of the first `TASKS_WITH_LOGS`
/// reasons with an exit, `RECENT_LINES` lines of each. Output that cannot
/// be read here (another log driver, a denied or missing stream) is one
/// notice with the task's console page; it only explains, so the verdict
/// stands without it.
async fn read_last_lines(clients: &Aws, cluster: &str, tracked: &mut Followed, runner: &Runner) {
    let definition = &tracked.target.definition;
    let mut unread = None;
    let examples = tracked
        .stopped_tasks
        .iter_mut()
        .filter(|group| !group.exited.is_empty())
        .take(TASKS_WITH_LOGS);
    'tasks: for group in examples {
        let task_id = resource_name(&group.example);
        for container in &mut group.exited {
            let read = match log_source(definition, &container.name) {
                Ok(source) => {
                    let stream = source.stream(task_id);
                    let logs = aws_sdk_cloudwatchlogs::Client::new(
                        &clients.config_in(source.region.as_deref()),
                    );
                    match last_lines(&logs, &source.group, &stream).await {
                        Ok(Some(lines)) => Ok(lines),
                        Ok(None) => Err(format!(
                            "container {} wrote no log stream {stream} in group {}",
                            container.name, source.group
                        )),
                        Err(error) => Err(format!("{error:#}")),
                    }
                }
                Err(why) => Err(why),
            };
            match read {
                Ok(lines) => container.last_lines = lines,
                Err(why) => {
                    unread = Some((why, group.example.clone()));
                    break 'tasks;
                }
            }
        }
    }
    if let Some((why, task)) = unread {
        runner.notice(&format!(
            "{}: the last log lines of stopped task {} are not shown: {why}. See the task in the console: {}",
            tracked.target.service,
            resource_name(&task),
            links::task(resource_name(cluster), &task)
        ));
    }
}

/// The stopped tasks of deployment `deployment_id` not seen before (at most
/// 100 a call); none when ECS does not answer, since they only explain.
async fn newly_stopped_tasks(
    ecs: &Client,
    cluster: &str,
    deployment_id: &str,
    seen: &HashSet<String>,
) -> Vec<Task> {
    let Ok(listed) = list_tasks(
        ecs,
        cluster,
        Some(deployment_id),
        aws_sdk_ecs::types::DesiredStatus::Stopped,
        100,
    )
    .await
    else {
        return Vec::new();
    };
    let new: Vec<String> = listed
        .iter()
        .filter(|arn| !seen.contains(*arn))
        .take(100)
        .cloned()
        .collect();
    if new.is_empty() {
        return Vec::new();
    }
    describe_tasks(ecs, cluster, &new)
        .await
        .map(|(tasks, _)| tasks)
        .unwrap_or_default()
}

/// Our threshold failed the deployment; ECS would keep retrying, so put the
/// previous task definition back when allowed. Returns what to add to the
/// failure message.
async fn restore(ecs: &Client, cluster: &str, target: &Target, options: &DeployOptions) -> String {
    let previous = resource_name(&target.previous_task_definition);
    if !options.rollback_on_failure {
        return format!(
            "; {previous} was not restored (rollback-on-failure is false), so ECS keeps trying"
        );
    }
    match update(
        ecs,
        cluster,
        target,
        &target.previous_task_definition,
        None,
        options.max_retries,
    )
    .await
    {
        Ok(_) => format!("; restored {previous}"),
        Err(e) => format!("; restoring {previous} failed: {e:#} — restore it by hand"),
    }
}

/// The service-deployment records of `arns`, by ARN; a record ECS does not
/// give (an older IAM policy, a failed call) is simply absent.
async fn describe_service_deployments(
    ecs: &Client,
    arns: &[String],
) -> HashMap<String, ServiceDeploymentView> {
    let calls = arns.chunks(DESCRIBE_SERVICE_DEPLOYMENTS_MAX).map(|chunk| {
        ecs.describe_service_deployments()
            .set_service_deployment_arns(Some(chunk.to_vec()))
            .send()
    });
    let mut records = HashMap::new();
    for output in future::join_all(calls).await.into_iter().flatten() {
        for record in output.service_deployments() {
            if let Some(arn) = record.service_deployment_arn() {
                records.insert(arn.to_owned(), service_deployment_view(record));
            }
        }
    }
    records
}
