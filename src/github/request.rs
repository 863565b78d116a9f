//! What a GitHub deployment says, built from the configuration: the create
//! request, the states and their descriptions, the run's log link, and the
//! deployment a `deployment` event names.

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::settings::DeploymentSettings;
use crate::arn::resource_name;
use crate::config::Config;
use crate::env::Env;
use crate::outcome::is_failed;

/// GitHub rejects longer status descriptions.
const DESCRIPTION_LIMIT: usize = 140;
/// The payload key holding a value unique to this run, by which a create
/// whose answer was lost is found again instead of being repeated.
pub(super) const REQUEST_ID_KEY: &str = "ecs_deploy_request_id";

/// The states ecs-deploy reports, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    InProgress,
    Success,
    /// The deployment or the migration ran and failed.
    Failure,
    /// ecs-deploy could not finish (bad input, an AWS API error).
    Error,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::InProgress => "in_progress",
            State::Success => "success",
            State::Failure => "failure",
            State::Error => "error",
        }
    }

    /// The final state of a run that ended with `result`.
    pub(crate) fn of(result: &Result<()>) -> State {
        match result {
            Ok(()) => State::Success,
            Err(error) if is_failed(error) => State::Failure,
            Err(_) => State::Error,
        }
    }
}

/// What a status says happened, cut to GitHub's limit.
pub(crate) fn description(state: State, target: &str, result: &Result<()>) -> String {
    let text = match (state, result) {
        (State::InProgress, _) => format!("Deploying {target}"),
        (State::Success, _) => format!("Deployed {target}"),
        (State::Failure, Err(error)) => format!("Failed: {error:#}"),
        (State::Error, Err(error)) => format!("ecs-deploy could not finish: {error:#}"),
        (State::Failure | State::Error, Ok(())) => format!("Did not deploy {target}"),
    };
    truncate(&text, DESCRIPTION_LIMIT)
}

/// At most `limit` characters; a cut ends with "…".
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= limit {
        return text;
    }
    let kept: String = text.chars().take(limit - 1).collect();
    format!("{}…", kept.trim_end())
}

/// What the run deploys, in words: "shop-web on prod".
pub(super) fn target(config: &Config) -> String {
    match (config.services.as_slice(), &config.template) {
        ([], Some(template)) => format!("the task definition from {template}"),
        ([], None) => "the task definition".to_owned(),
        (services, _) => format!("{} on {}", services.join(", "), config.cluster),
    }
}

/// The workflow run's page: GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/
/// GITHUB_RUN_ID, at GITHUB_RUN_ATTEMPT when known.
pub(crate) fn log_url(env: &Env) -> Option<String> {
    let given = |name: &str| env.get(name).filter(|value| !value.is_empty());
    let run = format!(
        "{}/{}/actions/runs/{}",
        given("GITHUB_SERVER_URL")?.trim_end_matches('/'),
        given("GITHUB_REPOSITORY")?,
        given("GITHUB_RUN_ID")?
    );
    Some(match given("GITHUB_RUN_ATTEMPT") {
        Some(attempt) => format!("{run}/attempts/{attempt}"),
        None => run,
    })
}

/// The body of POST /repos/{owner}/{repo}/deployments.
/// `rollback_to`: with `task-definition: previous`, the revisions the
/// services go back to, which the deployment records.
pub(crate) fn deployment_request(
    settings: &DeploymentSettings,
    config: &Config,
    reference: &str,
    request_id: &str,
    rollback_to: &[String],
) -> Value {
    let render = &config.render;
    let mut images: Vec<&str> = render.image.iter().map(String::as_str).collect();
    for (_, image) in &render.images {
        if !images.contains(&image.as_str()) {
            images.push(image);
        }
    }
    let mut request = json!({
        "ref": reference,
        "task": "deploy",
        // GitHub's default merges the default branch into `ref` first, and
        // its default required contexts wait for every check: ecs-deploy
        // deploys exactly the commit it was given.
        "auto_merge": false,
        "required_contexts": [],
        "environment": settings.environment,
        "description": truncate(&format!("ecs-deploy: {}", target(config)), DESCRIPTION_LIMIT),
        "payload": {
            "cluster": config.cluster,
            "services": config.services,
            "images": images,
            REQUEST_ID_KEY: request_id,
        },
    });
    if !rollback_to.is_empty() {
        let revisions: Vec<&str> = rollback_to.iter().map(|arn| resource_name(arn)).collect();
        request["description"] = truncate(
            &format!(
                "ecs-deploy: rollback of {} to {}",
                target(config),
                revisions.join(", ")
            ),
            DESCRIPTION_LIMIT,
        )
        .into();
        request["payload"]["rollback_to"] = rollback_to.into();
    }
    if let Some(transient) = settings.transient {
        request["transient_environment"] = transient.into();
    }
    if let Some(production) = settings.production {
        request["production_environment"] = production.into();
    }
    request
}

/// The deployment a `deployment` event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventDeployment {
    pub(crate) id: u64,
    pub(crate) environment: Option<String>,
}

pub(crate) fn parse_deployment_event(text: &str) -> Result<EventDeployment> {
    let event: Value = serde_json::from_str(text).context("not JSON")?;
    let deployment = &event["deployment"];
    let id = deployment["id"]
        .as_u64()
        .context("the event has no deployment.id")?;
    Ok(EventDeployment {
        id,
        environment: deployment["environment"].as_str().map(str::to_owned),
    })
}
