//! AWS CodeDeploy for the ECS compute platform: applications, deployment
//! groups, and blue/green deployments moving through their lifecycle
//! events over time.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::aws::{object, required_str, str_list, AwsError, AwsResult};
use crate::scenario::{CodeDeployOutcome, CodeDeployTimeline, Scenario};
use crate::world::{nth_or_last, seconds, str_field, Event, World};

/// The lifecycle events of an ECS blue/green deployment, in order.
const LIFECYCLE_EVENTS: [&str; 8] = [
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
];

/// The event after which a deployment waiting for traffic rerouting stops in Ready.
const READY_AFTER: &str = "AfterAllowTestTraffic";

/// Statuses of a deployment that still holds its deployment group.
const ACTIVE_STATUSES: [&str; 5] = ["Created", "Queued", "InProgress", "Baking", "Ready"];

#[derive(Default)]
pub(crate) struct CodeDeployState {
    applications: Vec<Map<String, Value>>,
    groups: Vec<Map<String, Value>>,
    deployments: Vec<Deployment>,
    /// How many deployments each (application, group) has had, to pick its timeline entry.
    created_per_group: HashMap<(String, String), usize>,
}

struct LifecycleEvent {
    name: &'static str,
    status: &'static str,
    start: Option<Duration>,
    end: Option<Duration>,
    diagnostics: Option<Value>,
}

struct Deployment {
    id: String,
    application: String,
    group: String,
    status: &'static str,
    revision: Value,
    description: Option<String>,
    creator: &'static str,
    create_time: Duration,
    start_time: Option<Duration>,
    complete_time: Option<Duration>,
    error: Option<(String, String)>,
    rollback_info: Option<Value>,
    auto_rollback: Value,
    events: Vec<LifecycleEvent>,
    timeline: CodeDeployTimeline,
    /// The AppSpec's TaskDefinition, which the service runs once traffic shifted.
    task_definition: Option<String>,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    let setup = &scenario.code_deploy;
    for application in &setup.applications {
        let mut info = as_object(application, "application")?;
        let name = str_field(application, "applicationName")
            .ok_or_else(|| anyhow::anyhow!("a CodeDeploy application needs applicationName"))?;
        info.entry("applicationId")
            .or_insert_with(|| json!(world.uuid()));
        info.entry("createTime")
            .or_insert_with(|| json!(world.epoch(Duration::ZERO)));
        info.entry("linkedToGitHub").or_insert(json!(false));
        info.entry("computePlatform").or_insert(json!("ECS"));
        info.insert("applicationName".to_string(), json!(name));
        world.codedeploy.applications.push(info);
    }
    for group in &setup.deployment_groups {
        let mut info = as_object(group, "deployment group")?;
        for key in ["applicationName", "deploymentGroupName"] {
            if str_field(group, key).is_none() {
                anyhow::bail!("a CodeDeploy deployment group needs {key}");
            }
        }
        info.entry("deploymentGroupId")
            .or_insert_with(|| json!(world.uuid()));
        info.entry("deploymentConfigName")
            .or_insert(json!("CodeDeployDefault.ECSAllAtOnce"));
        info.entry("computePlatform").or_insert(json!("ECS"));
        info.entry("deploymentStyle").or_insert(
            json!({"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}),
        );
        world.codedeploy.groups.push(info);
    }
    for in_progress in &setup.deployments_in_progress {
        let status = ACTIVE_STATUSES
            .iter()
            .find(|status| **status == in_progress.status)
            .ok_or_else(|| {
                anyhow::anyhow!("{} is not an active deployment status", in_progress.status)
            })?;
        let timeline = default_timeline(&in_progress.deployment_group_name);
        let index = new_deployment(
            world,
            &in_progress.application_name,
            &in_progress.deployment_group_name,
            json!({}),
            timeline,
        );
        world.codedeploy.deployments[index].status = status;
    }
    Ok(())
}

fn as_object(value: &Value, what: &str) -> anyhow::Result<Map<String, Value>> {
    value
        .as_object()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("a CodeDeploy {what} must be a mapping"))
}

fn default_timeline(group: &str) -> CodeDeployTimeline {
    let yaml = format!("deploymentGroup: {group:?}");
    serde_yaml_ng::from_str(&yaml).expect("a timeline with only a group is valid")
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> Option<AwsResult> {
    let result = match operation {
        "GetApplication" => get_application(world, body),
        "GetDeploymentGroup" => get_deployment_group(world, body),
        "CreateDeployment" => create_deployment(world, body),
        "GetDeployment" => get_deployment(world, body),
        "ListDeployments" => list_deployments(world, body),
        "ContinueDeployment" => continue_deployment(world, body),
        "StopDeployment" => stop_deployment(world, body),
        "ListDeploymentTargets" => list_deployment_targets(world, body),
        "GetDeploymentTarget" => get_deployment_target(world, body),
        "BatchGetDeploymentTargets" => batch_get_deployment_targets(world, body),
        _ => return None,
    };
    Some(result)
}

fn find_application(world: &World, body: &Value) -> Result<usize, AwsError> {
    let name = required_str(body, "applicationName")?;
    world
        .codedeploy
        .applications
        .iter()
        .position(|app| app.get("applicationName") == Some(&json!(name)))
        .ok_or_else(|| {
            AwsError::client(
                "ApplicationDoesNotExistException",
                format!("No application found for name: {name}"),
            )
        })
}

fn find_group(world: &World, application: &str, group: &str) -> Option<usize> {
    world.codedeploy.groups.iter().position(|info| {
        info.get("applicationName") == Some(&json!(application))
            && info.get("deploymentGroupName") == Some(&json!(group))
    })
}

fn group_of(world: &World, body: &Value) -> Result<usize, AwsError> {
    find_application(world, body)?;
    let application = required_str(body, "applicationName")?;
    let group = required_str(body, "deploymentGroupName")?;
    find_group(world, application, group).ok_or_else(|| {
        AwsError::client(
            "DeploymentGroupDoesNotExistException",
            format!("No Deployment Group found for name: {group}"),
        )
    })
}

fn find_deployment(world: &World, body: &Value) -> Result<usize, AwsError> {
    let id = required_str(body, "deploymentId")?;
    world
        .codedeploy
        .deployments
        .iter()
        .position(|deployment| deployment.id == id)
        .ok_or_else(|| {
            AwsError::client(
                "DeploymentDoesNotExistException",
                format!("The deployment {id} could not be found."),
            )
        })
}

fn get_application(world: &mut World, body: &Value) -> AwsResult {
    let index = find_application(world, body)?;
    Ok(json!({ "application": world.codedeploy.applications[index] }))
}

fn get_deployment_group(world: &mut World, body: &Value) -> AwsResult {
    let index = group_of(world, body)?;
    Ok(json!({ "deploymentGroupInfo": world.codedeploy.groups[index] }))
}

fn new_deployment(
    world: &mut World,
    application: &str,
    group: &str,
    revision: Value,
    timeline: CodeDeployTimeline,
) -> usize {
    let id = format!("d-{}", world.alphanumeric_upper(9));
    let task_definition = revision
        .pointer("/appSpecContent/content")
        .and_then(Value::as_str)
        .and_then(|content| serde_yaml_ng::from_str::<Value>(content).ok())
        .and_then(|appspec| {
            appspec
                .pointer("/Resources/0")
                .and_then(|resource| resource.as_object())
                .and_then(|resource| resource.values().next())
                .and_then(|target| target.pointer("/Properties/TaskDefinition"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    world.codedeploy.deployments.push(Deployment {
        id,
        application: application.to_string(),
        group: group.to_string(),
        status: "Created",
        revision,
        description: None,
        creator: "user",
        create_time: world.now,
        start_time: None,
        complete_time: None,
        error: None,
        rollback_info: None,
        auto_rollback: Value::Null,
        events: LIFECYCLE_EVENTS
            .iter()
            .map(|name| LifecycleEvent {
                name,
                status: "Pending",
                start: None,
                end: None,
                diagnostics: None,
            })
            .collect(),
        timeline,
        task_definition,
    });
    world.codedeploy.deployments.len() - 1
}

fn create_deployment(world: &mut World, body: &Value) -> AwsResult {
    let group = group_of(world, body)?;
    let application = required_str(body, "applicationName")?.to_string();
    let group_name = required_str(body, "deploymentGroupName")?.to_string();
    let revision = body.get("revision").cloned().ok_or_else(|| {
        AwsError::client(
            "RevisionRequiredException",
            "The revision ID was not specified.",
        )
    })?;
    if let Some(active) = world.codedeploy.deployments.iter().find(|d| {
        d.application == application && d.group == group_name && ACTIVE_STATUSES.contains(&d.status)
    }) {
        return Err(AwsError::client(
            "DeploymentLimitExceededException",
            format!(
                "The Deployment Group '{group_name}' already has an active Deployment '{}'",
                active.id
            ),
        ));
    }
    let count = world
        .codedeploy
        .created_per_group
        .entry((application.clone(), group_name.clone()))
        .or_default();
    let nth = *count;
    *count += 1;
    let timeline = nth_or_last(
        world
            .scenario
            .timelines
            .code_deploy
            .iter()
            .filter(|entry| entry.deployment_group == group_name)
            .collect(),
        nth,
    )
    .unwrap_or_else(|| default_timeline(&group_name));
    let index = new_deployment(world, &application, &group_name, revision, timeline);
    let auto_rollback = body
        .get("autoRollbackConfiguration")
        .or_else(|| world.codedeploy.groups[group].get("autoRollbackConfiguration"))
        .cloned()
        .unwrap_or(Value::Null);
    let deployment = &mut world.codedeploy.deployments[index];
    deployment.description = str_field(body, "description").map(str::to_string);
    deployment.auto_rollback = auto_rollback;
    let id = deployment.id.clone();
    schedule_step(world, index);
    Ok(json!({ "deploymentId": id }))
}

fn schedule_step(world: &mut World, index: usize) {
    let after = seconds(world.codedeploy.deployments[index].timeline.seconds);
    world.schedule(after, Event::CodeDeployStep { deployment: index });
}

/// Moves a deployment one lifecycle event on.
pub(crate) fn step(world: &mut World, index: usize) {
    let now = world.now;
    let deployment = &mut world.codedeploy.deployments[index];
    match deployment.status {
        "Created" => {
            deployment.status = "InProgress";
            deployment.start_time = Some(now);
            start_event(deployment, 0, now);
            schedule_step(world, index);
            return;
        }
        "InProgress" => {}
        _ => return,
    }
    let Some(current) = deployment
        .events
        .iter()
        .position(|e| e.status == "InProgress")
    else {
        return;
    };
    let timeline = deployment.timeline.clone();
    if timeline.outcome == CodeDeployOutcome::Fail
        && deployment.events[current].name == timeline.fail_at
    {
        let event = &mut deployment.events[current];
        event.status = "Failed";
        event.end = Some(now);
        event.diagnostics = Some(json!({
            "errorCode": "ScriptFailed",
            "scriptName": "",
            "message": timeline.error_message,
            "logTail": "",
        }));
        finish(
            world,
            index,
            "Failed",
            Some((timeline.error_code, timeline.error_message)),
        );
        return;
    }
    let event = &mut deployment.events[current];
    event.status = "Succeeded";
    event.end = Some(now);
    let finished_event = event.name;
    if current + 1 == deployment.events.len() {
        finish(world, index, "Succeeded", None);
        return;
    }
    if timeline.outcome == CodeDeployOutcome::WaitReady && finished_event == READY_AFTER {
        deployment.status = "Ready";
        return;
    }
    start_event(deployment, current + 1, now);
    schedule_step(world, index);
}

fn start_event(deployment: &mut Deployment, event: usize, now: Duration) {
    deployment.events[event].status = "InProgress";
    deployment.events[event].start = Some(now);
}

/// Ends a deployment; a failed or stopped one rolls back when its
/// autoRollbackConfiguration asks for it.
fn finish(world: &mut World, index: usize, status: &'static str, error: Option<(String, String)>) {
    let now = world.now;
    let deployment = &mut world.codedeploy.deployments[index];
    deployment.status = status;
    deployment.complete_time = Some(now);
    deployment.error = error;
    for event in &mut deployment.events {
        if event.status == "Pending" || event.status == "InProgress" {
            event.status = "Skipped";
        }
    }
    let auto_rollback = deployment.auto_rollback.clone();
    if status == "Succeeded" {
        let task_definition = deployment.task_definition.clone();
        let target = target_id(world, index);
        if let (Some(task_definition), Some(target)) = (task_definition, target) {
            let (cluster, service) = target.split_once(':').unwrap_or_default();
            crate::ecs::set_service_task_definition(world, cluster, service, &task_definition);
        }
        return;
    }
    let rolls_back = auto_rollback.get("enabled") == Some(&json!(true))
        && str_list(&auto_rollback, "events").iter().any(|event| {
            event == "DEPLOYMENT_FAILURE"
                || (status == "Stopped" && event == "DEPLOYMENT_STOP_ON_REQUEST")
        });
    if rolls_back {
        roll_back(world, index);
    }
}

fn roll_back(world: &mut World, failed: usize) {
    let (application, group, failed_id, step_seconds) = {
        let deployment = &world.codedeploy.deployments[failed];
        (
            deployment.application.clone(),
            deployment.group.clone(),
            deployment.id.clone(),
            deployment.timeline.seconds,
        )
    };
    // The rollback succeeds, at the pace of the deployment it undoes.
    let timeline = CodeDeployTimeline {
        seconds: step_seconds,
        ..default_timeline(&group)
    };
    let rollback = new_deployment(world, &application, &group, json!({}), timeline);
    let rollback_id = world.codedeploy.deployments[rollback].id.clone();
    world.codedeploy.deployments[rollback].creator = "autoRollback";
    world.codedeploy.deployments[rollback].rollback_info = Some(json!({
        "rollbackTriggeringDeploymentId": failed_id,
        "rollbackMessage": format!("Deployment {rollback_id} is a rollback of {failed_id}."),
    }));
    world.codedeploy.deployments[failed].rollback_info = Some(json!({
        "rollbackDeploymentId": rollback_id,
        "rollbackMessage": format!("Deployment {failed_id} was rolled back by {rollback_id}."),
    }));
    schedule_step(world, rollback);
}

/// The (cluster, service) a deployment group deploys to.
fn ecs_service(world: &World, group: usize) -> Option<(String, String)> {
    let service = world.codedeploy.groups[group]
        .get("ecsServices")
        .and_then(|services| services.get(0))?;
    Some((
        str_field(service, "clusterName")
            .unwrap_or("default")
            .to_string(),
        str_field(service, "serviceName")?.to_string(),
    ))
}

fn target_status(status: &str) -> &'static str {
    match status {
        "Created" | "Queued" => "Pending",
        "InProgress" | "Baking" => "InProgress",
        "Ready" => "Ready",
        "Succeeded" => "Succeeded",
        _ => "Failed",
    }
}

fn time(world: &World, at: Option<Duration>) -> Value {
    at.map_or(Value::Null, |at| json!(world.epoch(at)))
}

fn render_deployment(world: &World, index: usize) -> Value {
    let deployment = &world.codedeploy.deployments[index];
    let group = find_group(world, &deployment.application, &deployment.group)
        .map(|group| &world.codedeploy.groups[group]);
    let from_group = |key: &str| {
        group
            .and_then(|g| g.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut overview = json!({"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0});
    overview[target_status(deployment.status)] = json!(1);
    object(vec![
        ("applicationName", json!(deployment.application)),
        ("deploymentGroupName", json!(deployment.group)),
        ("deploymentConfigName", from_group("deploymentConfigName")),
        ("deploymentId", json!(deployment.id)),
        ("revision", deployment.revision.clone()),
        ("status", json!(deployment.status)),
        (
            "errorInformation",
            deployment.error.as_ref().map_or(
                Value::Null,
                |(code, message)| json!({"code": code, "message": message}),
            ),
        ),
        ("createTime", json!(world.epoch(deployment.create_time))),
        ("startTime", time(world, deployment.start_time)),
        ("completeTime", time(world, deployment.complete_time)),
        ("deploymentOverview", overview),
        (
            "description",
            deployment
                .description
                .clone()
                .map_or(Value::Null, Value::from),
        ),
        ("creator", json!(deployment.creator)),
        ("ignoreApplicationStopFailures", json!(false)),
        (
            "autoRollbackConfiguration",
            deployment.auto_rollback.clone(),
        ),
        ("updateOutdatedInstancesOnly", json!(false)),
        (
            "rollbackInfo",
            deployment.rollback_info.clone().unwrap_or(Value::Null),
        ),
        ("deploymentStyle", from_group("deploymentStyle")),
        ("instanceTerminationWaitTimeStarted", json!(false)),
        (
            "blueGreenDeploymentConfiguration",
            from_group("blueGreenDeploymentConfiguration"),
        ),
        ("loadBalancerInfo", from_group("loadBalancerInfo")),
        ("deploymentStatusMessages", json!([])),
        ("computePlatform", json!("ECS")),
    ])
}

fn get_deployment(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    Ok(json!({ "deploymentInfo": render_deployment(world, index) }))
}

fn list_deployments(world: &mut World, body: &Value) -> AwsResult {
    let application = str_field(body, "applicationName");
    let group = str_field(body, "deploymentGroupName");
    let statuses = str_list(body, "includeOnlyStatuses");
    let ids: Vec<&str> = world
        .codedeploy
        .deployments
        .iter()
        .rev()
        .filter(|d| application.is_none_or(|a| d.application == a))
        .filter(|d| group.is_none_or(|g| d.group == g))
        .filter(|d| statuses.is_empty() || statuses.iter().any(|s| s == d.status))
        .map(|d| d.id.as_str())
        .collect();
    Ok(json!({ "deployments": ids }))
}

fn continue_deployment(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    let now = world.now;
    let deployment = &mut world.codedeploy.deployments[index];
    if deployment.status != "Ready" {
        return Err(AwsError::client(
            "DeploymentIsNotInReadyStateException",
            format!("The deployment {} is not in a ready state.", deployment.id),
        ));
    }
    deployment.status = "InProgress";
    if let Some(next) = deployment.events.iter().position(|e| e.status == "Pending") {
        start_event(deployment, next, now);
    }
    schedule_step(world, index);
    Ok(json!({}))
}

fn stop_deployment(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    let deployment = &mut world.codedeploy.deployments[index];
    if !ACTIVE_STATUSES.contains(&deployment.status) {
        return Err(AwsError::client(
            "DeploymentAlreadyCompletedException",
            format!("The deployment {} has already completed.", deployment.id),
        ));
    }
    if let Some(enabled) = body.get("autoRollbackEnabled").and_then(Value::as_bool) {
        deployment.auto_rollback =
            json!({"enabled": enabled, "events": ["DEPLOYMENT_STOP_ON_REQUEST"]});
    }
    finish(
        world,
        index,
        "Stopped",
        Some((
            "MANUAL_STOP".to_string(),
            "The deployment was stopped by request.".to_string(),
        )),
    );
    Ok(json!({"status": "Succeeded", "statusMessage": "Deployment stopped."}))
}

fn target_id(world: &World, index: usize) -> Option<String> {
    let deployment = &world.codedeploy.deployments[index];
    let group = find_group(world, &deployment.application, &deployment.group)?;
    ecs_service(world, group).map(|(cluster, service)| format!("{cluster}:{service}"))
}

fn list_deployment_targets(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    Ok(json!({ "targetIds": target_id(world, index).into_iter().collect::<Vec<_>>() }))
}

fn render_target(world: &World, index: usize, requested: &str) -> Result<Value, AwsError> {
    let id = target_id(world, index)
        .filter(|id| id == requested)
        .ok_or_else(|| {
            AwsError::client(
                "DeploymentTargetDoesNotExistException",
                format!("The target {requested} does not exist."),
            )
        })?;
    let deployment = &world.codedeploy.deployments[index];
    let (cluster, service) = id.split_once(':').unwrap_or_default();
    let events: Vec<Value> = deployment
        .events
        .iter()
        .map(|event| {
            object(vec![
                ("lifecycleEventName", json!(event.name)),
                (
                    "diagnostics",
                    event.diagnostics.clone().unwrap_or(Value::Null),
                ),
                ("startTime", time(world, event.start)),
                ("endTime", time(world, event.end)),
                ("status", json!(event.status)),
            ])
        })
        .collect();
    let last_updated = deployment
        .complete_time
        .or(deployment.start_time)
        .unwrap_or(deployment.create_time);
    Ok(json!({
        "deploymentTargetType": "ECSTarget",
        "ecsTarget": {
            "deploymentId": deployment.id,
            "targetId": id,
            "targetArn": world.arn("ecs", &format!("service/{cluster}/{service}")),
            "lastUpdatedAt": world.epoch(last_updated),
            "lifecycleEvents": events,
            "status": target_status(deployment.status),
        },
    }))
}

fn get_deployment_target(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    let target = required_str(body, "targetId")?;
    Ok(json!({ "deploymentTarget": render_target(world, index, target)? }))
}

fn batch_get_deployment_targets(world: &mut World, body: &Value) -> AwsResult {
    let index = find_deployment(world, body)?;
    let targets = str_list(body, "targetIds")
        .iter()
        .map(|target| render_target(world, index, target))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({ "deploymentTargets": targets }))
}

/// Every deployment as GetDeployment shows it, in the order they were created.
pub(crate) fn all_deployments(world: &World) -> Vec<Value> {
    (0..world.codedeploy.deployments.len())
        .map(|index| render_deployment(world, index))
        .collect()
}
