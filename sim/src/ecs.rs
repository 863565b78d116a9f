//! Amazon ECS: clusters, task definitions, services with their deployments
//! and service deployments, and tasks.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::aws::{object, required_str, str_list, AwsError, AwsResult};
use crate::scenario::{RolloutOutcome, RolloutTimeline, Scenario, TaskOutcome, TaskTimeline};
use crate::world::{nth_or_last, seconds, str_field, Event, World};

/// How long a task started by RunTask spends provisioning before it runs.
const PROVISIONING_TIME: Duration = Duration::from_millis(200);

#[derive(Default)]
pub(crate) struct EcsState {
    clusters: Vec<String>,
    task_definitions: Vec<TaskDefinition>,
    /// RegisterTaskDefinition bodies exactly as received.
    pub registered: Vec<Value>,
    services: Vec<Service>,
    tasks: Vec<Task>,
    /// RunTask responses by clientToken, so that a retried call starts nothing new.
    run_task_responses: HashMap<String, RunTaskResult>,
    /// How many deployments each (cluster, service) has started, to pick its timeline entry.
    rollouts_started: HashMap<(String, String), usize>,
    /// How many RunTask calls each family has had, to pick its timeline entry.
    runs_per_family: HashMap<String, usize>,
}

struct TaskDefinition {
    arn: String,
    family: String,
    revision: i64,
    active: bool,
    /// The registration body without `tags`, which ECS answers beside it.
    body: Map<String, Value>,
    tags: Value,
    registered_at: Duration,
    deregistered_at: Option<Duration>,
}

struct Service {
    arn: String,
    name: String,
    cluster: String,
    status: String,
    desired_count: i64,
    task_definition: String,
    created_at: Duration,
    /// Members kept as given (launchType, networkConfiguration, loadBalancers, ...).
    config: Map<String, Value>,
    /// PRIMARY first.
    deployments: Vec<Deployment>,
    /// Newest first.
    events: Vec<Value>,
    service_deployments: Vec<ServiceDeployment>,
}

struct Deployment {
    id: String,
    status: &'static str,
    task_definition: String,
    desired_count: i64,
    running_count: i64,
    failed_tasks: i64,
    created_at: Duration,
    updated_at: Duration,
    rollout_state: &'static str,
    rollout_state_reason: String,
    timeline: Option<RolloutTimeline>,
    /// Index into the service's service deployments.
    service_deployment: usize,
}

struct ServiceDeployment {
    arn: String,
    target_revision: String,
    source_revision: Option<String>,
    status: &'static str,
    status_reason: Option<String>,
    lifecycle_stage: &'static str,
    created_at: Duration,
    updated_at: Duration,
    finished_at: Option<Duration>,
    rollback: Option<Value>,
    circuit_breaker_status: &'static str,
    failure_count: i64,
    threshold: i64,
}

#[derive(Clone)]
struct Container {
    name: String,
    image: String,
    essential: bool,
    /// (awslogs-group, awslogs-stream-prefix) when the container logs to CloudWatch.
    awslogs: Option<(String, String)>,
    last_status: &'static str,
    exit_code: Option<i64>,
    reason: Option<String>,
}

struct Task {
    arn: String,
    id: String,
    cluster: String,
    task_definition_arn: String,
    family: String,
    containers: Vec<Container>,
    last_status: &'static str,
    desired_status: &'static str,
    started_by: Option<String>,
    group: String,
    launch_type: Option<Value>,
    overrides: Value,
    cpu: Option<Value>,
    memory: Option<Value>,
    created_at: Duration,
    started_at: Option<Duration>,
    stopped_at: Option<Duration>,
    stop_code: Option<&'static str>,
    stopped_reason: Option<String>,
    timeline: Option<TaskTimeline>,
}

#[derive(Clone)]
enum RunTaskResult {
    Started(Vec<usize>),
    Failed(Vec<Value>),
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    world.ecs.clusters.push("default".to_string());
    for cluster in &scenario.clusters {
        if !world.ecs.clusters.contains(cluster) {
            world.ecs.clusters.push(cluster.clone());
        }
    }
    for body in &scenario.task_definitions {
        store_task_definition(world, body).map_err(|error| {
            anyhow::anyhow!("scenario task definition {body}: {}", error.message)
        })?;
    }
    for setup in &scenario.services {
        if !world.ecs.clusters.contains(&setup.cluster) {
            world.ecs.clusters.push(setup.cluster.clone());
        }
        let task_definition = find_task_definition(world, &setup.task_definition)
            .map(|index| world.ecs.task_definitions[index].arn.clone())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "service {}: task definition {} is not in the scenario",
                    setup.service_name,
                    setup.task_definition
                )
            })?;
        let mut service = Service {
            arn: world.arn(
                "ecs",
                &format!("service/{}/{}", setup.cluster, setup.service_name),
            ),
            name: setup.service_name.clone(),
            cluster: setup.cluster.clone(),
            status: setup.status.clone(),
            desired_count: setup.desired_count,
            task_definition: task_definition.clone(),
            created_at: Duration::ZERO,
            config: setup.other.clone(),
            deployments: Vec::new(),
            events: Vec::new(),
            service_deployments: Vec::new(),
        };
        let deployment = new_deployment(world, &mut service, &task_definition, None);
        world.ecs.services.push(service);
        complete_deployment(world, world.ecs.services.len() - 1, &deployment);
    }
    Ok(())
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> Option<AwsResult> {
    let result = match operation {
        "RegisterTaskDefinition" => register_task_definition(world, body),
        "DescribeTaskDefinition" => describe_task_definition(world, body),
        "DeregisterTaskDefinition" => deregister_task_definition(world, body),
        "ListTaskDefinitions" => list_task_definitions(world, body),
        "DescribeClusters" => describe_clusters(world, body),
        "DescribeServices" => describe_services(world, body),
        "ListServices" => list_services(world, body),
        "UpdateService" => update_service(world, body),
        "ListServiceDeployments" => list_service_deployments(world, body),
        "DescribeServiceDeployments" => describe_service_deployments(world, body),
        "RunTask" => run_task(world, body),
        "DescribeTasks" => describe_tasks(world, body),
        "ListTasks" => list_tasks(world, body),
        "StopTask" => stop_task(world, body),
        _ => return None,
    };
    Some(result)
}

fn client_exception(message: &str) -> AwsError {
    AwsError::client("ClientException", message)
}

fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", message)
}

// ---- task definitions ----

fn store_task_definition(world: &mut World, body: &Value) -> Result<usize, AwsError> {
    let mut definition = body
        .as_object()
        .cloned()
        .ok_or_else(|| client_exception("The request body must be a JSON object."))?;
    let family = str_field(body, "family")
        .filter(|family| !family.is_empty())
        .ok_or_else(|| client_exception("Family must be specified."))?
        .to_string();
    let containers = body
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .filter(|containers| !containers.is_empty())
        .ok_or_else(|| client_exception("Container definitions must be specified."))?;
    for container in containers {
        for key in ["name", "image"] {
            if str_field(container, key).is_none_or(str::is_empty) {
                return Err(client_exception(&format!(
                    "Container.{key} should not be null or empty."
                )));
            }
        }
    }
    let tags = definition.remove("tags").unwrap_or_else(|| json!([]));
    let revision = world
        .ecs
        .task_definitions
        .iter()
        .filter(|existing| existing.family == family)
        .map(|existing| existing.revision)
        .max()
        .unwrap_or(0)
        + 1;
    world.ecs.task_definitions.push(TaskDefinition {
        arn: world.arn("ecs", &format!("task-definition/{family}:{revision}")),
        family,
        revision,
        active: true,
        body: definition,
        tags,
        registered_at: world.now,
        deregistered_at: None,
    });
    Ok(world.ecs.task_definitions.len() - 1)
}

/// Resolves an ARN, `family:revision`, or `family` (its latest ACTIVE revision).
fn find_task_definition(world: &World, reference: &str) -> Option<usize> {
    let reference = reference
        .split_once(":task-definition/")
        .map_or(reference, |(_, rest)| rest);
    let definitions = &world.ecs.task_definitions;
    match reference.rsplit_once(':') {
        Some((family, revision)) => {
            let revision: i64 = revision.parse().ok()?;
            definitions
                .iter()
                .position(|td| td.family == family && td.revision == revision)
        }
        None => definitions
            .iter()
            .enumerate()
            .filter(|(_, td)| td.family == reference && td.active)
            .max_by_key(|(_, td)| td.revision)
            .map(|(index, _)| index),
    }
}

fn render_task_definition(world: &World, index: usize) -> Value {
    let td = &world.ecs.task_definitions[index];
    let mut rendered = td.body.clone();
    let fargate = td
        .body
        .get("requiresCompatibilities")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|c| c == "FARGATE"));
    let compatibilities = if fargate {
        json!(["EC2", "FARGATE"])
    } else {
        json!(["EC2"])
    };
    let describe_only = object(vec![
        ("taskDefinitionArn", json!(td.arn)),
        ("revision", json!(td.revision)),
        (
            "status",
            json!(if td.active { "ACTIVE" } else { "INACTIVE" }),
        ),
        (
            "requiresAttributes",
            json!([{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}]),
        ),
        ("compatibilities", compatibilities),
        ("registeredAt", json!(world.epoch(td.registered_at))),
        (
            "registeredBy",
            json!(format!("arn:aws:iam::{}:root", world.account)),
        ),
        (
            "deregisteredAt",
            td.deregistered_at
                .map_or(Value::Null, |at| json!(world.epoch(at))),
        ),
    ]);
    if let Value::Object(members) = describe_only {
        rendered.extend(members);
    }
    Value::Object(rendered)
}

fn register_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let index = store_task_definition(world, body)?;
    world.ecs.registered.push(body.clone());
    Ok(json!({
        "taskDefinition": render_task_definition(world, index),
        "tags": world.ecs.task_definitions[index].tags,
    }))
}

fn describe_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let reference = required_str(body, "taskDefinition")?;
    let index = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("Unable to describe task definition."))?;
    let include_tags = str_list(body, "include").iter().any(|item| item == "TAGS");
    Ok(object(vec![
        ("taskDefinition", render_task_definition(world, index)),
        (
            "tags",
            if include_tags {
                world.ecs.task_definitions[index].tags.clone()
            } else {
                Value::Null
            },
        ),
    ]))
}

fn deregister_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let reference = required_str(body, "taskDefinition")?;
    if !reference.contains(':') {
        return Err(client_exception(&format!(
            "Invalid revision number. Number: {reference}"
        )));
    }
    let index = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("The specified task definition does not exist."))?;
    let now = world.now;
    let td = &mut world.ecs.task_definitions[index];
    if td.active {
        td.active = false;
        td.deregistered_at = Some(now);
    }
    Ok(json!({ "taskDefinition": render_task_definition(world, index) }))
}

fn list_task_definitions(world: &mut World, body: &Value) -> AwsResult {
    let prefix = str_field(body, "familyPrefix").unwrap_or("");
    let want_active = str_field(body, "status").unwrap_or("ACTIVE") == "ACTIVE";
    let mut arns: Vec<&TaskDefinition> = world
        .ecs
        .task_definitions
        .iter()
        .filter(|td| td.family.starts_with(prefix) && td.active == want_active)
        .collect();
    arns.sort_by(|a, b| (&a.family, a.revision).cmp(&(&b.family, b.revision)));
    if str_field(body, "sort") == Some("DESC") {
        arns.reverse();
    }
    let arns: Vec<&str> = arns.iter().map(|td| td.arn.as_str()).collect();
    Ok(json!({ "taskDefinitionArns": arns }))
}

// ---- clusters and services ----

fn cluster_name(reference: &str) -> &str {
    reference
        .split_once(":cluster/")
        .map_or(reference, |(_, name)| name)
}

/// The request's cluster (default "default"), which must exist.
fn request_cluster(world: &World, body: &Value) -> Result<String, AwsError> {
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

fn cluster_arn(world: &World, cluster: &str) -> String {
    world.arn("ecs", &format!("cluster/{cluster}"))
}

fn find_service(world: &World, cluster: &str, reference: &str) -> Option<usize> {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    world
        .ecs
        .services
        .iter()
        .position(|service| service.cluster == cluster && service.name == name)
}

fn describe_clusters(world: &mut World, body: &Value) -> AwsResult {
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

fn describe_services(world: &mut World, body: &Value) -> AwsResult {
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

fn list_services(world: &mut World, body: &Value) -> AwsResult {
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

fn circuit_breaker(service: &Service) -> (bool, bool) {
    let breaker = service
        .config
        .get("deploymentConfiguration")
        .and_then(|config| config.get("deploymentCircuitBreaker"));
    let flag = |key: &str| {
        breaker
            .and_then(|breaker| breaker.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    (flag("enable"), flag("rollback"))
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
    rendered
        .entry("schedulingStrategy")
        .or_insert_with(|| json!("REPLICA"));
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
        ("events", json!(service.events)),
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
    let id = format!(
        "{}-{}-{}-{}-{}",
        world.hex(8),
        world.hex(4),
        world.hex(4),
        world.hex(4),
        world.hex(12)
    );
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

fn update_service(world: &mut World, body: &Value) -> AwsResult {
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
        start_rollout(world, index, &target);
    }
    Ok(json!({ "service": render_service(world, index) }))
}

/// Creates a new PRIMARY deployment (and its service deployment) running
/// `task_definition`; the previous PRIMARY becomes ACTIVE.
fn new_deployment(
    world: &mut World,
    service: &mut Service,
    task_definition: &str,
    timeline: Option<RolloutTimeline>,
) -> String {
    let id = format!("ecs-svc/{}", world.digits(19));
    let resource = format!("{}/{}", service.cluster, service.name);
    let source = service
        .service_deployments
        .last()
        .map(|previous| previous.target_revision.clone());
    let threshold = timeline
        .as_ref()
        .and_then(|timeline| timeline.failed_tasks)
        .map_or_else(|| (service.desired_count / 2).clamp(3, 200), i64::from);
    let deployment_suffix = world.alphanumeric_upper(22);
    let revision_suffix = world.digits(19);
    let service_deployment = ServiceDeployment {
        arn: world.arn(
            "ecs",
            &format!("service-deployment/{resource}/{deployment_suffix}"),
        ),
        target_revision: world.arn(
            "ecs",
            &format!("service-revision/{resource}/{revision_suffix}"),
        ),
        source_revision: source,
        status: "IN_PROGRESS",
        status_reason: None,
        lifecycle_stage: "SCALE_UP",
        created_at: world.now,
        updated_at: world.now,
        finished_at: None,
        rollback: None,
        circuit_breaker_status: if circuit_breaker(service).0 {
            "MONITORING"
        } else {
            "DISABLED"
        },
        failure_count: 0,
        threshold,
    };
    for deployment in &mut service.deployments {
        deployment.status = "ACTIVE";
    }
    for previous in &mut service.service_deployments {
        if previous.status == "IN_PROGRESS" {
            previous.status = "STOPPED";
            previous.status_reason = Some("A newer service deployment started.".to_string());
            previous.finished_at = Some(world.now);
            previous.updated_at = world.now;
        }
    }
    service.service_deployments.push(service_deployment);
    service.task_definition = task_definition.to_string();
    service.deployments.insert(
        0,
        Deployment {
            id: id.clone(),
            status: "PRIMARY",
            task_definition: task_definition.to_string(),
            desired_count: service.desired_count,
            running_count: 0,
            failed_tasks: 0,
            created_at: world.now,
            updated_at: world.now,
            rollout_state: "IN_PROGRESS",
            rollout_state_reason: format!("ECS deployment {id} in progress."),
            timeline,
            service_deployment: service.service_deployments.len() - 1,
        },
    );
    id
}

fn start_rollout(world: &mut World, index: usize, task_definition: &str) {
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
    let timeline = nth_or_last(
        world
            .scenario
            .timelines
            .deployments
            .iter()
            .filter(|entry| entry.cluster == cluster && entry.service == name)
            .collect(),
        nth,
    );
    let mut service = std::mem::replace(&mut world.ecs.services[index], placeholder_service());
    let id = new_deployment(world, &mut service, task_definition, timeline.clone());
    world.ecs.services[index] = service;
    let desired = world.ecs.services[index].desired_count;
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
}

/// A stand-in while a service is borrowed out of the list.
fn placeholder_service() -> Service {
    Service {
        arn: String::new(),
        name: String::new(),
        cluster: String::new(),
        status: String::new(),
        desired_count: 0,
        task_definition: String::new(),
        created_at: Duration::ZERO,
        config: Map::new(),
        deployments: Vec::new(),
        events: Vec::new(),
        service_deployments: Vec::new(),
    }
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
    let deployment_id = deployment_id.to_string();
    let event = match outcome {
        RolloutOutcome::Complete => Event::RolloutCompleted {
            service,
            deployment_id,
        },
        RolloutOutcome::TasksFail => Event::DeploymentTaskFailed {
            service,
            deployment_id,
        },
    };
    world.schedule(after, event);
}

/// The PRIMARY deployment `id`, if it is still rolling out.
fn rolling_primary(world: &World, service: usize, id: &str) -> bool {
    world.ecs.services[service]
        .deployments
        .first()
        .is_some_and(|d| d.id == id && d.rollout_state == "IN_PROGRESS")
}

fn complete_deployment(world: &mut World, index: usize, id: &str) {
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
    record.lifecycle_stage = "CLEAN_UP";
    record.finished_at = Some(now);
    record.updated_at = now;
    if record.circuit_breaker_status == "MONITORING" {
        record.circuit_breaker_status = "MONITORING_COMPLETE";
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

pub(crate) fn rollout_completed(world: &mut World, service: usize, id: &str) {
    if rolling_primary(world, service, id) {
        complete_deployment(world, service, id);
    }
}

pub(crate) fn deployment_task_failed(world: &mut World, index: usize, id: &str) {
    if !rolling_primary(world, index, id) {
        return;
    }
    let (task_definition, timeline, record_index) = {
        let deployment = &world.ecs.services[index].deployments[0];
        (
            deployment.task_definition.clone(),
            deployment.timeline.clone(),
            deployment.service_deployment,
        )
    };
    let exit_code = timeline.as_ref().map_or(1, |t| t.exit_code);
    let task = stopped_deployment_task(world, index, id, &task_definition, exit_code);
    let now = world.now;
    let service = &mut world.ecs.services[index];
    let (breaker, rollback) = circuit_breaker(service);
    let deployment = &mut service.deployments[0];
    deployment.failed_tasks += 1;
    deployment.updated_at = now;
    let failed = deployment.failed_tasks;
    let record = &mut service.service_deployments[record_index];
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
        trip_circuit_breaker(world, index, id, rollback);
    } else {
        schedule_rollout_step(world, index, id, timeline.as_ref());
    }
}

fn trip_circuit_breaker(world: &mut World, index: usize, id: &str, rollback: bool) {
    let now = world.now;
    let started_epoch = world.epoch(now);
    let service = &mut world.ecs.services[index];
    let name = service.name.clone();
    let deployment = &mut service.deployments[0];
    deployment.rollout_state = "FAILED";
    deployment.rollout_state_reason =
        "ECS deployment circuit breaker: tasks failed to start.".to_string();
    deployment.updated_at = now;
    let timeline = deployment.timeline.clone();
    let record_index = deployment.service_deployment;
    let record = &mut service.service_deployments[record_index];
    record.circuit_breaker_status = "TRIGGERED";
    record.updated_at = now;
    let previous = service
        .deployments
        .get(1)
        .map(|d| (d.id.clone(), d.task_definition.clone()));
    add_service_event(
        world,
        index,
        format!("(service {name}) (deployment {id}) deployment failed: tasks failed to start."),
    );
    let Some((previous_id, previous_definition)) = previous.filter(|_| rollback) else {
        let record = &mut world.ecs.services[index].service_deployments[record_index];
        record.status = "STOPPED";
        record.status_reason =
            Some("Service deployment stopped because the circuit breaker was triggered.".into());
        record.finished_at = Some(now);
        return;
    };
    let rollback_id = format!("ecs-svc/{}", world.digits(19));
    let service = &mut world.ecs.services[index];
    let record = &mut service.service_deployments[record_index];
    record.status = "ROLLBACK_IN_PROGRESS";
    record.status_reason = Some(
        "Service deployment rolled back because the circuit breaker threshold was exceeded."
            .to_string(),
    );
    record.lifecycle_stage = "SCALE_UP";
    record.rollback = Some(object(vec![
        (
            "reason",
            json!("Service deployment rolled back because the circuit breaker threshold was exceeded."),
        ),
        ("startedAt", json!(started_epoch)),
        (
            "serviceRevisionArn",
            record.source_revision.clone().map_or(Value::Null, Value::from),
        ),
    ]));
    for deployment in &mut service.deployments {
        deployment.status = "ACTIVE";
    }
    service.task_definition = previous_definition.clone();
    service.deployments.insert(
        0,
        Deployment {
            id: rollback_id.clone(),
            status: "PRIMARY",
            task_definition: previous_definition,
            desired_count: service.desired_count,
            running_count: 0,
            failed_tasks: 0,
            created_at: now,
            updated_at: now,
            rollout_state: "IN_PROGRESS",
            rollout_state_reason: format!(
                "ECS deployment circuit breaker: rolling back to deploymentId {previous_id}."
            ),
            timeline: None,
            service_deployment: record_index,
        },
    );
    let after = seconds(timeline.map_or(1.0, |t| t.seconds));
    world.schedule(
        after,
        Event::RolloutCompleted {
            service: index,
            deployment_id: rollback_id,
        },
    );
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
    let revision = |arn: &str, requested: i64, running: i64| {
        json!({
            "arn": arn,
            "requestedTaskCount": requested,
            "runningTaskCount": running,
            "pendingTaskCount": (requested - running).max(0),
        })
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
                    .map(|arn| revision(arn, service.desired_count, source_running))
                    .collect(),
            ),
        ),
        (
            "targetServiceRevision",
            revision(&record.target_revision, service.desired_count, running),
        ),
        ("status", json!(record.status)),
        (
            "statusReason",
            record
                .status_reason
                .clone()
                .map_or(Value::Null, Value::from),
        ),
        ("lifecycleStage", json!(record.lifecycle_stage)),
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
    ])
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

fn list_service_deployments(world: &mut World, body: &Value) -> AwsResult {
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

fn describe_service_deployments(world: &mut World, body: &Value) -> AwsResult {
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

// ---- tasks ----

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
                last_status: "PENDING",
                exit_code: None,
                reason: None,
            }
        })
        .collect()
}

struct NewTask {
    cluster: String,
    td: usize,
    started_by: Option<String>,
    group: String,
    launch_type: Option<Value>,
    overrides: Value,
    timeline: Option<TaskTimeline>,
}

fn create_task(world: &mut World, new: NewTask) -> usize {
    let id = world.hex(32);
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
        cpu: td.body.get("cpu").cloned(),
        memory: td.body.get("memory").cloned(),
        created_at: world.now,
        started_at: None,
        stopped_at: None,
        stop_code: None,
        stopped_reason: None,
        timeline: new.timeline,
    };
    world.ecs.tasks.push(task);
    world.ecs.tasks.len() - 1
}

/// A task of a failing service deployment, already stopped with `exit_code`.
fn stopped_deployment_task(
    world: &mut World,
    service: usize,
    deployment_id: &str,
    task_definition: &str,
    exit_code: i64,
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
            cluster,
            td,
            started_by: Some(deployment_id.to_string()),
            group: format!("service:{name}"),
            launch_type,
            overrides: json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
            timeline: None,
        },
    );
    world.ecs.tasks[index].started_at = Some(world.now);
    finish_task(world, index, StopKind::Exited(exit_code));
    world.ecs.tasks[index].id.clone()
}

fn run_task(world: &mut World, body: &Value) -> AwsResult {
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
        .filter(|index| world.ecs.task_definitions[*index].active)
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
            cluster: cluster.to_string(),
            td,
            started_by: str_field(body, "startedBy").map(str::to_string),
            group: str_field(body, "group")
                .map_or_else(|| format!("family:{family}"), str::to_string),
            launch_type: body.get("launchType").cloned(),
            overrides: body.get("overrides").cloned().unwrap_or_else(
                || json!({"containerOverrides": [], "inferenceAcceleratorOverrides": []}),
            ),
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

fn render_run_task(world: &World, result: &RunTaskResult) -> Value {
    match result {
        RunTaskResult::Started(tasks) => json!({
            "tasks": tasks.iter().map(|task| render_task(world, *task)).collect::<Vec<_>>(),
            "failures": [],
        }),
        RunTaskResult::Failed(failures) => json!({ "tasks": [], "failures": failures }),
    }
}

fn render_task(world: &World, index: usize) -> Value {
    let task = &world.ecs.tasks[index];
    let time = |at: Option<Duration>| at.map_or(Value::Null, |at| json!(world.epoch(at)));
    let containers: Vec<Value> = task
        .containers
        .iter()
        .map(|container| {
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
            ])
        })
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
        ("pullStartedAt", time(task.started_at)),
        ("pullStoppedAt", time(task.started_at)),
        ("startedAt", time(task.started_at)),
        ("stoppingAt", time(stopping)),
        ("executionStoppedAt", time(stopping)),
        ("stoppedAt", time(task.stopped_at)),
        ("stopCode", task.stop_code.map_or(Value::Null, Value::from)),
        (
            "stoppedReason",
            task.stopped_reason.clone().map_or(Value::Null, Value::from),
        ),
        ("attachments", json!([])),
        ("tags", json!([])),
        ("version", json!(1)),
        ("availabilityZone", json!(format!("{}a", world.region))),
    ])
}

pub(crate) fn task_running(world: &mut World, index: usize) {
    let now = world.now;
    let task = &mut world.ecs.tasks[index];
    if task.last_status != "PROVISIONING" {
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
            StopKind::UserInitiated(_) => {}
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

fn describe_tasks(world: &mut World, body: &Value) -> AwsResult {
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

fn list_tasks(world: &mut World, body: &Value) -> AwsResult {
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
    Ok(json!({ "taskArns": arns }))
}

fn stop_task(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "task")?;
    let index = find_task(world, &cluster, reference)
        .ok_or_else(|| invalid_parameter("The referenced task was not found."))?;
    let reason = str_field(body, "reason").unwrap_or("Task stopped by user");
    finish_task(world, index, StopKind::UserInitiated(reason.to_string()));
    Ok(json!({ "task": render_task(world, index) }))
}

/// Every service as DescribeServices shows it.
pub(crate) fn all_services(world: &World) -> Vec<Value> {
    (0..world.ecs.services.len())
        .map(|index| render_service(world, index))
        .collect()
}

/// Every task as DescribeTasks shows it, in the order they were created.
pub(crate) fn all_tasks(world: &World) -> Vec<Value> {
    (0..world.ecs.tasks.len())
        .map(|index| render_task(world, index))
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
