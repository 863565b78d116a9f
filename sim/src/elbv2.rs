//! Elastic Load Balancing v2: the scenario's target groups, their
//! attributes, and the health of the targets ECS services' tasks are
//! (their private addresses, in the target groups the services'
//! `loadBalancers` name). Spoken over awsQuery (`query`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::aws::{fnv1a, object, required_str, str_list, AwsError, AwsResult};
use crate::ecs::TargetState;
use crate::scenario::Scenario;
use crate::world::{str_field, World};

/// The XML namespace of every answer.
pub(crate) const NAMESPACE: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

/// DescribeTargetGroupAttributes' defaults for an Application Load
/// Balancer's target group, which the scenario's `attributes` override.
const DEFAULT_ATTRIBUTES: [(&str, &str); 4] = [
    ("deregistration_delay.timeout_seconds", "300"),
    ("stickiness.enabled", "false"),
    ("load_balancing.algorithm.type", "round_robin"),
    ("slow_start.duration_seconds", "0"),
];

#[derive(Default)]
pub(crate) struct Elbv2State {
    target_groups: Vec<TargetGroup>,
}

struct TargetGroup {
    arn: String,
    name: String,
    protocol: String,
    port: i64,
    vpc_id: String,
    interval: i64,
    timeout: i64,
    healthy_threshold: i64,
    unhealthy_threshold: i64,
    path: String,
    load_balancers: Vec<String>,
    attributes: BTreeMap<String, String>,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    // One VPC for the account, as a scenario's services share one.
    let vpc_id = format!("vpc-{:017x}", fnv1a(world.account.as_bytes()) >> 4);
    for given in &scenario.target_groups {
        let name = given.target_group_name.clone();
        if world
            .elbv2
            .target_groups
            .iter()
            .any(|group| group.name == name)
        {
            anyhow::bail!("targetGroups: two target groups named {name}");
        }
        let suffix = format!("{:016x}", fnv1a(name.as_bytes()));
        let mut attributes: BTreeMap<String, String> = DEFAULT_ATTRIBUTES
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        for (key, value) in &given.attributes {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            attributes.insert(key.clone(), text);
        }
        let group = TargetGroup {
            arn: given.target_group_arn.clone().unwrap_or_else(|| {
                world.arn(
                    "elasticloadbalancing",
                    &format!("targetgroup/{name}/{suffix}"),
                )
            }),
            protocol: given.protocol.clone().unwrap_or_else(|| "HTTP".to_string()),
            port: given.port.unwrap_or(80),
            vpc_id: given.vpc_id.clone().unwrap_or_else(|| vpc_id.clone()),
            interval: given.health_check_interval_seconds.unwrap_or(30),
            timeout: given.health_check_timeout_seconds.unwrap_or(5),
            healthy_threshold: given.healthy_threshold_count.unwrap_or(5),
            unhealthy_threshold: given.unhealthy_threshold_count.unwrap_or(2),
            path: given
                .health_check_path
                .clone()
                .unwrap_or_else(|| "/".to_string()),
            load_balancers: given.load_balancer_arns.clone(),
            attributes,
            name,
        };
        world.elbv2.target_groups.push(group);
    }
    Ok(())
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> AwsResult {
    match operation {
        "DescribeTargetGroups" => describe_target_groups(world, body),
        "DescribeTargetGroupAttributes" => describe_target_group_attributes(world, body),
        "DescribeTargetHealth" => describe_target_health(world, body),
        _ => Err(AwsError::client(
            "UnknownOperationException",
            format!("The simulator does not implement elasticloadbalancing {operation}."),
        )),
    }
}

fn target_group_not_found() -> AwsError {
    AwsError::client("TargetGroupNotFound", "One or more target groups not found")
}

fn find_target_group<'a>(world: &'a World, arn: &str) -> Result<&'a TargetGroup, AwsError> {
    world
        .elbv2
        .target_groups
        .iter()
        .find(|group| group.arn == arn)
        .ok_or_else(target_group_not_found)
}

/// The target groups `TargetGroupArns` or `Names` name (each must exist),
/// or those of `LoadBalancerArn`, or all; in one page.
fn describe_target_groups(world: &mut World, body: &Value) -> AwsResult {
    let arns = str_list(body, "TargetGroupArns");
    let names = str_list(body, "Names");
    let load_balancer = str_field(body, "LoadBalancerArn");
    let filters = [!arns.is_empty(), !names.is_empty(), load_balancer.is_some()];
    if filters.iter().filter(|given| **given).count() > 1 {
        return Err(AwsError::client(
            "ValidationError",
            "Only one of LoadBalancerArn, TargetGroupArns or Names can be specified.",
        ));
    }
    let groups = &world.elbv2.target_groups;
    let named = |wanted: &[String], field: fn(&TargetGroup) -> &str| {
        wanted
            .iter()
            .map(|want| {
                groups
                    .iter()
                    .find(|group| field(group) == want)
                    .ok_or_else(target_group_not_found)
            })
            .collect::<Result<Vec<&TargetGroup>, AwsError>>()
    };
    let found: Vec<&TargetGroup> = if !arns.is_empty() {
        named(&arns, |group| &group.arn)?
    } else if !names.is_empty() {
        named(&names, |group| &group.name)?
    } else if let Some(load_balancer) = load_balancer {
        let used: Vec<&TargetGroup> = groups
            .iter()
            .filter(|group| group.load_balancers.iter().any(|arn| arn == load_balancer))
            .collect();
        if used.is_empty() {
            return Err(AwsError::client(
                "LoadBalancerNotFound",
                "One or more load balancers not found",
            ));
        }
        used
    } else {
        groups.iter().collect()
    };
    let rendered: Vec<Value> = found.into_iter().map(render_target_group).collect();
    Ok(json!({ "TargetGroups": rendered }))
}

fn render_target_group(group: &TargetGroup) -> Value {
    json!({
        "TargetGroupArn": group.arn,
        "TargetGroupName": group.name,
        "Protocol": group.protocol,
        "Port": group.port,
        "VpcId": group.vpc_id,
        "HealthCheckProtocol": group.protocol,
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": true,
        "HealthCheckIntervalSeconds": group.interval,
        "HealthCheckTimeoutSeconds": group.timeout,
        "HealthyThresholdCount": group.healthy_threshold,
        "UnhealthyThresholdCount": group.unhealthy_threshold,
        "HealthCheckPath": group.path,
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": group.load_balancers,
        "TargetType": "ip",
        "ProtocolVersion": "HTTP1",
        "IpAddressType": "ipv4",
    })
}

fn describe_target_group_attributes(world: &mut World, body: &Value) -> AwsResult {
    let group = find_target_group(world, required_str(body, "TargetGroupArn")?)?;
    let attributes: Vec<Value> = group
        .attributes
        .iter()
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    Ok(json!({ "Attributes": attributes }))
}

/// The targets ECS registered (every running task of the services whose
/// `loadBalancers` name the group), or those `Targets` asks about, an
/// unregistered one being `unused`.
fn describe_target_health(world: &mut World, body: &Value) -> AwsResult {
    let arn = required_str(body, "TargetGroupArn")?;
    find_target_group(world, arn)?;
    let registered = crate::ecs::targets_in(world, arn);
    let described: Vec<Value> = match body.get("Targets").and_then(Value::as_array) {
        None => registered
            .iter()
            .map(|(id, port, state)| target_health(id, Some(*port), Some(*state)))
            .collect(),
        Some(asked) => asked
            .iter()
            .map(|target| {
                let id = str_field(target, "Id").unwrap_or_default();
                let port = target.get("Port").and_then(Value::as_i64);
                let found = registered
                    .iter()
                    .find(|(registered_id, registered_port, _)| {
                        registered_id == id && port.is_none_or(|port| port == *registered_port)
                    });
                match found {
                    Some((id, port, state)) => target_health(id, Some(*port), Some(*state)),
                    None => target_health(id, port, None),
                }
            })
            .collect(),
    };
    Ok(json!({ "TargetHealthDescriptions": described }))
}

/// A TargetHealthDescription; a target not registered (no state) is unused.
fn target_health(id: &str, port: Option<i64>, state: Option<TargetState>) -> Value {
    let (state, reason, description) = match state {
        Some(TargetState::Healthy) => ("healthy", None, None),
        Some(TargetState::Initial) => (
            "initial",
            Some("Elb.InitialHealthChecking"),
            Some("Initial health checks in progress"),
        ),
        Some(TargetState::Draining) => (
            "draining",
            Some("Target.DeregistrationInProgress"),
            Some("Target deregistration is in progress"),
        ),
        None => (
            "unused",
            Some("Target.NotRegistered"),
            Some("Target is not registered to the target group"),
        ),
    };
    let port_text = port.map_or(Value::Null, |port| Value::from(port.to_string()));
    object(vec![
        (
            "Target",
            object(vec![("Id", json!(id)), ("Port", json!(port))]),
        ),
        ("HealthCheckPort", port_text),
        (
            "TargetHealth",
            object(vec![
                ("State", json!(state)),
                ("Reason", reason.map_or(Value::Null, Value::from)),
                ("Description", description.map_or(Value::Null, Value::from)),
            ]),
        ),
    ])
}
