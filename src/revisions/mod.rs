//! Old revisions (`keep-revisions`, `delete-revisions`): after a successful
//! deploy, each deployed family's ACTIVE revisions beyond the newest few are
//! deregistered (and deleted), except every revision still in use (`plan`).
//! What is in use is looked up first; when that cannot be done, nothing is
//! deregistered. A failure here is a warning: the deploy succeeded, and a
//! revision left ACTIVE harms nothing.

pub(crate) mod plan;

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};
use aws_sdk_ecs::types::{DesiredStatus, TaskDefinitionStatus};
use futures::{stream, StreamExt};

use crate::aws::ecs::describe_services;
use crate::aws::{explain, Aws, CONCURRENT_CALLS};
use crate::config::OldRevisions;
use crate::deploy::ecs::short_name;
use crate::runner::Runner;
use crate::scheduled;
use plan::revision_key;

/// Where the deploy happened and what it touched.
pub(crate) struct Deploy<'a> {
    pub(crate) cluster: &'a str,
    pub(crate) cluster_arn: &'a str,
    pub(crate) families: Vec<String>,
    /// The revision each service ran before this deploy: the rollback target.
    pub(crate) previous: Vec<String>,
    pub(crate) event_buses: &'a [String],
}

/// What was cleaned up, for the summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) deregistered: Vec<String>,
    pub(crate) deleted: usize,
}

pub(crate) async fn clean_up(
    aws: &Aws,
    runner: &Runner,
    settings: &OldRevisions,
    deploy: &Deploy<'_>,
) -> Outcome {
    runner.group("Old revisions");
    let outcome = match in_use(aws, deploy).await {
        Ok(in_use) => deregister_unused(aws, runner, settings, deploy, &in_use).await,
        Err(error) => {
            runner.warning(&format!(
                "Old revisions were kept: which are in use could not be told: {error:#}"
            ));
            Outcome::default()
        }
    };
    runner.end_group();
    outcome
}

/// Every revision (by `revision_key`) that must stay: the services of the
/// cluster (their current revision and every deployment's), the one each
/// deployed service ran before, the scheduled tasks, the running and
/// pending tasks of the cluster.
async fn in_use(aws: &Aws, deploy: &Deploy<'_>) -> Result<BTreeSet<String>> {
    let ecs = &aws.ecs;
    let cluster = deploy.cluster;
    let mut used: Vec<String> = deploy.previous.clone();

    let mut names = Vec::new();
    let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "failed to list the services of cluster {cluster}: {}",
                explain("ecs:ListServices", &e)
            )
        })?;
        names.extend(page.service_arns().iter().cloned());
    }
    let services = describe_services(ecs, cluster, &names).await.map_err(|e| {
        anyhow!(
            "failed to describe the services of cluster {cluster}: {}",
            explain("ecs:DescribeServices", &e)
        )
    })?;
    for service in &services.services {
        used.extend(service.task_definition().map(str::to_owned));
        used.extend(
            service
                .deployments()
                .iter()
                .filter_map(|d| d.task_definition().map(str::to_owned)),
        );
    }

    let mut tasks = Vec::new();
    let mut pages = ecs
        .list_tasks()
        .cluster(cluster)
        .desired_status(DesiredStatus::Running)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "failed to list the tasks of cluster {cluster}: {}",
                explain("ecs:ListTasks", &e)
            )
        })?;
        tasks.extend(page.task_arns().iter().cloned());
    }
    for batch in tasks.chunks(100) {
        let described = ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to describe the tasks of cluster {cluster}: {}",
                    explain("ecs:DescribeTasks", &e)
                )
            })?;
        used.extend(
            described
                .tasks()
                .iter()
                .filter_map(|t| t.task_definition_arn().map(str::to_owned)),
        );
    }

    used.extend(scheduled::task_definitions(aws, deploy.event_buses, deploy.cluster_arn).await?);
    Ok(used.iter().filter_map(|arn| revision_key(arn)).collect())
}

async fn deregister_unused(
    aws: &Aws,
    runner: &Runner,
    settings: &OldRevisions,
    deploy: &Deploy<'_>,
    in_use: &BTreeSet<String>,
) -> Outcome {
    let ecs = &aws.ecs;
    let mut unused = Vec::new();
    for family in &deploy.families {
        match active_revisions(ecs, family).await {
            Ok(active) => unused.extend(plan::to_deregister(&active, settings.keep, in_use)),
            Err(error) => runner.warning(&format!("{error:#}")),
        }
    }
    let results: Vec<(String, Result<()>)> = stream::iter(unused)
        .map(|arn| async move {
            let result = ecs
                .deregister_task_definition()
                .task_definition(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    anyhow!(
                        "failed to deregister {arn}: {}",
                        explain("ecs:DeregisterTaskDefinition", &e)
                    )
                });
            (arn, result)
        })
        .buffered(CONCURRENT_CALLS)
        .collect()
        .await;
    let mut outcome = Outcome::default();
    for (arn, result) in results {
        match result {
            Ok(()) => outcome.deregistered.push(arn),
            Err(error) => runner.warning(&format!("{error:#}")),
        }
    }
    let shown: Vec<&str> = outcome
        .deregistered
        .iter()
        .map(|arn| short_name(arn))
        .collect();
    if shown.is_empty() {
        runner.info("no revision to deregister: every ACTIVE one is among the newest or in use");
        return outcome;
    }
    runner.info(&format!("deregistered {}", shown.join(", ")));
    if settings.delete {
        outcome.deleted = delete(ecs, runner, &outcome.deregistered).await;
    }
    outcome
}

/// Every ACTIVE revision of `family`.
async fn active_revisions(ecs: &aws_sdk_ecs::Client, family: &str) -> Result<Vec<String>> {
    let mut active = Vec::new();
    let mut pages = ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(TaskDefinitionStatus::Active)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            anyhow!(
                "old revisions of {family} were kept: failed to list them: {}",
                explain("ecs:ListTaskDefinitions", &e)
            )
        })?;
        active.extend(page.task_definition_arns().iter().cloned());
    }
    Ok(active)
}

/// DeleteTaskDefinitions, ten a call (the API's limit); how many were
/// deleted. What ECS refuses is a warning with its reason.
async fn delete(ecs: &aws_sdk_ecs::Client, runner: &Runner, arns: &[String]) -> usize {
    let mut deleted = Vec::new();
    for batch in arns.chunks(10) {
        match ecs
            .delete_task_definitions()
            .set_task_definitions(Some(batch.to_vec()))
            .send()
            .await
        {
            Ok(answer) => {
                deleted.extend(
                    answer
                        .task_definitions()
                        .iter()
                        .filter_map(|d| d.task_definition_arn().map(str::to_owned)),
                );
                for failure in answer.failures() {
                    runner.warning(&format!(
                        "{} was not deleted: {}",
                        failure.arn().unwrap_or("?"),
                        failure.reason().unwrap_or("no reason given")
                    ));
                }
            }
            Err(e) => runner.warning(&format!(
                "failed to delete {}: {}",
                batch.join(", "),
                explain("ecs:DeleteTaskDefinitions", &e)
            )),
        }
    }
    if !deleted.is_empty() {
        let shown: Vec<&str> = deleted.iter().map(|arn| short_name(arn)).collect();
        runner.info(&format!("deleted {}", shown.join(", ")));
    }
    deleted.len()
}
