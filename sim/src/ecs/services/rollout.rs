//! The rollout of a service's deployments over time: PRIMARY and ACTIVE
//! deployments, service deployments, the circuit breaker and alarms,
//! blue/green and canary lifecycle stages with their PAUSE hooks and
//! traffic weights, rollbacks, and the service events they leave.

use super::targets::targets_deregistered;
use super::*;

/// The `enable` and `rollback` flags of one of the service's rollback
/// monitors: `deploymentCircuitBreaker` or `alarms`.
fn rollback_monitor(service: &Service, monitor: &str) -> (bool, bool) {
    let configuration = config_value(service, "deploymentConfiguration");
    let flag = |key: &str| {
        configuration
            .pointer(&format!("/{monitor}/{key}"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    (flag("enable"), flag("rollback"))
}

/// ECS's canary share when `canaryConfiguration.canaryPercent` is absent.
const DEFAULT_CANARY_PERCENT: f64 = 5.0;

impl Strategy {
    /// The strategy of a service's deployment configuration.
    fn of(configuration: &Value) -> Strategy {
        match str_field(configuration, "strategy") {
            Some("BLUE_GREEN") => Strategy::BlueGreen,
            Some("CANARY") => Strategy::Canary {
                percent: configuration
                    .pointer("/canaryConfiguration/canaryPercent")
                    .and_then(Value::as_f64)
                    .unwrap_or(DEFAULT_CANARY_PERCENT),
            },
            _ => Strategy::Rolling,
        }
    }

    /// Whether the deployment goes through every LifecycleStage (and so can
    /// pause at PAUSE hooks), as blue/green and canary deployments do.
    fn is_staged(self) -> bool {
        !matches!(self, Strategy::Rolling)
    }
}

/// The newest service deployment that targeted `task_definition`: the
/// service revision that runs it (after a rollback, the one rolled back to).
pub(super) fn revision_running<'a>(
    service: &'a Service,
    task_definition: &str,
) -> Option<&'a ServiceDeployment> {
    service
        .service_deployments
        .iter()
        .rev()
        .find(|record| record.target_task_definition == task_definition)
}

/// The failed tasks that trip the circuit breaker, as its
/// thresholdConfiguration says: COUNT is the value itself; the percentages
/// (BOUNDED_PERCENT, the default, with 50, the default value) take that
/// share of the desired count, rounded up, the bounded one within 3..200.
fn breaker_threshold(configuration: &Value, desired: i64) -> i64 {
    let threshold = configuration.pointer("/deploymentCircuitBreaker/thresholdConfiguration");
    let kind = threshold
        .and_then(|t| str_field(t, "type"))
        .unwrap_or("BOUNDED_PERCENT");
    let value = threshold
        .and_then(|t| t.get("value"))
        .and_then(Value::as_i64)
        .unwrap_or(50);
    let share = (desired * value + 99) / 100;
    match kind {
        "COUNT" => value,
        "UNBOUNDED_PERCENT" => share.max(1),
        _ => share.clamp(3, 200),
    }
}

/// A rollback monitor's status as a new service deployment starts.
fn monitoring(enabled: bool) -> MonitorStatus {
    if enabled {
        MonitorStatus::Monitoring
    } else {
        MonitorStatus::Disabled
    }
}

pub(super) fn add_service_event(world: &mut World, service: usize, message: String) {
    let id = world.uuid();
    let event = json!({
        "id": id,
        "createdAt": world.epoch(world.now),
        "message": message,
    });
    world.ecs.services[service].events.insert(0, event);
}

/// Creates a new PRIMARY deployment (and its service deployment) running
/// `task_definition`; the previous PRIMARY becomes ACTIVE.
pub(in crate::ecs) fn new_deployment(
    world: &mut World,
    index: usize,
    task_definition: &str,
    timeline: Option<RolloutTimeline>,
) -> String {
    let id = format!("ecs-svc/{}", world.digits(19));
    let deployment_suffix = world.alphanumeric_upper(22);
    let revision_suffix = world.digits(19);
    let resource = {
        let service = &world.ecs.services[index];
        format!("{}/{}", service.cluster, service.name)
    };
    let arn = world.arn(
        "ecs",
        &format!("service-deployment/{resource}/{deployment_suffix}"),
    );
    let target_revision = world.arn(
        "ecs",
        &format!("service-revision/{resource}/{revision_suffix}"),
    );
    let now = world.now;
    let service = &mut world.ecs.services[index];
    let configuration = config_value(service, "deploymentConfiguration");
    let strategy = Strategy::of(&configuration);
    let (breaker, _) = rollback_monitor(service, "deploymentCircuitBreaker");
    let (alarms, _) = rollback_monitor(service, "alarms");
    let threshold = timeline
        .as_ref()
        .and_then(|timeline| timeline.failed_tasks)
        .map_or_else(
            || breaker_threshold(&configuration, service.desired_count),
            i64::from,
        );
    let service_deployment = ServiceDeployment {
        arn,
        target_revision,
        target_task_definition: task_definition.to_owned(),
        // What runs now.
        source_revision: revision_running(service, &service.task_definition)
            .or(service.service_deployments.last())
            .map(|previous| previous.target_revision.clone()),
        status: ServiceDeploymentStatus::InProgress,
        status_reason: None,
        strategy,
        rollout_time: seconds(timeline.as_ref().map_or(1.0, |t| t.seconds)),
        created_at: now,
        updated_at: now,
        finished_at: None,
        rollback: None,
        circuit_breaker_status: monitoring(breaker),
        failure_count: 0,
        threshold,
        alarms_status: monitoring(alarms),
        watched_alarms: if alarms {
            str_list(&configuration["alarms"], "alarmNames")
        } else {
            Vec::new()
        },
        triggered_alarms: Vec::new(),
        hooks: if strategy.is_staged() {
            lifecycle_hooks(&configuration, timeline.as_ref())
        } else {
            Vec::new()
        },
        paused_since: None,
        paused_for: Duration::ZERO,
        held: Vec::new(),
    };
    for previous in &mut service.service_deployments {
        if previous.status == ServiceDeploymentStatus::InProgress {
            previous.status = ServiceDeploymentStatus::Stopped;
            previous.status_reason = Some("A newer service deployment started.".to_string());
            previous.finished_at = Some(now);
            resolve_pause(previous, HookStatus::Failed, now);
        }
    }
    service.service_deployments.push(service_deployment);
    let record = service.service_deployments.len() - 1;
    let reason = format!("ECS deployment {id} in progress.");
    make_primary(service, &id, task_definition, now, reason, timeline, record);
    id
}

/// Puts a new PRIMARY deployment, rolling out, in front of the others,
/// which become ACTIVE, and points the service at its task definition.
fn make_primary(
    service: &mut Service,
    id: &str,
    task_definition: &str,
    now: Duration,
    reason: String,
    timeline: Option<RolloutTimeline>,
    service_deployment: usize,
) {
    for deployment in &mut service.deployments {
        deployment.status = DeploymentStatus::Active;
    }
    service.task_definition = task_definition.to_string();
    service.deployments.insert(
        0,
        Deployment {
            id: id.to_string(),
            status: DeploymentStatus::Primary,
            task_definition: task_definition.to_string(),
            desired_count: service.desired_count,
            running_count: 0,
            failed_tasks: 0,
            created_at: now,
            updated_at: now,
            rollout_state: RolloutState::InProgress,
            rollout_state_reason: reason,
            tasks_running_at: None,
            timeline,
            service_deployment,
        },
    );
}

/// The timeline entry for the next deployment UpdateService or
/// UpdateExpressGatewayService starts on a service (entries for deployments
/// in progress at start aside).
pub(super) fn next_rollout_timeline(world: &mut World, index: usize) -> Option<RolloutTimeline> {
    let (cluster, name) = {
        let service = &world.ecs.services[index];
        (service.cluster.clone(), service.name.clone())
    };
    let started = world
        .ecs
        .rollouts_started
        .entry((cluster.clone(), name.clone()))
        .or_default();
    let nth = *started;
    *started += 1;
    nth_or_last(
        world
            .scenario
            .timelines
            .deployments
            .iter()
            .filter(|entry| entry.cluster == cluster && entry.service == name && !entry.at_start)
            .collect(),
        nth,
    )
}

pub(in crate::ecs) fn start_rollout(
    world: &mut World,
    index: usize,
    task_definition: &str,
    timeline: Option<RolloutTimeline>,
) {
    let id = new_deployment(world, index, task_definition, timeline.clone());
    let (name, desired) = {
        let service = &world.ecs.services[index];
        (service.name.clone(), service.desired_count)
    };
    let task_ids: Vec<String> = (0..desired).map(|_| world.hex(32)).collect();
    let started: Vec<String> = task_ids.iter().map(|id| format!("(task {id})")).collect();
    add_service_event(
        world,
        index,
        format!(
            "(service {name}) has started {desired} tasks: {}.",
            started.join(" ")
        ),
    );
    // Failing deployments have their failed tasks (tasksFail) or none.
    let completes = timeline
        .as_ref()
        .is_none_or(|timeline| timeline.outcome == RolloutOutcome::Complete);
    if completes {
        start_deployment_tasks(world, index, &id, task_ids, timeline.as_ref());
    }
    schedule_rollout_step(world, index, &id, timeline.as_ref());
    let hook_times: Vec<Duration> = {
        let record = primary_record(&mut world.ecs.services[index]);
        record
            .hooks
            .iter()
            .map(|hook| stage_start(record.rollout_time, hook.stage))
            .collect()
    };
    for (hook, after) in hook_times.into_iter().enumerate() {
        schedule_step(world, index, &id, after, RolloutStep::HookReached(hook));
    }
}

fn schedule_step(world: &mut World, service: usize, id: &str, after: Duration, step: RolloutStep) {
    let event = Event::Rollout {
        service,
        deployment_id: id.to_string(),
        step,
    };
    world.schedule(after, event);
}

fn schedule_rollout_step(
    world: &mut World,
    service: usize,
    deployment_id: &str,
    timeline: Option<&RolloutTimeline>,
) {
    let (outcome, after) = timeline.map_or((RolloutOutcome::Complete, seconds(1.0)), |t| {
        (t.outcome, seconds(t.seconds))
    });
    let drain = timeline
        .filter(|t| t.outcome == RolloutOutcome::Complete)
        .and_then(|t| t.drain_seconds)
        .map(seconds);
    if let Some(drain) = drain {
        let running = after.saturating_sub(drain);
        schedule_step(
            world,
            service,
            deployment_id,
            running,
            RolloutStep::TasksRunning,
        );
    }
    let step = match outcome {
        RolloutOutcome::Complete => RolloutStep::Completed,
        RolloutOutcome::TasksFail => RolloutStep::TaskFailed,
        RolloutOutcome::Alarm => RolloutStep::AlarmsFired,
    };
    schedule_step(world, service, deployment_id, after, step);
}

/// The service deployment of the service's PRIMARY deployment.
fn primary_record(service: &mut Service) -> &mut ServiceDeployment {
    let record = service.deployments[0].service_deployment;
    &mut service.service_deployments[record]
}

/// Applies a scheduled step of rollout `id`, if it is still its service's
/// PRIMARY deployment rolling out (a rollback or a newer deployment makes
/// the rest of its timeline moot).
pub(crate) fn rollout_step(world: &mut World, index: usize, id: &str, step: RolloutStep) {
    let rolling = world.ecs.services[index]
        .deployments
        .first()
        .is_some_and(|d| d.id == id && d.rollout_state == RolloutState::InProgress);
    if !rolling {
        return;
    }
    match step {
        RolloutStep::TasksRunning => tasks_running(world, index),
        RolloutStep::Completed => complete_deployment(world, index, id),
        RolloutStep::TaskFailed => deployment_task_failed(world, index, id),
        RolloutStep::AlarmsFired => alarms_fired(world, index, id),
        RolloutStep::HookReached(hook) => hook_reached(world, index, id, hook),
        RolloutStep::HookTimedOut(hook) => hook_timed_out(world, index, hook),
        RolloutStep::LambdaAnswered(hook) => lambda_answered(world, index, hook),
    }
}

/// Every task of the PRIMARY deployment runs; the old deployments' tasks
/// begin draining.
fn tasks_running(world: &mut World, index: usize) {
    let now = world.now;
    let service = &mut world.ecs.services[index];
    let draining: i64 = service.deployments[1..]
        .iter()
        .map(|d| d.running_count)
        .sum();
    let deployment = &mut service.deployments[0];
    deployment.running_count = deployment.desired_count;
    deployment.updated_at = now;
    deployment.tasks_running_at = Some(now);
    let deferred = early_success_deferred(service);
    let record = primary_record(service);
    record.updated_at = now;
    // Early success with a DEFERRED clean-up: the deployment succeeds now,
    // and its old tasks drain in the background.
    if deferred {
        finish_record(record, ServiceDeploymentStatus::Successful, now);
    }
    let name = service.name.clone();
    targets_deregistered(world, index, draining);
    add_service_event(
        world,
        index,
        format!("(service {name}) has begun draining connections on {draining} tasks."),
    );
}

/// Whether the service's rolling deployments succeed early and leave the
/// old tasks to drain afterwards (`earlySuccessCriteria` enabled, with
/// `sourceServiceRevisionCleanup: DEFERRED`); the healthy share is reached
/// here when every new task runs.
fn early_success_deferred(service: &Service) -> bool {
    let configuration = config_value(service, "deploymentConfiguration");
    let criteria = configuration.get("earlySuccessCriteria");
    !Strategy::of(&configuration).is_staged()
        && criteria
            .and_then(|c| c.get("enable"))
            .and_then(Value::as_bool)
            == Some(true)
        && criteria.and_then(|c| str_field(c, "sourceServiceRevisionCleanup")) == Some("DEFERRED")
}

/// The service deployment ended with `status`: its monitors are done.
fn finish_record(record: &mut ServiceDeployment, status: ServiceDeploymentStatus, now: Duration) {
    record.status = status;
    record.finished_at = Some(now);
    record.updated_at = now;
    for status in [
        &mut record.circuit_breaker_status,
        &mut record.alarms_status,
    ] {
        if *status == MonitorStatus::Monitoring {
            *status = MonitorStatus::MonitoringComplete;
        }
    }
}

pub(in crate::ecs) fn complete_deployment(world: &mut World, index: usize, id: &str) {
    let now = world.now;
    let service = &mut world.ecs.services[index];
    let replaced: Vec<String> = service
        .deployments
        .iter()
        .filter(|deployment| deployment.id != id)
        .map(|deployment| deployment.id.clone())
        .collect();
    service.deployments.retain(|deployment| deployment.id == id);
    let Some(deployment) = service.deployments.first_mut() else {
        return;
    };
    deployment.running_count = deployment.desired_count;
    deployment.rollout_state = RolloutState::Completed;
    deployment.rollout_state_reason = format!("ECS deployment {id} completed.");
    deployment.updated_at = now;
    // The replaced tasks were told to stop when the drain began, or now.
    let stopping_at = *deployment.tasks_running_at.get_or_insert(now);
    let record = &mut service.service_deployments[deployment.service_deployment];
    // An early success has ended the service deployment already.
    if record.status == ServiceDeploymentStatus::RollbackInProgress {
        finish_record(record, ServiceDeploymentStatus::RollbackSuccessful, now);
    } else if record.finished_at.is_none() {
        finish_record(record, ServiceDeploymentStatus::Successful, now);
    }
    let name = service.name.clone();
    stop_replaced_tasks(world, index, &replaced, id, stopping_at);
    add_service_event(
        world,
        index,
        format!("(service {name}) (deployment {id}) deployment completed."),
    );
    add_service_event(
        world,
        index,
        format!("(service {name}) has reached a steady state."),
    );
}

fn deployment_task_failed(world: &mut World, index: usize, id: &str) {
    let (task_definition, timeline) = {
        let deployment = &world.ecs.services[index].deployments[0];
        (
            deployment.task_definition.clone(),
            deployment.timeline.clone(),
        )
    };
    let (exit_code, lines) = timeline
        .as_ref()
        .map_or((1, Vec::new()), |t| (t.exit_code, t.logs.clone()));
    let task = stopped_deployment_task(world, index, id, &task_definition, exit_code, lines);
    let now = world.now;
    let service = &mut world.ecs.services[index];
    let (breaker, rollback) = rollback_monitor(service, "deploymentCircuitBreaker");
    let deployment = &mut service.deployments[0];
    deployment.failed_tasks += 1;
    deployment.updated_at = now;
    let failed = deployment.failed_tasks;
    let record = primary_record(service);
    record.failure_count = failed;
    record.updated_at = now;
    let threshold = record.threshold;
    let name = service.name.clone();
    add_service_event(
        world,
        index,
        format!("(service {name}) has stopped 1 running tasks: (task {task})."),
    );
    if breaker && failed >= threshold {
        let record = primary_record(&mut world.ecs.services[index]);
        record.circuit_breaker_status = MonitorStatus::Triggered;
        let trip = Trip {
            monitor: "circuit breaker",
            cause: "tasks failed to start.".to_string(),
            rolled_back:
                "Service deployment rolled back because the circuit breaker threshold was exceeded.",
            stopped: "Service deployment stopped because the circuit breaker was triggered.",
            rollback,
        };
        fail_watched_rollout(world, index, id, trip);
    } else {
        schedule_rollout_step(world, index, id, timeline.as_ref());
    }
}

/// The timeline's alarms go into ALARM. Those the deployment watches fail
/// it; alarms it does not watch change nothing, and it completes.
fn alarms_fired(world: &mut World, index: usize, id: &str) {
    let service = &mut world.ecs.services[index];
    let (_, rollback) = rollback_monitor(service, "alarms");
    let fired = service.deployments[0]
        .timeline
        .as_ref()
        .and_then(|timeline| timeline.alarm_names.clone());
    let record = primary_record(service);
    let triggered: Vec<String> = record
        .watched_alarms
        .iter()
        .filter(|name| fired.as_ref().is_none_or(|fired| fired.contains(name)))
        .cloned()
        .collect();
    if triggered.is_empty() {
        complete_deployment(world, index, id);
        return;
    }
    let cause = format!(
        "CloudWatch alarm(s) {} went into ALARM.",
        triggered.join(", ")
    );
    record.alarms_status = MonitorStatus::Triggered;
    record.triggered_alarms = triggered;
    let trip = Trip {
        monitor: "alarms",
        cause,
        rolled_back: "Service deployment rolled back because deployment alarms went into ALARM.",
        stopped: "Service deployment stopped because deployment alarms went into ALARM.",
        rollback,
    };
    fail_watched_rollout(world, index, id, trip);
}

/// A rollback monitor that tripped.
struct Trip {
    /// "circuit breaker" or "alarms", as the deployments' reasons name it.
    monitor: &'static str,
    /// Why, as the service event and the rolloutStateReason say it.
    cause: String,
    /// The service deployment's statusReason when it rolls back, or else stops.
    rolled_back: &'static str,
    stopped: &'static str,
    /// Whether the monitor rolls back rather than stops.
    rollback: bool,
}

/// Fails rollout `id` because a rollback monitor tripped: a service event
/// says why, then it rolls back or stops as the monitor is set to.
fn fail_watched_rollout(world: &mut World, index: usize, id: &str, trip: Trip) {
    let now = world.now;
    let service = &mut world.ecs.services[index];
    primary_record(service).updated_at = now;
    let name = service.name.clone();
    add_service_event(
        world,
        index,
        format!(
            "(service {name}) (deployment {id}) deployment failed: {}",
            trip.cause
        ),
    );
    let ending = if trip.rollback {
        RolloutEnd::RollBack {
            reason: trip.rolled_back,
            deployment_reason: format!(
                "ECS deployment {}: rolling back to deploymentId",
                trip.monitor
            ),
        }
    } else {
        RolloutEnd::Stop(trip.stopped)
    };
    let failure = format!("ECS deployment {}: {}", trip.monitor, trip.cause);
    end_rollout(world, index, &failure, ending);
}

/// How a failed or stopped rollout ends.
pub(super) enum RolloutEnd {
    /// Back to the previous deployment's task definition: the service
    /// deployment's reason, and the rollback deployment's reason, which
    /// names the deployment it returns to.
    RollBack {
        reason: &'static str,
        deployment_reason: String,
    },
    /// Where it is, with the service deployment's reason.
    Stop(&'static str),
}

/// Fails the PRIMARY deployment with `failure`, then rolls back to the
/// previous deployment (when there is one) or stops.
pub(super) fn end_rollout(world: &mut World, index: usize, failure: &str, ending: RolloutEnd) {
    let now = world.now;
    let started_epoch = world.epoch(now);
    let rollback_id = format!("ecs-svc/{}", world.digits(19));
    let service = &mut world.ecs.services[index];
    let deployment = &mut service.deployments[0];
    deployment.rollout_state = RolloutState::Failed;
    deployment.rollout_state_reason = failure.to_string();
    deployment.updated_at = now;
    let timeline = deployment.timeline.clone();
    let record_index = deployment.service_deployment;
    let previous = service
        .deployments
        .get(1)
        .map(|d| (d.id.clone(), d.task_definition.clone()));
    let record = &mut service.service_deployments[record_index];
    record.updated_at = now;
    // A rollout stopped while paused leaves nothing to continue.
    resolve_pause(record, HookStatus::Failed, now);
    let (reason, deployment_reason, (previous_id, previous_definition)) = match (ending, previous) {
        (
            RolloutEnd::RollBack {
                reason,
                deployment_reason,
            },
            Some(previous),
        ) => (reason, deployment_reason, previous),
        (RolloutEnd::Stop(reason), _) | (RolloutEnd::RollBack { reason, .. }, None) => {
            record.status = ServiceDeploymentStatus::Stopped;
            record.status_reason = Some(reason.to_string());
            record.finished_at = Some(now);
            return;
        }
    };
    record.status = ServiceDeploymentStatus::RollbackInProgress;
    record.status_reason = Some(reason.to_string());
    record.rollback = Some(object(vec![
        ("reason", json!(reason)),
        ("startedAt", json!(started_epoch)),
        (
            "serviceRevisionArn",
            record
                .source_revision
                .clone()
                .map_or(Value::Null, Value::from),
        ),
    ]));
    make_primary(
        service,
        &rollback_id,
        &previous_definition,
        now,
        format!("{deployment_reason} {previous_id}."),
        None,
        record_index,
    );
    let after = seconds(timeline.map_or(1.0, |t| t.seconds));
    schedule_step(world, index, &rollback_id, after, RolloutStep::Completed);
}

/// The rollout reaches the stage of its `hook`-th lifecycle hook: its other
/// transitions are held until a PAUSE hook is continued, rolled back or
/// times out, or an AWS_LAMBDA hook's function answers.
fn hook_reached(world: &mut World, index: usize, id: &str, hook: usize) {
    let now = world.now;
    let lambda_seconds = world.ecs.services[index].deployments[0]
        .timeline
        .as_ref()
        .and_then(|timeline| timeline.lambda_hook_seconds)
        .map_or(seconds(0.5), seconds);
    let prefix = match primary_record(&mut world.ecs.services[index]).hooks[hook].function {
        Some(_) => "ecs-hook",
        None => "ecs-pause",
    };
    let hook_id = format!("{prefix}-{}", world.alphanumeric_upper(43));
    let held = world.unschedule(|event| {
        matches!(event, Event::Rollout { service, deployment_id, .. }
            if *service == index && deployment_id == id)
    });
    let record = primary_record(&mut world.ecs.services[index]);
    record.paused_since = Some(now);
    record.updated_at = now;
    record.held = held;
    let reached = &mut record.hooks[hook];
    let (status, answer, step) = match reached.function {
        Some(_) => (
            HookStatus::InProgress,
            lambda_seconds,
            RolloutStep::LambdaAnswered(hook),
        ),
        None => (
            HookStatus::AwaitingAction,
            reached.timeout,
            RolloutStep::HookTimedOut(hook),
        ),
    };
    reached.reached = Some(ReachedHook {
        id: hook_id,
        status,
        expires_at: now + reached.timeout,
    });
    schedule_step(world, index, id, answer, step);
}

/// The `hook`-th AWS_LAMBDA hook's function answers: the rollout carries
/// on, or (`lambdaHookFails`) rolls back.
fn lambda_answered(world: &mut World, index: usize, hook: usize) {
    let fails = world.ecs.services[index].deployments[0]
        .timeline
        .as_ref()
        .is_some_and(|timeline| timeline.lambda_hook_fails);
    let running = primary_record(&mut world.ecs.services[index]).hooks[hook]
        .reached
        .as_ref()
        .is_some_and(|reached| reached.status == HookStatus::InProgress);
    if !running {
        return;
    }
    let (status, action) = match fails {
        true => (HookStatus::Failed, HookAction::Rollback),
        false => (HookStatus::Succeeded, HookAction::Continue),
    };
    act_on_pause(
        world,
        index,
        status,
        action,
        "Service deployment rolled back because a lifecycle hook failed.",
    );
}

/// Ends the record's pause, if it has one, giving the hook awaiting action
/// `status`, and marks the record updated; answers the rollout's held
/// transitions.
fn resolve_pause(
    record: &mut ServiceDeployment,
    status: HookStatus,
    now: Duration,
) -> Vec<(Duration, Event)> {
    for hook in record
        .hooks
        .iter_mut()
        .filter_map(|hook| hook.reached.as_mut())
    {
        if matches!(
            hook.status,
            HookStatus::AwaitingAction | HookStatus::InProgress
        ) {
            hook.status = status;
        }
    }
    if let Some(since) = record.paused_since.take() {
        record.paused_for += now.saturating_sub(since);
    }
    record.updated_at = now;
    std::mem::take(&mut record.held)
}

/// Resolves the hook the rollout waits on with `status`, then carries on
/// (CONTINUE: the held transitions take the time they had left) or rolls
/// back (ROLLBACK) with the service deployment's `rollback_reason`.
pub(super) fn act_on_pause(
    world: &mut World,
    index: usize,
    status: HookStatus,
    action: HookAction,
    rollback_reason: &'static str,
) {
    let now = world.now;
    let held = resolve_pause(primary_record(&mut world.ecs.services[index]), status, now);
    if action == HookAction::Continue {
        for (left, event) in held {
            world.schedule(left, event);
        }
    } else {
        let ending = RolloutEnd::RollBack {
            reason: rollback_reason,
            deployment_reason: "ECS deployment lifecycle hook: rolling back to deploymentId"
                .to_string(),
        };
        end_rollout(
            world,
            index,
            "ECS deployment rolled back at a lifecycle hook.",
            ending,
        );
    }
}

/// The `hook`-th PAUSE hook's time is up: if it still awaits action, its
/// timeoutAction applies.
fn hook_timed_out(world: &mut World, index: usize, hook: usize) {
    let paused = &primary_record(&mut world.ecs.services[index]).hooks[hook];
    let awaiting = paused
        .reached
        .as_ref()
        .is_some_and(|reached| reached.status == HookStatus::AwaitingAction);
    if awaiting {
        let action = paused.timeout_action;
        act_on_pause(
            world,
            index,
            HookStatus::TimedOut,
            action,
            "Service deployment rolled back because a lifecycle hook timed out.",
        );
    }
}

/// When, in rollout time, a staged rollout reaches `stage`: rounded up
/// to the nanosecond, so that `lifecycle_stage` names that stage from that
/// very moment.
fn stage_start(rollout_time: Duration, stage: LifecycleStage) -> Duration {
    let nanos =
        (rollout_time.as_nanos() * stage as u128).div_ceil(LifecycleStage::ALL.len() as u128);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The PAUSE and AWS_LAMBDA hooks of a deployment configuration's
/// lifecycleHooks (a hook without targetType is AWS_LAMBDA, as ECS's
/// default), one per stage each names, in stage order. Stages a deployment
/// here never passes through (RECONCILE_SERVICE,
/// PRE_PRODUCTION_TRAFFIC_SHIFT) never hold it.
fn lifecycle_hooks(
    configuration: &Value,
    timeline: Option<&RolloutTimeline>,
) -> Vec<LifecycleHook> {
    let hooks = configuration
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut found: Vec<LifecycleHook> = hooks
        .iter()
        .flat_map(|hook| {
            let function = match str_field(hook, "targetType") {
                Some("PAUSE") => None,
                _ => Some(
                    str_field(hook, "hookTargetArn")
                        .unwrap_or_default()
                        .to_owned(),
                ),
            };
            let timeout_configuration = hook.get("timeoutConfiguration");
            let setting = |key: &str| timeout_configuration.and_then(|t| t.get(key));
            // AWS's defaults: a day, then roll back.
            let minutes = setting("timeoutInMinutes")
                .and_then(Value::as_f64)
                .unwrap_or(1440.0);
            let timeout = seconds(
                timeline
                    .and_then(|timeline| timeline.hook_timeout_seconds)
                    .unwrap_or(minutes * 60.0),
            );
            let timeout_action = setting("action")
                .and_then(Value::as_str)
                .and_then(HookAction::parse)
                .unwrap_or(HookAction::Rollback);
            str_list(hook, "lifecycleStages")
                .into_iter()
                .filter_map(move |stage| {
                    LifecycleStage::parse(&stage).map(|stage| LifecycleHook {
                        stage,
                        function: function.clone(),
                        timeout,
                        timeout_action,
                        reached: None,
                    })
                })
        })
        .collect();
    found.sort_by_key(|hook| hook.stage);
    found
}

/// Where a deployment is in its lifecycle: a finished one cleans up, a
/// rolling one scales up, and a blue/green or canary one moves through its
/// stages evenly over its rollout time, which stands still while it is
/// paused.
pub(super) fn lifecycle_stage(world: &World, record: &ServiceDeployment) -> LifecycleStage {
    if record.finished_at.is_some() {
        return LifecycleStage::CleanUp;
    }
    if !record.strategy.is_staged() || record.status != ServiceDeploymentStatus::InProgress {
        return LifecycleStage::ScaleUp;
    }
    let progress = record
        .paused_since
        .unwrap_or(world.now)
        .saturating_sub(record.created_at)
        .saturating_sub(record.paused_for);
    let stages = LifecycleStage::ALL;
    let last = stages.len() - 1;
    let position = (progress.as_nanos() * stages.len() as u128)
        .checked_div(record.rollout_time.as_nanos())
        .map_or(last, |position| {
            usize::try_from(position).unwrap_or(last).min(last)
        });
    stages[position]
}

/// The test and production traffic the target revision of a blue/green or
/// canary deployment gets at a stage (none once rolled back); rolling
/// deployments shift no traffic explicitly.
pub(super) fn traffic_weights(
    record: &ServiceDeployment,
    stage: LifecycleStage,
) -> Option<(f64, f64)> {
    let rolled_back = matches!(
        record.status,
        ServiceDeploymentStatus::RollbackInProgress | ServiceDeploymentStatus::RollbackSuccessful
    );
    let all_from = |first: LifecycleStage| {
        if stage >= first && !rolled_back {
            100.0
        } else {
            0.0
        }
    };
    let production = match record.strategy {
        Strategy::Rolling => return None,
        Strategy::BlueGreen => all_from(LifecycleStage::ProductionTrafficShift),
        // The canary's share while production traffic shifts, the rest after.
        Strategy::Canary { percent }
            if stage == LifecycleStage::ProductionTrafficShift && !rolled_back =>
        {
            percent
        }
        Strategy::Canary { .. } => all_from(LifecycleStage::PostProductionTrafficShift),
    };
    Some((all_from(LifecycleStage::TestTrafficShift), production))
}

/// Points a CODE_DEPLOY service at the task definition a deployment shifted
/// traffic to, as a finished blue/green deployment leaves it.
pub(crate) fn set_service_task_definition(
    world: &mut World,
    cluster: &str,
    service: &str,
    reference: &str,
) {
    let arn = find_task_definition(world, reference)
        .map(|index| world.ecs.task_definitions[index].arn.clone());
    if let (Some(index), Some(arn)) = (find_service(world, cluster, service), arn) {
        let service = &mut world.ecs.services[index];
        service.task_definition = arn.clone();
        if let Some(primary) = service.deployments.first_mut() {
            primary.task_definition = arn;
        }
    }
}
