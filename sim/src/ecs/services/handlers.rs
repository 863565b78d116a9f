//! The ECS requests about services and service deployments: each parses
//! its request, calls into the rollout and answers with the rendered shapes.

use super::render::{brief, render_service, render_service_deployment};
use super::rollout::{act_on_pause, end_rollout, next_rollout_timeline, RolloutEnd};
use super::*;

pub(in crate::ecs) fn describe_services(world: &mut World, body: &Value) -> AwsResult {
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

/// ListServices: the ARNs of the cluster's services that are not INACTIVE,
/// in the order they were created, of the launchType and schedulingStrategy
/// asked for if any; 10 a page unless maxResults says otherwise.
pub(in crate::ecs) fn list_services(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let launch_type = str_field(body, "launchType");
    let scheduling_strategy = str_field(body, "schedulingStrategy");
    let arns: Vec<&str> = world
        .ecs
        .services
        .iter()
        .filter(|service| service.cluster == cluster && service.status != ServiceStatus::Inactive)
        .filter(|service| {
            launch_type.is_none_or(|wanted| config_value(service, "launchType") == wanted)
        })
        .filter(|service| {
            scheduling_strategy.is_none_or(|wanted| {
                let strategy = service.config.get("schedulingStrategy");
                strategy
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_SCHEDULING_STRATEGY)
                    == wanted
            })
        })
        .map(|service| service.arn.as_str())
        .collect();
    page(body, "serviceArns", &arns, 10)
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

pub(in crate::ecs) fn update_service(world: &mut World, body: &Value) -> AwsResult {
    let cluster = request_cluster(world, body)?;
    let reference = required_str(body, "service")?;
    let index = find_service(world, &cluster, reference)
        .ok_or_else(|| AwsError::client("ServiceNotFoundException", "Service not found."))?;
    if world.ecs.services[index].status != ServiceStatus::Active {
        return Err(AwsError::client(
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ));
    }
    let requested_definition = match str_field(body, "taskDefinition") {
        Some(reference) => {
            let td = deployable_task_definition(world, reference)?;
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

/// The task definition a deployment is asked to roll out, which must exist
/// and be ACTIVE.
pub(super) fn deployable_task_definition(
    world: &World,
    reference: &str,
) -> Result<usize, AwsError> {
    let td = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("TaskDefinition not found."))?;
    if world.ecs.task_definitions[td].status != TaskDefinitionStatus::Active {
        return Err(client_exception("TaskDefinition is inactive"));
    }
    Ok(td)
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
    let rolling_out = service.deployments.first().is_some_and(|d| {
        d.service_deployment == record && d.rollout_state == RolloutState::InProgress
    }) && service.service_deployments[record].status
        == ServiceDeploymentStatus::InProgress;
    Ok((index, record, rolling_out))
}

/// StopServiceDeployment: rolls an ongoing service deployment back
/// (ROLLBACK, the default) or stops it where it is (ABORT).
pub(in crate::ecs) fn stop_service_deployment(world: &mut World, body: &Value) -> AwsResult {
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

/// ContinueServiceDeployment: carries on (CONTINUE, the default) or rolls
/// back (ROLLBACK) a rollout paused at the PAUSE hook `hookId`.
pub(in crate::ecs) fn continue_service_deployment(world: &mut World, body: &Value) -> AwsResult {
    let hook_id = required_str(body, "hookId")?;
    let (index, record, rolling_out) = requested_service_deployment(world, body)?;
    let awaiting = rolling_out
        && world.ecs.services[index].service_deployments[record]
            .hooks
            .iter()
            .filter_map(|hook| hook.reached.as_ref())
            .any(|hook| hook.id == hook_id && hook.status == HookStatus::AwaitingAction);
    // AWS models no ConflictException for this operation, so a hook that
    // is not awaiting action counts as an invalid hookId.
    if !awaiting {
        return Err(invalid_parameter(format!(
            "The lifecycle hook {hook_id} is not awaiting action on this service deployment."
        )));
    }
    let action = str_field(body, "action").unwrap_or(HookAction::Continue.as_str());
    let (status, action) = match HookAction::parse(action) {
        Some(HookAction::Continue) => (HookStatus::Succeeded, HookAction::Continue),
        Some(HookAction::Rollback) => (HookStatus::Failed, HookAction::Rollback),
        None => return Err(invalid_parameter(format!("Invalid action {action}."))),
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

pub(in crate::ecs) fn list_service_deployments(world: &mut World, body: &Value) -> AwsResult {
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
        .filter(|record| {
            statuses.is_empty() || statuses.iter().any(|s| s == record.status.as_str())
        })
        .filter(|record| {
            let created = world.epoch(record.created_at);
            after.is_none_or(|after| created >= after)
                && before.is_none_or(|before| created <= before)
        })
        .map(|record| brief(&render_service_deployment(world, service, record)))
        .collect();
    Ok(json!({ "serviceDeployments": briefs }))
}

pub(in crate::ecs) fn describe_service_deployments(world: &mut World, body: &Value) -> AwsResult {
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

/// DescribeServiceRevisions: each revision a service deployment targeted,
/// with its task definition and the service's placement as it is.
pub(in crate::ecs) fn describe_service_revisions(world: &mut World, body: &Value) -> AwsResult {
    let requested = str_list(body, "serviceRevisionArns");
    if requested.is_empty() || requested.len() > 20 {
        return Err(invalid_parameter(
            "serviceRevisionArns must contain between 1 and 20 items.",
        ));
    }
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for arn in &requested {
        let revision = world.ecs.services.iter().find_map(|service| {
            let record = service
                .service_deployments
                .iter()
                .find(|record| record.target_revision == *arn)?;
            Some(object(vec![
                ("serviceRevisionArn", json!(arn)),
                ("serviceArn", json!(service.arn)),
                ("clusterArn", json!(cluster_arn(world, &service.cluster))),
                ("taskDefinition", json!(record.target_task_definition)),
                ("launchType", config_value(service, "launchType")),
                ("platformVersion", config_value(service, "platformVersion")),
                (
                    "networkConfiguration",
                    config_value(service, "networkConfiguration"),
                ),
                ("createdAt", json!(world.epoch(record.created_at))),
            ]))
        });
        match revision {
            Some(revision) => found.push(revision),
            None => failures.push(json!({"arn": arn, "reason": "MISSING"})),
        }
    }
    Ok(json!({ "serviceRevisions": found, "failures": failures }))
}
