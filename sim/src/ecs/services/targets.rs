//! A service's tasks as the targets of the target groups its
//! `loadBalancers` name: what DescribeTargetHealth answers about them, and
//! the service events ECS adds when it registers and deregisters them.

use super::rollout::add_service_event;
use super::*;

/// The health ELBv2 reports for a registered target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetState {
    /// A new deployment's task, until every task of the deployment runs.
    Initial,
    Healthy,
    /// An older deployment's task while the new deployment's tasks run.
    Draining,
}

/// The target groups (ARNs, each once) and container ports of the
/// service's `loadBalancers`.
fn load_balancers(service: &Service) -> Vec<(String, i64)> {
    let mut found: Vec<(String, i64)> = Vec::new();
    let entries = service
        .config
        .get("loadBalancers")
        .and_then(Value::as_array);
    for entry in entries.into_iter().flatten() {
        let Some(arn) = str_field(entry, "targetGroupArn") else {
            continue;
        };
        if !found.iter().any(|(known, _)| known == arn) {
            let port = entry.get("containerPort").and_then(Value::as_i64);
            found.push((arn.to_string(), port.unwrap_or(80)));
        }
    }
    found
}

/// The targets registered in `target_group`: each running task (with a
/// private address) of the services whose `loadBalancers` name it, with
/// its address, its container port and its health.
pub(crate) fn targets_in(world: &World, target_group: &str) -> Vec<(String, i64, TargetState)> {
    let mut targets = Vec::new();
    for service in &world.ecs.services {
        let group = format!("service:{}", service.name);
        for (_, port) in load_balancers(service)
            .into_iter()
            .filter(|(arn, _)| arn == target_group)
        {
            let running = world.ecs.tasks.iter().filter(|task| {
                task.cluster == service.cluster
                    && task.group == group
                    && task.last_status == "RUNNING"
            });
            for task in running {
                if let Some(network) = &task.network {
                    let state = target_state(service, task);
                    targets.push((network.private_ip.clone(), port, state));
                }
            }
        }
    }
    targets
}

/// A task's health in its service's target groups: a PRIMARY deployment's
/// tasks are checked until all of them run, when the older deployments'
/// tasks begin draining.
fn target_state(service: &Service, task: &Task) -> TargetState {
    let deployment = service
        .deployments
        .iter()
        .position(|deployment| task.started_by.as_ref() == Some(&deployment.id));
    let all_running = service
        .deployments
        .first()
        .is_some_and(|primary| primary.tasks_running_at.is_some());
    match deployment {
        Some(0) if !all_running => TargetState::Initial,
        Some(position) if position > 0 && all_running => TargetState::Draining,
        _ => TargetState::Healthy,
    }
}

/// The tasks of deployment `id` run: ECS registers them with each of the
/// service's target groups.
pub(crate) fn targets_registered(world: &mut World, index: usize, id: &str) {
    let service = &world.ecs.services[index];
    let group = format!("service:{}", service.name);
    let running = world
        .ecs
        .tasks
        .iter()
        .filter(|task| {
            task.cluster == service.cluster
                && task.group == group
                && task.started_by.as_deref() == Some(id)
                && task.last_status == "RUNNING"
        })
        .count();
    if running > 0 {
        target_events(world, index, "registered", running as i64);
    }
}

/// ECS deregisters `count` targets from each of the service's target
/// groups as the older deployments' tasks begin draining.
pub(super) fn targets_deregistered(world: &mut World, index: usize, count: i64) {
    if count > 0 {
        target_events(world, index, "deregistered", count);
    }
}

/// One service event per target group of the service, in ECS's words.
fn target_events(world: &mut World, index: usize, verb: &str, count: i64) {
    let service = &world.ecs.services[index];
    let name = service.name.clone();
    let groups = load_balancers(service);
    world.with_side_ids(|world| {
        for (arn, _) in groups {
            let message =
                format!("(service {name}) {verb} {count} targets in (target-group {arn})");
            add_service_event(world, index, message);
        }
    });
}
