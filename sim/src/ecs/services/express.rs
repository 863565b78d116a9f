//! Express Mode services: ECS services whose load balancer, scaling and
//! deployment settings Express Mode manages. DescribeExpressGatewayService
//! shows one with its endpoint and the configurations that run;
//! UpdateExpressGatewayService with a task definition of one's own starts a
//! service deployment of it, which rolls out as any other (canary, as
//! Express Mode configures its services).

use super::rollout::{next_rollout_timeline, revision_running};
use super::*;
use crate::scenario::{ExpressSetup, ServiceSetup};

/// The container ECS routes an Express service's traffic to.
const MAIN_CONTAINER: &str = "Main";

/// Members of UpdateExpressGatewayService that shape the task definition
/// Express Mode manages, which ECS refuses beside a taskDefinitionArn.
const MANAGED_DEFINITION_MEMBERS: [&str; 6] = [
    "primaryContainer",
    "executionRoleArn",
    "taskRoleArn",
    "cpu",
    "memory",
    "cpuArchitecture",
];

/// Makes a scenario's service an Express service: its task definition must
/// suit Express Mode, and its deployment configuration gets Express Mode's
/// canary (5% of traffic for 3 minutes, then 3 minutes' bake time) where
/// the scenario says nothing else.
pub(in crate::ecs) fn express_setup(
    world: &World,
    setup: &ServiceSetup,
    express: &ExpressSetup,
    config: &mut Map<String, Value>,
) -> anyhow::Result<Express> {
    let definition = find_task_definition(world, &setup.task_definition)
        .map(|td| &world.ecs.task_definitions[td].body);
    if let Some(problem) = definition.and_then(express_incompatibility) {
        anyhow::bail!("Express service {}: {problem}", setup.service_name);
    }
    if let Value::Object(configuration) = config
        .entry("deploymentConfiguration")
        .or_insert_with(|| json!({}))
    {
        with_defaults(
            configuration,
            &[
                ("strategy", json!("CANARY")),
                (
                    "canaryConfiguration",
                    json!({"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 3}),
                ),
                ("bakeTimeInMinutes", json!(3)),
            ],
        );
    }
    Ok(Express {
        endpoint: express.endpoint.clone().unwrap_or_else(|| {
            format!("https://{}.ecs.{}.on.aws", setup.service_name, world.region)
        }),
        access_type: express.access_type,
        infrastructure_role_arn: express.infrastructure_role_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:iam::{}:role/ecsInfrastructureRoleForExpressServices",
                world.account
            )
        }),
        health_check_path: express.health_check_path.clone(),
        network_configuration: express.network_configuration.clone().unwrap_or_default(),
        scaling_target: express.scaling_target.clone().unwrap_or_default(),
        updated_at: Duration::ZERO,
    })
}

fn main_container(definition: &Map<String, Value>) -> Option<&Value> {
    definition
        .get("containerDefinitions")
        .and_then(Value::as_array)?
        .iter()
        .find(|container| str_field(container, "name") == Some(MAIN_CONTAINER))
}

/// Why ECS refuses a task definition for an Express service, if it does:
/// Express Mode needs FARGATE compatibility and a container named Main with
/// a single TCP port mapping that has a container port and a name.
fn express_incompatibility(definition: &Map<String, Value>) -> Option<&'static str> {
    let fargate = definition
        .get("requiresCompatibilities")
        .and_then(Value::as_array)
        .is_some_and(|compatibilities| compatibilities.iter().any(|c| c == "FARGATE"));
    if !fargate {
        return Some("The task definition must be compatible with FARGATE.");
    }
    let Some(main) = main_container(definition) else {
        return Some("The task definition must have a container named Main.");
    };
    let mappings = main
        .get("portMappings")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let named_tcp = |mapping: &Value| {
        mapping.get("containerPort").is_some_and(Value::is_number)
            && str_field(mapping, "name").is_some_and(|name| !name.is_empty())
            && str_field(mapping, "protocol").is_none_or(|protocol| protocol == "tcp")
    };
    match mappings {
        [mapping] if named_tcp(mapping) => None,
        _ => Some(
            "The container Main must have a single TCP port mapping with a container port and a name.",
        ),
    }
}

/// The Express service a request's serviceArn names, answering `missing`
/// when there is no such service, and InvalidParameterException for an ECS
/// service Express Mode does not manage.
fn requested_express<'w>(
    world: &'w World,
    body: &Value,
    missing: AwsError,
) -> Result<(usize, &'w Express), AwsError> {
    let arn = required_str(body, "serviceArn")?;
    let index = world
        .ecs
        .services
        .iter()
        .position(|service| service.arn == arn)
        .ok_or(missing)?;
    let express = world.ecs.services[index].express.as_ref().ok_or_else(|| {
        invalid_parameter(format!("The service {arn} is not an Express service."))
    })?;
    Ok((index, express))
}

/// An ExpressGatewayServiceStatus, which spells the states as Service.status does.
fn express_status(service: &Service) -> Value {
    json!({"statusCode": service.status.as_str()})
}

/// The Main container as an ExpressGatewayContainer.
fn primary_container(main: &Value) -> Value {
    let member = |key: &str| main.get(key).cloned().unwrap_or(Value::Null);
    let awslogs = main
        .get("logConfiguration")
        .filter(|logging| str_field(logging, "logDriver") == Some("awslogs"))
        .and_then(|logging| logging.get("options"))
        .and_then(|options| {
            let group = str_field(options, "awslogs-group")?;
            let prefix = str_field(options, "awslogs-stream-prefix")?;
            Some(json!({"logGroup": group, "logStreamPrefix": prefix}))
        });
    object(vec![
        ("image", member("image")),
        (
            "containerPort",
            main.pointer("/portMappings/0/containerPort")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        ("awsLogsConfiguration", awslogs.unwrap_or(Value::Null)),
        ("repositoryCredentials", member("repositoryCredentials")),
        ("command", member("command")),
        ("environment", member("environment")),
        ("secrets", member("secrets")),
    ])
}

/// The ExpressGatewayServiceConfiguration of the service revision `record`
/// targeted: its task definition's roles, size and Main container, and the
/// service's ingress and settings.
fn configuration(world: &World, express: &Express, record: &ServiceDeployment) -> Value {
    let definition = find_task_definition(world, &record.target_task_definition)
        .map(|td| &world.ecs.task_definitions[td].body);
    let member = |key: &str| {
        definition
            .and_then(|definition| definition.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    object(vec![
        ("serviceRevisionArn", json!(record.target_revision)),
        ("executionRoleArn", member("executionRoleArn")),
        ("taskRoleArn", member("taskRoleArn")),
        ("taskDefinitionArn", json!(record.target_task_definition)),
        ("cpu", member("cpu")),
        ("memory", member("memory")),
        (
            "cpuArchitecture",
            member("runtimePlatform")
                .get("cpuArchitecture")
                .cloned()
                .unwrap_or(Value::Null),
        ),
        (
            "networkConfiguration",
            express.network_configuration.clone(),
        ),
        ("healthCheckPath", json!(express.health_check_path)),
        (
            "primaryContainer",
            definition
                .and_then(main_container)
                .map_or(Value::Null, primary_container),
        ),
        ("scalingTarget", express.scaling_target.clone()),
        (
            "ingressPaths",
            json!([{"accessType": express.access_type.as_str(), "endpoint": express.endpoint}]),
        ),
        ("createdAt", json!(world.epoch(record.created_at))),
    ])
}

/// The configurations of the service revisions that run: the PRIMARY
/// deployment's first, then those it is replacing.
fn active_configurations(world: &World, service: &Service, express: &Express) -> Value {
    let mut running: Vec<&ServiceDeployment> = Vec::new();
    for deployment in &service.deployments {
        if let Some(record) = revision_running(service, &deployment.task_definition) {
            if !running.iter().any(|seen| seen.arn == record.arn) {
                running.push(record);
            }
        }
    }
    Value::Array(
        running
            .into_iter()
            .map(|record| configuration(world, express, record))
            .collect(),
    )
}

/// DescribeExpressGatewayService: the service with its status, current
/// service deployment, the configurations that run (each with its task
/// definition and endpoint), and its tags with `include: [TAGS]`.
pub(in crate::ecs) fn describe_express_gateway_service(
    world: &mut World,
    body: &Value,
) -> AwsResult {
    let missing = AwsError::client(
        "ResourceNotFoundException",
        "The Express service does not exist.",
    );
    let (index, express) = requested_express(world, body, missing)?;
    let service = &world.ecs.services[index];
    let tags = if str_list(body, "include")
        .iter()
        .any(|field| field == "TAGS")
    {
        service.config.get("tags").cloned().unwrap_or(json!([]))
    } else {
        Value::Null
    };
    let current = service
        .service_deployments
        .last()
        .map_or(Value::Null, |record| json!(record.arn));
    let described = object(vec![
        ("cluster", json!(cluster_arn(world, &service.cluster))),
        ("serviceName", json!(service.name)),
        ("serviceArn", json!(service.arn)),
        (
            "infrastructureRoleArn",
            json!(express.infrastructure_role_arn),
        ),
        ("status", express_status(service)),
        ("currentDeployment", current),
        (
            "activeConfigurations",
            active_configurations(world, service, express),
        ),
        ("tags", tags),
        ("createdAt", json!(world.epoch(service.created_at))),
        ("updatedAt", json!(world.epoch(express.updated_at))),
    ]);
    Ok(json!({ "service": described }))
}

/// UpdateExpressGatewayService with a taskDefinitionArn: checks what ECS
/// checks (an ACTIVE Express service; an ACTIVE task definition that suits
/// Express Mode; none of the members that shape Express Mode's own task
/// definition beside it), keeps the health check path, network
/// configuration and scaling target it is given, and starts a service
/// deployment of the task definition, as UpdateService does. Answers the
/// configuration the service is moving to.
pub(in crate::ecs) fn update_express_gateway_service(world: &mut World, body: &Value) -> AwsResult {
    let missing = AwsError::client("ServiceNotFoundException", "Service not found.");
    let (index, _) = requested_express(world, body, missing)?;
    if world.ecs.services[index].status != ServiceStatus::Active {
        return Err(AwsError::client(
            "ServiceNotActiveException",
            "Service was not ACTIVE.",
        ));
    }
    let Some(reference) = str_field(body, "taskDefinitionArn") else {
        return Err(invalid_parameter(
            "The simulator updates Express services only with a taskDefinitionArn.",
        ));
    };
    let combined: Vec<&str> = MANAGED_DEFINITION_MEMBERS
        .into_iter()
        .filter(|member| body.get(member).is_some_and(|value| !value.is_null()))
        .collect();
    if !combined.is_empty() {
        return Err(invalid_parameter(format!(
            "taskDefinitionArn cannot be specified together with {}.",
            combined.join(", ")
        )));
    }
    let td = deployable_task_definition(world, reference)?;
    if let Some(problem) = express_incompatibility(&world.ecs.task_definitions[td].body) {
        return Err(invalid_parameter(problem));
    }
    let task_definition = world.ecs.task_definitions[td].arn.clone();
    let now = world.now;
    if let Some(express) = world.ecs.services[index].express.as_mut() {
        if let Some(path) = str_field(body, "healthCheckPath") {
            express.health_check_path = path.to_string();
        }
        for (member, kept) in [
            ("networkConfiguration", &mut express.network_configuration),
            ("scalingTarget", &mut express.scaling_target),
        ] {
            if let Some(value) = body.get(member).filter(|value| !value.is_null()) {
                *kept = value.clone();
            }
        }
        express.updated_at = now;
    }
    let timeline = next_rollout_timeline(world, index);
    start_rollout(world, index, &task_definition, timeline);
    let service = &world.ecs.services[index];
    let target = service
        .service_deployments
        .last()
        .zip(service.express.as_ref())
        .map_or(Value::Null, |(record, express)| {
            configuration(world, express, record)
        });
    let updated = object(vec![
        ("serviceArn", json!(service.arn)),
        ("cluster", json!(cluster_arn(world, &service.cluster))),
        ("serviceName", json!(service.name)),
        ("status", express_status(service)),
        ("targetConfiguration", target),
        ("createdAt", json!(world.epoch(service.created_at))),
        ("updatedAt", json!(world.epoch(now))),
    ]);
    Ok(json!({ "service": updated }))
}
