//! ECS clusters and services: deployments, service deployments, events,
//! rollouts over time and the circuit breaker.

use super::*;

fn cluster_name(reference: &str) -> &str {
    reference
        .split_once(":cluster/")
        .map_or(reference, |(_, name)| name)
}

/// The request's cluster (default "default"), which must exist.
pub(super) fn request_cluster(world: &World, body: &Value) -> Result<String, AwsError> {
    let name = cluster_name(str_field(body, "cluster").unwrap_or("default"));
    if world.ecs.clusters.iter().any(|cluster| cluster == name) {
        Ok(name.to_string())
    } else {
        Err(AwsError::client(
            "ClusterNotFoundException",
            "Cluster not found.",
        ))
    }
}

pub(super) fn cluster_arn(world: &World, cluster: &str) -> String {
    world.arn("ecs", &format!("cluster/{cluster}"))
}

pub(super) fn find_service(world: &World, cluster: &str, reference: &str) -> Option<usize> {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    world
        .ecs
        .services
        .iter()
        .position(|service| service.cluster == cluster && service.name == name)
}

pub(super) fn describe_clusters(world: &mut World, body: &Value) -> AwsResult {
    let mut requested = str_list(body, "clusters");
    if requested.is_empty() {
        requested.push("default".to_string());
    }
    let mut clusters = Vec::new();
    let mut failures = Vec::new();
    for reference in &requested {
        let name = cluster_name(reference);
        let arn = cluster_arn(world, name);
        if !world.ecs.clusters.iter().any(|cluster| cluster == name) {
            failures.push(json!({"arn": arn, "reason": "MISSING"}));
            continue;
        }
        let tasks_in = |status: &str| {
            world
                .ecs
                .tasks
                .iter()
                .filter(|task| task.cluster == name && task.last_status == status)
                .count()
        };
        let active_services = world
            .ecs
            .services
            .iter()
            .filter(|service| service.cluster == name && service.status == "ACTIVE")
            .count();
        clusters.push(json!({
            "clusterArn": arn,
            "clusterName": name,
            "status": "ACTIVE",
            "registeredContainerInstancesCount": 0,
            "runningTasksCount": tasks_in("RUNNING"),
            "pendingTasksCount": tasks_in("PROVISIONING"),
            "activeServicesCount": active_services,
        }));
    }
    Ok(json!({ "clusters": clusters, "failures": failures }))
}

pub(super) fn describe_services(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let requested = str_list(body, "services");
    if requested.is_empty() || requested.len() > 10 {
        return Err(invalid_parameter(
            "services must contain between 1 and 10 items.",
        ));
    }
    let mut services = Vec::new();
    let mut failures = Vec::new();
    for reference in &requested {
        match find_service(world, &cluster, reference) {
            Some(index) => services.push(render_service(world, index)),
            None => {
                let name = reference.rsplit('/').next().unwrap_or(reference);
                let arn = world.arn("ecs", &format!("service/{cluster}/{name}"));
                failures.push(json!({"arn": arn, "reason": "MISSING"}));
            }
        }
    }
    Ok(json!({ "services": services, "failures": failures }))
}

pub(super) fn list_services(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let arns: Vec<&str> = world
        .ecs
        .services
        .iter()
        .filter(|service| service.cluster == cluster && service.status != "INACTIVE")
        .map(|service| service.arn.as_str())
        .collect();
    Ok(json!({ "serviceArns": arns }))
}

fn config_value(service: &Service, key: &str) -> Value {
    service.config.get(key).cloned().unwrap_or(Value::Null)
}

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

/// A rollback monitor's status as a new service deployment starts.
fn monitoring(enabled: bool) -> &'static str {
    if enabled {
        "MONITORING"
    } else {
        "DISABLED"
    }
}

fn render_deployment(world: &World, service: &Service, deployment: &Deployment) -> Value {
    let pending = if deployment.rollout_state == "IN_PROGRESS" {
        deployment.desired_count - deployment.running_count
    } else {
        0
    };
    object(vec![
        ("id", json!(deployment.id)),
        ("status", json!(deployment.status)),
        ("taskDefinition", json!(deployment.task_definition)),
        ("desiredCount", json!(deployment.desired_count)),
        ("pendingCount", json!(pending)),
        ("runningCount", json!(deployment.running_count)),
        ("failedTasks", json!(deployment.failed_tasks)),
        ("createdAt", json!(world.epoch(deployment.created_at))),
        ("updatedAt", json!(world.epoch(deployment.updated_at))),
        ("launchType", config_value(service, "launchType")),
        (
            "capacityProviderStrategy",
            config_value(service, "capacityProviderStrategy"),
        ),
        ("platformVersion", config_value(service, "platformVersion")),
        (
            "platformFamily",
            if service.config.get("launchType") == Some(&json!("FARGATE")) {
                json!("Linux")
            } else {
                Value::Null
            },
        ),
        (
            "networkConfiguration",
            config_value(service, "networkConfiguration"),
        ),
        ("rolloutState", json!(deployment.rollout_state)),
        ("rolloutStateReason", json!(deployment.rollout_state_reason)),
    ])
}

fn render_service(world: &World, index: usize) -> Value {
    let service = &world.ecs.services[index];
    let running: i64 = service.deployments.iter().map(|d| d.running_count).sum();
    let primary_pending = service
        .deployments
        .first()
        .map_or(0, |d| d.desired_count - d.running_count)
        .max(0);
    let mut rendered = service.config.clone();
    rendered
        .entry("deploymentController")
        .or_insert_with(|| json!({"type": "ECS"}));
    rendered
        .entry("deploymentConfiguration")
        .or_insert_with(|| {
            json!({
                "deploymentCircuitBreaker": {"enable": false, "rollback": false},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            })
        });
    with_defaults(
        &mut rendered,
        &[
            ("schedulingStrategy", json!("REPLICA")),
            ("loadBalancers", json!([])),
            ("serviceRegistries", json!([])),
            ("placementConstraints", json!([])),
            ("placementStrategy", json!([])),
            ("propagateTags", json!("NONE")),
            ("enableECSManagedTags", json!(false)),
            ("enableExecuteCommand", json!(false)),
        ],
    );
    if rendered.get("launchType") == Some(&json!("FARGATE")) {
        with_defaults(&mut rendered, &[("platformFamily", json!("Linux"))]);
    }
    let current = service
        .service_deployments
        .last()
        .map_or(Value::Null, |sd| json!(sd.arn));
    let described = object(vec![
        ("serviceArn", json!(service.arn)),
        ("serviceName", json!(service.name)),
        ("clusterArn", json!(cluster_arn(world, &service.cluster))),
        ("status", json!(service.status)),
        ("desiredCount", json!(service.desired_count)),
        ("runningCount", json!(running.min(service.desired_count))),
        ("pendingCount", json!(primary_pending)),
        ("taskDefinition", json!(service.task_definition)),
        (
            "deployments",
            Value::Array(
                service
                    .deployments
                    .iter()
                    .map(|deployment| render_deployment(world, service, deployment))
                    .collect(),
            ),
        ),
        // DescribeServices shows the 100 most recent events.
        (
            "events",
            Value::Array(service.events.iter().take(100).cloned().collect()),
        ),
        ("createdAt", json!(world.epoch(service.created_at))),
        (
            "createdBy",
            json!(format!("arn:aws:iam::{}:root", world.account)),
        ),
        ("currentServiceDeployment", current),
    ]);
    if let Value::Object(members) = described {
        rendered.extend(members);
    }
    Value::Object(rendered)
}

fn add_service_event(world: &mut World, service: usize, message: String) {
    let id = world.uuid();
    let event = json!({
        "id": id,
        "createdAt": world.epoch(world.now),
        "message": message,
    });
    world.ecs.services[service].events.insert(0, event);
}

/// Members of UpdateService that change what the service runs, so that
/// giving one starts a new deployment.
const DEPLOYMENT_MEMBERS: [&str; 8] = [
    "capacityProviderStrategy",
    "launchType",
    "networkConfiguration",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "serviceConnectConfiguration",
    "volumeConfigurations",
];

/// Members of UpdateService that are not kept as service configuration.
const UPDATE_CONTROL_MEMBERS: [&str; 5] = [
    "cluster",
    "service",
    "desiredCount",
    "taskDefinition",
    "forceNewDeployment",
];

pub(super) fn update_service(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "service")?;
    let index = find_service(world, &cluster, reference)
        .ok_or_else(|| AwsError::client("ServiceNotFoundException", "Service not found."))?;
    if world.ecs.services[index].status != "ACTIVE" {
        return Err(AwsError::client(
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ));
    }
    let requested_definition = match str_field(body, "taskDefinition") {
        Some(reference) => {
            let td = find_task_definition(world, reference)
                .ok_or_else(|| client_exception("TaskDefinition not found."))?;
            if !world.ecs.task_definitions[td].active {
                return Err(client_exception("TaskDefinition is inactive"));
            }
            Some(world.ecs.task_definitions[td].arn.clone())
        }
        None => None,
    };
    let service = &mut world.ecs.services[index];
    let controller = service
        .config
        .get("deploymentController")
        .and_then(|controller| str_field(controller, "type"))
        .unwrap_or("ECS")
        .to_string();
    let changes_definition = requested_definition
        .as_ref()
        .is_some_and(|arn| *arn != service.task_definition);
    if controller != "ECS" && changes_definition {
        return Err(invalid_parameter(format!(
            "Unable to update task definition on services with a {controller} deployment controller. Use AWS CodeDeploy to trigger a new deployment."
        )));
    }
    if let Some(count) = body.get("desiredCount").and_then(Value::as_i64) {
        service.desired_count = count;
        for deployment in service.deployments.iter_mut().take(1) {
            deployment.desired_count = count;
        }
    }
    let mut changes_configuration = false;
    if let Some(members) = body.as_object() {
        for (key, value) in members {
            if !UPDATE_CONTROL_MEMBERS.contains(&key.as_str()) {
                changes_configuration |= DEPLOYMENT_MEMBERS.contains(&key.as_str());
                service.config.insert(key.clone(), value.clone());
            }
        }
    }
    let force = body
        .get("forceNewDeployment")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if controller == "ECS" && (changes_definition || changes_configuration || force) {
        let target = requested_definition.unwrap_or_else(|| service.task_definition.clone());
        let timeline = next_rollout_timeline(world, index);
        start_rollout(world, index, &target, timeline);
    }
    Ok(json!({ "service": render_service(world, index) }))
}

/// Creates a new PRIMARY deployment (and its service deployment) running
/// `task_definition`; the previous PRIMARY becomes ACTIVE.
pub(super) fn new_deployment(
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
    let blue_green = configuration
        .get("strategy")
        .is_some_and(|strategy| strategy == "BLUE_GREEN");
    let (breaker, _) = rollback_monitor(service, "deploymentCircuitBreaker");
    let (alarms, _) = rollback_monitor(service, "alarms");
    // ECS trips the breaker at half the desired count, rounded up, within 3..200.
    let threshold = timeline
        .as_ref()
        .and_then(|timeline| timeline.failed_tasks)
        .map_or_else(
            || ((service.desired_count + 1) / 2).clamp(3, 200),
            i64::from,
        );
    let service_deployment = ServiceDeployment {
        arn,
        target_revision,
        source_revision: service
            .service_deployments
            .last()
            .map(|previous| previous.target_revision.clone()),
        status: "IN_PROGRESS",
        status_reason: None,
        blue_green,
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
        pause_hooks: if blue_green {
            pause_hooks(&configuration, timeline.as_ref())
        } else {
            Vec::new()
        },
        paused_since: None,
        paused_for: Duration::ZERO,
        held: Vec::new(),
    };
    for previous in &mut service.service_deployments {
        if previous.status == "IN_PROGRESS" {
            previous.status = "STOPPED";
            previous.status_reason = Some("A newer service deployment started.".to_string());
            previous.finished_at = Some(now);
            resolve_pause(previous, "FAILED", now);
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
        deployment.status = "ACTIVE";
    }
    service.task_definition = task_definition.to_string();
    service.deployments.insert(
        0,
        Deployment {
            id: id.to_string(),
            status: "PRIMARY",
            task_definition: task_definition.to_string(),
            desired_count: service.desired_count,
            running_count: 0,
            failed_tasks: 0,
            created_at: now,
            updated_at: now,
            rollout_state: "IN_PROGRESS",
            rollout_state_reason: reason,
            timeline,
            service_deployment,
        },
    );
}

/// The timeline entry for the next deployment UpdateService starts on a
/// service (entries for deployments in progress at start aside).
fn next_rollout_timeline(world: &mut World, index: usize) -> Option<RolloutTimeline> {
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

pub(super) fn start_rollout(
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
    let task_ids: Vec<String> = (0..desired)
        .map(|_| format!("(task {})", world.hex(32)))
        .collect();
    add_service_event(
        world,
        index,
        format!(
            "(service {name}) has started {desired} tasks: {}.",
            task_ids.join(" ")
        ),
    );
    schedule_rollout_step(world, index, &id, timeline.as_ref());
    let hook_times: Vec<Duration> = {
        let record = primary_record(&mut world.ecs.services[index]);
        record
            .pause_hooks
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
        .is_some_and(|d| d.id == id && d.rollout_state == "IN_PROGRESS");
    if !rolling {
        return;
    }
    match step {
        RolloutStep::Completed => complete_deployment(world, index, id),
        RolloutStep::TaskFailed => deployment_task_failed(world, index, id),
        RolloutStep::AlarmsFired => alarms_fired(world, index, id),
        RolloutStep::HookReached(hook) => pause(world, index, id, hook),
        RolloutStep::HookTimedOut(hook) => hook_timed_out(world, index, hook),
    }
}

pub(super) fn complete_deployment(world: &mut World, index: usize, id: &str) {
    let now = world.now;
    let service = &mut world.ecs.services[index];
    service.deployments.retain(|deployment| deployment.id == id);
    let Some(deployment) = service.deployments.first_mut() else {
        return;
    };
    deployment.running_count = deployment.desired_count;
    deployment.rollout_state = "COMPLETED";
    deployment.rollout_state_reason = format!("ECS deployment {id} completed.");
    deployment.updated_at = now;
    let record = &mut service.service_deployments[deployment.service_deployment];
    record.status = if record.status == "ROLLBACK_IN_PROGRESS" {
        "ROLLBACK_SUCCESSFUL"
    } else {
        "SUCCESSFUL"
    };
    record.finished_at = Some(now);
    record.updated_at = now;
    for status in [
        &mut record.circuit_breaker_status,
        &mut record.alarms_status,
    ] {
        if *status == "MONITORING" {
            *status = "MONITORING_COMPLETE";
        }
    }
    let name = service.name.clone();
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
        record.circuit_breaker_status = "TRIGGERED";
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
    record.alarms_status = "TRIGGERED";
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
enum RolloutEnd {
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
fn end_rollout(world: &mut World, index: usize, failure: &str, ending: RolloutEnd) {
    let now = world.now;
    let started_epoch = world.epoch(now);
    let rollback_id = format!("ecs-svc/{}", world.digits(19));
    let service = &mut world.ecs.services[index];
    let deployment = &mut service.deployments[0];
    deployment.rollout_state = "FAILED";
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
    resolve_pause(record, "FAILED", now);
    let (reason, deployment_reason, (previous_id, previous_definition)) = match (ending, previous) {
        (
            RolloutEnd::RollBack {
                reason,
                deployment_reason,
            },
            Some(previous),
        ) => (reason, deployment_reason, previous),
        (RolloutEnd::Stop(reason), _) | (RolloutEnd::RollBack { reason, .. }, None) => {
            record.status = "STOPPED";
            record.status_reason = Some(reason.to_string());
            record.finished_at = Some(now);
            return;
        }
    };
    record.status = "ROLLBACK_IN_PROGRESS";
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

/// The service and service deployment a request's serviceDeploymentArn
/// names, and whether that service deployment is being rolled out.
fn requested_service_deployment(
    world: &World,
    body: &Value,
) -> Result<(usize, usize, bool), AwsError> {
    let arn = required_str(body, "serviceDeploymentArn")?;
    let (index, record) = world
        .ecs
        .services
        .iter()
        .enumerate()
        .find_map(|(index, service)| {
            service
                .service_deployments
                .iter()
                .position(|record| record.arn == arn)
                .map(|record| (index, record))
        })
        .ok_or_else(|| {
            AwsError::client(
                "ServiceDeploymentNotFoundException",
                "The service deployment does not exist.",
            )
        })?;
    let service = &world.ecs.services[index];
    let rolling_out = service
        .deployments
        .first()
        .is_some_and(|d| d.service_deployment == record && d.rollout_state == "IN_PROGRESS")
        && service.service_deployments[record].status == "IN_PROGRESS";
    Ok((index, record, rolling_out))
}

/// StopServiceDeployment: rolls an ongoing service deployment back
/// (ROLLBACK, the default) or stops it where it is (ABORT).
pub(super) fn stop_service_deployment(world: &mut World, body: &Value) -> AwsResult {
    let (index, _, rolling_out) = requested_service_deployment(world, body)?;
    if !rolling_out {
        return Err(AwsError::client(
            "ConflictException",
            "The service deployment is not in progress and cannot be stopped.",
        ));
    }
    let ending = match str_field(body, "stopType").unwrap_or("ROLLBACK") {
        "ROLLBACK" => RolloutEnd::RollBack {
            reason: "Service deployment rolled back because of a stop request.",
            deployment_reason: "ECS deployment rolling back to deploymentId".to_string(),
        },
        "ABORT" => RolloutEnd::Stop("Service deployment stopped because of a stop request."),
        other => return Err(invalid_parameter(format!("Invalid stopType {other}."))),
    };
    end_rollout(world, index, "ECS deployment stopped by request.", ending);
    Ok(json!({ "serviceDeploymentArn": body["serviceDeploymentArn"] }))
}

/// The rollout reaches the stage of its `hook`-th PAUSE hook: its other
/// transitions are held until the hook is continued, rolled back or times
/// out.
fn pause(world: &mut World, index: usize, id: &str, hook: usize) {
    let now = world.now;
    let hook_id = format!("ecs-pause-{}", world.alphanumeric_upper(43));
    let held = world.unschedule(|event| {
        matches!(event, Event::Rollout { service, deployment_id, .. }
            if *service == index && deployment_id == id)
    });
    let record = primary_record(&mut world.ecs.services[index]);
    record.paused_since = Some(now);
    record.updated_at = now;
    record.held = held;
    let paused = &mut record.pause_hooks[hook];
    paused.reached = Some(ReachedHook {
        id: hook_id,
        status: "AWAITING_ACTION",
        expires_at: now + paused.timeout,
    });
    let timeout = paused.timeout;
    schedule_step(world, index, id, timeout, RolloutStep::HookTimedOut(hook));
}

/// Ends the record's pause, if it has one, giving the hook awaiting action
/// `status`, and marks the record updated; answers the rollout's held
/// transitions.
fn resolve_pause(
    record: &mut ServiceDeployment,
    status: &'static str,
    now: Duration,
) -> Vec<(Duration, Event)> {
    for hook in record
        .pause_hooks
        .iter_mut()
        .filter_map(|hook| hook.reached.as_mut())
    {
        if hook.status == "AWAITING_ACTION" {
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
fn act_on_pause(
    world: &mut World,
    index: usize,
    status: &'static str,
    action: &str,
    rollback_reason: &'static str,
) {
    let now = world.now;
    let held = resolve_pause(primary_record(&mut world.ecs.services[index]), status, now);
    if action == "CONTINUE" {
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
    let paused = &primary_record(&mut world.ecs.services[index]).pause_hooks[hook];
    let awaiting = paused
        .reached
        .as_ref()
        .is_some_and(|reached| reached.status == "AWAITING_ACTION");
    if awaiting {
        let action = paused.timeout_action;
        act_on_pause(
            world,
            index,
            "TIMED_OUT",
            action,
            "Service deployment rolled back because a lifecycle hook timed out.",
        );
    }
}

/// ContinueServiceDeployment: carries on (CONTINUE, the default) or rolls
/// back (ROLLBACK) a rollout paused at the PAUSE hook `hookId`.
pub(super) fn continue_service_deployment(world: &mut World, body: &Value) -> AwsResult {
    let hook_id = required_str(body, "hookId")?;
    let (index, record, rolling_out) = requested_service_deployment(world, body)?;
    let awaiting = rolling_out
        && world.ecs.services[index].service_deployments[record]
            .pause_hooks
            .iter()
            .filter_map(|hook| hook.reached.as_ref())
            .any(|hook| hook.id == hook_id && hook.status == "AWAITING_ACTION");
    // AWS models no ConflictException for this operation, so a hook that
    // is not awaiting action counts as an invalid hookId.
    if !awaiting {
        return Err(invalid_parameter(format!(
            "The lifecycle hook {hook_id} is not awaiting action on this service deployment."
        )));
    }
    let (status, action) = match str_field(body, "action").unwrap_or("CONTINUE") {
        "CONTINUE" => ("SUCCEEDED", "CONTINUE"),
        "ROLLBACK" => ("FAILED", "ROLLBACK"),
        other => return Err(invalid_parameter(format!("Invalid action {other}."))),
    };
    act_on_pause(
        world,
        index,
        status,
        action,
        "Service deployment rolled back because a lifecycle hook asked for a rollback.",
    );
    Ok(json!({ "serviceDeploymentArn": body["serviceDeploymentArn"] }))
}

/// The lifecycle stages of a native blue/green deployment, in order
/// (RECONCILE_SERVICE, for services with several active revisions, aside).
const BLUE_GREEN_STAGES: [&str; 9] = [
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

fn stage_position(stage: &str) -> Option<usize> {
    BLUE_GREEN_STAGES.iter().position(|s| *s == stage)
}

/// When, in rollout time, a blue/green rollout reaches the stage at
/// `position`: rounded up to the nanosecond, so that `lifecycle_stage`
/// names that stage from that very moment.
fn stage_start(rollout_time: Duration, position: usize) -> Duration {
    let nanos =
        (rollout_time.as_nanos() * position as u128).div_ceil(BLUE_GREEN_STAGES.len() as u128);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The PAUSE hooks of a deployment configuration's lifecycleHooks, one per
/// stage each names, in stage order. Stages a deployment here never passes
/// through (RECONCILE_SERVICE, PRE_PRODUCTION_TRAFFIC_SHIFT) never pause;
/// AWS_LAMBDA hooks are not run.
fn pause_hooks(configuration: &Value, timeline: Option<&RolloutTimeline>) -> Vec<PauseHook> {
    let hooks = configuration
        .get("lifecycleHooks")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut pauses: Vec<PauseHook> = hooks
        .iter()
        .filter(|hook| str_field(hook, "targetType") == Some("PAUSE"))
        .flat_map(|hook| {
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
            let timeout_action = if setting("action") == Some(&json!("CONTINUE")) {
                "CONTINUE"
            } else {
                "ROLLBACK"
            };
            str_list(hook, "lifecycleStages")
                .into_iter()
                .filter_map(move |stage| {
                    stage_position(&stage).map(|stage| PauseHook {
                        stage,
                        timeout,
                        timeout_action,
                        reached: None,
                    })
                })
        })
        .collect();
    pauses.sort_by_key(|hook| hook.stage);
    pauses
}

/// Where a deployment is in its lifecycle: a finished one cleans up, a
/// rolling one scales up, and a blue/green one moves through its stages
/// evenly over its rollout time, which stands still while it is paused.
fn lifecycle_stage(world: &World, record: &ServiceDeployment) -> &'static str {
    if record.finished_at.is_some() {
        return "CLEAN_UP";
    }
    if !record.blue_green || record.status != "IN_PROGRESS" {
        return "SCALE_UP";
    }
    let progress = record
        .paused_since
        .unwrap_or(world.now)
        .saturating_sub(record.created_at)
        .saturating_sub(record.paused_for);
    let last = BLUE_GREEN_STAGES.len() - 1;
    let position = (progress.as_nanos() * BLUE_GREEN_STAGES.len() as u128)
        .checked_div(record.rollout_time.as_nanos())
        .map_or(last, |position| {
            usize::try_from(position).unwrap_or(last).min(last)
        });
    BLUE_GREEN_STAGES[position]
}

/// The test and production traffic a blue/green target revision gets at a
/// stage; rolling deployments shift no traffic explicitly.
fn traffic_weights(record: &ServiceDeployment, stage: &str) -> Option<(f64, f64)> {
    if !record.blue_green {
        return None;
    }
    let reached = |wanted: &str| stage_position(stage) >= stage_position(wanted);
    let rolled_back = record.status.starts_with("ROLLBACK");
    let weight = |shifted: bool| if shifted && !rolled_back { 100.0 } else { 0.0 };
    Some((
        weight(reached("TEST_TRAFFIC_SHIFT")),
        weight(reached("PRODUCTION_TRAFFIC_SHIFT")),
    ))
}

fn render_service_deployment(
    world: &World,
    service: &Service,
    record: &ServiceDeployment,
) -> Value {
    let primary = service
        .deployments
        .iter()
        .find(|d| service.service_deployments[d.service_deployment].arn == record.arn);
    let running = primary.map_or(service.desired_count, |d| d.running_count);
    let finished = record.finished_at.is_some();
    let source_running = if finished { 0 } else { service.desired_count };
    let stage = lifecycle_stage(world, record);
    let weights = traffic_weights(record, stage);
    let revision = |arn: &str, requested: i64, running: i64, target: bool| {
        let weight = |(test, production): (f64, f64)| {
            let pick = |w: f64| json!(if target { w } else { 100.0 - w });
            (pick(test), pick(production))
        };
        let (test, production) = weights.map_or((Value::Null, Value::Null), weight);
        object(vec![
            ("arn", json!(arn)),
            ("requestedTaskCount", json!(requested)),
            ("runningTaskCount", json!(running)),
            ("pendingTaskCount", json!((requested - running).max(0))),
            ("requestedTestTrafficWeight", test),
            ("requestedProductionTrafficWeight", production),
        ])
    };
    object(vec![
        ("serviceDeploymentArn", json!(record.arn)),
        ("serviceArn", json!(service.arn)),
        ("clusterArn", json!(cluster_arn(world, &service.cluster))),
        ("createdAt", json!(world.epoch(record.created_at))),
        ("startedAt", json!(world.epoch(record.created_at))),
        (
            "finishedAt",
            record
                .finished_at
                .map_or(Value::Null, |at| json!(world.epoch(at))),
        ),
        ("updatedAt", json!(world.epoch(record.updated_at))),
        (
            "sourceServiceRevisions",
            Value::Array(
                record
                    .source_revision
                    .iter()
                    .map(|arn| revision(arn, service.desired_count, source_running, false))
                    .collect(),
            ),
        ),
        (
            "targetServiceRevision",
            revision(
                &record.target_revision,
                service.desired_count,
                running,
                true,
            ),
        ),
        ("status", json!(record.status)),
        (
            "statusReason",
            record
                .status_reason
                .clone()
                .map_or(Value::Null, Value::from),
        ),
        ("lifecycleStage", json!(stage)),
        (
            "deploymentConfiguration",
            config_value(service, "deploymentConfiguration"),
        ),
        ("rollback", record.rollback.clone().unwrap_or(Value::Null)),
        (
            "deploymentCircuitBreaker",
            json!({
                "status": record.circuit_breaker_status,
                "failureCount": record.failure_count,
                "threshold": record.threshold,
            }),
        ),
        (
            "alarms",
            json!({
                "status": record.alarms_status,
                "alarmNames": record.watched_alarms,
                "triggeredAlarmNames": record.triggered_alarms,
            }),
        ),
        (
            "lifecycleHookDetails",
            lifecycle_hook_details(world, record),
        ),
    ])
}

/// The PAUSE hooks the rollout has reached, as DeploymentLifecycleHookDetail
/// (no targetArn: a PAUSE hook has no target); absent when there are none.
fn lifecycle_hook_details(world: &World, record: &ServiceDeployment) -> Value {
    let details: Vec<Value> = record
        .pause_hooks
        .iter()
        .filter_map(|hook| {
            hook.reached.as_ref().map(|reached| {
                json!({
                    "hookId": reached.id,
                    "targetType": "PAUSE",
                    "status": reached.status,
                    "expiresAt": world.epoch(reached.expires_at),
                    "timeoutAction": hook.timeout_action,
                })
            })
        })
        .collect();
    if details.is_empty() {
        Value::Null
    } else {
        Value::Array(details)
    }
}

fn brief(full: &Value) -> Value {
    let keep = [
        "serviceDeploymentArn",
        "serviceArn",
        "clusterArn",
        "startedAt",
        "createdAt",
        "finishedAt",
        "status",
        "statusReason",
    ];
    let mut members: Map<String, Value> = keep
        .iter()
        .filter_map(|key| full.get(*key).map(|value| (key.to_string(), value.clone())))
        .collect();
    if let Some(target) = full.pointer("/targetServiceRevision/arn") {
        members.insert("targetServiceRevisionArn".to_string(), target.clone());
    }
    Value::Object(members)
}

pub(super) fn list_service_deployments(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "service")?;
    let index = find_service(world, &cluster, reference)
        .ok_or_else(|| AwsError::client("ServiceNotFoundException", "Service not found."))?;
    let statuses = str_list(body, "status");
    let created = body.get("createdAt");
    let bound = |key: &str| created.and_then(|c| c.get(key)).and_then(Value::as_f64);
    let (after, before) = (bound("after"), bound("before"));
    let service = &world.ecs.services[index];
    let briefs: Vec<Value> = service
        .service_deployments
        .iter()
        .rev()
        .filter(|record| statuses.is_empty() || statuses.iter().any(|s| s == record.status))
        .filter(|record| {
            let created = world.epoch(record.created_at);
            after.is_none_or(|after| created >= after)
                && before.is_none_or(|before| created <= before)
        })
        .map(|record| brief(&render_service_deployment(world, service, record)))
        .collect();
    Ok(json!({ "serviceDeployments": briefs }))
}

pub(super) fn describe_service_deployments(world: &mut World, body: &Value) -> AwsResult {
    let requested = str_list(body, "serviceDeploymentArns");
    if requested.is_empty() || requested.len() > 20 {
        return Err(invalid_parameter(
            "serviceDeploymentArns must contain between 1 and 20 items.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in &requested {
        let record = world.ecs.services.iter().find_map(|service| {
            service
                .service_deployments
                .iter()
                .find(|record| record.arn == *arn)
                .map(|record| render_service_deployment(world, service, record))
        });
        match record {
            Some(rendered) => found.push(rendered),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({ "serviceDeployments": found, "failures": failures }))
}

/// Every service as DescribeServices shows it.
pub(crate) fn all_services(world: &World) -> Vec<Value> {
    (0..world.ecs.services.len())
        .map(|index| render_service(world, index))
        .collect()
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
