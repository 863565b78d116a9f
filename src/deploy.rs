//! The ECS deployment step: UpdateService for every service, then one poll
//! loop that watches each deployment we started until `verdict::judge` gives
//! it a verdict. DescribeServices covers ten services a call, so twenty
//! services cost two calls a poll, not twenty.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Result};
use aws_sdk_ecs::types::{CreatedAt, DeploymentStrategy, PropagateTags, Service};
use aws_sdk_ecs::Client;
use aws_smithy_types::DateTime;

use aws_sdk_ecs::operation::update_service::{UpdateServiceError, UpdateServiceOutput};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::aws::{call_once, error_code, error_text, no_retries};

use crate::runner::Runner;
use crate::verdict::{
    self, short_name, DeploymentView, ServiceDeploymentView, ServiceView, Verdict, Watch,
};

/// Often enough that a verdict reaches the log within about two seconds of
/// ECS showing it, and at most 30 DescribeServices calls a minute per batch.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The longest wait between polls while ECS throttles us.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(16);

#[derive(Debug, Clone, PartialEq)]
pub struct DeployOptions {
    pub desired_count: Option<i32>,
    pub force_new_deployment: bool,
    pub enable_ecs_managed_tags: Option<bool>,
    pub propagate_tags: Option<PropagateTags>,
    pub wait: bool,
    pub timeout: Duration,
    pub max_failed_tasks: Option<i32>,
    pub rollback_on_failure: bool,
    pub max_retries: u32,
}

/// One service to move to a new task definition.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: String,
    pub task_definition: String,
    /// The definition the service runs now (`previous-task-definition-arn`).
    pub previous_task_definition: String,
    pub breaker_enabled: bool,
    pub native_strategy: bool,
}

/// What one service's deployment (ECS or CodeDeploy) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployResult {
    Succeeded,
    /// `wait-for-service-stability: false`: accepted, not watched.
    Started,
    /// CodeDeploy waits for traffic rerouting, as asked
    /// (`codedeploy-wait-until: ready`).
    Ready,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Deployed {
    pub service: String,
    /// An ECS deployment id, or a CodeDeploy deployment id.
    pub deployment_id: String,
    pub via_codedeploy: bool,
    pub service_deployment_arn: Option<String>,
    pub result: DeployResult,
    /// Stopped tasks of the deployment, one line per reason.
    pub stopped_tasks: Vec<String>,
}

pub fn is_codedeploy(service: &Service) -> bool {
    service
        .deployment_controller()
        .is_some_and(|c| c.r#type().as_str() == "CODE_DEPLOY")
}

/// Checks a service before anything changes: it must be ACTIVE and deployed
/// by ECS or CodeDeploy.
pub fn check_deployable(service: &Service, cluster: &str) -> Result<()> {
    let name = service.service_name().unwrap_or("?");
    match service.status() {
        Some("ACTIVE") => {}
        Some(status) => {
            return Err(anyhow!(
                "service {name} in cluster {cluster} is {status}; only an ACTIVE service can be deployed (recreate it or pick another)"
            ))
        }
        None => return Err(anyhow!("service {name} in cluster {cluster} has no status")),
    }
    let controller = service
        .deployment_controller()
        .map(|c| c.r#type().as_str())
        .unwrap_or("ECS");
    match controller {
        "ECS" | "CODE_DEPLOY" => Ok(()),
        other => Err(anyhow!(
            "service {name} has the {other} deployment controller: its deployments are made by another tool, not by UpdateService"
        )),
    }
}

pub fn target_for(service: &Service, task_definition: &str) -> Target {
    let configuration = service.deployment_configuration();
    Target {
        service: service.service_name().unwrap_or_default().to_owned(),
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

/// Updates every service, then (unless told not to wait) watches them all.
pub async fn deploy(
    ecs: &Client,
    cluster: &str,
    targets: &[Target],
    options: &DeployOptions,
    runner: &Runner,
) -> Result<Vec<Deployed>> {
    let mut watched = Vec::new();
    for target in targets {
        watched.push(start(ecs, cluster, target, options, runner).await?);
    }
    if options.wait {
        watch_all(ecs, cluster, &mut watched, options, runner).await?;
    }
    Ok(watched.into_iter().map(Tracked::into_deployed).collect())
}

/// What we follow of one deployment while it runs.
struct Tracked {
    target: Target,
    watch: Watch,
    service_deployment_arn: Option<String>,
    result: Option<DeployResult>,
    seen_events: HashSet<String>,
    seen_tasks: HashSet<String>,
    last_counts: Option<(i32, i32, i32)>,
    last_stage: Option<String>,
    stopped_tasks: Vec<String>,
}

impl Tracked {
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
            service: self.target.service,
            deployment_id: self.watch.deployment_id,
            via_codedeploy: false,
            service_deployment_arn: self.service_deployment_arn,
            result: self.result.unwrap_or(DeployResult::Started),
            stopped_tasks: self.stopped_tasks,
        }
    }
}

async fn start(
    ecs: &Client,
    cluster: &str,
    target: &Target,
    options: &DeployOptions,
    runner: &Runner,
) -> Result<Tracked> {
    let service = &target.service;
    // A little before the call, so that the service deployment it creates is
    // found even with clock skew.
    let started_at = DateTime::from(SystemTime::now() - Duration::from_secs(5));
    let updated = update_service(
        ecs,
        cluster,
        service,
        &target.task_definition,
        Some(options),
        options.max_retries,
    )
    .await
    .map_err(|e| {
        let hint = match error_code(&e) {
            Some("AccessDeniedException") => {
                "allow ecs:UpdateService and iam:PassRole on the task roles"
            }
            Some("InvalidParameterException") | Some("ClientException") => {
                "ECS rejected the update; check the service's configuration"
            }
            _ => "check the credentials and region",
        };
        anyhow!(
            "failed to update service {service} in cluster {cluster}: {} ({hint})",
            error_text(&e)
        )
    })?;
    let primary = updated
        .service()
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
        })
        .filter(|d| d.task_definition() == Some(target.task_definition.as_str()))
        .and_then(|d| d.id())
        .ok_or_else(|| {
            anyhow!(
                "UpdateService for {service} answered without a PRIMARY deployment of {}",
                short_name(&target.task_definition)
            )
        })?
        .to_owned();
    let service_deployment_arn = find_service_deployment(ecs, cluster, service, started_at).await;
    // Events ECS had before our update are history, not progress.
    let seen_events = updated
        .service()
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
        short_name(&target.previous_task_definition),
        short_name(&target.task_definition)
    ));
    let max_failed_tasks = match (options.max_failed_tasks, target.breaker_enabled) {
        (Some(max), _) => Some(max),
        (None, true) => None,
        (None, false) => Some(verdict::default_failed_task_threshold(
            options
                .desired_count
                .unwrap_or_else(|| updated.service().map_or(1, Service::desired_count)),
        )),
    };
    Ok(Tracked {
        target: target.clone(),
        watch: Watch {
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
        last_stage: None,
        stopped_tasks: Vec::new(),
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
            request
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .send()
                .await
        },
        async || {
            let described = crate::ecs::describe_services(ecs, cluster, &[service.to_owned()])
                .await
                .ok()?;
            let current = described.services.into_iter().next()?;
            let started = current.deployments().iter().any(|d| {
                d.status() == Some("PRIMARY")
                    && d.task_definition() == Some(task_definition)
                    && d.created_at()
                        .is_some_and(|t| SystemTime::try_from(*t).is_ok_and(|t| t >= since))
            });
            started.then(|| UpdateServiceOutput::builder().service(current).build())
        },
    )
    .await
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
    ecs: &Client,
    cluster: &str,
    tracked: &mut [Tracked],
    options: &DeployOptions,
    runner: &Runner,
) -> Result<()> {
    let deadline = Instant::now() + options.timeout;
    let mut interval = POLL_INTERVAL;
    loop {
        let pending: Vec<usize> = (0..tracked.len())
            .filter(|&i| tracked[i].result.is_none())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for &i in &pending {
                tracked[i].result = Some(DeployResult::Failed(format!(
                    "timed out after {} minutes with {} still in progress; ECS goes on with it",
                    options.timeout.as_secs_f64() / 60.0,
                    tracked[i].state()
                )));
            }
            return Ok(());
        }
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
        let names: Vec<String> = pending
            .iter()
            .map(|&i| tracked[i].target.service.clone())
            .collect();
        let services = match crate::ecs::describe_services(ecs, cluster, &names).await {
            Ok(described) => {
                interval = POLL_INTERVAL;
                described.services
            }
            Err(e) if error_code(&e) == Some("ThrottlingException") => {
                interval = (interval * 2).min(MAX_POLL_INTERVAL);
                runner.info(&format!(
                    "ECS is throttling DescribeServices ({}); next poll in {}s",
                    error_text(&e),
                    interval.as_secs()
                ));
                continue;
            }
            Err(e) => {
                let states: Vec<String> = pending.iter().map(|&i| tracked[i].state()).collect();
                return Err(anyhow!(
                    "failed to describe services in cluster {cluster} while waiting for {}: {}",
                    states.join(", "),
                    error_text(&e)
                ));
            }
        };
        for i in pending {
            let Some(service) = services
                .iter()
                .find(|s| s.service_name() == Some(tracked[i].target.service.as_str()))
            else {
                tracked[i].result = Some(DeployResult::Failed(
                    "the service disappeared during the deployment".into(),
                ));
                continue;
            };
            observe(ecs, cluster, &mut tracked[i], service, options, runner).await;
        }
    }
}

async fn observe(
    ecs: &Client,
    cluster: &str,
    tracked: &mut Tracked,
    service: &Service,
    options: &DeployOptions,
    runner: &Runner,
) {
    let name = tracked.target.service.clone();
    report_events(tracked, service, runner);
    let view = service_view(service);
    // Rolling deployments are judged from DescribeServices alone; the record
    // explains a rollback, and native strategies report their stages in it.
    let record = match &tracked.service_deployment_arn {
        Some(arn)
            if tracked.target.native_strategy || verdict::needs_record(&tracked.watch, &view) =>
        {
            describe_service_deployment(ecs, arn).await
        }
        _ => None,
    };
    let stage = record.as_ref().and_then(|r| r.lifecycle_stage.clone());
    if let Some(stage) = stage.filter(|_| tracked.target.native_strategy) {
        if tracked.last_stage.as_ref() != Some(&stage) {
            runner.info(&format!("{name}: stage {stage}"));
            tracked.last_stage = Some(stage);
        }
    }
    if let Some(ours) = view
        .deployments
        .iter()
        .find(|d| d.id == tracked.watch.deployment_id)
    {
        let counts = (ours.running, ours.pending, ours.failed_tasks);
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
    tracked.result = match verdict::judge(&tracked.watch, &view, record.as_ref()) {
        Verdict::InProgress => None,
        Verdict::Succeeded => Some(DeployResult::Succeeded),
        Verdict::Failed(failure) => {
            // The reasons tasks stopped are the why of most failures.
            report_stopped_tasks(ecs, cluster, tracked, runner).await;
            let mut message = failure.reason;
            if failure.by_threshold {
                message.push_str(&restore(ecs, cluster, &tracked.target, options).await);
            }
            Some(DeployResult::Failed(message))
        }
    };
}

fn report_events(tracked: &mut Tracked, service: &Service, runner: &Runner) {
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
        runner.info(&format!(
            "{}: {}",
            tracked.target.service,
            event.message().unwrap_or_default()
        ));
    }
}

/// Prints the newly stopped tasks of our deployment, grouped by reason.
async fn report_stopped_tasks(ecs: &Client, cluster: &str, tracked: &mut Tracked, runner: &Runner) {
    let Ok(listed) = ecs
        .list_tasks()
        .cluster(cluster)
        .started_by(&tracked.watch.deployment_id)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
        .send()
        .await
    else {
        return;
    };
    let new: Vec<String> = listed
        .task_arns()
        .iter()
        .filter(|arn| !tracked.seen_tasks.contains(*arn))
        .take(100)
        .cloned()
        .collect();
    if new.is_empty() {
        return;
    }
    let Ok(described) = ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(new))
        .send()
        .await
    else {
        return;
    };
    let mut groups: Vec<(String, usize)> = Vec::new();
    for task in described.tasks() {
        tracked
            .seen_tasks
            .insert(task.task_arn().unwrap_or_default().to_owned());
        let exits: Vec<String> = task
            .containers()
            .iter()
            .map(|c| match c.exit_code() {
                Some(code) => format!("{} exited {code}", c.name().unwrap_or("?")),
                None => format!(
                    "{}: {}",
                    c.name().unwrap_or("?"),
                    c.reason().unwrap_or("did not run")
                ),
            })
            .collect();
        let line = format!(
            "{} ({})",
            task.stopped_reason().unwrap_or("no reason given"),
            exits.join(", ")
        );
        match groups.iter_mut().find(|(l, _)| *l == line) {
            Some((_, count)) => *count += 1,
            None => groups.push((line, 1)),
        }
    }
    for (line, count) in groups {
        let line = format!("{count} task(s) stopped: {line}");
        runner.info(&format!("{}: {line}", tracked.target.service));
        tracked.stopped_tasks.push(line);
    }
}

/// Our threshold failed the deployment; ECS would keep retrying, so put the
/// previous task definition back when allowed. Returns what to add to the
/// failure message.
async fn restore(ecs: &Client, cluster: &str, target: &Target, options: &DeployOptions) -> String {
    let previous = short_name(&target.previous_task_definition);
    if !options.rollback_on_failure {
        return format!(
            "; {previous} was not restored (rollback-on-failure is false), so ECS keeps trying"
        );
    }
    match update_service(
        ecs,
        cluster,
        &target.service,
        &target.previous_task_definition,
        None,
        options.max_retries,
    )
    .await
    {
        Ok(_) => format!("; restored {previous}"),
        Err(e) => format!(
            "; restoring {previous} failed: {} — restore it by hand",
            error_text(&e)
        ),
    }
}

async fn describe_service_deployment(ecs: &Client, arn: &str) -> Option<ServiceDeploymentView> {
    let output = ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .ok()?;
    let record = output.service_deployments().first()?;
    Some(ServiceDeploymentView {
        status: record
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: record.status_reason().map(str::to_owned),
        rollback_reason: record
            .rollback()
            .and_then(|r| r.reason())
            .map(str::to_owned),
        lifecycle_stage: record.lifecycle_stage().map(|s| s.as_str().to_owned()),
    })
}

fn service_view(service: &Service) -> ServiceView {
    ServiceView {
        status: service.status().unwrap_or_default().to_owned(),
        deployments: service
            .deployments()
            .iter()
            .map(|d| DeploymentView {
                id: d.id().unwrap_or_default().to_owned(),
                status: d.status().unwrap_or_default().to_owned(),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                rollout_state: d.rollout_state().map(|s| s.as_str().to_owned()),
                rollout_state_reason: d.rollout_state_reason().map(str::to_owned),
                desired: d.desired_count(),
                pending: d.pending_count(),
                running: d.running_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect(),
    }
}
