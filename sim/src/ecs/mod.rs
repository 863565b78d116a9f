//! Amazon ECS: clusters, task definitions, services with their deployments
//! and service deployments, and tasks.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{json, Map, Value};

use crate::aws::{object, required_str, str_list, AwsError, AwsResult};
use crate::scenario::{
    AccessType, RolloutOutcome, RolloutTimeline, Scenario, TaskOutcome, TaskSetup, TaskTimeline,
};
use crate::world::{nth_or_last, seconds, str_field, Event, World};

mod clusters;
mod pages;
mod services;
mod task_definitions;
mod tasks;

use clusters::*;
use pages::page;
use services::*;
pub(crate) use services::{
    all_services, rollout_step, set_service_task_definition, targets_in, targets_registered,
    TargetState,
};
use task_definitions::*;
use tasks::*;
pub(crate) use tasks::{all_tasks, task_log_line, task_pulling, task_running, task_stopped};

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
    status: TaskDefinitionStatus,
    /// The registration body without `tags`, which ECS answers beside it.
    body: Map<String, Value>,
    tags: Value,
    /// Epoch seconds, as ECS answers them (a scenario's revisions may
    /// predate the simulator).
    registered_at: f64,
    deregistered_at: Option<f64>,
}

struct Service {
    arn: String,
    name: String,
    cluster: String,
    status: ServiceStatus,
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
    /// Set for an Express Mode service.
    express: Option<Express>,
}

/// What Express Mode keeps beside an ECS service it manages.
struct Express {
    endpoint: String,
    access_type: AccessType,
    infrastructure_role_arn: String,
    health_check_path: String,
    /// ExpressGatewayServiceNetworkConfiguration and ExpressGatewayScalingTarget
    /// as given, or null.
    network_configuration: Value,
    scaling_target: Value,
    updated_at: Duration,
}

struct Deployment {
    id: String,
    status: DeploymentStatus,
    task_definition: String,
    desired_count: i64,
    running_count: i64,
    failed_tasks: i64,
    created_at: Duration,
    updated_at: Duration,
    rollout_state: RolloutState,
    rollout_state_reason: String,
    /// When every task of the deployment ran (the drain of the older
    /// deployments began), or it completed without a drain.
    tasks_running_at: Option<Duration>,
    timeline: Option<RolloutTimeline>,
    /// Index into the service's service deployments.
    service_deployment: usize,
}

struct ServiceDeployment {
    arn: String,
    target_revision: String,
    /// The task definition of the target revision, as DescribeServiceRevisions shows it.
    target_task_definition: String,
    source_revision: Option<String>,
    status: ServiceDeploymentStatus,
    status_reason: Option<String>,
    strategy: Strategy,
    /// How long the rollout takes, over which the stages are spread.
    rollout_time: Duration,
    created_at: Duration,
    updated_at: Duration,
    finished_at: Option<Duration>,
    rollback: Option<Value>,
    circuit_breaker_status: MonitorStatus,
    failure_count: i64,
    threshold: i64,
    alarms_status: MonitorStatus,
    /// The CloudWatch alarms the deployment watches (none when its alarms
    /// are not enabled), and those that went into ALARM.
    watched_alarms: Vec<String>,
    triggered_alarms: Vec<String>,
    /// The PAUSE and AWS_LAMBDA lifecycle hooks of a blue/green or canary
    /// deployment, one per stage each names, in stage order.
    hooks: Vec<LifecycleHook>,
    /// Since when the rollout waits on a PAUSE hook.
    paused_since: Option<Duration>,
    /// The time spent in earlier pauses, which does not count towards the
    /// rollout's stages.
    paused_for: Duration,
    /// The rollout's transitions held off the schedule while it is paused,
    /// each with the time it had left.
    held: Vec<(Duration, Event)>,
}

/// How a service deployment replaces its source revision, as its service's
/// `deploymentConfiguration.strategy` says.
#[derive(Debug, Clone, Copy)]
enum Strategy {
    /// Tasks replaced in place; no traffic is shifted explicitly (LINEAR
    /// rolls out this way here too).
    Rolling,
    /// Every LifecycleStage; production traffic shifts all at once.
    BlueGreen,
    /// Every LifecycleStage; `percent` of production traffic shifts first,
    /// then the rest.
    Canary { percent: f64 },
}

/// A lifecycle hook at one stage of a blue/green or canary deployment.
struct LifecycleHook {
    stage: LifecycleStage,
    /// An AWS_LAMBDA hook's function, its ARN; None for a PAUSE hook.
    function: Option<String>,
    timeout: Duration,
    /// What happens when the hook times out.
    timeout_action: HookAction,
    /// Set when the rollout reaches the hook's stage: its id, status and
    /// when it times out.
    reached: Option<ReachedHook>,
}

struct ReachedHook {
    id: String,
    status: HookStatus,
    expires_at: Duration,
}

/// What happens to a rollout at a scheduled moment.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RolloutStep {
    /// Every new task runs; the old ones drain until `Completed`.
    TasksRunning,
    Completed,
    TaskFailed,
    AlarmsFired,
    /// The rollout reaches the stage of its `n`-th lifecycle hook.
    HookReached(usize),
    /// The `n`-th PAUSE hook's timeout passes.
    HookTimedOut(usize),
    /// The `n`-th AWS_LAMBDA hook's function answers.
    LambdaAnswered(usize),
}

#[derive(Clone)]
struct Container {
    name: String,
    image: String,
    essential: bool,
    /// (awslogs-group, awslogs-stream-prefix) when the container logs to CloudWatch.
    awslogs: Option<(String, String)>,
    /// CPU units and memory as the Container API types them: strings.
    cpu: String,
    memory: Option<String>,
    last_status: &'static str,
    exit_code: Option<i64>,
    reason: Option<String>,
}

/// The elastic network interface an awsvpc task gets.
struct NetworkAttachment {
    id: String,
    subnet: String,
    interface: String,
    mac_address: String,
    private_ip: String,
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
    network: Option<NetworkAttachment>,
    cpu: Option<Value>,
    memory: Option<Value>,
    created_at: Duration,
    /// Set for a service deployment's task, which pulls its images between
    /// this and its start; RunTask's tasks answer their start.
    pull_started_at: Option<Duration>,
    started_at: Option<Duration>,
    /// Set when the task was told to stop before it stopped (a replaced
    /// deployment's task, from its drain); else its stop.
    stopping_at: Option<Duration>,
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
    for given in &scenario.task_definitions {
        seed_task_definition(world, given)
            .with_context(|| format!("scenario task definition {given}"))?;
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
        let status = ServiceStatus::parse(&setup.status).ok_or_else(|| {
            let known: Vec<&str> = ServiceStatus::ALL.iter().map(|s| s.as_str()).collect();
            anyhow::anyhow!(
                "service {}: status {} is not one of {}",
                setup.service_name,
                setup.status,
                known.join(", ")
            )
        })?;
        let mut config = setup.other.clone();
        let express = match &setup.express {
            Some(express) => Some(express_setup(world, setup, express, &mut config)?),
            None => None,
        };
        let service = Service {
            arn: world.arn(
                "ecs",
                &format!("service/{}/{}", setup.cluster, setup.service_name),
            ),
            name: setup.service_name.clone(),
            cluster: setup.cluster.clone(),
            status,
            desired_count: setup.desired_count,
            task_definition: task_definition.clone(),
            created_at: Duration::ZERO,
            config,
            deployments: Vec::new(),
            events: Vec::new(),
            service_deployments: Vec::new(),
            express,
        };
        world.ecs.services.push(service);
        let index = world.ecs.services.len() - 1;
        let deployment = new_deployment(world, index, &task_definition, None);
        complete_deployment(world, index, &deployment);
    }
    for task in &scenario.tasks {
        seed_task(world, task)?;
    }
    for timeline in scenario.timelines.deployments.iter().filter(|t| t.at_start) {
        let index = find_service(world, &timeline.cluster, &timeline.service)
            .ok_or_else(|| anyhow::anyhow!("no service {} to deploy at start", timeline.service))?;
        let reference = timeline
            .task_definition
            .clone()
            .unwrap_or_else(|| world.ecs.services[index].task_definition.clone());
        let task_definition = find_task_definition(world, &reference)
            .map(|td| world.ecs.task_definitions[td].arn.clone())
            .ok_or_else(|| anyhow::anyhow!("task definition {reference} is not in the scenario"))?;
        start_rollout(world, index, &task_definition, Some(timeline.clone()));
    }
    Ok(())
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> Option<AwsResult> {
    let result = match operation {
        "RegisterTaskDefinition" => register_task_definition(world, body),
        "DescribeTaskDefinition" => describe_task_definition(world, body),
        "DeregisterTaskDefinition" => deregister_task_definition(world, body),
        "DeleteTaskDefinitions" => delete_task_definitions(world, body),
        "ListTaskDefinitions" => list_task_definitions(world, body),
        "ListTaskDefinitionFamilies" => list_task_definition_families(world, body),
        "DescribeClusters" => describe_clusters(world, body),
        "ListClusters" => list_clusters(world, body),
        "DescribeServices" => describe_services(world, body),
        "ListServices" => list_services(world, body),
        "UpdateService" => update_service(world, body),
        "ListServiceDeployments" => list_service_deployments(world, body),
        "DescribeServiceDeployments" => describe_service_deployments(world, body),
        "DescribeServiceRevisions" => describe_service_revisions(world, body),
        "DescribeExpressGatewayService" => describe_express_gateway_service(world, body),
        "UpdateExpressGatewayService" => update_express_gateway_service(world, body),
        "StopServiceDeployment" => stop_service_deployment(world, body),
        "ContinueServiceDeployment" => continue_service_deployment(world, body),
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
