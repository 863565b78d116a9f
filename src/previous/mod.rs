//! `task-definition: previous`: the revision each service ran before its
//! current one (`choice` picks it), read from ECS's service deployments
//! (ListServiceDeployments, DescribeServiceDeployments for their source and
//! target revisions, DescribeServiceRevisions for those revisions' task
//! definitions), or for a CODE_DEPLOY service from its deployment group's
//! successful deployments (ListDeployments, GetDeployment's AppSpec), and
//! judged by what those task definitions contain (DescribeTaskDefinition).

pub(crate) mod choice;

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use aws_sdk_codedeploy::types::DeploymentStatus;
use aws_sdk_ecs::types::{ServiceDeployment, ServiceDeploymentStatus};
use aws_sdk_ecs::Client;
use futures::{future, stream, StreamExt};
use serde_json::Value;

use crate::aws::codedeploy::{get_deployment, list_deployments, DeploymentsOf};
use crate::aws::ecs::{self, describe_task_definition};
use crate::aws::{explain, Aws, CONCURRENT_CALLS};
use crate::config::Config;
use crate::deploy::codedeploy::{application_and_group, appspec};
use crate::deploy::Current;
use crate::{render, template};
use choice::DeploymentRecord;

/// Service deployments read, the most DescribeServiceDeployments takes in
/// one call.
const PER_CALL: usize = 20;

/// CodeDeploy deployments read to find the previous revision: far more
/// than any rollback needs, few enough to read one by one.
const CODEDEPLOY_DEPLOYMENTS: usize = 50;

/// The revision a service goes back to, as DescribeTaskDefinition showed
/// it (unwrapped, describe-only keys kept).
pub(crate) struct Previous {
    pub(crate) arn: String,
    pub(crate) definition: Value,
}

/// The task definition the service ran before the one it runs. Every
/// revision its deployments name is read (at most the revisions of
/// `PER_CALL` service deployments or `CODEDEPLOY_DEPLOYMENTS` CodeDeploy
/// deployments, `CONCURRENT_CALLS` at a time) so that `choice` judges them
/// by content; one that cannot be read is compared by ARN only, and is an
/// error only when it is the answer.
pub(crate) async fn find(aws: &Aws, config: &Config, current: &Current) -> Result<Previous> {
    let service = &current.service;
    let name = service.service_name().unwrap_or_default();
    let current_arn = current.task_definition_arn.as_str();
    let records = if crate::deploy::is_codedeploy(service) {
        codedeploy_records(&aws.codedeploy, config, name).await?
    } else {
        service_deployment_records(&aws.ecs, &config.cluster, name).await?
    };
    let mut described: HashMap<String, Result<Value>> = stream::iter(choice::named(&records))
        .filter(|arn| future::ready(arn != current_arn))
        .map(|arn| async move {
            let definition = describe_task_definition(&aws.ecs, &arn)
                .await
                .map(template::unwrap_described);
            (arn, definition)
        })
        .buffered(CONCURRENT_CALLS)
        .collect()
        .await;
    let mut contents: HashMap<String, Value> = described
        .iter()
        .filter_map(|(arn, definition)| {
            let definition = definition.as_ref().ok()?;
            Some((arn.clone(), render::normalize(definition.clone())))
        })
        .collect();
    contents.insert(
        current_arn.to_owned(),
        render::normalize(current.task_definition.clone()),
    );
    let arn = choice::previous(current_arn, &records, &contents).ok_or_else(|| {
        anyhow!(
            "service {name} has no earlier revision to go back to: its deployments show only {current_arn}, copies of it and revisions it was rolled back from"
        )
    })?;
    let definition = described
        .remove(&arn)
        .unwrap_or_else(|| Err(anyhow!("{arn} is named by no deployment")))?;
    Ok(Previous { arn, definition })
}

/// The successful deployments of the service's CodeDeploy group, each with
/// the task definition its AppSpec deployed.
async fn codedeploy_records(
    client: &aws_sdk_codedeploy::Client,
    config: &Config,
    name: &str,
) -> Result<Vec<DeploymentRecord>> {
    let (application, group) = application_and_group(&config.cluster, name, &config.codedeploy);
    let of = DeploymentsOf {
        application: &application,
        group: &group,
        statuses: &[DeploymentStatus::Succeeded],
        created_since: None,
        limit: CODEDEPLOY_DEPLOYMENTS,
    };
    let ids = list_deployments(client, &of)
        .await
        .map_err(|e| anyhow!("failed to list the deployments of {application}/{group}: {e}"))?;
    let mut records = Vec::new();
    for id in &ids {
        let info = get_deployment(client, id).await?;
        let appspec = info
            .revision()
            .and_then(|r| r.app_spec_content())
            .and_then(|c| c.content())
            .and_then(|text| serde_yaml_ng::from_str::<serde_json::Value>(text).ok());
        records.push(DeploymentRecord {
            created_at: info.create_time().copied(),
            successful: true,
            target: appspec.as_ref().and_then(appspec::task_definition),
            sources: Vec::new(),
        });
    }
    Ok(records)
}

/// The service deployments ECS keeps for the service (the newest
/// `PER_CALL`), with their source and target revisions' task definitions.
async fn service_deployment_records(
    ecs: &Client,
    cluster: &str,
    name: &str,
) -> Result<Vec<DeploymentRecord>> {
    let deployments = newest_service_deployments(ecs, cluster, name).await?;
    let task_definitions = task_definitions_of_revisions(ecs, name, &deployments).await?;
    let task_definition_of =
        |arn: Option<&str>| arn.and_then(|arn| task_definitions.get(arn)).cloned();
    let records = deployments
        .iter()
        .map(|d| DeploymentRecord {
            created_at: d.created_at().copied(),
            successful: d.status() == Some(&ServiceDeploymentStatus::Successful),
            target: task_definition_of(d.target_service_revision().and_then(|r| r.arn())),
            sources: d
                .source_service_revisions()
                .iter()
                .filter_map(|r| task_definition_of(r.arn()))
                .collect(),
        })
        .collect();
    Ok(records)
}

/// The service's `PER_CALL` newest service deployments, described.
async fn newest_service_deployments(
    ecs: &Client,
    cluster: &str,
    name: &str,
) -> Result<Vec<ServiceDeployment>> {
    let mut summaries = ecs::list_service_deployments(ecs, cluster, name, None)
        .await
        .map_err(|e| anyhow!("failed to list the deployments of service {name}: {e}"))?;
    summaries.sort_by(|a, b| b.created_at().cmp(&a.created_at()));
    let arns: Vec<String> = summaries
        .iter()
        .take(PER_CALL)
        .filter_map(|s| s.service_deployment_arn().map(str::to_owned))
        .collect();
    ecs::describe_service_deployments(ecs, &arns)
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read the deployments of service {name}: {}",
                explain("ecs:DescribeServiceDeployments", &e)
            )
        })
}

/// The task definition of each service revision `deployments` go from or
/// to, by the revision's ARN.
async fn task_definitions_of_revisions(
    ecs: &Client,
    name: &str,
    deployments: &[ServiceDeployment],
) -> Result<HashMap<String, String>> {
    let mut revisions: Vec<String> = deployments
        .iter()
        .flat_map(|d| {
            d.target_service_revision()
                .and_then(|r| r.arn())
                .into_iter()
                .chain(d.source_service_revisions().iter().filter_map(|r| r.arn()))
        })
        .map(str::to_owned)
        .collect();
    revisions.sort();
    revisions.dedup();
    let described = ecs::describe_service_revisions(ecs, &revisions)
        .await
        .map_err(|e| anyhow!("failed to read the revisions of service {name}: {e}"))?;
    Ok(described
        .iter()
        .filter_map(|revision| {
            Some((
                revision.service_revision_arn()?.to_owned(),
                revision.task_definition()?.to_owned(),
            ))
        })
        .collect())
}
