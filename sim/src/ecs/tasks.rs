//! ECS tasks: RunTask and its timelines, the tasks of service deployments
//! that complete, and the stopped tasks of failing ones.

use super::*;

fn containers_of(world: &World, td: usize) -> Vec<Container> {
    let definitions = world.ecs.task_definitions[td]
        .body
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    definitions
        .iter()
        .map(|definition| {
            let options = definition.pointer("/logConfiguration/options");
            let option = |key: &str| options.and_then(|o| str_field(o, key)).map(str::to_string);
            let awslogs = match (
                definition.pointer("/logConfiguration/logDriver"),
                option("awslogs-group"),
                option("awslogs-stream-prefix"),
            ) {
                (Some(driver), Some(group), Some(prefix)) if driver == "awslogs" => {
                    Some((group, prefix))
                }
                _ => None,
            };
            Container {
                name: str_field(definition, "name")
                    .unwrap_or_default()
                    .to_string(),
                image: str_field(definition, "image")
                    .unwrap_or_default()
                    .to_string(),
                essential: definition
                    .get("essential")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                awslogs,
                cpu: definition
                    .get("cpu")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    .to_string(),
                memory: definition
                    .get("memory")
                    .and_then(Value::as_i64)
                    .map(|memory| memory.to_string()),
                last_status: "PENDING",
                exit_code: None,
                reason: None,
            }
        })
        .collect()
}

struct NewTask {
    /// Generated when None.
    id: Option<String>,
    cluster: String,
    td: usize,
    started_by: Option<String>,
    group: String,
    launch_type: Option<Value>,
    overrides: Value,
    /// The subnet of an awsvpc task.
    subnet: Option<String>,
    timeline: Option<TaskTimeline>,
}

fn create_task(world: &mut World, new: NewTask) -> usize {
    let id = new.id.unwrap_or_else(|| world.hex(32));
    let network = new.subnet.map(|subnet| NetworkAttachment {
        id: world.uuid(),
        subnet,
        interface: format!("eni-{}", world.hex(17)),
        mac_address: (0..6).map(|_| world.hex(2)).collect::<Vec<_>>().join(":"),
        private_ip: format!("10.0.{}.{}", world.digits(2), world.digits(2)),
    });
    let td = &world.ecs.task_definitions[new.td];
    let task = Task {
        arn: world.arn("ecs", &format!("task/{}/{id}", new.cluster)),
        id,
        cluster: new.cluster,
        task_definition_arn: td.arn.clone(),
        family: td.family.clone(),
        containers: containers_of(world, new.td),
        last_status: "PROVISIONING",
        desired_status: "RUNNING",
        started_by: new.started_by,
        group: new.group,
        launch_type: new.launch_type,
        overrides: new.overrides,
        network,
        cpu: td.body.get("cpu").cloned(),
        memory: td.body.get("memory").cloned(),
        created_at: world.now,
        pull_started_at: None,
        started_at: None,
        stopping_at: None,
        stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        timeline: new.timeline,
    };
    world.ecs.tasks.push(task);
    world.ecs.tasks.len() - 1
}

/// A task of a failing service deployment, already stopped with
/// `exit_code` after writing `lines` to its awslogs streams.
pub(super) fn stopped_deployment_task(
    world: &mut World,
    service: usize,
    deployment_id: &str,
    task_definition: &str,
    exit_code: i64,
    lines: Vec<String>,
) -> String {
    let (cluster, name, launch_type) = {
        let service = &world.ecs.services[service];
        (
            service.cluster.clone(),
            service.name.clone(),
            service.config.get("launchType").cloned(),
        )
    };
    let td = find_task_definition(world, task_definition).unwrap_or_default();
    let index = create_task(
        world,
        NewTask {
            id: None,
            cluster,
            td,
            started_by: Some(deployment_id.to_string()),
            group: format!("service:{name}"),
            launch_type,
            overrides: json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
            subnet: None,
            timeline: None,
        },
    );
    // It ran just long enough to write its lines and exit.
    task_running(world, index);
    for line in lines {
        task_log_line(world, index, line);
    }
    finish_task(world, index, StopKind::Exited(exit_code));
    world.ecs.tasks[index].id.clone()
}

/// The tasks a completing service deployment starts, with the `ids` its
/// "has started" event names: provisioned from now, pulling their images
/// after the timeline's pendingSeconds, RUNNING after its pullSeconds
/// more, when ECS registers them with the service's target groups.
pub(super) fn start_deployment_tasks(
    world: &mut World,
    service: usize,
    deployment_id: &str,
    ids: Vec<String>,
    timeline: Option<&RolloutTimeline>,
) {
    let (pending, pull) = timeline.map_or((0.0, 0.0), |t| (t.pending_seconds, t.pull_seconds));
    let pulling = seconds(pending);
    let running = pulling + seconds(pull);
    let (cluster, group, launch_type, subnet, task_definition) = {
        let service = &world.ecs.services[service];
        (
            service.cluster.clone(),
            format!("service:{}", service.name),
            service.config.get("launchType").cloned(),
            service
                .config
                .get("networkConfiguration")
                .and_then(|network| network.pointer("/awsvpcConfiguration/subnets/0"))
                .and_then(Value::as_str)
                .map(str::to_string),
            service.deployments[0].task_definition.clone(),
        )
    };
    let td = find_task_definition(world, &task_definition).unwrap_or_default();
    world.with_side_ids(|world| {
        for id in ids {
            let new = NewTask {
                id: Some(id),
                cluster: cluster.clone(),
                td,
                started_by: Some(deployment_id.to_string()),
                group: group.clone(),
                launch_type: launch_type.clone(),
                overrides: json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
                subnet: subnet.clone(),
                timeline: None,
            };
            let task = create_task(world, new);
            world.schedule(pulling, Event::TaskPulling { task });
            world.schedule(running, Event::TaskRunning { task });
        }
    });
    let registered = Event::TargetsRegistered {
        service,
        deployment_id: deployment_id.to_string(),
    };
    world.schedule(running, registered);
}

/// The tasks of the deployments `replaced` stop, as ECS's scheduler stops
/// them when deployment `by` completes: told to stop at `stopping_at`
/// (when their drain began), stopped now.
pub(super) fn stop_replaced_tasks(
    world: &mut World,
    service: usize,
    replaced: &[String],
    by: &str,
    stopping_at: Duration,
) {
    let (cluster, group) = {
        let service = &world.ecs.services[service];
        (service.cluster.clone(), format!("service:{}", service.name))
    };
    let stopping: Vec<usize> = (0..world.ecs.tasks.len())
        .filter(|index| {
            let task = &world.ecs.tasks[*index];
            task.cluster == cluster
                && task.group == group
                && task.last_status != "STOPPED"
                && task
                    .started_by
                    .as_ref()
                    .is_some_and(|started_by| replaced.contains(started_by))
        })
        .collect();
    let reason = format!("Scaling activity initiated by (deployment {by})");
    for index in stopping {
        finish_task(world, index, StopKind::ServiceScheduler(reason.clone()));
        world.ecs.tasks[index].stopping_at = Some(stopping_at.min(world.now));
    }
}

pub(super) fn run_task(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "taskDefinition")?;
    let token = str_field(body, "clientToken").map(str::to_string);
    if let Some(previous) = token
        .as_ref()
        .and_then(|t| world.ecs.run_task_responses.get(t))
    {
        return Ok(render_run_task(world, &previous.clone()));
    }
    let td = find_task_definition(world, reference)
        .filter(|index| world.ecs.task_definitions[*index].status == TaskDefinitionStatus::Active)
        .ok_or_else(|| invalid_parameter("TaskDefinition not found."))?;
    let awsvpc = world.ecs.task_definitions[td].body.get("networkMode") == Some(&json!("awsvpc"));
    if awsvpc && body.get("networkConfiguration").is_none() {
        return Err(invalid_parameter(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        ));
    }
    let count = body.get("count").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=10).contains(&count) {
        return Err(invalid_parameter("count must be between 1 and 10."));
    }
    let family = world.ecs.task_definitions[td].family.clone();
    let runs = world.ecs.runs_per_family.entry(family.clone()).or_default();
    let nth = *runs;
    *runs += 1;
    let timeline = nth_or_last(
        world
            .scenario
            .timelines
            .tasks
            .iter()
            .filter(|entry| entry.family == family)
            .collect(),
        nth,
    );
    let result = match &timeline {
        Some(entry) if entry.outcome == TaskOutcome::RunFailure => {
            let failures = if entry.failures.is_empty() {
                vec![json!({
                    "arn": cluster_arn(world, &cluster),
                    "reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone",
                })]
            } else {
                entry.failures.clone()
            };
            RunTaskResult::Failed(failures)
        }
        _ => {
            let started: Vec<usize> = (0..count)
                .map(|_| start_task(world, body, &cluster, td, &family, timeline.clone()))
                .collect();
            RunTaskResult::Started(started)
        }
    };
    if let Some(token) = token {
        world.ecs.run_task_responses.insert(token, result.clone());
    }
    Ok(render_run_task(world, &result))
}

fn start_task(
    world: &mut World,
    body: &Value,
    cluster: &str,
    td: usize,
    family: &str,
    timeline: Option<TaskTimeline>,
) -> usize {
    let index = create_task(
        world,
        NewTask {
            id: None,
            cluster: cluster.to_string(),
            td,
            started_by: str_field(body, "startedBy").map(str::to_string),
            group: str_field(body, "group")
                .map_or_else(|| format!("family:{family}"), str::to_string),
            launch_type: body.get("launchType").cloned(),
            overrides: body.get("overrides").cloned().unwrap_or_else(
                || json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
            ),
            subnet: body
                .pointer("/networkConfiguration/awsvpcConfiguration/subnets/0")
                .and_then(Value::as_str)
                .map(str::to_string),
            timeline: timeline.clone(),
        },
    );
    let (outcome, run_time, lines) = timeline
        .map_or((TaskOutcome::Exit, seconds(1.0), vec![]), |t| {
            (t.outcome, seconds(t.seconds), t.logs)
        });
    match outcome {
        TaskOutcome::FailToStart => world.schedule(run_time, Event::TaskStopped { task: index }),
        _ => {
            world.schedule(PROVISIONING_TIME, Event::TaskRunning { task: index });
            // Lines are spread evenly over the run, so that a client tailing
            // the stream sees them arrive while the task runs.
            let spacing = run_time / (lines.len() as u32 + 1);
            for (line_number, line) in lines.into_iter().enumerate() {
                let at = PROVISIONING_TIME + spacing * (line_number as u32 + 1);
                world.schedule(at, Event::TaskLogLine { task: index, line });
            }
            world.schedule(
                PROVISIONING_TIME + run_time,
                Event::TaskStopped { task: index },
            );
        }
    }
    index
}

/// A scenario's task, RUNNING from the start until stopped (StopTask):
/// one RunTask started outside any service, or one a scheduled rule or
/// schedule started.
pub(super) fn seed_task(world: &mut World, setup: &TaskSetup) -> anyhow::Result<()> {
    if !world.ecs.clusters.contains(&setup.cluster) {
        world.ecs.clusters.push(setup.cluster.clone());
    }
    let td = find_task_definition(world, &setup.task_definition).with_context(|| {
        format!(
            "tasks: task definition {} is not in the scenario",
            setup.task_definition
        )
    })?;
    let family = world.ecs.task_definitions[td].family.clone();
    let index = create_task(
        world,
        NewTask {
            id: None,
            cluster: setup.cluster.clone(),
            td,
            started_by: setup.started_by.clone(),
            group: setup
                .group
                .clone()
                .unwrap_or_else(|| format!("family:{family}")),
            launch_type: setup.launch_type.clone().map(Value::from),
            overrides: json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
            subnet: None,
            timeline: None,
        },
    );
    task_running(world, index);
    Ok(())
}

fn render_run_task(world: &World, result: &RunTaskResult) -> Value {
    match result {
        RunTaskResult::Started(tasks) => json!({
            "tasks": tasks.iter().map(|task| render_task(world, *task)).collect::<Vec<_>>(),
            "failures": [],
        }),
        RunTaskResult::Failed(failures) => json!({ "tasks": [], "failures": failures }),
    }
}

fn render_container(world: &World, task: &Task, container: &Container) -> Value {
    object(vec![
        (
            "containerArn",
            json!(world.arn(
                "ecs",
                &format!("container/{}/{}/{}", task.cluster, task.id, container.name)
            )),
        ),
        ("taskArn", json!(task.arn)),
        ("name", json!(container.name)),
        ("image", json!(container.image)),
        ("lastStatus", json!(container.last_status)),
        (
            "exitCode",
            container.exit_code.map_or(Value::Null, Value::from),
        ),
        (
            "reason",
            container.reason.clone().map_or(Value::Null, Value::from),
        ),
        ("networkBindings", json!([])),
        ("networkInterfaces", json!([])),
        ("healthStatus", json!("UNKNOWN")),
        ("cpu", json!(container.cpu)),
        (
            "memory",
            container.memory.clone().map_or(Value::Null, Value::from),
        ),
    ])
}

fn render_task(world: &World, index: usize) -> Value {
    let task = &world.ecs.tasks[index];
    let time = |at: Option<Duration>| at.map_or(Value::Null, |at| json!(world.epoch(at)));
    let containers: Vec<Value> = task
        .containers
        .iter()
        .map(|container| render_container(world, task, container))
        .collect();
    let stopping = task.stopped_at;
    object(vec![
        ("taskArn", json!(task.arn)),
        ("clusterArn", json!(cluster_arn(world, &task.cluster))),
        ("taskDefinitionArn", json!(task.task_definition_arn)),
        ("containers", Value::Array(containers)),
        ("lastStatus", json!(task.last_status)),
        ("desiredStatus", json!(task.desired_status)),
        (
            "startedBy",
            task.started_by.clone().map_or(Value::Null, Value::from),
        ),
        ("group", json!(task.group)),
        (
            "launchType",
            task.launch_type.clone().unwrap_or(Value::Null),
        ),
        ("overrides", task.overrides.clone()),
        ("cpu", task.cpu.clone().unwrap_or(Value::Null)),
        ("memory", task.memory.clone().unwrap_or(Value::Null)),
        ("createdAt", json!(world.epoch(task.created_at))),
        (
            "pullStartedAt",
            time(task.pull_started_at.or(task.started_at)),
        ),
        ("pullStoppedAt", time(task.started_at)),
        ("startedAt", time(task.started_at)),
        ("stoppingAt", time(task.stopping_at.or(stopping))),
        ("executionStoppedAt", time(stopping)),
        ("stoppedAt", time(task.stopped_at)),
        ("stopCode", task.stop_code.map_or(Value::Null, Value::from)),
        (
            "stoppedReason",
            task.stopped_reason.clone().map_or(Value::Null, Value::from),
        ),
        (
            "attachments",
            json!(task
                .network
                .iter()
                .map(|network| render_attachment(task, network))
                .collect::<Vec<_>>()),
        ),
        ("tags", json!([])),
        ("version", json!(1)),
        ("availabilityZone", json!(format!("{}a", world.region))),
    ])
}

fn render_attachment(task: &Task, network: &NetworkAttachment) -> Value {
    let detail = |name: &str, value: &str| json!({"name": name, "value": value});
    json!({
        "id": network.id,
        "type": "ElasticNetworkInterface",
        "status": if task.last_status == "STOPPED" { "DELETED" } else { "ATTACHED" },
        "details": [
            detail("subnetId", &network.subnet),
            detail("networkInterfaceId", &network.interface),
            detail("macAddress", &network.mac_address),
            detail("privateIPv4Address", &network.private_ip),
        ],
    })
}

/// A service deployment's task, provisioned, pulls its images.
pub(crate) fn task_pulling(world: &mut World, index: usize) {
    let now = world.now;
    let task = &mut world.ecs.tasks[index];
    if task.last_status == "PROVISIONING" {
        task.last_status = "PENDING";
        task.pull_started_at = Some(now);
    }
}

pub(crate) fn task_running(world: &mut World, index: usize) {
    let now = world.now;
    let task = &mut world.ecs.tasks[index];
    if !matches!(task.last_status, "PROVISIONING" | "PENDING") {
        return;
    }
    task.last_status = "RUNNING";
    task.started_at = Some(now);
    for container in &mut task.containers {
        container.last_status = "RUNNING";
    }
}

pub(crate) fn task_log_line(world: &mut World, index: usize, line: String) {
    let task = &world.ecs.tasks[index];
    if task.last_status != "RUNNING" {
        return;
    }
    let streams: Vec<(String, String)> = task
        .containers
        .iter()
        .filter(|container| container.essential)
        .filter_map(|container| {
            container.awslogs.as_ref().map(|(group, prefix)| {
                (
                    group.clone(),
                    format!("{prefix}/{}/{}", container.name, task.id),
                )
            })
        })
        .collect();
    for (group, stream) in streams {
        crate::logs::put(world, &group, &stream, &line);
    }
}

enum StopKind {
    Exited(i64),
    FailedToStart(String),
    UserInitiated(String),
    /// A replaced deployment's task, stopped by the service scheduler; its
    /// containers exit cleanly.
    ServiceScheduler(String),
}

fn finish_task(world: &mut World, index: usize, kind: StopKind) {
    let now = world.now;
    let task = &mut world.ecs.tasks[index];
    if task.last_status == "STOPPED" {
        return;
    }
    let was_running = task.last_status == "RUNNING";
    task.last_status = "STOPPED";
    task.desired_status = "STOPPED";
    task.stopped_at = Some(now);
    let (stop_code, reason) = match &kind {
        StopKind::Exited(_) => (
            "EssentialContainerExited",
            "Essential container in task exited".to_string(),
        ),
        StopKind::FailedToStart(reason) => ("TaskFailedToStart", reason.clone()),
        StopKind::UserInitiated(reason) => ("UserInitiated", reason.clone()),
        StopKind::ServiceScheduler(reason) => ("ServiceSchedulerInitiated", reason.clone()),
    };
    task.stop_code = Some(stop_code);
    task.stopped_reason = Some(reason.clone());
    for container in &mut task.containers {
        container.last_status = "STOPPED";
        match &kind {
            StopKind::Exited(code) => {
                container.exit_code = Some(if container.essential { *code } else { 0 });
            }
            StopKind::FailedToStart(_) => container.reason = Some(reason.clone()),
            // SIGTERM, the signal StopTask sends first.
            StopKind::UserInitiated(_) if was_running => container.exit_code = Some(143),
            StopKind::ServiceScheduler(_) if was_running => container.exit_code = Some(0),
            StopKind::UserInitiated(_) | StopKind::ServiceScheduler(_) => {}
        }
    }
}

pub(crate) fn task_stopped(world: &mut World, index: usize) {
    let Some(timeline) = world.ecs.tasks[index].timeline.clone() else {
        finish_task(world, index, StopKind::Exited(0));
        return;
    };
    let kind = match timeline.outcome {
        TaskOutcome::FailToStart => {
            let image = world.ecs.tasks[index]
                .containers
                .first()
                .map(|container| container.image.clone())
                .unwrap_or_default();
            StopKind::FailedToStart(timeline.stopped_reason.unwrap_or_else(|| {
                format!("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {image}: not found")
            }))
        }
        _ => StopKind::Exited(timeline.exit_code),
    };
    let exited = matches!(kind, StopKind::Exited(_));
    let already_stopped = world.ecs.tasks[index].last_status == "STOPPED";
    finish_task(world, index, kind);
    if exited && !already_stopped {
        for container in &mut world.ecs.tasks[index].containers {
            if let Some(code) = timeline.container_exit_codes.get(&container.name) {
                container.exit_code = Some(*code);
            }
        }
    }
}

fn find_task(world: &World, cluster: &str, reference: &str) -> Option<usize> {
    let id = reference.rsplit('/').next().unwrap_or(reference);
    world
        .ecs
        .tasks
        .iter()
        .position(|task| task.cluster == cluster && task.id == id)
}

pub(super) fn describe_tasks(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let requested = str_list(body, "tasks");
    if requested.is_empty() || requested.len() > 100 {
        return Err(invalid_parameter(
            "tasks must contain between 1 and 100 items.",
        ));
    }
    let mut tasks = Vec::new();
    let mut failures = Vec::new();
    for reference in &requested {
        match find_task(world, &cluster, reference) {
            Some(index) => tasks.push(render_task(world, index)),
            None => failures.push(json!({"arn": reference, "reason": "MISSING"})),
        }
    }
    Ok(json!({ "tasks": tasks, "failures": failures }))
}

pub(super) fn list_tasks(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let desired = str_field(body, "desiredStatus").unwrap_or("RUNNING");
    let family = str_field(body, "family");
    let started_by = str_field(body, "startedBy");
    let group = str_field(body, "serviceName").map(|name| format!("service:{name}"));
    let arns: Vec<&str> = world
        .ecs
        .tasks
        .iter()
        .filter(|task| task.cluster == cluster && task.desired_status == desired)
        .filter(|task| family.is_none_or(|family| task.family == family))
        .filter(|task| started_by.is_none_or(|by| task.started_by.as_deref() == Some(by)))
        .filter(|task| group.as_ref().is_none_or(|group| task.group == *group))
        .map(|task| task.arn.as_str())
        .collect();
    page(body, "taskArns", &arns, 100)
}

pub(super) fn stop_task(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "task")?;
    let index = find_task(world, &cluster, reference)
        .ok_or_else(|| invalid_parameter("The referenced task was not found."))?;
    let reason = str_field(body, "reason").unwrap_or("Task stopped by user");
    finish_task(world, index, StopKind::UserInitiated(reason.to_string()));
    Ok(json!({ "task": render_task(world, index) }))
}

/// The tasks as DescribeTasks shows them, in the order they were created:
/// with `deployment`, completing service deployments' tasks; else RunTask's
/// and the failed tasks of service deployments.
pub(crate) fn all_tasks(world: &World, deployment: bool) -> Vec<Value> {
    (0..world.ecs.tasks.len())
        .filter(|index| world.ecs.tasks[*index].pull_started_at.is_some() == deployment)
        .map(|index| render_task(world, index))
        .collect()
}
