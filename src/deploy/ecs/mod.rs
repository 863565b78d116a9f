//! Services deployed by ECS itself (rolling, or a native blue/green, linear
//! or canary strategy): UpdateService for every service (the start), then
//! one poll loop (the watch) that reduces what ECS shows to small views
//! (`view`), emits what is new in them (`Event`) and asks `verdict::judge`
//! for each deployment we started. DescribeServices covers ten services a
//! call, so twenty services cost two calls a poll, not twenty.

mod event;
mod follow;
mod verdict;
mod view;

pub(crate) use event::Event;
pub(crate) use follow::{attach, follow, Attached};

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context, Result};
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsError;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookTargetType, DeploymentStrategy, Service, ServiceRevisionCleanup, Task,
};
use aws_sdk_ecs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use futures::{future, stream, StreamExt};
use serde_json::Value;

use crate::arn::resource_name;
use crate::aws::ecs::{
    describe_service_deployments, describe_services, describe_tasks, list_service_deployments,
    list_tasks, roll_back_service_deployment, update_express_gateway_service, update_service,
};
use crate::aws::errors::is_throttling;
use crate::aws::logs::{last_lines, log_source};
use crate::aws::retry::Backoff;
use crate::aws::{error_text, Aws, CONCURRENT_CALLS};
use crate::cancel::{Change, InFlight};
use crate::event::Sink;
use crate::links;
use crate::poll::{Outlook, Schedule};

use super::{DeployResult, Deployed, Handoff, Phase, Started};
use crate::deploy::settings::{DeployOptions, WaitUntil};
use verdict::{DeploymentView, OurDeployment, ServiceDeploymentView, ServiceView, Verdict};
pub(crate) use verdict::{PausedHook, TrafficWeights};
pub(crate) use view::StoppedTasks;
use view::{service_deployment_view, service_view, stopped_reasons};

/// The waits between polls while ECS throttles us: the first 2 to 4 s,
/// doubling up to 16 s (with `Backoff`'s jitter).
const THROTTLED_POLL: Backoff = Backoff {
    first: Duration::from_secs(2),
    cap: Duration::from_secs(16),
};
/// The longest a native strategy's service goes undescribed while its
/// service deployment record stays the same: ECS's events (a task that
/// cannot be placed) change no record.
const EVENTS_READ_AT_LEAST_EVERY: Duration = Duration::from_secs(20);
/// Stopped tasks whose last log lines explain a failure: one per reason.
const TASKS_WITH_LOGS: usize = 2;

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
    /// `earlySuccessCriteria` with a DEFERRED clean-up: ECS declares the
    /// deployment successful while the old tasks still drain.
    pub early_success: bool,
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
            early_success: configuration
                .and_then(|c| c.early_success_criteria())
                .is_some_and(|e| {
                    e.enable()
                        && e.source_service_revision_cleanup()
                            == Some(&ServiceRevisionCleanup::Deferred)
                }),
        }
    }

    /// Whether a look reads the service deployment record first: a native
    /// strategy's stage and hooks, and an early success, are only there.
    fn reads_record_first(&self) -> bool {
        self.native_strategy || self.early_success
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
    sink: &dyn Sink,
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
            let started = start(ecs, cluster, target, options, sink).await;
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
    // Where wait-until stops shows only in the service deployment.
    let stops_early = options.wait_until != WaitUntil::Done;
    for tracked in watched
        .iter_mut()
        .filter(|t| stops_early && t.service_deployment_arn.is_none())
    {
        tracked.result = Some(DeployResult::Failed(format!(
            "wait-until: the service deployment of deployment {} was not found (ecs:ListServiceDeployments), so where it stops cannot be seen; ECS goes on with it",
            tracked.watch.deployment_id
        )));
    }
    if options.wait {
        watch_all(clients, cluster, &mut watched, options, sink).await?;
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
    last_stage: Option<(String, Option<TrafficWeights>)>,
    /// Lifecycle hooks already told: PAUSE hooks by id, Lambda hooks by
    /// function and what they did.
    told_hooks: HashSet<String>,
    /// Why tasks of our deployment stopped, with how many, over the run.
    stopped_tasks: Vec<StoppedTasks>,
    /// What the deployment went through, for the summary's timeline.
    phases: Vec<Phase>,
    /// When the verdict came.
    ended: Option<SystemTime>,
    /// What the last look says of the transition that decides it.
    outlook: Outlook,
    /// The service deployment record as of the service's last
    /// DescribeServices, and when that was: a native strategy's service is
    /// described again when its record changes.
    described_record: Option<ServiceDeploymentView>,
    described_at: Option<Instant>,
}

impl Followed {
    /// Our deployment `watch` of `target`, as UpdateService left the
    /// service: events ECS had before our update are history, not progress.
    fn new(
        target: &Target,
        watch: OurDeployment,
        service_deployment_arn: Option<String>,
        updated: &Service,
    ) -> Followed {
        Followed {
            target: target.clone(),
            watch,
            service_deployment_arn,
            result: None,
            seen_events: updated
                .events()
                .iter()
                .filter_map(|e| e.id())
                .map(str::to_owned)
                .collect(),
            seen_tasks: HashSet::new(),
            last_counts: None,
            last_stage: None,
            told_hooks: HashSet::new(),
            stopped_tasks: Vec::new(),
            phases: vec![Phase::new(if target.native_strategy {
                "deployment started"
            } else {
                "new tasks starting"
            })],
            ended: None,
            outlook: Outlook::Anytime,
            described_record: None,
            described_at: None,
        }
    }

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

fn emit(sink: &dyn Sink, event: Event) {
    sink.emit(crate::event::Event::Ecs(event));
}

async fn start(
    ecs: &Client,
    cluster: &str,
    target: &Target,
    options: &DeployOptions,
    sink: &dyn Sink,
) -> Result<Followed> {
    let service = &target.service;
    // A little before the call, so that the service deployment it creates is
    // found even with clock skew.
    let started_at = SystemTime::now() - Duration::from_secs(5);
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
    let primary = our_deployment(target, &updated)?;
    let service_deployment_arn = find_service_deployment(ecs, cluster, service, started_at).await;
    emit(
        sink,
        Event::Started {
            service: service.clone(),
            deployment_id: primary.clone(),
            from: target.previous_task_definition.clone(),
            to: target.task_definition.clone(),
        },
    );
    let watch = OurDeployment {
        deployment_id: primary,
        task_definition: target.task_definition.clone(),
        previous_task_definition: target.previous_task_definition.clone(),
        max_failed_tasks: failure_threshold(options, target, updated.desired_count()),
        wait_until: options.wait_until.clone(),
        breaker_threshold: None,
    };
    Ok(Followed::new(
        target,
        watch,
        service_deployment_arn,
        &updated,
    ))
}

/// Refuses, before anything changes, a `wait-until` that a deployment of
/// `service` could never reach.
pub(crate) fn check_stop_point(options: &DeployOptions, service: &Service) -> Result<()> {
    let configuration = service.deployment_configuration();
    let strategy = match configuration.and_then(|c| c.strategy()) {
        _ if super::is_codedeploy(service) => "CODE_DEPLOY",
        Some(strategy) => strategy.as_str(),
        None => "ROLLING",
    };
    let pause_hooks = configuration.map_or(0, |c| {
        c.lifecycle_hooks()
            .iter()
            .filter(|hook| hook.target_type() == Some(&DeploymentLifecycleHookTargetType::Pause))
            .count()
    });
    let name = service.service_name().unwrap_or_default();
    match verdict::cannot_stop(&options.wait_until, name, strategy, pause_hooks) {
        Some(why) => Err(anyhow!(why)),
        None => Ok(()),
    }
}

/// How many stopped tasks fail a deployment of `target`: `max-failed-tasks`,
/// else none when its circuit breaker decides, else ECS's threshold for
/// the desired count (`desired` unless `desired-count` changes it).
fn failure_threshold(options: &DeployOptions, target: &Target, desired: i32) -> Option<i32> {
    match (options.max_failed_tasks, target.breaker_enabled) {
        (Some(max), _) => Some(max),
        (None, true) => None,
        (None, false) => Some(verdict::default_failed_task_threshold(
            options.desired_count.unwrap_or(desired),
        )),
    }
}

/// The id of the deployment our update started: the PRIMARY one, of the
/// revision we moved to.
fn our_deployment(target: &Target, updated: &Service) -> Result<String> {
    updated
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .filter(|d| d.task_definition() == Some(target.task_definition.as_str()))
        .and_then(|d| d.id())
        .map(str::to_owned)
        .ok_or_else(|| {
            anyhow!(
                "{} for {} answered without a PRIMARY deployment of {}",
                if target.express {
                    "UpdateExpressGatewayService"
                } else {
                    "UpdateService"
                },
                target.service,
                resource_name(&target.task_definition)
            )
        })
}

/// Moves the service to `task_definition` (UpdateService, or for an Express
/// service UpdateExpressGatewayService) and returns the service as it is
/// after.
async fn update(
    ecs: &Client,
    cluster: &str,
    target: &Target,
    task_definition: &str,
    options: Option<&DeployOptions>,
    max_retries: u32,
) -> Result<Service> {
    if target.express {
        let service = (target.service.as_str(), target.service_arn.as_str());
        update_express_gateway_service(ecs, cluster, service, task_definition, max_retries).await
    } else {
        update_service(
            ecs,
            cluster,
            &target.service,
            task_definition,
            options,
            max_retries,
        )
        .await
    }
}

/// The ARN of the service deployment our update created, when the service
/// deployments API answers (it is newer than some IAM policies).
async fn find_service_deployment(
    ecs: &Client,
    cluster: &str,
    service: &str,
    after: SystemTime,
) -> Option<String> {
    let listed = list_service_deployments(ecs, cluster, service, Some(after))
        .await
        .ok()?;
    listed
        .iter()
        .max_by_key(|d| d.created_at().map(|t| (t.secs(), t.subsec_nanos())))
        .and_then(|d| d.service_deployment_arn())
        .map(str::to_owned)
}

/// The poll loop: every deployment still pending is looked at (`poll`),
/// until each has its verdict or the time is up. When the next look comes
/// is `poll::Schedule`'s, from the outlooks of the deployments pending;
/// while ECS throttles the looks they come later.
async fn watch_all(
    clients: &Aws,
    cluster: &str,
    tracked: &mut [Followed],
    options: &DeployOptions,
    sink: &dyn Sink,
) -> Result<()> {
    let began = Instant::now();
    let deadline = began + options.timeout;
    let mut schedule = Schedule::new(options.max_poll_delay);
    let mut next_poll = schedule.wait(Duration::ZERO, Outlook::Anytime);
    let mut throttled_in_a_row = 0;
    loop {
        let pending: Vec<&mut Followed> =
            tracked.iter_mut().filter(|t| t.result.is_none()).collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for tracked in pending {
                time_out(&clients.ecs, tracked, options).await;
            }
            return Ok(());
        }
        tokio::time::sleep(next_poll.min(deadline.saturating_duration_since(Instant::now()))).await;
        let polled = poll(clients, cluster, pending, options, sink).await?;
        schedule.polled(began.elapsed(), polled.rounds);
        let outlook = Outlook::soonest(
            tracked
                .iter()
                .filter(|t| t.result.is_none())
                .map(|t| t.outlook),
        );
        next_poll = schedule.wait(began.elapsed(), outlook);
        match polled.throttled {
            None => throttled_in_a_row = 0,
            Some((operation, error)) => {
                throttled_in_a_row += 1;
                next_poll = next_poll
                    .max(THROTTLED_POLL.wait(throttled_in_a_row + 1))
                    .min(options.max_poll_delay.unwrap_or(Duration::MAX));
                emit(
                    sink,
                    Event::Throttled {
                        operation,
                        error,
                        next_poll,
                    },
                );
            }
        }
    }
}

/// `wait-for-minutes` ran out with `tracked` in progress: it fails, and is
/// rolled back with `on-cancel: rollback`, else left to ECS.
async fn time_out(ecs: &Client, tracked: &mut Followed, options: &DeployOptions) {
    let fate = match (&tracked.service_deployment_arn, options.roll_back_on_cancel) {
        (Some(arn), true) => match roll_back_service_deployment(ecs, arn).await {
            Ok(()) => format!(
                "ECS rolls it back to {} (on-cancel: rollback)",
                resource_name(&tracked.target.previous_task_definition)
            ),
            Err(e) => format!("it could not be rolled back ({e}); ECS goes on with it"),
        },
        _ => "ECS goes on with it".to_owned(),
    };
    tracked.result = Some(DeployResult::Failed(format!(
        "timed out after {} minutes with {} still in progress; {fate}",
        options.timeout.as_secs_f64() / 60.0,
        tracked.state()
    )));
}

/// What one poll did: the rounds of status calls it made (each calls
/// every batch once), and the call ECS throttled, which ended it.
#[derive(Default)]
struct Polled {
    rounds: u32,
    throttled: Option<(&'static str, String)>,
}

/// One look at the pending deployments. Native strategies first, one
/// DescribeServiceDeployments for twenty: their record carries the stage,
/// the counts and the rollback, so their service is described only when
/// it changed (`to_describe`). Then DescribeServices, ten a call, for
/// those and every rolling deployment, and the records that explain a
/// rolling deployment no longer PRIMARY or failed.
async fn poll(
    clients: &Aws,
    cluster: &str,
    pending: Vec<&mut Followed>,
    options: &DeployOptions,
    sink: &dyn Sink,
) -> Result<Polled> {
    let ecs = &clients.ecs;
    let mut polled = Polled::default();
    let native: Vec<String> = pending
        .iter()
        .filter(|t| t.target.reads_record_first())
        .filter_map(|t| t.service_deployment_arn.clone())
        .collect();
    let mut records = HashMap::new();
    if !native.is_empty() {
        polled.rounds += 1;
        match records_of(ecs, &native).await {
            Ok(read) => records = read,
            Err(e) if is_throttling(&e) => {
                polled.throttled = Some(("DescribeServiceDeployments", error_text(&e)));
                return Ok(polled);
            }
            // The record explains and shows the stage; DescribeServices
            // judges without it.
            Err(_) => {}
        }
    }
    let now = Instant::now();
    let to_describe: Vec<&mut Followed> = pending
        .into_iter()
        .filter(|t| to_describe(t, &records, now))
        .collect();
    if to_describe.is_empty() {
        return Ok(polled);
    }
    polled.rounds += 1;
    let Some(services) = describe_for_poll(ecs, cluster, &to_describe, &mut polled).await? else {
        return Ok(polled);
    };
    let described = with_their_service(to_describe, &services);
    let explaining: Vec<String> = described
        .iter()
        .filter(|(t, service)| {
            !t.target.reads_record_first()
                && verdict::needs_record(&t.watch, &service_view(service))
        })
        .filter_map(|(t, _)| t.service_deployment_arn.clone())
        .collect();
    if !explaining.is_empty() {
        polled.rounds += 1;
        // A record ECS does not give (an older IAM policy, a failed call)
        // is simply absent: DescribeServices judges without it.
        records.extend(records_of(ecs, &explaining).await.unwrap_or_default());
    }
    future::join_all(described.into_iter().map(|(tracked, service)| {
        let record = tracked
            .service_deployment_arn
            .as_ref()
            .and_then(|arn| records.get(arn));
        tracked.described_at = Some(now);
        observe(clients, cluster, tracked, service, record, options, sink)
    }))
    .await;
    Ok(polled)
}

/// Whether this poll describes the service of `tracked`: always for a
/// rolling deployment; for a native strategy's, when its record is not
/// there or changed since the service's last look, or that look is
/// `EVENTS_READ_AT_LEAST_EVERY` old. Otherwise nothing it shows changed:
/// there is nothing to tell or judge.
fn to_describe(
    tracked: &Followed,
    records: &HashMap<String, ServiceDeploymentView>,
    now: Instant,
) -> bool {
    let record = tracked
        .service_deployment_arn
        .as_ref()
        .and_then(|arn| records.get(arn));
    !tracked.target.reads_record_first()
        || record.is_none()
        || record != tracked.described_record.as_ref()
        || tracked
            .described_at
            .is_none_or(|at| now.duration_since(at) >= EVENTS_READ_AT_LEAST_EVERY)
}

/// DescribeServices of the services of `to_describe`; None when ECS
/// throttled it (said in `polled`).
async fn describe_for_poll(
    ecs: &Client,
    cluster: &str,
    to_describe: &[&mut Followed],
    polled: &mut Polled,
) -> Result<Option<Vec<Service>>> {
    let names: Vec<String> = to_describe
        .iter()
        .map(|t| t.target.service.clone())
        .collect();
    match describe_services(ecs, cluster, &names).await {
        Ok(described) => Ok(Some(described.services)),
        Err(e) if is_throttling(&e) => {
            polled.throttled = Some(("DescribeServices", error_text(&e)));
            Ok(None)
        }
        Err(e) => {
            let states: Vec<String> = to_describe.iter().map(|t| t.state()).collect();
            Err(anyhow!(
                "failed to describe services in cluster {cluster} while waiting for {}: {}",
                states.join(", "),
                error_text(&e)
            ))
        }
    }
}

/// Each pending deployment with its service as described; one whose
/// service is gone has failed.
fn with_their_service<'a, 'b>(
    pending: Vec<&'a mut Followed>,
    services: &'b [Service],
) -> Vec<(&'a mut Followed, &'b Service)> {
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
    polled
}

/// The service-deployment records of `arns`, as views by ARN.
async fn records_of(
    ecs: &Client,
    arns: &[String],
) -> Result<
    HashMap<String, ServiceDeploymentView>,
    SdkError<DescribeServiceDeploymentsError, HttpResponse>,
> {
    let records = describe_service_deployments(ecs, arns).await?;
    Ok(records
        .iter()
        .filter_map(|record| {
            let arn = record.service_deployment_arn()?;
            Some((arn.to_owned(), service_deployment_view(record)))
        })
        .collect())
}

/// One look at one deployment: what is new in what ECS shows is emitted,
/// then the deployment is judged, and what comes next foreseen.
async fn observe(
    clients: &Aws,
    cluster: &str,
    tracked: &mut Followed,
    service: &Service,
    record: Option<&ServiceDeploymentView>,
    options: &DeployOptions,
    sink: &dyn Sink,
) {
    report_events(tracked, service, sink);
    let view = service_view(service);
    if let Some(record) = record.filter(|_| tracked.target.native_strategy) {
        report_stage(tracked, record, sink);
    }
    if let Some(ours) = view
        .deployments
        .iter()
        .find(|d| d.id == tracked.watch.deployment_id)
    {
        report_counts(&clients.ecs, cluster, tracked, ours, sink).await;
    }
    tracked.result = match verdict::judge(&tracked.watch, &view, record) {
        Verdict::InProgress => None,
        Verdict::Succeeded => {
            report_early_success(tracked, &view, sink);
            Some(DeployResult::Succeeded)
        }
        Verdict::Reached { stage, paused_hook } => Some(DeployResult::HandedOff(Handoff {
            service_deployment_arn: tracked.service_deployment_arn.clone(),
            stage,
            paused_hook,
        })),
        Verdict::Failed(failure) => {
            // The reasons tasks stopped, and what they wrote last, are the
            // why of most failures.
            report_stopped_tasks(&clients.ecs, cluster, tracked, sink).await;
            read_last_lines(clients, cluster, tracked, sink).await;
            let mut message = failure.reason;
            let failed_hook = record.and_then(|r| r.failed_hooks.first());
            let phase = if failure.by_threshold {
                message.push_str(&restore(&clients.ecs, cluster, &tracked.target, options).await);
                "failed-task threshold reached, previous revision restored".to_owned()
            } else if let Some(function) = failed_hook {
                format!("lifecycle hook {function} failed, rolled back")
            } else if record.is_some_and(|r| r.status.starts_with("ROLLBACK")) {
                "failed, rolled back".to_owned()
            } else {
                "failed".to_owned()
            };
            tracked.phases.push(Phase::failed(&phase));
            Some(DeployResult::Failed(message))
        }
    };
    if tracked.result.is_some() {
        tracked.ended = Some(SystemTime::now());
    }
    if let Some(breaker) = record.and_then(|r| r.breaker) {
        tracked.watch.breaker_threshold = Some(breaker.threshold);
    }
    tracked.outlook = verdict::outlook(
        &tracked.watch,
        tracked.target.native_strategy,
        &view,
        record,
    );
    tracked.described_record = record.cloned();
}

/// An early success leaves the old revision's tasks to drain after the
/// verdict: said, with how many still run.
fn report_early_success(tracked: &mut Followed, view: &ServiceView, sink: &dyn Sink) {
    if !tracked.target.early_success {
        return;
    }
    let draining: i32 = view
        .deployments
        .iter()
        .filter(|d| d.id != tracked.watch.deployment_id)
        .map(|d| d.running)
        .sum();
    if draining == 0 {
        return;
    }
    tracked
        .phases
        .push(Phase::new("succeeded early, old tasks draining"));
    emit(
        sink,
        Event::SucceededEarly {
            service: tracked.target.service.clone(),
            draining,
        },
    );
}

/// Our deployment's counts when they change, with the tasks that stopped
/// since the last look when more failed.
async fn report_counts(
    ecs: &Client,
    cluster: &str,
    tracked: &mut Followed,
    ours: &DeploymentView,
    sink: &dyn Sink,
) {
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
    if tracked.last_counts == Some(counts) {
        return;
    }
    emit(
        sink,
        Event::CountsChanged {
            service: tracked.target.service.clone(),
            running: ours.running,
            desired: ours.desired,
            pending: ours.pending,
            failed: ours.failed_tasks,
        },
    );
    if ours.failed_tasks > tracked.last_counts.map_or(0, |c| c.2) {
        report_stopped_tasks(ecs, cluster, tracked, sink).await;
    }
    tracked.last_counts = Some(counts);
}

/// A native strategy's stage and traffic when they change, and each PAUSE
/// hook once: the deployment waits for a person (or a pipeline) to
/// call ContinueServiceDeployment, and would otherwise look stuck.
fn report_stage(tracked: &mut Followed, record: &ServiceDeploymentView, sink: &dyn Sink) {
    let service = tracked.target.service.clone();
    if let Some(stage) = &record.lifecycle_stage {
        let now = (stage.clone(), record.traffic);
        let stage_changed = tracked.last_stage.as_ref().map(|(s, _)| s) != Some(stage);
        if tracked.last_stage.as_ref() != Some(&now) {
            emit(
                sink,
                Event::StageChanged {
                    service: service.clone(),
                    stage: stage.clone(),
                    traffic: record.traffic,
                },
            );
            tracked.last_stage = Some(now);
        }
        // The stage goes on after a hook that held it: a phase again.
        let held = !record.running_hooks.is_empty() || !record.paused_hooks.is_empty();
        let phase = stage.to_lowercase().replace('_', " ");
        if stage_changed || (!held && tracked.phases.last().map(|p| &p.name) != Some(&phase)) {
            tracked.phases.push(Phase::new(&phase));
        }
    }
    report_lambda_hooks(tracked, record, sink);
    for hook in &record.paused_hooks {
        if !tracked.told_hooks.insert(hook.id.clone()) {
            continue;
        }
        tracked
            .phases
            .push(Phase::new(&format!("paused by lifecycle hook {}", hook.id)));
        emit(
            sink,
            Event::HookPaused {
                service: service.clone(),
                stage: record.lifecycle_stage.clone(),
                hook: hook.clone(),
                service_deployment_arn: tracked.service_deployment_arn.clone(),
            },
        );
    }
}

/// Each Lambda lifecycle hook that runs, once per stage, as a phase of
/// its own (one that failed is named by the verdict's phase).
fn report_lambda_hooks(tracked: &mut Followed, record: &ServiceDeploymentView, sink: &dyn Sink) {
    let stage = record.lifecycle_stage.clone();
    for function in &record.running_hooks {
        let told = format!("{function} runs at {stage:?}");
        if tracked.told_hooks.insert(told) {
            let name = format!("lifecycle hook {function}");
            tracked.phases.push(Phase::new(&name));
            emit(
                sink,
                Event::HookRuns {
                    service: tracked.target.service.clone(),
                    stage: stage.clone(),
                    function: function.clone(),
                },
            );
        }
    }
}

/// The service's events not seen before, oldest first.
fn report_events(tracked: &mut Followed, service: &Service, sink: &dyn Sink) {
    let mut fresh: Vec<_> = service
        .events()
        .iter()
        .filter(|e| {
            e.id()
                .is_some_and(|id| tracked.seen_events.insert(id.to_owned()))
        })
        .collect();
    fresh.reverse(); // ECS lists events newest first
    for event in fresh {
        emit(
            sink,
            Event::ServiceMessage {
                service: tracked.target.service.clone(),
                message: event.message().unwrap_or_default().to_owned(),
            },
        );
    }
}

/// The newly stopped tasks of our deployment, grouped by reason.
async fn report_stopped_tasks(
    ecs: &Client,
    cluster: &str,
    tracked: &mut Followed,
    sink: &dyn Sink,
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
        emit(
            sink,
            Event::TasksStopped {
                service: tracked.target.service.clone(),
                count: group.count,
                reason: group.reason.clone(),
            },
        );
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
/// event with the task's console page; it only explains, so the verdict
/// stands without it.
async fn read_last_lines(clients: &Aws, cluster: &str, tracked: &mut Followed, sink: &dyn Sink) {
    let definition = &tracked.target.definition;
    let examples = tracked
        .stopped_tasks
        .iter_mut()
        .filter(|group| !group.exited.is_empty())
        .take(TASKS_WITH_LOGS);
    for group in examples {
        let task_id = resource_name(&group.example);
        for container in &mut group.exited {
            match container_last_lines(clients, definition, &container.name, task_id).await {
                Ok(lines) => container.last_lines = lines,
                Err(why) => {
                    let task = group.example.clone();
                    emit(
                        sink,
                        Event::LastLinesUnread {
                            service: tracked.target.service.clone(),
                            link: links::task(resource_name(cluster), &task),
                            task,
                            why,
                        },
                    );
                    return;
                }
            }
        }
    }
}

/// The last lines container `name` of task `task_id` wrote to its awslogs
/// stream, or why they cannot be read.
async fn container_last_lines(
    clients: &Aws,
    definition: &Value,
    name: &str,
    task_id: &str,
) -> Result<Vec<String>, String> {
    let source = log_source(definition, name)?;
    let stream = source.stream(task_id);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&clients.config_in(source.region.as_deref()));
    match last_lines(&logs, &source.group, &stream).await {
        Ok(Some(lines)) => Ok(lines),
        Ok(None) => Err(format!(
            "container {name} wrote no log stream {stream} in group {}",
            source.group
        )),
        Err(error) => Err(format!("{error:#}")),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ecs::{describe_services_or_fail, register_task_definition};
    use crate::event::{self, Recorder};
    use ecs_deploy_sim::{Scenario, Sim};
    use serde_json::json;

    const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}
"#;

    /// A deployment of a new revision of shop to service web, as the step
    /// makes it, and what it emitted.
    struct Run {
        sim: Sim,
        events: Vec<event::Event>,
        deployed: Deployed,
        /// The revisions, from and to.
        from: String,
        to: String,
    }

    impl Run {
        fn deployment_id(&self) -> String {
            self.deployed.deployment_id().unwrap().to_owned()
        }

        fn started(&self) -> event::Event {
            event::Event::Ecs(Event::Started {
                service: "web".into(),
                deployment_id: self.deployment_id(),
                from: self.from.clone(),
                to: self.to.clone(),
            })
        }
    }

    async fn deploy_web(timeline: &str) -> Run {
        deploy_to(
            &format!("{SCENARIO}{timeline}"),
            "web",
            DeployOptions::waiting(),
        )
        .await
    }

    /// A new revision of shop deployed to `service` of cluster prod in
    /// `scenario`.
    async fn deploy_to(scenario: &str, service: &str, options: DeployOptions) -> Run {
        let sim = Sim::start(Scenario::from_yaml(scenario).unwrap()).unwrap();
        let aws = Aws::of_sim(&sim).await;
        let definition = json!({
            "family": "shop",
            "containerDefinitions": [{"name": "web", "image": "shop:2", "essential": true}]
        });
        let registered = register_task_definition(&aws.ecs, &definition)
            .await
            .unwrap();
        let service = describe_services_or_fail(&aws.ecs, "prod", &[service.to_owned()])
            .await
            .unwrap()
            .remove(0);
        let target = Target::new(0, &service, &registered.arn, &definition);
        let recorder = Recorder::default();
        let in_flight = InFlight::watched(|_, _| {});
        let mut deployed = deploy(&aws, "prod", &[target], &options, &recorder, &in_flight)
            .await
            .unwrap();
        Run {
            sim,
            events: recorder.events(),
            deployed: deployed.remove(0),
            from: service.task_definition().unwrap().to_owned(),
            to: registered.arn,
        }
    }

    fn message(message: String) -> event::Event {
        event::Event::Ecs(Event::ServiceMessage {
            service: "web".into(),
            message,
        })
    }

    #[tokio::test]
    async fn a_rolling_deployment_tells_its_start_the_services_events_and_counts() {
        let run = deploy_web(
            "timelines:\n  deployments:\n    - {cluster: prod, service: web, outcome: complete, seconds: 0}\n",
        )
        .await;
        let id = run.deployment_id();
        assert_eq!(
            run.events,
            vec![
                run.started(),
                message(format!(
                    "(service web) (deployment {id}) deployment completed."
                )),
                message("(service web) has reached a steady state.".into()),
                event::Event::Ecs(Event::CountsChanged {
                    service: "web".into(),
                    running: 2,
                    desired: 2,
                    pending: 0,
                    failed: 0,
                }),
            ]
        );
        assert_eq!(run.deployed.result, DeployResult::Succeeded);
    }

    /// The breaker rolls back before the first poll: our deployment is gone
    /// by then, so no counts; the stopped tasks and their output explain.
    #[tokio::test]
    async fn a_failed_deployment_tells_the_tasks_stopped_and_why_their_output_is_not_shown() {
        let run = deploy_web(
            "timelines:\n  deployments:\n    - {cluster: prod, service: web, outcome: tasksFail, seconds: 0.01, failedTasks: 2, exitCode: 1}\n",
        )
        .await;
        let id = run.deployment_id();
        let stopped: Vec<String> = run
            .sim
            .tasks()
            .iter()
            .filter(|task| task["startedBy"] == id.as_str())
            .map(|task| task["taskArn"].as_str().unwrap().to_owned())
            .collect();
        let rollback = run.sim.services()[0]["deployments"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut expected = vec![run.started()];
        expected.extend(stopped.iter().map(|task| {
            message(format!(
                "(service web) has stopped 1 running tasks: (task {}).",
                resource_name(task)
            ))
        }));
        expected.extend([
            message(format!(
                "(service web) (deployment {id}) deployment failed: tasks failed to start."
            )),
            message(format!(
                "(service web) (deployment {rollback}) deployment completed."
            )),
            message("(service web) has reached a steady state.".into()),
            event::Event::Ecs(Event::TasksStopped {
                service: "web".into(),
                count: 2,
                reason: "Essential container in task exited (web exited 1)".into(),
            }),
            event::Event::Ecs(Event::LastLinesUnread {
                service: "web".into(),
                task: stopped[0].clone(),
                why: "container web logs with the none driver, not awslogs".into(),
                link: links::task("prod", &stopped[0]),
            }),
        ]);
        assert_eq!(run.events, expected);
        assert_eq!(
            run.deployed.result,
            DeployResult::Failed("ECS rolled back to shop:1: Service deployment rolled back because the circuit breaker threshold was exceeded.".into())
        );
    }
    /// A throttled poll says when the next one comes (here the
    /// wait-max-delay-seconds of 1 s, which caps the backoff), and the
    /// watch goes on to the verdict.
    #[tokio::test]
    async fn a_throttled_poll_is_told_and_the_watch_goes_on_to_the_verdict() {
        // The first DescribeServices is the test's own, before the deploy.
        let scenario = format!(
            "{SCENARIO}faults:\n  - {{service: ecs, operation: DescribeServices, kind: throttle, skip: 1}}\ntimelines:\n  deployments:\n    - {{cluster: prod, service: web, outcome: complete, seconds: 0}}\n"
        );
        let options = DeployOptions {
            max_poll_delay: Some(Duration::from_secs(1)),
            ..DeployOptions::waiting()
        };
        let run = deploy_to(&scenario, "web", options).await;
        let throttled: Vec<&event::Event> = run
            .events
            .iter()
            .filter(|e| matches!(e, event::Event::Ecs(Event::Throttled { .. })))
            .collect();
        let [event::Event::Ecs(Event::Throttled {
            operation,
            error,
            next_poll,
        })] = throttled[..]
        else {
            panic!("not one throttled poll: {:?}", run.events);
        };
        assert_eq!(*operation, "DescribeServices");
        assert!(error.starts_with("ThrottlingException: "), "{error}");
        assert_eq!(*next_poll, Duration::from_secs(1));
        assert_eq!(run.events[1], *throttled[0], "told before anything else");
        assert_eq!(run.deployed.result, DeployResult::Succeeded);
    }

    /// A native strategy is followed on its service deployment record, one
    /// DescribeServiceDeployments a poll; its service is described in the
    /// same poll only when the record changed: while the PAUSE hook holds
    /// it for 5 s, the polls (every second, wait-max-delay-seconds) make
    /// one call.
    #[tokio::test]
    async fn a_native_strategy_is_followed_on_one_call_a_poll_until_its_record_changes() {
        let scenario = include_str!("../../../sim/scenarios/bluegreen-pause.yaml");
        let options = DeployOptions {
            max_poll_delay: Some(Duration::from_secs(1)),
            ..DeployOptions::waiting()
        };
        let run = deploy_to(scenario, "shop-web", options).await;
        assert_eq!(run.deployed.result, DeployResult::Succeeded);
        let calls = run.sim.calls();
        let updated = calls
            .iter()
            .position(|call| call.operation == "UpdateService")
            .unwrap();
        let polls: Vec<&str> = calls[updated + 1..]
            .iter()
            .map(|call| call.operation.as_str())
            .filter(|operation| operation.starts_with("Describe"))
            .collect();
        let records = polls
            .iter()
            .filter(|o| **o == "DescribeServiceDeployments")
            .count();
        let described = polls.iter().filter(|o| **o == "DescribeServices").count();
        assert!(
            polls.first() == Some(&"DescribeServiceDeployments")
                && polls
                    .windows(2)
                    .all(|pair| pair[1] != "DescribeServices"
                        || pair[0] == "DescribeServiceDeployments"),
            "each DescribeServices follows the poll's DescribeServiceDeployments: {polls:?}"
        );
        assert!(described < records, "no poll made one call: {polls:?}");
    }

    /// A blue/green deployment held at a PAUSE hook: the stage is told
    /// once with its traffic, the hook once with how ECS ends the wait.
    #[tokio::test]
    async fn a_blue_green_deployment_tells_its_stage_and_its_paused_hook_once() {
        let scenario = include_str!("../../../sim/scenarios/bluegreen-pause.yaml");
        let run = deploy_to(scenario, "shop-web", DeployOptions::waiting()).await;
        assert_eq!(run.deployed.result, DeployResult::Succeeded);
        let at_test_traffic: Vec<&event::Event> = run
            .events
            .iter()
            .filter(|e| {
                matches!(e, event::Event::Ecs(Event::StageChanged { stage, .. }) if stage == "POST_TEST_TRAFFIC_SHIFT")
            })
            .collect();
        assert_eq!(
            at_test_traffic,
            [&event::Event::Ecs(Event::StageChanged {
                service: "shop-web".into(),
                stage: "POST_TEST_TRAFFIC_SHIFT".into(),
                traffic: Some(TrafficWeights {
                    production: 0.0,
                    test: 100.0
                }),
            })]
        );
        let paused: Vec<(&Option<String>, &PausedHook, &Option<String>)> = run
            .events
            .iter()
            .filter_map(|e| match e {
                event::Event::Ecs(Event::HookPaused {
                    stage,
                    hook,
                    service_deployment_arn,
                    ..
                }) => Some((stage, hook, service_deployment_arn)),
                _ => None,
            })
            .collect();
        let [(stage, hook, arn)] = paused[..] else {
            panic!("not one paused hook: {:?}", run.events);
        };
        assert_eq!(stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
        assert!(hook.id.starts_with("ecs-pause-"), "{hook:?}");
        assert_eq!(hook.timeout_action.as_deref(), Some("CONTINUE"));
        assert!(
            arn.as_deref()
                .is_some_and(|arn| arn.starts_with("arn:aws:ecs:")),
            "{arn:?}"
        );
    }
}
