//! The step outputs with a value per service: one value, or with several
//! services a JSON object by service name; the deployment ids are written
//! as each deployment starts.

use serde_json::Value;

use super::{release_index, Event, Release};
use crate::config::Config;
use crate::deploy::{DeployResult, Deployed, Handoff, Started};
use crate::event::{Output, Sink};

/// The ids of what was started, by way of deploying.
pub(super) fn write_deployment_outputs(sink: &dyn Sink, config: &Config, started: &[Started]) {
    for (output, field) in STARTED_OUTPUTS {
        // An output of a kind of deployment no service started is not written.
        if started.iter().any(|s| field(s).is_some()) {
            let value = by_service_index(config, |i| {
                field(&started[i]).flatten().unwrap_or_default().to_owned()
            });
            if let Err(error) = sink.output(output, &value) {
                let reason = format!("{error:#}");
                sink.emit(Event::OutputUnwritten { reason }.into());
            }
        }
    }
}

/// What a deployment started for a service: None when it is not of the
/// output's kind, Some(None) when it is but lacks the value.
type StartedField = fn(&Started) -> Option<Option<&str>>;

/// The outputs written as soon as a deployment starts, one value per service.
const STARTED_OUTPUTS: [(Output, StartedField); 3] = [
    (Output::EcsDeploymentId, ecs_deployment_id),
    (Output::EcsServiceDeploymentArn, ecs_service_deployment_arn),
    (Output::CodeDeployDeploymentId, codedeploy_deployment_id),
];

fn ecs_deployment_id(started: &Started) -> Option<Option<&str>> {
    match started {
        Started::Ecs { deployment_id, .. } => Some(Some(deployment_id)),
        _ => None,
    }
}

fn ecs_service_deployment_arn(started: &Started) -> Option<Option<&str>> {
    match started {
        Started::Ecs {
            service_deployment_arn,
            ..
        } => Some(service_deployment_arn.as_deref()),
        _ => None,
    }
}

fn codedeploy_deployment_id(started: &Started) -> Option<Option<&str>> {
    match started {
        Started::CodeDeploy { deployment_id } => Some(Some(deployment_id)),
        _ => None,
    }
}

/// What a handed-off deployment gives one output.
type HandoffField = fn(&Handoff) -> Option<&str>;

/// With `wait-until`: where each deployment was left (its paused hook and
/// stage), for the job that follows it; nothing when none was.
pub(super) fn write_handoff_outputs(
    sink: &dyn Sink,
    config: &Config,
    deployed: &[Deployed],
) -> anyhow::Result<()> {
    let handoff = |i: usize| {
        deployed.iter().find_map(|d| match &d.result {
            DeployResult::HandedOff(handoff) if d.index == i => Some(handoff),
            _ => None,
        })
    };
    if !(0..config.services.len()).any(|i| handoff(i).is_some()) {
        return Ok(());
    }
    let paused_hook: HandoffField = |h| h.paused_hook.as_deref();
    let stage: HandoffField = |h| h.stage.as_deref();
    for (output, field) in [
        (Output::PausedHookId, paused_hook),
        (Output::LifecycleStage, stage),
    ] {
        let value = by_service_index(config, |i| {
            handoff(i).and_then(field).unwrap_or_default().to_owned()
        });
        sink.output(output, &value)?;
    }
    Ok(())
}

/// One value, or with several services a JSON object by service name.
pub(super) fn by_service_index(config: &Config, value: impl Fn(usize) -> String) -> String {
    if config.services.len() <= 1 {
        return value(0);
    }
    let object: serde_json::Map<String, Value> = config
        .services
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), Value::String(value(i))))
        .collect();
    Value::Object(object).to_string()
}

/// Like `by_service_index`, for a value of each release (given its index).
pub(super) fn by_service(
    config: &Config,
    releases: &[Release],
    value: impl Fn(usize) -> String,
) -> String {
    if releases.len() == 1 {
        return value(0);
    }
    by_service_index(config, |service| {
        let release = release_index(releases, service).expect("every service has a release");
        value(release)
    })
}
