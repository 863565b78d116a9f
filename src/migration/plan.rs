//! Pure decisions about the migration task: which container decides, where
//! the task runs, its idempotency token and how a person finds it in the
//! console.

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, LaunchType, PropagateTags, Service,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::migration::settings::{PlacementOverrides, WorkflowStep};
use crate::render::family;

fn containers(definition: &Value) -> impl Iterator<Item = &Value> {
    definition["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
}

fn name(container: &Value) -> &str {
    container["name"].as_str().unwrap_or_default()
}

/// Containers whose exit stops the task; ECS's default is essential.
pub(crate) fn essential_containers(definition: &Value) -> Vec<String> {
    containers(definition)
        .filter(|container| container["essential"].as_bool().unwrap_or(true))
        .map(|container| name(container).to_owned())
        .collect()
}

/// The container whose command is overridden and whose exit code decides:
/// `migration-container`, else the first that run-task-container-overrides
/// overrides, else the one `container-name` names, else the only essential
/// container.
pub(crate) fn decisive_container(
    definition: &Value,
    migration_container: Option<&str>,
    first_overridden: Option<&str>,
    container_names: &[String],
) -> Result<String> {
    let all: Vec<&str> = containers(definition).map(name).collect();
    let family = family(definition);
    if let Some(wanted) = migration_container {
        if all.contains(&wanted) {
            return Ok(wanted.to_owned());
        }
        bail!(
            "migration-container: task definition {family} has no container {wanted:?}; its containers are {}",
            all.join(", ")
        );
    }
    if let Some(overridden) = first_overridden {
        if all.contains(&overridden) {
            return Ok(overridden.to_owned());
        }
        bail!(
            "run-task-container-overrides: task definition {family} has no container {overridden:?}; its containers are {}",
            all.join(", ")
        );
    }
    if let [only] = container_names {
        if all.contains(&only.as_str()) {
            return Ok(only.clone());
        }
    }
    match essential_containers(definition).as_slice() {
        [only] => Ok(only.clone()),
        essential => bail!(
            "migration-container: task definition {family} has {} essential containers ({}); name the one that runs the migration",
            essential.len(),
            essential.join(", ")
        ),
    }
}

/// The name of the first container `run-task-container-overrides` overrides.
pub(crate) fn first_overridden(overrides: Option<&Value>) -> Option<&str> {
    overrides?.as_array()?.first()?["name"].as_str()
}

/// RunTask's `overrides` with the container overrides as given, and
/// `migration-environment-variables` added to the first one's environment.
pub(crate) fn task_overrides(overrides: &Value, environment: &[(String, String)]) -> Value {
    let mut overrides = overrides.clone();
    if let Some(first) = overrides.as_array_mut().and_then(|all| all.first_mut()) {
        for (name, value) in environment {
            let entry = serde_json::json!({"name": name, "value": value});
            match first["environment"].as_array_mut() {
                Some(list) => list.push(entry),
                None => first["environment"] = Value::Array(vec![entry]),
            }
        }
    }
    serde_json::json!({ "containerOverrides": overrides })
}

/// A volume the definition leaves to be configured at launch needs its
/// configuration in RunTask, or ECS refuses the task.
pub(crate) fn check_volumes(definition: &Value, configured: Option<&Value>) -> Result<()> {
    let named: Vec<&str> = configured
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|volume| volume["name"].as_str())
        .collect();
    let missing: Vec<&str> = definition["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|volume| volume["configuredAtLaunch"] == true)
        .filter_map(|volume| volume["name"].as_str())
        .filter(|name| !named.contains(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    bail!(
        "task definition {} leaves volume {} to be configured at launch: give run-task-managed-ebs-volume-name and run-task-managed-ebs-volume for the one-off task",
        family(definition),
        missing.join(", ")
    )
}

/// Where and how RunTask places the migration task.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Placement {
    pub launch_type: Option<LaunchType>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    pub platform_version: Option<String>,
    pub network: Option<AwsVpcConfiguration>,
    pub propagate_tags: Option<PropagateTags>,
    pub enable_ecs_managed_tags: bool,
}

/// The service's placement and network, with the run-task-* inputs
/// replacing what they name, so that the migration runs where the service
/// runs (same subnets and security groups, hence the same database access).
pub(crate) fn placement(service: Option<&Service>, overrides: &PlacementOverrides) -> Placement {
    let compute_overridden =
        overrides.launch_type.is_some() || !overrides.capacity_provider_strategy.is_empty();
    let mut placement = Placement::default();
    if compute_overridden {
        // A strategy wins over a launch type, as in
        // amazon-ecs-deploy-task-definition; ECS takes only one of them.
        placement.capacity_provider_strategy = overrides.capacity_provider_strategy.clone();
        if placement.capacity_provider_strategy.is_empty() {
            placement.launch_type = overrides.launch_type.clone();
        }
    } else if let Some(service) = service {
        placement.launch_type = service.launch_type().cloned();
        placement.capacity_provider_strategy = service.capacity_provider_strategy().to_vec();
        placement.platform_version = service.platform_version().map(String::from);
    }
    if let Some(service) = service {
        // RunTask accepts TASK_DEFINITION only; SERVICE has no service to read from.
        placement.propagate_tags = service
            .propagate_tags()
            .filter(|propagate| **propagate == PropagateTags::TaskDefinition)
            .cloned();
        placement.enable_ecs_managed_tags = service.enable_ecs_managed_tags();
    }
    let from_service = service
        .and_then(Service::network_configuration)
        .and_then(|network| network.awsvpc_configuration());
    let pick = |given: &[String], of_service: Option<&[String]>| -> Vec<String> {
        if given.is_empty() {
            of_service.unwrap_or_default().to_vec()
        } else {
            given.to_vec()
        }
    };
    let subnets = pick(&overrides.subnets, from_service.map(|n| n.subnets()));
    if !subnets.is_empty() {
        placement.network = AwsVpcConfiguration::builder()
            .set_subnets(Some(subnets))
            .set_security_groups(Some(pick(
                &overrides.security_groups,
                from_service.map(|n| n.security_groups()),
            )))
            .set_assign_public_ip(
                overrides
                    .assign_public_ip
                    .clone()
                    .or_else(|| from_service.and_then(|n| n.assign_public_ip()).cloned()),
            )
            .build()
            .ok();
    }
    placement
}

/// Every RunTask clientToken starts so; ECS takes up to 64 characters.
pub(crate) const CLIENT_TOKEN_PREFIX: &str = "ecs-deploy-migration-";

/// RunTask's clientToken in Actions: the same for every call of the same
/// step of the same run attempt, on the same cluster and family, so that a
/// retried call returns the task already started instead of starting a
/// second migration.
pub(crate) fn client_token(step: &WorkflowStep, cluster: &str, family: &str) -> String {
    let digest = Sha256::digest(
        [
            step.run_id.as_str(),
            &step.attempt,
            &step.job,
            &step.step,
            cluster,
            family,
        ]
        .join("\n"),
    );
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{CLIENT_TOKEN_PREFIX}{}", &hex[..40])
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{AssignPublicIp, NetworkConfiguration};
    use serde_json::json;

    fn definition() -> Value {
        json!({
            "family": "shop",
            "containerDefinitions": [
                {"name": "web", "essential": true, "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/shop", "awslogs-stream-prefix": "ecs", "awslogs-region": "eu-west-1"}}},
                {"name": "envoy"},
                {"name": "log-router", "essential": false, "logConfiguration": {"logDriver": "awsfirelens"}},
            ]
        })
    }

    #[test]
    fn the_decisive_container_is_chosen_or_the_choices_are_listed() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let single = json!({"family": "one", "containerDefinitions": [{"name": "app"}, {"name": "agent", "essential": false}]});
        // definition, migration-container, container-name, the choice or the error
        type Case<'a> = (
            Value,
            Option<&'a str>,
            Vec<String>,
            Result<&'a str, &'a str>,
        );
        let cases: Vec<Case> = vec![
            (definition(), Some("envoy"), names(&[]), Ok("envoy")),
            (definition(), None, names(&["web"]), Ok("web")),
            (single.clone(), None, names(&[]), Ok("app")),
            (single, None, names(&["app", "agent"]), Ok("app")),
            (definition(), Some("db"), names(&[]), Err("migration-container: task definition shop has no container \"db\"; its containers are web, envoy, log-router")),
            (definition(), None, names(&["web", "envoy"]), Err("migration-container: task definition shop has 2 essential containers (web, envoy); name the one that runs the migration")),
        ];
        for (definition, explicit, container_names, expected) in cases {
            let got = decisive_container(&definition, explicit, None, &container_names)
                .map_err(|e| e.to_string());
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                expected,
                "{explicit:?} {container_names:?}"
            );
        }
    }

    fn awsvpc_service() -> Service {
        Service::builder()
            .launch_type(LaunchType::Fargate)
            .platform_version("1.4.0")
            .propagate_tags(PropagateTags::TaskDefinition)
            .enable_ecs_managed_tags(true)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets("subnet-a")
                            .subnets("subnet-b")
                            .security_groups("sg-db")
                            .assign_public_ip(AssignPublicIp::Disabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
    }

    fn vpc(
        subnets: &[&str],
        groups: &[&str],
        public: Option<AssignPublicIp>,
    ) -> AwsVpcConfiguration {
        AwsVpcConfiguration::builder()
            .set_subnets(Some(subnets.iter().map(|s| s.to_string()).collect()))
            .set_security_groups(Some(groups.iter().map(|s| s.to_string()).collect()))
            .set_assign_public_ip(public)
            .build()
            .unwrap()
    }

    #[test]
    fn placement_follows_the_service_unless_overridden() {
        let spot = CapacityProviderStrategyItem::builder()
            .capacity_provider("FARGATE_SPOT")
            .weight(1)
            .build()
            .unwrap();
        let cases = [
            (
                Some(awsvpc_service()),
                PlacementOverrides::default(),
                Placement {
                    launch_type: Some(LaunchType::Fargate),
                    platform_version: Some("1.4.0".into()),
                    network: Some(vpc(
                        &["subnet-a", "subnet-b"],
                        &["sg-db"],
                        Some(AssignPublicIp::Disabled),
                    )),
                    propagate_tags: Some(PropagateTags::TaskDefinition),
                    enable_ecs_managed_tags: true,
                    ..Placement::default()
                },
            ),
            (
                Some(awsvpc_service()),
                PlacementOverrides {
                    security_groups: vec!["sg-migrate".into()],
                    capacity_provider_strategy: vec![spot.clone()],
                    ..PlacementOverrides::default()
                },
                Placement {
                    capacity_provider_strategy: vec![spot],
                    network: Some(vpc(
                        &["subnet-a", "subnet-b"],
                        &["sg-migrate"],
                        Some(AssignPublicIp::Disabled),
                    )),
                    propagate_tags: Some(PropagateTags::TaskDefinition),
                    enable_ecs_managed_tags: true,
                    ..Placement::default()
                },
            ),
            (
                None,
                PlacementOverrides {
                    subnets: vec!["subnet-x".into()],
                    assign_public_ip: Some(AssignPublicIp::Enabled),
                    launch_type: Some(LaunchType::Fargate),
                    ..PlacementOverrides::default()
                },
                Placement {
                    launch_type: Some(LaunchType::Fargate),
                    network: Some(vpc(&["subnet-x"], &[], Some(AssignPublicIp::Enabled))),
                    ..Placement::default()
                },
            ),
            (None, PlacementOverrides::default(), Placement::default()),
        ];
        for (service, overrides, expected) in cases {
            assert_eq!(
                placement(service.as_ref(), &overrides),
                expected,
                "{overrides:?}"
            );
        }
    }

    #[test]
    fn client_tokens_name_the_step_not_the_revision() {
        let step = WorkflowStep {
            run_id: "42".into(),
            attempt: "1".into(),
            job: "deploy".into(),
            step: "migrate".into(),
        };
        let token = client_token(&step, "prod", "shop");
        assert_eq!(token, client_token(&step, "prod", "shop"));
        assert!(
            token.starts_with("ecs-deploy-migration-") && token.len() <= 64,
            "{token}"
        );
        let retried = WorkflowStep {
            attempt: "2".into(),
            ..step.clone()
        };
        assert_ne!(token, client_token(&retried, "prod", "shop"));
        assert_ne!(token, client_token(&step, "staging", "shop"));
    }
}
