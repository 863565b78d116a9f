//! ECS calls. Task definitions travel as raw JSON in both directions
//! (`raw`): the request body of RegisterTaskDefinition is our JSON and the
//! body of DescribeTaskDefinition is read as JSON.

use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsError;
use aws_sdk_ecs::operation::describe_services::DescribeServicesError;
use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
use aws_sdk_ecs::types::{
    ContainerOverride, CreatedAt, DesiredStatus, Failure, NetworkConfiguration, Service,
    ServiceDeployment, ServiceDeploymentBrief, ServiceRevision, Task, TaskDefinitionStatus,
    TaskOverride,
};
use aws_sdk_ecs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use futures::future;
use serde_json::Value;

use super::raw::{replace_body, set_body_fields, ResponseBody};
use super::{call_once, error_text, every_page, explain, no_retries};
use crate::arn::resource_name;
use crate::deploy::settings::DeployOptions;
use crate::migration::plan::Placement;
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

/// A one-off task as RunTask starts it: the migration's.
pub(crate) struct OneOffTask<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) task_definition: &'a str,
    pub(crate) started_by: &'a str,
    /// Makes RunTask idempotent across retries of the same step.
    pub(crate) client_token: String,
    pub(crate) container_override: ContainerOverride,
    pub(crate) placement: &'a Placement,
    /// What run-task-* gives as JSON, which goes to ECS as given.
    pub(crate) raw_fields: Vec<(&'static str, Value)>,
}

/// Starts the task and returns its ARN. RunTask's failures mean nothing
/// started; ECS says why in each.
pub(crate) async fn run_task(ecs: &Client, task: &OneOffTask<'_>) -> Result<String> {
    let (cluster, task_definition) = (task.cluster, task.task_definition);
    let placement = task.placement;
    let output = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(task_definition)
        .count(1)
        .started_by(task.started_by)
        .client_token(&task.client_token)
        .overrides(
            TaskOverride::builder()
                .container_overrides(task.container_override.clone())
                .build(),
        )
        .set_launch_type(placement.launch_type.clone())
        .set_capacity_provider_strategy(
            (!placement.capacity_provider_strategy.is_empty())
                .then(|| placement.capacity_provider_strategy.clone()),
        )
        .set_platform_version(placement.platform_version.clone())
        .set_network_configuration(placement.network.clone().map(|vpc| {
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build()
        }))
        .set_propagate_tags(placement.propagate_tags.clone())
        .enable_ecs_managed_tags(placement.enable_ecs_managed_tags)
        .customize()
        .mutate_request(set_body_fields(task.raw_fields.clone()))
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to start the migration task of {task_definition} in cluster {cluster}: {}",
                explain("ecs:RunTask", &e)
            )
        })?;
    if !output.failures().is_empty() {
        let reasons: Vec<String> = output
            .failures()
            .iter()
            .map(|failure| {
                let detail = failure
                    .detail()
                    .map(|detail| format!(" ({detail})"))
                    .unwrap_or_default();
                format!(
                    "{}{detail} for {}",
                    failure.reason().unwrap_or("no reason given"),
                    failure.arn().unwrap_or("?")
                )
            })
            .collect();
        bail!(
            "ECS started no migration task of {task_definition} in cluster {cluster}: {}",
            reasons.join("; ")
        );
    }
    output
        .tasks()
        .first()
        .and_then(Task::task_arn)
        .map(String::from)
        .ok_or_else(|| anyhow!("RunTask answered with neither a task nor a failure"))
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

/// UpdateService to `task_definition`, with the deployment options when
/// given (a restore gives none), at most once in effect: after an ambiguous
/// failure it looks for a new PRIMARY deployment of that definition before
/// trying again. The service as it is after; the error explained
/// (`ecs:UpdateService`).
pub(crate) async fn update_service(
    ecs: &Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    options: Option<&DeployOptions>,
    max_retries: u32,
) -> Result<Service> {
    let since = SystemTime::now() - Duration::from_secs(5);
    let updated = call_once(
        max_retries,
        async || {
            let mut request = ecs
                .update_service()
                .cluster(cluster)
                .service(service)
                .task_definition(task_definition);
            if let Some(options) = options {
                request = request
                    .set_desired_count(options.desired_count)
                    .force_new_deployment(options.force_new_deployment)
                    .set_enable_ecs_managed_tags(options.enable_ecs_managed_tags)
                    .set_propagate_tags(options.propagate_tags.clone());
            }
            let volumes = options.and_then(|o| o.volume_configurations.clone());
            request
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .mutate_request(set_body_fields(
                    volumes
                        .map(|v| ("volumeConfigurations", v))
                        .into_iter()
                        .collect(),
                ))
                .send()
                .await
        },
        async || {
            let current = deployed_since(ecs, cluster, service, task_definition, since).await?;
            Some(UpdateServiceOutput::builder().service(current).build())
        },
    )
    .await
    .map_err(|e| anyhow!("{}", explain("ecs:UpdateService", &e)))?;
    updated
        .service()
        .cloned()
        .ok_or_else(|| anyhow!("UpdateService answered without the service"))
}

/// UpdateExpressGatewayService of the Express service `service_arn` to
/// `task_definition`, at most once in effect as `update_service`. Its
/// answer is not the service: the service is read again after it. The
/// error explained (`ecs:UpdateExpressGatewayService`).
pub(crate) async fn update_express_gateway_service(
    ecs: &Client,
    cluster: &str,
    (service, service_arn): (&str, &str),
    task_definition: &str,
    max_retries: u32,
) -> Result<Service> {
    let since = SystemTime::now() - Duration::from_secs(5);
    let updated = call_once(
        max_retries,
        async || {
            ecs.update_express_gateway_service()
                .service_arn(service_arn)
                .task_definition_arn(task_definition)
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .send()
                .await
                .map(|_| None)
        },
        async || {
            deployed_since(ecs, cluster, service, task_definition, since)
                .await
                .map(Some)
        },
    )
    .await
    .map_err(|e| anyhow!("{}", explain("ecs:UpdateExpressGatewayService", &e)))?;
    match updated {
        Some(current) => Ok(current),
        None => describe_services_or_fail(ecs, cluster, &[service.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| anyhow!("service {service} was not found after its update")),
    }
}

/// The service, when its PRIMARY deployment runs `task_definition` and was
/// created since `since`: an update that took effect.
async fn deployed_since(
    ecs: &Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    since: SystemTime,
) -> Option<Service> {
    let described = describe_services(ecs, cluster, &[service.to_owned()])
        .await
        .ok()?;
    let current = described.services.into_iter().next()?;
    let started = current.deployments().iter().any(|d| {
        d.status() == Some("PRIMARY")
            && d.task_definition() == Some(task_definition)
            && d.created_at()
                .is_some_and(|t| SystemTime::try_from(*t).is_ok_and(|t| t >= since))
    });
    started.then_some(current)
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

/// ListServiceDeployments of `service`, page after page, only those
/// created after `created_after` when given (the few a deployment just
/// created); the error explained (`ecs:ListServiceDeployments`).
pub(crate) async fn list_service_deployments(
    ecs: &Client,
    cluster: &str,
    service: &str,
    created_after: Option<SystemTime>,
) -> Result<Vec<ServiceDeploymentBrief>, String> {
    let created_at =
        created_after.map(|after| CreatedAt::builder().after(DateTime::from(after)).build());
    every_page(async |token| {
        let page = ecs
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .set_created_at(created_at.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| explain("ecs:ListServiceDeployments", &e))?;
        let summaries = page.service_deployments().to_vec();
        Ok((summaries, page.next_token().map(str::to_owned)))
    })
    .await
}

/// DescribeServiceDeployments of `arns`, twenty a call (its limit), all
/// batches at once.
pub(crate) async fn describe_service_deployments(
    ecs: &Client,
    arns: &[String],
) -> Result<Vec<ServiceDeployment>, SdkError<DescribeServiceDeploymentsError, HttpResponse>> {
    let calls = arns.chunks(20).map(|batch| {
        ecs.describe_service_deployments()
            .set_service_deployment_arns(Some(batch.to_vec()))
            .send()
    });
    let mut records = Vec::new();
    for output in future::join_all(calls).await {
        records.extend_from_slice(output?.service_deployments());
    }
    Ok(records)
}

/// StopServiceDeployment with ROLLBACK: the service deployment `arn` goes
/// back to the revision the service ran; the error as text a person can
/// act on (`ecs:StopServiceDeployment`).
pub(crate) async fn roll_back_service_deployment(ecs: &Client, arn: &str) -> Result<(), String> {
    ecs.stop_service_deployment()
        .service_deployment_arn(arn)
        .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| explain("ecs:StopServiceDeployment", &e))
}

/// ContinueServiceDeployment: tells PAUSE hook `hook_id` of service
/// deployment `arn` to carry on or roll back (`action`, CONTINUE or
/// ROLLBACK), at most once in effect: after an ambiguous failure the hook
/// is read again, and a hook that no longer awaits action took it. The
/// error explained (`ecs:ContinueServiceDeployment`).
pub(crate) async fn continue_service_deployment(
    ecs: &Client,
    arn: &str,
    hook_id: &str,
    action: &str,
    max_retries: u32,
) -> Result<()> {
    call_once(
        max_retries,
        async || {
            ecs.continue_service_deployment()
                .service_deployment_arn(arn)
                .hook_id(hook_id)
                .action(action.into())
                .customize()
                .config_override(aws_sdk_ecs::config::Builder::default().retry_config(no_retries()))
                .send()
                .await
                .map(|_| ())
        },
        async || {
            let records = describe_service_deployments(ecs, &[arn.to_owned()])
                .await
                .ok()?;
            let awaits =
                records
                    .first()?
                    .lifecycle_hook_details()
                    .iter()
                    .any(|hook| {
                        hook.hook_id() == Some(hook_id)
                    && hook.status()
                        == Some(&aws_sdk_ecs::types::DeploymentLifecycleHookStatus::AwaitingAction)
                    });
            (!awaits).then_some(())
        },
    )
    .await
    .map_err(|e| anyhow!("{}", explain("ecs:ContinueServiceDeployment", &e)))
}

/// The URL of an Express service's newest active configuration, from
/// DescribeExpressGatewayService; the error explained
/// (`ecs:DescribeExpressGatewayService`).
pub(crate) async fn express_gateway_endpoint(
    ecs: &Client,
    service_arn: &str,
) -> Result<Option<String>, String> {
    let described = ecs
        .describe_express_gateway_service()
        .service_arn(service_arn)
        .send()
        .await
        .map_err(|e| explain("ecs:DescribeExpressGatewayService", &e))?;
    Ok(described
        .service()
        .and_then(|s| s.active_configurations().first())
        .and_then(|c| c.ingress_paths().first())
        .map(|path| path.endpoint().to_owned()))
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
