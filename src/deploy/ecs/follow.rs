//! `service-deployment`: a deployment started before this step (by an
//! earlier job that stopped at `wait-until`, or by anyone), found and
//! checked before anything changes (`attach`), then, after `hook-action`'s
//! ContinueServiceDeployment, followed by the same watch and verdict as a
//! deployment this step starts (`follow`).

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::types::{Service, ServiceDeployment};

use super::view::service_deployment_view;
use super::{emit, failure_threshold, watch_all, Event, Followed, Target};
use crate::arn::resource_name;
use crate::aws::ecs::{
    continue_service_deployment, describe_service_deployments, describe_service_revisions,
    describe_task_definition,
};
use crate::aws::{explain, Aws};
use crate::cancel::InFlight;
use crate::deploy::settings::{DeployOptions, HookAction};
use crate::deploy::{is_codedeploy, Current, Deployed, Phase};
use crate::event::Sink;
use crate::template;

use super::verdict::{self, OurDeployment};

/// A deployment found, checked and ready to follow: nothing changed yet.
pub(crate) struct Attached {
    followed: Followed,
    /// The PAUSE hook `hook-action` acts on.
    hook: Option<(String, HookAction)>,
}

impl Attached {
    /// The task definitions the deployment moves the service from and to.
    pub(crate) fn revisions(&self) -> (&str, &str) {
        let target = &self.followed.target;
        (&target.previous_task_definition, &target.task_definition)
    }
}

/// Finds service deployment `arn` (None: the service's current one) of
/// `current`'s service and checks, reading only, that it is that
/// service's and that a hook awaits `hook_action` when one is asked for.
pub(crate) async fn attach(
    clients: &Aws,
    cluster: &str,
    current: &Current,
    (arn, hook_action): (Option<&str>, Option<HookAction>),
    options: &DeployOptions,
) -> Result<Attached> {
    let ecs = &clients.ecs;
    let service = &current.service;
    let name = service.service_name().unwrap_or_default();
    if is_codedeploy(service) {
        bail!("service-deployment: service {name} is deployed by CodeDeploy, which has no ECS service deployment to follow");
    }
    let arn = match (arn, service.current_service_deployment()) {
        (Some(arn), _) => arn.to_owned(),
        (None, Some(arn)) => arn.to_owned(),
        (None, None) => {
            bail!("service-deployment: current, but service {name} has no service deployment")
        }
    };
    let record = describe_service_deployments(ecs, std::slice::from_ref(&arn))
        .await
        .map_err(|e| {
            anyhow!(
                "failed to read service deployment {arn}: {}",
                explain("ecs:DescribeServiceDeployments", &e)
            )
        })?
        .into_iter()
        .next()
        .with_context(|| format!("service-deployment: {arn} was not found; give the ecs-service-deployment-arn output of the run that started it, or current"))?;
    if record.service_arn() != service.service_arn() {
        bail!(
            "service-deployment: {arn} is a deployment of service {}, not of {name} in cluster {}",
            record.service_arn().map_or("?", resource_name),
            resource_name(cluster)
        );
    }
    let hook = match hook_action {
        Some(action) => Some((
            verdict::hook_to_act_on(action, &arn, &service_deployment_view(&record))
                .map_err(anyhow::Error::msg)?,
            action,
        )),
        None => None,
    };
    let (to, from) = revisions(clients, &record).await?;
    let definition = if to == current.task_definition_arn {
        current.task_definition.clone()
    } else {
        template::unwrap_described(
            describe_task_definition(ecs, &to)
                .await
                .with_context(|| format!("failed to read task definition {to}"))?,
        )
    };
    let mut target = Target::new(0, service, &to, &definition);
    target.previous_task_definition = from;
    let watch = OurDeployment {
        deployment_id: deployment_of(service, &to),
        task_definition: to,
        previous_task_definition: target.previous_task_definition.clone(),
        max_failed_tasks: failure_threshold(options, &target, service.desired_count()),
        wait_until: options.wait_until.clone(),
        breaker_threshold: None,
    };
    let mut followed = Followed::new(&target, watch, Some(arn), service);
    // It started before this step: the timeline begins where we took it on.
    followed.phases = vec![Phase::new("deployment followed")];
    Ok(Attached { followed, hook })
}

/// The id of the deployment of task definition `to` as DescribeServices
/// lists it, the PRIMARY one first; empty when an ended deployment is
/// gone, and its record then decides.
fn deployment_of(service: &Service, to: &str) -> String {
    service
        .deployments()
        .iter()
        .filter(|d| d.task_definition() == Some(to))
        .min_by_key(|d| d.status() != Some("PRIMARY"))
        .and_then(|d| d.id())
        .unwrap_or_default()
        .to_owned()
}

/// The task definitions a service deployment moves to and from, read
/// from its target and (first) source service revisions.
async fn revisions(clients: &Aws, record: &ServiceDeployment) -> Result<(String, String)> {
    let target = record
        .target_service_revision()
        .and_then(|r| r.arn())
        .context("the service deployment names no target service revision")?;
    let source = record
        .source_service_revisions()
        .first()
        .and_then(|r| r.arn());
    let arns: Vec<String> = std::iter::once(target)
        .chain(source)
        .map(str::to_owned)
        .collect();
    let revisions = describe_service_revisions(&clients.ecs, &arns)
        .await
        .map_err(|e| anyhow!("failed to read the service deployment's revisions: {e}"))?;
    let task_definition = |arn: &str| {
        revisions
            .iter()
            .find(|r| r.service_revision_arn() == Some(arn))
            .and_then(|r| r.task_definition())
            .map(str::to_owned)
    };
    let to = task_definition(target)
        .with_context(|| format!("service revision {target} was not found"))?;
    let from = source
        .and_then(task_definition)
        .unwrap_or_else(|| to.clone());
    Ok((to, from))
}

/// Acts on the paused hook when asked, then follows the deployment to
/// its verdict (or to where `wait-until` says) as if this step had
/// started it.
pub(crate) async fn follow(
    clients: &Aws,
    cluster: &str,
    attached: Attached,
    options: &DeployOptions,
    sink: &dyn Sink,
    in_flight: &InFlight<'_>,
) -> Result<Vec<Deployed>> {
    let Attached { followed, hook } = attached;
    let service = followed.target.service.clone();
    let arn = followed.service_deployment_arn.clone().unwrap_or_default();
    emit(
        sink,
        Event::Attached {
            service: service.clone(),
            service_deployment_arn: arn.clone(),
            from: followed.target.previous_task_definition.clone(),
            to: followed.target.task_definition.clone(),
        },
    );
    in_flight.ecs_deployment_started(&service, &followed.watch.deployment_id, Some(&arn));
    if let Some((hook_id, action)) = hook {
        continue_service_deployment(
            &clients.ecs,
            &arn,
            &hook_id,
            action.as_str(),
            options.max_retries,
        )
        .await
        .with_context(|| format!("failed to {} the paused deployment of service {service} at lifecycle hook {hook_id}", action.as_str().to_lowercase()))?;
        emit(
            sink,
            Event::HookActed {
                service,
                hook_id,
                action,
            },
        );
    }
    let mut followed = [followed];
    watch_all(clients, cluster, &mut followed, options, sink).await?;
    let [followed] = followed;
    Ok(vec![followed.into_deployed()])
}
