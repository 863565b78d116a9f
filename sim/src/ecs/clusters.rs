//! ECS clusters: naming one in a request, DescribeClusters and ListClusters.

use super::*;

fn cluster_name(reference: &str) -> &str {
    reference
        .split_once(":cluster/")
        .map_or(reference, |(_, name)| name)
}

/// The request's cluster (default "default"), which must exist.
pub(super) fn request_cluster(world: &World, body: &Value) -> Result<String, AwsError> {
    let name = cluster_name(str_field(body, "cluster").unwrap_or("default"));
    if world.ecs.clusters.iter().any(|cluster| cluster == name) {
        Ok(name.to_string())
    } else {
        Err(AwsError::client(
            "ClusterNotFoundException",
            "Cluster not found.",
        ))
    }
}

pub(super) fn cluster_arn(world: &World, cluster: &str) -> String {
    world.arn("ecs", &format!("cluster/{cluster}"))
}

pub(super) fn describe_clusters(world: &mut World, body: &Value) -> AwsResult {
    let mut requested = str_list(body, "clusters");
    if requested.is_empty() {
        requested.push("default".to_string());
    }
    let mut clusters = Vec::new();
    let mut failures = Vec::new();
    for reference in &requested {
        let name = cluster_name(reference);
        let arn = cluster_arn(world, name);
        if !world.ecs.clusters.iter().any(|cluster| cluster == name) {
            failures.push(json!({"arn": arn, "reason": "MISSING"}));
            continue;
        }
        let tasks_in = |statuses: &[&str]| {
            world
                .ecs
                .tasks
                .iter()
                .filter(|task| task.cluster == name && statuses.contains(&task.last_status))
                .count()
        };
        let active_services = world
            .ecs
            .services
            .iter()
            .filter(|service| service.cluster == name && service.status == ServiceStatus::Active)
            .count();
        clusters.push(json!({
            "clusterArn": arn,
            "clusterName": name,
            "status": "ACTIVE",
            "registeredContainerInstancesCount": 0,
            "runningTasksCount": tasks_in(&["RUNNING"]),
            "pendingTasksCount": tasks_in(&["PROVISIONING", "PENDING"]),
            "activeServicesCount": active_services,
        }));
    }
    Ok(json!({ "clusters": clusters, "failures": failures }))
}

/// ListClusters: every cluster's ARN, in the order they were created, 100
/// a page unless maxResults says otherwise.
pub(super) fn list_clusters(world: &mut World, body: &Value) -> AwsResult {
    let arns: Vec<String> = world
        .ecs
        .clusters
        .iter()
        .map(|cluster| cluster_arn(world, cluster))
        .collect();
    page(body, "clusterArns", &arns, 100)
}
