//! CodeDeploy AppSpec documents for ECS, as JSON values: pointing a given
//! AppSpec at the new task definition, or generating one from the service so
//! that most users need none. Pure functions.

use anyhow::{bail, Result};
use aws_sdk_ecs::types::Service;
use serde_json::{json, Map, Value};

/// The value under `key`, matched case-insensitively as CodeDeploy and the
/// official action do (`Resources`, `resources`, `TaskDefinition`, ...).
fn get_mut<'a>(object: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    object
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// The TaskDefinition of the AppSpec's first ECS target.
pub(crate) fn task_definition(appspec: &Value) -> Option<String> {
    let root = appspec.as_object()?;
    let get = |object: &'_ Map<String, Value>, key: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    let resources = get(root, "Resources")?;
    resources.as_array()?.iter().find_map(|resource| {
        resource.as_object()?.values().find_map(|target| {
            let properties = get(target.as_object()?, "Properties")?;
            get(properties.as_object()?, "TaskDefinition")?
                .as_str()
                .map(str::to_owned)
        })
    })
}

/// Sets every ECS target's TaskDefinition to `arn`; hooks and everything
/// else stay as written.
pub fn set_task_definition(appspec: &mut Value, arn: &str) -> Result<()> {
    let Some(root) = appspec.as_object_mut() else {
        bail!("the AppSpec must be a mapping with Resources");
    };
    let Some(Value::Array(resources)) = get_mut(root, "Resources") else {
        bail!("the AppSpec has no Resources list; it needs one TargetService of Type AWS::ECS::Service");
    };
    let mut targets = 0;
    for resource in resources.iter_mut().filter_map(Value::as_object_mut) {
        // Each resource is {<name>: {Type, Properties}}.
        for target in resource.values_mut().filter_map(Value::as_object_mut) {
            let Some(Value::Object(properties)) = get_mut(target, "Properties") else {
                continue;
            };
            match get_mut(properties, "TaskDefinition") {
                Some(value) => *value = arn.into(),
                None => {
                    properties.insert("TaskDefinition".into(), arn.into());
                }
            }
            targets += 1;
        }
    }
    if targets == 0 {
        bail!("the AppSpec's Resources have no target with Properties; it needs one TargetService of Type AWS::ECS::Service");
    }
    Ok(())
}

/// An AppSpec for `service` deploying `arn`, from the service's load
/// balancer, platform version, network and capacity provider strategy.
pub fn generate(service: &Service, arn: &str) -> Result<Value> {
    let name = service.service_name().unwrap_or("?");
    let Some(balancer) = service.load_balancers().first() else {
        bail!(
            "service {name} has no load balancer to build an AppSpec from; give codedeploy-appspec"
        );
    };
    let (Some(container), Some(port)) = (balancer.container_name(), balancer.container_port())
    else {
        bail!("the load balancer of service {name} names no container and port; give codedeploy-appspec");
    };
    let mut properties = Map::new();
    properties.insert("TaskDefinition".into(), arn.into());
    properties.insert(
        "LoadBalancerInfo".into(),
        json!({"ContainerName": container, "ContainerPort": port}),
    );
    if let Some(version) = service.platform_version() {
        properties.insert("PlatformVersion".into(), version.into());
    }
    if let Some(vpc) = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
    {
        let mut awsvpc = Map::new();
        awsvpc.insert("Subnets".into(), json!(vpc.subnets()));
        if !vpc.security_groups().is_empty() {
            awsvpc.insert("SecurityGroups".into(), json!(vpc.security_groups()));
        }
        if let Some(public_ip) = vpc.assign_public_ip() {
            awsvpc.insert("AssignPublicIp".into(), public_ip.as_str().into());
        }
        properties.insert(
            "NetworkConfiguration".into(),
            json!({"AwsvpcConfiguration": awsvpc}),
        );
    }
    let strategy: Vec<Value> = service
        .capacity_provider_strategy()
        .iter()
        .map(|item| {
            json!({
                "CapacityProvider": item.capacity_provider(),
                "Base": item.base(),
                "Weight": item.weight(),
            })
        })
        .collect();
    if !strategy.is_empty() {
        properties.insert("CapacityProviderStrategy".into(), strategy.into());
    }
    Ok(json!({
        "version": "0.0",
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_definition_is_read_back_in_any_case() {
        let mut appspec = json!({"version": 0.0, "resources": [{"TargetService": {"type": "AWS::ECS::Service", "properties": {"taskdefinition": "old"}}}]});
        assert_eq!(task_definition(&appspec).as_deref(), Some("old"));
        set_task_definition(&mut appspec, "arn:new").unwrap();
        assert_eq!(task_definition(&appspec).as_deref(), Some("arn:new"));
        assert_eq!(task_definition(&json!({"Resources": []})), None);
    }
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, LoadBalancer,
        NetworkConfiguration,
    };

    const ARN: &str = "arn:aws:ecs:us-east-1:1:task-definition/shop:2";

    #[test]
    fn the_task_definition_is_set_whatever_the_case_and_hooks_stay() {
        let mut appspec = json!({
            "version": 0.0,
            "resources": [{"TargetService": {"type": "AWS::ECS::Service", "properties": {
                "taskdefinition": "<TASK_DEFINITION>",
                "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}
            }}}],
            "Hooks": [{"BeforeAllowTraffic": "arn:aws:lambda:us-east-1:1:function:smoke"}]
        });
        set_task_definition(&mut appspec, ARN).unwrap();
        assert_eq!(
            appspec["resources"][0]["TargetService"]["properties"]["taskdefinition"],
            ARN
        );
        assert_eq!(
            appspec["Hooks"],
            json!([{"BeforeAllowTraffic": "arn:aws:lambda:us-east-1:1:function:smoke"}])
        );
    }

    #[test]
    fn a_missing_task_definition_property_is_added() {
        let mut appspec = json!({"Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {}}}]});
        set_task_definition(&mut appspec, ARN).unwrap();
        assert_eq!(
            appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"],
            ARN
        );
    }

    #[test]
    fn appspecs_without_targets_are_rejected() {
        let cases = [
            (json!("text"), "the AppSpec must be a mapping with Resources"),
            (json!({"version": 0.0}), "the AppSpec has no Resources list; it needs one TargetService of Type AWS::ECS::Service"),
            (json!({"Resources": []}), "the AppSpec's Resources have no target with Properties; it needs one TargetService of Type AWS::ECS::Service"),
        ];
        for (mut appspec, message) in cases {
            assert_eq!(
                set_task_definition(&mut appspec, ARN)
                    .unwrap_err()
                    .to_string(),
                message
            );
        }
    }

    #[test]
    fn generated_from_the_service() {
        let service = Service::builder()
            .service_name("web")
            .load_balancers(
                LoadBalancer::builder()
                    .container_name("web")
                    .container_port(8080)
                    .build(),
            )
            .platform_version("1.4.0")
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets("subnet-1")
                            .security_groups("sg-1")
                            .assign_public_ip(AssignPublicIp::Disabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .capacity_provider_strategy(
                CapacityProviderStrategyItem::builder()
                    .capacity_provider("FARGATE_SPOT")
                    .weight(1)
                    .base(0)
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            generate(&service, ARN).unwrap(),
            json!({
                "version": "0.0",
                "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
                    "TaskDefinition": ARN,
                    "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080},
                    "PlatformVersion": "1.4.0",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-1"], "SecurityGroups": ["sg-1"], "AssignPublicIp": "DISABLED"}},
                    "CapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Base": 0, "Weight": 1}]
                }}}]
            })
        );
        let bare = Service::builder().service_name("web").build();
        assert_eq!(
            generate(&bare, ARN).unwrap_err().to_string(),
            "service web has no load balancer to build an AppSpec from; give codedeploy-appspec"
        );
    }
}
