//! ECS calls. Task definitions travel as raw JSON in both directions
//! (`raw`): the request body of RegisterTaskDefinition is our JSON and the
//! body of DescribeTaskDefinition is read as JSON.

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::operation::describe_services::DescribeServicesError;
use aws_sdk_ecs::types::{
    DesiredStatus, Failure, Service, ServiceDeployment, ServiceDeploymentBrief, ServiceRevision,
    Task, TaskDefinitionStatus,
};
use aws_sdk_ecs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::Value;

use super::raw::{replace_body, ResponseBody};
use super::{error_text, every_page, explain};
use crate::arn::resource_name;
use crate::render::family;

/// The described definition with its tags, as `aws ecs describe-task-definition` prints it.
pub(crate) async fn describe_task_definition(ecs: &Client, id: &str) -> Result<Value> {
    let body = ResponseBody::default();
    ecs.describe_task_definition()
        .task_definition(id)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .customize()
        .interceptor(body.clone())
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to describe task definition {id}: {}",
                explain("ecs:DescribeTaskDefinition", &e)
            )
        })?;
    body.json()
        .with_context(|| format!("failed to read task definition {id}"))
}

/// ListTasks of `cluster` with `desired` status (and `started_by`, when
/// given), page after page up to `limit` ARNs; the error explained
/// (`ecs:ListTasks`).
pub(crate) async fn list_tasks(
    ecs: &Client,
    cluster: &str,
    started_by: Option<&str>,
    desired: DesiredStatus,
    limit: usize,
) -> Result<Vec<String>, String> {
    let mut arns = Vec::new();
    let mut pages = ecs
        .list_tasks()
        .cluster(cluster)
        .set_started_by(started_by.map(str::to_owned))
        .desired_status(desired)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("ecs:ListTasks", &e))?;
        arns.extend(page.task_arns().iter().cloned());
        if arns.len() >= limit {
            break;
        }
    }
    arns.truncate(limit);
    Ok(arns)
}

/// DescribeTasks of `arns`, a hundred at a time (its limit): the tasks and
/// the failures of every batch; the error explained (`ecs:DescribeTasks`).
pub(crate) async fn describe_tasks(
    ecs: &Client,
    cluster: &str,
    arns: &[String],
) -> Result<(Vec<Task>, Vec<Failure>), String> {
    let (mut tasks, mut failures) = (Vec::new(), Vec::new());
    for batch in arns.chunks(100) {
        let described = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| explain("ecs:DescribeTasks", &e))?;
        tasks.extend_from_slice(described.tasks());
        failures.extend_from_slice(described.failures());
    }
    Ok((tasks, failures))
}

/// StopTask, with why ecs-deploy stopped it as the reason ECS shows; the
/// error as text a person can act on.
pub(crate) async fn stop_task(
    ecs: &Client,
    cluster: &str,
    task_arn: &str,
    why: &str,
) -> Result<(), String> {
    ecs.stop_task()
        .cluster(cluster)
        .task(task_arn)
        .reason(format!("ecs-deploy: {why}"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Registered {
    pub arn: String,
    pub family: String,
    pub revision: i32,
}

impl Registered {
    /// The revision a described definition is (its describe-only keys),
    /// when it can be deployed as it is: ECS refuses to move a service to an
    /// INACTIVE (deregistered) revision.
    pub(crate) fn described(definition: &Value) -> Option<Registered> {
        if definition["status"].as_str().is_some_and(|s| s != "ACTIVE") {
            return None;
        }
        Some(Registered {
            arn: definition["taskDefinitionArn"].as_str()?.to_owned(),
            family: definition["family"].as_str()?.to_owned(),
            revision: i32::try_from(definition["revision"].as_i64()?).ok()?,
        })
    }
}

/// Registers `definition` exactly as given (tags included).
pub(crate) async fn register_task_definition(
    ecs: &Client,
    definition: &Value,
) -> Result<Registered> {
    let family = family(definition).to_owned();
    let body = serde_json::to_vec(definition)?;
    let output = ecs
        .register_task_definition()
        .family(&family)
        .customize()
        .mutate_request(move |request| replace_body(request, body.clone()))
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to register task definition {family}: {}",
                explain("ecs:RegisterTaskDefinition", &e)
            )
        })?;
    let registered = output
        .task_definition()
        .ok_or_else(|| anyhow!("RegisterTaskDefinition answered without a task definition"))?;
    Ok(Registered {
        arn: registered
            .task_definition_arn()
            .unwrap_or_default()
            .to_owned(),
        family: registered.family().unwrap_or(&family).to_owned(),
        revision: registered.revision(),
    })
}

/// DescribeServices in batches of ten (the API's limit).
pub(crate) struct DescribedServices {
    pub services: Vec<Service>,
    /// Names ECS could not find, with its reason (MISSING).
    pub missing: Vec<(String, String)>,
}

pub(crate) async fn describe_services(
    ecs: &Client,
    cluster: &str,
    names: &[String],
) -> Result<DescribedServices, SdkError<DescribeServicesError, HttpResponse>> {
    let mut described = DescribedServices {
        services: Vec::new(),
        missing: Vec::new(),
    };
    for batch in names.chunks(10) {
        let output = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.to_vec()))
            .send()
            .await?;
        described.services.extend(output.services().iter().cloned());
        described.missing.extend(output.failures().iter().map(|f| {
            let name = f.arn().map_or("?", resource_name);
            (
                name.to_owned(),
                f.reason().unwrap_or("no reason given").to_owned(),
            )
        }));
    }
    Ok(described)
}

/// The services, all of them found, in the order asked.
pub(crate) async fn describe_services_or_fail(
    ecs: &Client,
    cluster: &str,
    names: &[String],
) -> Result<Vec<Service>> {
    let described = describe_services(ecs, cluster, names).await.map_err(|e| {
        anyhow!(
            "failed to describe service {} in cluster {cluster}: {}",
            names.join(", "),
            explain("ecs:DescribeServices", &e)
        )
    })?;
    if !described.missing.is_empty() {
        let missing: Vec<String> = described
            .missing
            .iter()
            .map(|(name, reason)| format!("{name} ({reason})"))
            .collect();
        bail!(
            "service {} was not found in cluster {cluster}; check the service and cluster inputs",
            missing.join(", ")
        );
    }
    names
        .iter()
        .map(|name| {
            described
                .services
                .iter()
                .find(|s| {
                    s.service_name() == Some(name.as_str())
                        || s.service_arn() == Some(name.as_str())
                })
                .cloned()
                .ok_or_else(|| anyhow!("service {name} was not found in cluster {cluster}"))
        })
        .collect()
}

/// Every cluster's ARN, page after page; the error explained
/// (`ecs:ListClusters`).
pub(crate) async fn list_clusters(ecs: &Client) -> Result<Vec<String>, String> {
    let mut clusters = Vec::new();
    let mut pages = ecs.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("ecs:ListClusters", &e))?;
        clusters.extend(page.cluster_arns().iter().cloned());
    }
    Ok(clusters)
}

/// The ARN of every service of `cluster`, page after page; the error
/// explained (`ecs:ListServices`).
pub(crate) async fn list_services(ecs: &Client, cluster: &str) -> Result<Vec<String>, String> {
    let mut services = Vec::new();
    let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("ecs:ListServices", &e))?;
        services.extend(page.service_arns().iter().cloned());
    }
    Ok(services)
}

/// The ARN of every revision with `status` whose family starts with
/// `family_prefix` (ECS matches a prefix: other families that start alike
/// are listed too), page after page; the error explained
/// (`ecs:ListTaskDefinitions`).
pub(crate) async fn list_task_definitions(
    ecs: &Client,
    family_prefix: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<String>, String> {
    let mut arns = Vec::new();
    let mut pages = ecs
        .list_task_definitions()
        .family_prefix(family_prefix)
        .status(status)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain("ecs:ListTaskDefinitions", &e))?;
        arns.extend(page.task_definition_arns().iter().cloned());
    }
    Ok(arns)
}

/// DeregisterTaskDefinition; the error explained
/// (`ecs:DeregisterTaskDefinition`).
pub(crate) async fn deregister_task_definition(ecs: &Client, arn: &str) -> Result<(), String> {
    ecs.deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| explain("ecs:DeregisterTaskDefinition", &e))
}

/// What one DeleteTaskDefinitions call did.
pub(crate) struct Deleted {
    pub(crate) arns: Vec<String>,
    /// Those ECS refused: (ARN, reason).
    pub(crate) refused: Vec<(String, String)>,
}

/// DeleteTaskDefinitions of at most ten `arns` (the API's limit); the error
/// explained (`ecs:DeleteTaskDefinitions`).
pub(crate) async fn delete_task_definitions(
    ecs: &Client,
    arns: &[String],
) -> Result<Deleted, String> {
    let answer = ecs
        .delete_task_definitions()
        .set_task_definitions(Some(arns.to_vec()))
        .send()
        .await
        .map_err(|e| explain("ecs:DeleteTaskDefinitions", &e))?;
    Ok(Deleted {
        arns: answer
            .task_definitions()
            .iter()
            .filter_map(|d| d.task_definition_arn().map(str::to_owned))
            .collect(),
        refused: answer
            .failures()
            .iter()
            .map(|failure| {
                (
                    failure.arn().unwrap_or("?").to_owned(),
                    failure.reason().unwrap_or("no reason given").to_owned(),
                )
            })
            .collect(),
    })
}

/// ListServiceDeployments of `service`, page after page; the error
/// explained (`ecs:ListServiceDeployments`).
pub(crate) async fn list_service_deployments(
    ecs: &Client,
    cluster: &str,
    service: &str,
) -> Result<Vec<ServiceDeploymentBrief>, String> {
    every_page(async |token| {
        let page = ecs
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| explain("ecs:ListServiceDeployments", &e))?;
        let summaries = page.service_deployments().to_vec();
        Ok((summaries, page.next_token().map(str::to_owned)))
    })
    .await
}

/// DescribeServiceDeployments of at most twenty `arns` (the API's limit);
/// the error explained (`ecs:DescribeServiceDeployments`).
pub(crate) async fn describe_service_deployments(
    ecs: &Client,
    arns: &[String],
) -> Result<Vec<ServiceDeployment>, String> {
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let described = ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(arns.to_vec()))
        .send()
        .await
        .map_err(|e| explain("ecs:DescribeServiceDeployments", &e))?;
    Ok(described.service_deployments().to_vec())
}

/// DescribeServiceRevisions of `arns`, twenty at a time (the API's limit);
/// the error explained (`ecs:DescribeServiceRevisions`).
pub(crate) async fn describe_service_revisions(
    ecs: &Client,
    arns: &[String],
) -> Result<Vec<ServiceRevision>, String> {
    let mut revisions = Vec::new();
    for batch in arns.chunks(20) {
        let described = ecs
            .describe_service_revisions()
            .set_service_revision_arns(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| explain("ecs:DescribeServiceRevisions", &e))?;
        revisions.extend_from_slice(described.service_revisions());
    }
    Ok(revisions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_active_revision_is_deployed_as_it_is() {
        let described = |status: &str| json!({"taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/shop:2", "family": "shop", "revision": 2, "status": status});
        assert_eq!(
            Registered::described(&described("ACTIVE")).map(|r| r.revision),
            Some(2)
        );
        assert_eq!(Registered::described(&described("INACTIVE")), None);
        assert_eq!(Registered::described(&json!({"family": "shop"})), None);
    }
}
