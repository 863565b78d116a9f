//! `codedeploy-deployment-id`: a CodeDeploy deployment started before this
//! step (an earlier job that ended at Ready), found and checked before
//! anything changes (`attach`), then, after `hook-action`'s
//! ContinueDeployment or StopDeployment, followed by the same watch and
//! verdict as a deployment this step creates (`follow`).

use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use aws_sdk_codedeploy::Client;
use aws_sdk_ecs::types::Service;

use super::{deployment_view, emit, group_of, verdict, watch, DeploymentGroup, Event};
use crate::aws::codedeploy::{continue_deployment, get_deployment, stop_deployment};
use crate::cancel::InFlight;
use crate::config::Config;
use crate::deploy::settings::HookAction;
use crate::deploy::{is_codedeploy, Deployed, Phase, Started};
use crate::event::Sink;
use crate::links;

/// A CodeDeploy deployment found and checked: nothing changed yet.
pub(crate) struct Attached {
    service: String,
    id: String,
    group: DeploymentGroup,
    hook_action: Option<HookAction>,
    link: String,
}

/// Reads deployment `id` and checks, reading only, that it is a
/// deployment of `service`'s group and that `hook_action` applies to its
/// status: continue to a Ready one, rollback to one not ended.
pub(crate) async fn attach(
    client: &Client,
    config: &Config,
    service: &Service,
    (id, hook_action): (&str, Option<HookAction>),
) -> Result<Attached> {
    let name = service.service_name().unwrap_or_default();
    if !is_codedeploy(service) {
        bail!("codedeploy-deployment-id: service {name} is deployed by ECS, not CodeDeploy; follow its deployment with service-deployment");
    }
    let group = group_of(client, &config.cluster, name, &config.codedeploy).await?;
    let info = get_deployment(client, id)
        .await
        .context("codedeploy-deployment-id: the deployment could not be read")?;
    let (application, group_name) = (
        info.application_name().unwrap_or_default(),
        info.deployment_group_name().unwrap_or_default(),
    );
    if (application, group_name) != (group.application.as_str(), group.name.as_str()) {
        bail!(
            "codedeploy-deployment-id: {id} is a deployment of {application}/{group_name}, not of service {name}'s {}/{}",
            group.application,
            group.name
        );
    }
    let status = deployment_view(&info).status;
    if let Some(why) = hook_action.and_then(|action| verdict::cannot_act(action, id, &status)) {
        bail!(why);
    }
    Ok(Attached {
        service: name.to_owned(),
        id: id.to_owned(),
        group,
        hook_action,
        link: links::codedeploy_deployment(links::region_of(service.service_arn()), id),
    })
}

/// Reroutes the traffic (ContinueDeployment) or stops with rollback when
/// asked, then follows the deployment to its verdict.
pub(crate) async fn follow(
    client: &Client,
    attached: Attached,
    config: &Config,
    sink: &dyn Sink,
    in_flight: &InFlight<'_>,
) -> Result<Deployed> {
    let Attached {
        service,
        id,
        group,
        hook_action,
        link,
    } = attached;
    in_flight.codedeploy_deployment_started(&service, &id);
    emit(
        sink,
        Event::Attached {
            service: service.clone(),
            deployment_id: id.clone(),
            link,
        },
    );
    let deploy = &config.deploy;
    match hook_action {
        Some(HookAction::Continue) => continue_deployment(client, &id, deploy.max_retries)
            .await
            .with_context(|| {
                format!("failed to reroute the traffic of CodeDeploy deployment {id}")
            })?,
        Some(HookAction::Rollback) => stop_deployment(client, &id, true).await.map_err(|e| {
            anyhow::anyhow!("failed to stop CodeDeploy deployment {id} with rollback: {e}")
        })?,
        None => {}
    }
    if let Some(action) = hook_action {
        let deployment_id = id.clone();
        emit(
            sink,
            Event::HookActed {
                deployment_id,
                action,
            },
        );
    }
    let mut phases = vec![Phase::new("deployment followed")];
    let result = watch(
        client,
        &id,
        false,
        (deploy.timeout + group.own_waits, deploy.max_poll_delay),
        deploy.rollback_on_failure,
        sink,
        &mut phases,
    )
    .await?;
    Ok(Deployed {
        index: 0,
        service,
        started: Started::CodeDeploy { deployment_id: id },
        result,
        phases,
        ended: SystemTime::now(),
    })
}
