//! The preflight's cost: the dry run (render and preflight, nothing
//! registered) of one service whose definition has five containers, each
//! naming its own ECR image, Secrets Manager secret, SSM parameter, awslogs
//! group and S3 environment file, all present, run with the preflight and
//! without it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use ecs_deploy_sim::Scenario;

use crate::{child, several};

pub const CONTAINERS: usize = 5;
/// The preflight's lookups, as `Call::operation` names them.
pub const OPERATIONS: [&str; 5] = [
    "DescribeImages",
    "DescribeSecret",
    "GetParameters",
    "DescribeLogGroups",
    "HeadObject",
];
/// How the line that reports a preflight with nothing missing begins and ends.
pub const ALL_PRESENT: (&str, &str) = ("Preflight: ", "checked, all present");

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
const SECRET_SUFFIX: &str = "AbCdEf";

fn container_name(index: usize) -> String {
    format!("app-{}", index + 1)
}

fn image(container: &str, tag: &str) -> String {
    format!("{REGISTRY}/{container}:{tag}")
}

/// Service shop in cluster prod running family shop: `CONTAINERS`
/// containers at tag v1 of their own repository, where v2 exists too, and
/// everything they name; every request answered after `api_latency`.
pub fn scenario(api_latency: Duration) -> anyhow::Result<Scenario> {
    let (mut containers, mut repositories, mut secrets) = (Vec::new(), Vec::new(), Vec::new());
    let (mut parameters, mut log_groups, mut objects) = (Vec::new(), Vec::new(), Vec::new());
    for name in (0..CONTAINERS).map(container_name) {
        let secret = format!("{name}/db");
        let parameter = format!("/{name}/api-key");
        let log_group = format!("/ecs/{name}");
        let key = format!("{name}.env");
        containers.push(json!({
            "name": name,
            "image": image(&name, "v1"),
            "essential": true,
            "secrets": [
                {"name": "DB_URL", "valueFrom": format!("{SECRET_ARN}{secret}-{SECRET_SUFFIX}")},
                {"name": "API_KEY", "valueFrom": parameter}
            ],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": log_group,
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "ecs"
            }},
            "environmentFiles": [{"type": "s3", "value": format!("arn:aws:s3:::config/{key}")}]
        }));
        repositories.push(json!({"name": name, "images": [{"tags": ["v1"]}, {"tags": ["v2"]}]}));
        secrets.push(json!({"name": secret, "suffix": SECRET_SUFFIX}));
        parameters.push(json!({"name": parameter}));
        log_groups.push(log_group);
        objects.push(json!({"bucket": "config", "key": key, "body": "LEVEL=info\n"}));
    }
    Scenario::from_yaml(
        &json!({
            "clusters": ["prod"],
            "taskDefinitions": [{"family": "shop", "containerDefinitions": containers}],
            "services": [{"cluster": "prod", "serviceName": "shop", "taskDefinition": "shop:1"}],
            "ecrRepositories": repositories,
            "secrets": secrets,
            "ssmParameters": parameters,
            "logGroups": log_groups,
            "s3Objects": objects,
            "faults": several::slow_answers(api_latency)
        })
        .to_string(),
    )
}

/// The dry run of the service's own definition with every container moved
/// to v2, with the preflight or without.
pub fn inputs(preflight: bool) -> BTreeMap<String, String> {
    let images: Vec<String> = (0..CONTAINERS)
        .map(container_name)
        .map(|name| format!("{name}={}", image(&name, "v2")))
        .collect();
    child::inputs([
        ("cluster", "prod".to_owned()),
        ("service", "shop".to_owned()),
        ("images", images.join("\n")),
        ("dry-run", "true".to_owned()),
        ("preflight", preflight.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_container_names_its_own_things_and_they_exist() {
        let scenario = scenario(Duration::from_millis(50)).unwrap();
        let containers = scenario.task_definitions[0]["containerDefinitions"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), CONTAINERS);
        assert_eq!(scenario.ecr_repositories.len(), CONTAINERS);
        assert_eq!(scenario.secrets.len(), CONTAINERS);
        assert_eq!(scenario.ssm_parameters.len(), CONTAINERS);
        assert_eq!(scenario.log_groups.len(), CONTAINERS);
        assert_eq!(scenario.s3_objects.len(), CONTAINERS);
        assert_eq!(scenario.faults.len(), 1);
        let last = &containers[CONTAINERS - 1];
        assert_eq!(
            last["secrets"][0]["valueFrom"],
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-5/db-AbCdEf"
        );
        assert_eq!(last["secrets"][1]["valueFrom"], "/app-5/api-key");
        assert!(scenario
            .ssm_parameters
            .iter()
            .any(|p| p.name == "/app-5/api-key"));
        assert!(scenario.log_groups.contains(&"/ecs/app-5".to_owned()));
        assert!(scenario.s3_objects.iter().any(|o| o.key == "app-5.env"));
        let repository = &scenario.ecr_repositories[CONTAINERS - 1];
        assert_eq!(repository.name, "app-5");
        assert!(repository.images.iter().any(|i| i.tags == ["v2"]));
    }

    #[test]
    fn inputs_move_every_container_and_switch_the_preflight() {
        let on = inputs(true);
        assert_eq!(on["dry-run"], "true");
        assert_eq!(on["preflight"], "true");
        assert_eq!(inputs(false)["preflight"], "false");
        let images: Vec<&str> = on["images"].lines().collect();
        assert_eq!(images.len(), CONTAINERS);
        assert_eq!(
            images[0],
            "app-1=123456789012.dkr.ecr.us-east-1.amazonaws.com/app-1:v2"
        );
    }
}
