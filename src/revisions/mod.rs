//! Old revisions (`keep-revisions`, `delete-revisions`): after a successful
//! deploy, each deployed family's ACTIVE revisions beyond the newest few are
//! deregistered, and INACTIVE ones past their grace period deleted, except
//! every revision that anything in the region may still use (`plan`
//! decides). What is in use is read after the verdict, just before the
//! writes: services with their deployments and task sets, and running or
//! pending tasks, in every cluster; rule targets on every event bus; every
//! schedule; the rollback targets. When any of it cannot be read, nothing
//! is deregistered or deleted. A failure here is a warning: the deploy
//! succeeded, and a revision left in place harms nothing.

mod event;
pub(crate) mod plan;
pub(crate) mod settings;

pub(crate) use event::Event;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use aws_sdk_ecs::types::{DesiredStatus, TaskDefinitionStatus};
use futures::{stream, StreamExt, TryStreamExt};

use crate::arn::resource_name;
use crate::aws::{ecs, explain, Aws, CONCURRENT_CALLS};
use crate::event::Sink;
use crate::scheduled::{self, plan::family_and_revision};
use plan::{revision_key, Described, Fate, Step};
use settings::OldRevisions;

/// A family the deploy touched.
pub(crate) struct Family {
    pub(crate) name: String,
    /// The revision this deploy put in place; None in the dry run.
    pub(crate) ours: Option<i64>,
    /// In the dry run: the deploy would register a new revision, which
    /// would be one of the newest kept.
    pub(crate) registers_one: bool,
}

/// What was cleaned up (or, in the dry run, would be), filled as it goes:
/// a cancelled run says what it had done.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CleanUp {
    pub(crate) deregistered: Vec<String>,
    pub(crate) deleted: Vec<String>,
    pub(crate) would_deregister: Vec<String>,
    pub(crate) would_delete: Vec<String>,
    /// Decided on and not yet answered: what a cancelled run did not do
    /// (or cannot tell whether it did).
    pub(crate) not_done: Vec<String>,
}

/// Deregisters and deletes what `settings` and the region allow; in the
/// dry run, only says what that would be as things stand.
pub(crate) async fn clean_up(
    aws: &Aws,
    sink: &dyn Sink,
    settings: &OldRevisions,
    families: &[Family],
    rollback_targets: &[String],
    dry_run: bool,
    outcome: &mut CleanUp,
) {
    emit(sink, Event::Began);
    if families.is_empty() {
        emit(sink, Event::NothingLeftBehind);
        emit(sink, Event::Ended);
        return;
    }
    match in_use(aws, rollback_targets).await {
        Ok(in_use) => {
            let cleaner = Cleaner {
                ecs: &aws.ecs,
                sink,
                settings,
                in_use,
                dry_run,
            };
            for family in families {
                if let Err(error) = cleaner.clean(family, outcome).await {
                    let (family, error) = (family.name.clone(), format!("{error:#}"));
                    emit(sink, Event::FamilyKept { family, error });
                }
            }
        }
        Err(error) => {
            let error = format!("{error:#}");
            emit(sink, Event::InUseUnknown { error });
        }
    }
    emit(sink, Event::Ended);
}

fn emit(sink: &dyn Sink, event: Event) {
    sink.emit(event.into());
}

/// What cleaning each family up goes by.
struct Cleaner<'a> {
    ecs: &'a aws_sdk_ecs::Client,
    sink: &'a dyn Sink,
    settings: &'a OldRevisions,
    /// Every revision the region may still use (`revision_key`).
    in_use: BTreeSet<String>,
    dry_run: bool,
}

impl Cleaner<'_> {
    async fn clean(&self, family: &Family, outcome: &mut CleanUp) -> Result<()> {
        self.deregister_old(family, outcome).await?;
        if self.settings.delete {
            self.delete_old(family, outcome).await?;
        }
        Ok(())
    }

    /// The ACTIVE revisions of `family` that may go, deregistered (in the
    /// dry run, named).
    async fn deregister_old(&self, family: &Family, outcome: &mut CleanUp) -> Result<()> {
        let keep = self.settings.keep - usize::from(family.registers_one);
        let active = revisions(self.ecs, &family.name, TaskDefinitionStatus::Active).await?;
        let candidates = plan::candidates(&active, keep, family.ours, &self.in_use);
        let go = self.fates(&candidates, Step::Deregister).await;
        if self.dry_run {
            if !go.is_empty() {
                self.emit(Event::WouldDeregister { arns: go.clone() });
            }
            outcome.would_deregister.extend(go);
        } else if go.is_empty() {
            let family = family.name.clone();
            self.emit(Event::NoneToDeregister { family });
        } else {
            self.deregister(&go, outcome).await;
        }
        Ok(())
    }

    /// DeregisterTaskDefinition of each of `arns`, `CONCURRENT_CALLS` at a
    /// time, each deregistered one kept in `outcome` as it is.
    async fn deregister(&self, arns: &[String], outcome: &mut CleanUp) {
        let ecs = self.ecs;
        outcome.not_done.extend(arns.iter().cloned());
        let mut results = stream::iter(arns)
            .map(|arn| async move { (arn, ecs::deregister_task_definition(ecs, arn).await) })
            .buffered(CONCURRENT_CALLS);
        let mut done = Vec::new();
        while let Some((arn, result)) = results.next().await {
            outcome.not_done.retain(|pending| pending != arn);
            match result {
                Ok(()) => {
                    done.push(arn.clone());
                    outcome.deregistered.push(arn.clone());
                }
                Err(error) => {
                    let arn = arn.clone();
                    self.emit(Event::DeregisterFailed { arn, error });
                }
            }
        }
        if !done.is_empty() {
            self.emit(Event::Deregistered { arns: done });
        }
    }

    /// The INACTIVE revisions of `family` past their grace period, deleted
    /// (in the dry run, named); those deregistered just now are not among
    /// them.
    async fn delete_old(&self, family: &Family, outcome: &mut CleanUp) -> Result<()> {
        let inactive = revisions(self.ecs, &family.name, TaskDefinitionStatus::Inactive).await?;
        let just_deregistered: BTreeSet<&String> = outcome.deregistered.iter().collect();
        let inactive: Vec<String> = inactive
            .into_iter()
            .filter(|arn| !just_deregistered.contains(arn))
            .collect();
        let candidates = plan::delete_candidates(&inactive, &self.in_use);
        let step = Step::Delete {
            grace_days: self.settings.delete_after_days,
        };
        let go = self.fates(&candidates, step).await;
        if self.dry_run {
            if !go.is_empty() {
                self.emit(Event::WouldDelete { arns: go.clone() });
            }
            outcome.would_delete.extend(go);
        } else {
            self.delete(&go, outcome).await;
        }
        Ok(())
    }

    /// DeleteTaskDefinitions, ten a call (the API's limit), each deleted
    /// one kept in `outcome` as it is. What ECS refuses is said with its
    /// reason.
    async fn delete(&self, arns: &[String], outcome: &mut CleanUp) {
        let mut deleted = Vec::new();
        outcome.not_done.extend(arns.iter().cloned());
        for batch in arns.chunks(10) {
            let answer = ecs::delete_task_definitions(self.ecs, batch).await;
            outcome.not_done.retain(|pending| !batch.contains(pending));
            match answer {
                Ok(answer) => {
                    outcome.deleted.extend(answer.arns.iter().cloned());
                    deleted.extend(answer.arns);
                    for (arn, reason) in answer.refused {
                        self.emit(Event::DeleteRefused { arn, reason });
                    }
                }
                Err(error) => {
                    let arns = batch.to_vec();
                    self.emit(Event::DeleteFailed { arns, error });
                }
            }
        }
        if !deleted.is_empty() {
            self.emit(Event::Deleted { arns: deleted });
        }
    }

    /// The candidates whose dates let them go (`plan::fate`), each read
    /// just now; a candidate that cannot be read stays, and one kept for
    /// its dates is named with why.
    async fn fates(&self, candidates: &[String], step: Step) -> Vec<String> {
        let ecs = self.ecs;
        let described: Vec<(String, Result<serde_json::Value>)> = stream::iter(candidates)
            .map(|arn| async move { (arn.clone(), ecs::describe_task_definition(ecs, arn).await) })
            .buffered(CONCURRENT_CALLS)
            .collect()
            .await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut go = Vec::new();
        for (arn, answer) in described {
            let definition = match answer {
                Ok(answer) => answer,
                Err(error) => {
                    let error = format!("{error:#}");
                    self.emit(Event::Unreadable { arn, error });
                    continue;
                }
            };
            let date = |key: &str| {
                definition["taskDefinition"][key]
                    .as_f64()
                    .map(|seconds| seconds as i64)
            };
            let revision = Described {
                arn,
                registered_at: date("registeredAt"),
                deregistered_at: date("deregisteredAt"),
            };
            match plan::fate(&revision, step, now) {
                Fate::Keep(why) => self.emit(Event::Kept { why }),
                Fate::Go => go.push(revision.arn),
            }
        }
        go
    }

    fn emit(&self, event: Event) {
        emit(self.sink, event);
    }
}

/// Revisions as a line names them: `shop:1, shop:3`.
pub(crate) fn short_names(arns: &[String]) -> String {
    let shown: Vec<&str> = arns.iter().map(|arn| resource_name(arn)).collect();
    shown.join(", ")
}

/// Every revision (by `revision_key`) that anything in the region may
/// still use: the rollback targets, every service of every cluster (its
/// revision, each deployment's and each task set's), every running or
/// pending task of every cluster, every scheduled task.
async fn in_use(aws: &Aws, rollback_targets: &[String]) -> Result<BTreeSet<String>> {
    let ecs = &aws.ecs;
    let mut used: Vec<String> = rollback_targets.to_vec();
    let clusters = ecs::list_clusters(ecs)
        .await
        .map_err(|e| anyhow!("failed to list the clusters: {e}"))?;
    let by_cluster: Vec<Vec<String>> = stream::iter(&clusters)
        .map(|cluster| async move {
            let (services, tasks) =
                tokio::try_join!(used_by_services(ecs, cluster), used_by_tasks(ecs, cluster))?;
            anyhow::Ok([services, tasks].concat())
        })
        .buffered(CONCURRENT_CALLS)
        .try_collect()
        .await?;
    used.extend(by_cluster.into_iter().flatten());
    used.extend(scheduled::task_definitions_in_region(aws, &clusters).await?);
    Ok(used.iter().filter_map(|arn| revision_key(arn)).collect())
}

async fn used_by_services(ecs: &aws_sdk_ecs::Client, cluster: &str) -> Result<Vec<String>> {
    let names = ecs::list_services(ecs, cluster)
        .await
        .map_err(|e| anyhow!("failed to list the services of cluster {cluster}: {e}"))?;
    let services = ecs::describe_services(ecs, cluster, &names)
        .await
        .map_err(|e| {
            anyhow!(
                "failed to describe the services of cluster {cluster}: {}",
                explain("ecs:DescribeServices", &e)
            )
        })?;
    // A service gone since the listing uses nothing; one ECS could not
    // describe may use anything.
    if let Some((name, reason)) = services.missing.iter().find(|(_, r)| r != "MISSING") {
        return Err(anyhow!(
            "service {name} of cluster {cluster} could not be described: {reason}"
        ));
    }
    let mut used = Vec::new();
    for service in &services.services {
        used.extend(service.task_definition().map(str::to_owned));
        let deployments = service.deployments().iter().map(|d| d.task_definition());
        let task_sets = service.task_sets().iter().map(|s| s.task_definition());
        used.extend(deployments.chain(task_sets).flatten().map(str::to_owned));
    }
    Ok(used)
}

async fn used_by_tasks(ecs: &aws_sdk_ecs::Client, cluster: &str) -> Result<Vec<String>> {
    let tasks = ecs::list_tasks(ecs, cluster, None, DesiredStatus::Running, usize::MAX)
        .await
        .map_err(|e| anyhow!("failed to list the tasks of cluster {cluster}: {e}"))?;
    let (described, failures) = ecs::describe_tasks(ecs, cluster, &tasks)
        .await
        .map_err(|e| anyhow!("failed to describe the tasks of cluster {cluster}: {e}"))?;
    if let Some(failure) = failures.iter().find(|f| f.reason() != Some("MISSING")) {
        return Err(anyhow!(
            "task {} of cluster {cluster} could not be described: {}",
            failure.arn().unwrap_or("?"),
            failure.reason().unwrap_or("no reason given")
        ));
    }
    Ok(described
        .iter()
        .filter_map(|t| t.task_definition_arn().map(str::to_owned))
        .collect())
}

/// Every revision of `family` with `status`.
async fn revisions(
    ecs: &aws_sdk_ecs::Client,
    family: &str,
    status: TaskDefinitionStatus,
) -> Result<Vec<String>> {
    let listed = ecs::list_task_definitions(ecs, family, status)
        .await
        .map_err(|e| anyhow!("failed to list them: {e}"))?;
    // familyPrefix matches other families that start alike.
    Ok(listed
        .into_iter()
        .filter(|arn| family_and_revision(arn).0 == family)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Recorder;
    use ecs_deploy_sim::{Scenario, Sim};

    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    /// shop:1 INACTIVE for 30 days; shop:2 and shop:3 old; shop:4
    /// registered ten minutes ago; web runs shop:5; shop:6 the newest.
    const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - {family: shop, containerDefinitions: [{name: web, image: "shop:1"}], registeredSecondsAgo: 9000000, deregisteredSecondsAgo: 2592000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:2"}], registeredSecondsAgo: 600000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:3"}], registeredSecondsAgo: 500000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:4"}], registeredSecondsAgo: 600}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:5"}], registeredSecondsAgo: 400000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:6"}], registeredSecondsAgo: 300000}
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:5, desiredCount: 1}
"#;

    fn arns(revisions: &[u32]) -> Vec<String> {
        revisions.iter().map(|r| format!("{TD}/shop:{r}")).collect()
    }

    async fn clean_up_shop(sim: &Sim, dry_run: bool) -> (Vec<Event>, CleanUp) {
        let aws = Aws::of_sim(sim).await;
        let recorder = Recorder::default();
        let settings = OldRevisions {
            keep: 2,
            delete: true,
            delete_after_days: 7,
        };
        let families = [Family {
            name: "shop".into(),
            ours: Some(6),
            registers_one: false,
        }];
        let mut outcome = CleanUp::default();
        let rollback_targets = arns(&[5]);
        clean_up(
            &aws,
            &recorder,
            &settings,
            &families,
            &rollback_targets,
            dry_run,
            &mut outcome,
        )
        .await;
        (recorder.step_events(), outcome)
    }

    #[tokio::test]
    async fn old_revisions_nothing_uses_go_and_the_fresh_one_stays_with_why() {
        let sim = Sim::start(Scenario::from_yaml(SCENARIO).unwrap()).unwrap();
        let kept = Event::Kept {
            why: "kept shop:4: registered 10 minutes ago, perhaps for another run".into(),
        };
        let (events, outcome) = clean_up_shop(&sim, true).await;
        assert_eq!(
            events,
            vec![
                Event::Began,
                kept.clone(),
                Event::WouldDeregister {
                    arns: arns(&[2, 3])
                },
                Event::WouldDelete { arns: arns(&[1]) },
                Event::Ended,
            ]
        );
        assert_eq!(outcome.would_deregister, arns(&[2, 3]));
        assert!(sim.calls_to("DeregisterTaskDefinition").is_empty());

        let (events, outcome) = clean_up_shop(&sim, false).await;
        assert_eq!(
            events,
            vec![
                Event::Began,
                kept,
                Event::Deregistered {
                    arns: arns(&[2, 3])
                },
                Event::Deleted { arns: arns(&[1]) },
                Event::Ended,
            ]
        );
        assert_eq!(
            (outcome.deregistered, outcome.deleted, outcome.not_done),
            (arns(&[2, 3]), arns(&[1]), vec![])
        );
    }
}
