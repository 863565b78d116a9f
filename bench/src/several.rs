//! One step deploying several services whose rollouts each take the same
//! simulated time, so that any difference from one service is time the
//! step adds: serial calls, extra polls.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use ecs_deploy_sim::Scenario;

use crate::child;

/// The service counts compared with one service.
pub const SERVICE_COUNTS: [usize; 3] = [1, 5, 20];
/// The largest count, whose API calls are counted too.
pub const MOST_SERVICES: usize = SERVICE_COUNTS[SERVICE_COUNTS.len() - 1];
/// Each rollout completes this long after its UpdateService, before the
/// run's stretch, its new tasks all running for the last `DRAIN_SECONDS`.
const ROLLOUT_SECONDS: f64 = 3.0;
const DRAIN_SECONDS: f64 = 0.8;

fn service_name(index: usize) -> String {
    format!("svc-{:02}", index + 1)
}

/// `count` services in cluster prod, each running its own family, every
/// rollout completing `ROLLOUT_SECONDS` after its update; every request
/// answered after `api_latency`, as a remote API would.
pub fn scenario(count: usize, api_latency: Duration) -> anyhow::Result<Scenario> {
    let names: Vec<String> = (0..count).map(service_name).collect();
    let task_definitions: Vec<Value> = names
        .iter()
        .map(|family| {
            json!({
                "family": family,
                "networkMode": "awsvpc",
                "requiresCompatibilities": ["FARGATE"],
                "cpu": "256",
                "memory": "512",
                "containerDefinitions": [
                    {"name": "web", "image": "ghcr.io/acme/shop:1.0.0", "essential": true}
                ]
            })
        })
        .collect();
    let services: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "cluster": "prod",
                "serviceName": name,
                "taskDefinition": format!("{name}:1"),
                "desiredCount": 2,
                "launchType": "FARGATE",
                "deploymentConfiguration": {
                    "deploymentCircuitBreaker": {"enable": true, "rollback": true},
                    "strategy": "ROLLING"
                },
                "networkConfiguration": {"awsvpcConfiguration": {
                    "subnets": ["subnet-0a1b2c3d"],
                    "securityGroups": ["sg-0a1b2c3d"],
                    "assignPublicIp": "DISABLED"
                }}
            })
        })
        .collect();
    let rollouts: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({
                "cluster": "prod",
                "service": name,
                "outcome": "complete",
                "seconds": ROLLOUT_SECONDS,
                "drainSeconds": DRAIN_SECONDS
            })
        })
        .collect();
    // JSON is YAML: the scenario goes through the simulator's own parser.
    Scenario::from_yaml(
        &json!({
            "clusters": ["prod"],
            "taskDefinitions": task_definitions,
            "services": services,
            "timelines": {"deployments": rollouts},
            "faults": slow_answers(api_latency)
        })
        .to_string(),
    )
}

/// The scenario's faults that answer every request after `api_latency`, as
/// a remote API would; none for zero.
pub fn slow_answers(api_latency: Duration) -> Vec<Value> {
    match api_latency.is_zero() {
        true => Vec::new(),
        false => {
            vec![json!({"kind": "slow", "always": true, "seconds": api_latency.as_secs_f64()})]
        }
    }
}

/// The step's inputs: the `count` services, one per line, each from its own
/// current definition with the new image.
pub fn inputs(count: usize) -> BTreeMap<String, String> {
    let services: Vec<String> = (0..count).map(service_name).collect();
    child::inputs([
        ("cluster", "prod".to_owned()),
        ("service", services.join("\n")),
        ("container-name", "web".to_owned()),
        ("image", "ghcr.io/acme/shop:1.1.0".to_owned()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_its_family_and_rollout() {
        let scenario = scenario(3, Duration::from_millis(50)).unwrap();
        assert_eq!(scenario.services.len(), 3);
        assert_eq!(scenario.task_definitions.len(), 3);
        assert_eq!(scenario.timelines.deployments.len(), 3);
        assert_eq!(scenario.faults.len(), 1);
        assert_eq!(inputs(3)["service"], "svc-01\nsvc-02\nsvc-03");
    }

    #[test]
    fn no_latency_injects_no_fault() {
        assert!(scenario(1, Duration::ZERO).unwrap().faults.is_empty());
    }
}
