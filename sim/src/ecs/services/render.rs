//! Services, their deployments and service deployments in the shapes the
//! ECS API answers them with.

use super::rollout::{lifecycle_stage, traffic_weights};
use super::*;

fn render_deployment(world: &World, service: &Service, deployment: &Deployment) -> Value {
    let pending = if deployment.rollout_state == RolloutState::InProgress {
        deployment.desired_count - deployment.running_count
    } else {
        0
    };
    object(vec![
        ("id", json!(deployment.id)),
        ("status", json!(deployment.status.as_str())),
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
        ("rolloutState", json!(deployment.rollout_state.as_str())),
        ("rolloutStateReason", json!(deployment.rollout_state_reason)),
    ])
}

pub(super) fn render_service(world: &World, index: usize) -> Value {
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
            ("schedulingStrategy", json!(DEFAULT_SCHEDULING_STRATEGY)),
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
    // ECS marks the services Express Mode manages.
    if service.express.is_some() {
        rendered.insert("resourceManagementType".to_string(), json!("ECS"));
    }
    let current = service
        .service_deployments
        .last()
        .map_or(Value::Null, |sd| json!(sd.arn));
    let described = object(vec![
        ("serviceArn", json!(service.arn)),
        ("serviceName", json!(service.name)),
        ("clusterArn", json!(cluster_arn(world, &service.cluster))),
        ("status", json!(service.status.as_str())),
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

pub(super) fn render_service_deployment(
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
        ("status", json!(record.status.as_str())),
        (
            "statusReason",
            record
                .status_reason
                .clone()
                .map_or(Value::Null, Value::from),
        ),
        ("lifecycleStage", json!(stage.as_str())),
        (
            "deploymentConfiguration",
            config_value(service, "deploymentConfiguration"),
        ),
        ("rollback", record.rollback.clone().unwrap_or(Value::Null)),
        (
            "deploymentCircuitBreaker",
            json!({
                "status": record.circuit_breaker_status.as_str(),
                "failureCount": record.failure_count,
                "threshold": record.threshold,
            }),
        ),
        (
            "alarms",
            json!({
                "status": record.alarms_status.as_str(),
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

/// The hooks the rollout has reached, as DeploymentLifecycleHookDetail:
/// a PAUSE hook with when it expires and what it does then (it has no
/// target), an AWS_LAMBDA hook with its function; absent when there are
/// none.
fn lifecycle_hook_details(world: &World, record: &ServiceDeployment) -> Value {
    let details: Vec<Value> = record
        .hooks
        .iter()
        .filter_map(|hook| {
            hook.reached.as_ref().map(|reached| match &hook.function {
                Some(function) => json!({
                    "hookId": reached.id,
                    "targetType": "AWS_LAMBDA",
                    "targetArn": function,
                    "status": reached.status.as_str(),
                }),
                None => json!({
                    "hookId": reached.id,
                    "targetType": "PAUSE",
                    "status": reached.status.as_str(),
                    "expiresAt": world.epoch(reached.expires_at),
                    "timeoutAction": hook.timeout_action.as_str(),
                }),
            })
        })
        .collect();
    if details.is_empty() {
        Value::Null
    } else {
        Value::Array(details)
    }
}

/// A ServiceDeploymentBrief, as ListServiceDeployments answers it.
pub(super) fn brief(full: &Value) -> Value {
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

/// Every service as DescribeServices shows it.
pub(crate) fn all_services(world: &World) -> Vec<Value> {
    (0..world.ecs.services.len())
        .map(|index| render_service(world, index))
        .collect()
}
