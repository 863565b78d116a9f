//! ECS services: the requests that read and change them (`handlers`), their
//! deployments over time (`rollout`), their ECS API shapes (`render`), the
//! states all three share (`states`), the Express Mode services among
//! them with their own requests and shapes (`express`), and their tasks as
//! load balancer targets (`targets`).

use super::*;

mod express;
mod handlers;
mod render;
mod rollout;
mod states;
mod targets;

pub(super) use express::{
    describe_express_gateway_service, express_setup, update_express_gateway_service,
};
pub(super) use handlers::*;
pub(crate) use render::all_services;
pub(super) use rollout::{complete_deployment, new_deployment, start_rollout};
pub(crate) use rollout::{rollout_step, set_service_task_definition};
pub(super) use states::*;
pub(crate) use targets::{targets_in, targets_registered, TargetState};

/// ECS runs a service's tasks as replicas unless it was created as a daemon.
const DEFAULT_SCHEDULING_STRATEGY: &str = "REPLICA";

pub(super) fn find_service(world: &World, cluster: &str, reference: &str) -> Option<usize> {
    let name = reference.rsplit('/').next().unwrap_or(reference);
    world
        .ecs
        .services
        .iter()
        .position(|service| service.cluster == cluster && service.name == name)
}

fn config_value(service: &Service, key: &str) -> Value {
    service.config.get(key).cloned().unwrap_or(Value::Null)
}
