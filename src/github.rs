//! GitHub Deployments: the deployment a run reports to (adopted from a
//! `deployment` event or created for the commit) and its statuses, so that
//! the repository's environments page tells what runs in ECS.
//!
//! GitHub is a witness, not a gate: when it is down, slow or refuses the
//! token, ecs-deploy warns and the AWS deployment goes on. Only answers that
//! say the request itself is wrong (202, 409, 422, ...) stop the run, and
//! they come before any AWS work.

mod api;
mod event;
mod request;
pub(crate) mod settings;

pub(crate) use event::Event;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::config::Config;
use crate::env::Env;
use crate::event::{Output, Sink};
use crate::links::encoded;
use api::{with_retries, Api, ApiError, Created};
use request::target;
use request::{
    deployment_request, description, log_url, parse_deployment_event, EventDeployment, State,
};
use settings::DeploymentSettings;

/// The deployment to adopt when the workflow was triggered by a
/// `deployment` event (GITHUB_EVENT_NAME, payload at GITHUB_EVENT_PATH).
fn event_deployment(env: &Env) -> Result<Option<EventDeployment>> {
    if env.get("GITHUB_EVENT_NAME") != Some("deployment") {
        return Ok(None);
    }
    let path = env
        .get("GITHUB_EVENT_PATH")
        .filter(|path| !path.is_empty())
        .context("GITHUB_EVENT_NAME is deployment but GITHUB_EVENT_PATH is not set")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the deployment event {path}"))?;
    parse_deployment_event(&text)
        .with_context(|| format!("failed to read the deployment event {path}"))
        .map(Some)
}

/// The GitHub deployment a run reports to; inert when there is none
/// (no `environment`, a dry run, or GitHub refused or failed the create).
pub(crate) struct Tracker {
    reporting: Option<Reporting>,
}

struct Reporting {
    api: Api,
    deployment: Deployment,
    environment: String,
    environment_url: Option<String>,
    log_url: Option<String>,
    target: String,
    /// The environment's page, for the job summary.
    environment_page: Option<String>,
}

/// Which GitHub deployment the statuses go to.
enum Deployment {
    Known(u64),
    /// A create was sent and its answer not read (the run was cancelled
    /// meanwhile): the deployment, if GitHub made it, is found by the
    /// request id in its payload.
    Requested {
        reference: String,
        request_id: String,
    },
}

impl Reporting {
    /// The deployment's id, looked up once when only its request is known.
    async fn id(&mut self) -> Result<Option<u64>, ApiError> {
        let found = match &self.deployment {
            Deployment::Known(id) => return Ok(Some(*id)),
            Deployment::Requested {
                reference,
                request_id,
            } => {
                self.api
                    .find(reference, &self.environment, request_id)
                    .await?
            }
        };
        if let Some(id) = found {
            self.deployment = Deployment::Known(id);
        }
        Ok(found)
    }
}

impl Tracker {
    /// The URL the success status points to, when `environment-url` gave
    /// none: an Express service's endpoint.
    pub(crate) fn default_environment_url(&mut self, url: &str) {
        if let Some(reporting) = &mut self.reporting {
            reporting
                .environment_url
                .get_or_insert_with(|| url.to_owned());
        }
    }

    /// Adopts or creates the deployment and marks it in progress, kept in
    /// `slot` from the moment the create is sent: a run cancelled before
    /// the answer or the first status still finishes it. Fails only when
    /// GitHub says the request is wrong; GitHub being unreachable or the
    /// token lacking permission is a warning and leaves the slot empty.
    pub(crate) async fn start(
        config: &Config,
        env: &Env,
        sink: &dyn Sink,
        rollback_to: &[String],
        slot: &mut Option<Tracker>,
    ) -> Result<()> {
        let Some(settings) = &config.github else {
            return Ok(());
        };
        if config.dry_run {
            let environment = settings.environment.clone();
            emit(sink, Event::DryRun { environment });
            return Ok(());
        }
        let repository = env
            .get("GITHUB_REPOSITORY")
            .filter(|r| !r.is_empty())
            .context("GITHUB_REPOSITORY is not set: environment needs the repository (owner/name) to report the deployment to")?;
        let api = api(config, env, repository)?;
        let deployment = adopted_or_requested(settings, env, sink)?;
        let server = env.get("GITHUB_SERVER_URL").filter(|s| !s.is_empty());
        let tracker = slot.insert(Tracker {
            reporting: Some(Reporting {
                api,
                deployment,
                environment: settings.environment.clone(),
                environment_url: settings.environment_url.clone(),
                log_url: log_url(env),
                target: target(config),
                environment_page: server.map(|server| {
                    format!(
                        "{}/{repository}/deployments/{}",
                        server.trim_end_matches('/'),
                        encoded(&settings.environment)
                    )
                }),
            }),
        });
        let reporting = tracker.reporting.as_mut().expect("just set");
        let id = match &reporting.deployment {
            Deployment::Known(id) => *id,
            Deployment::Requested {
                reference,
                request_id,
            } => {
                let created = create(
                    &reporting.api,
                    settings,
                    config,
                    sink,
                    reference,
                    request_id,
                    rollback_to,
                )
                .await;
                match created {
                    Ok(Some(id)) => {
                        reporting.deployment = Deployment::Known(id);
                        id
                    }
                    // No deployment (GitHub unusable, said) or an error.
                    not_created => {
                        *slot = None;
                        return not_created.map(|_| ());
                    }
                }
            }
        };
        if let Err(error) = sink.output(Output::GitHubDeploymentId, &id.to_string()) {
            // The run stops here; the deployment must not stay without a state.
            let stopped = Err(error);
            tracker.report(State::Error, &stopped, sink).await;
            *slot = None;
            return stopped;
        }
        tracker.report(State::InProgress, &Ok(()), sink).await;
        Ok(())
    }

    /// Reports the run's result: success, failure (a failed verdict) or error.
    pub(crate) async fn finish(mut self, result: &Result<()>, sink: &dyn Sink) {
        let state = State::of(result);
        let reported = self.report(state, result, sink).await;
        let Some(reporting) = &self.reporting else {
            return;
        };
        let id = match reporting.deployment {
            Deployment::Known(id) => Some(id),
            Deployment::Requested { .. } => None,
        };
        emit(
            sink,
            Event::Finished {
                id,
                environment: reporting.environment.clone(),
                environment_page: reporting.environment_page.clone(),
                state,
                reported,
            },
        );
    }

    /// Leaves the deployment in_progress, as its start reported it: a
    /// later job follows the AWS deployment and reports the verdict.
    pub(crate) fn leave_in_progress(self, sink: &dyn Sink) {
        let Some(reporting) = &self.reporting else {
            return;
        };
        let Deployment::Known(id) = reporting.deployment else {
            return;
        };
        emit(
            sink,
            Event::Finished {
                id: Some(id),
                environment: reporting.environment.clone(),
                environment_page: reporting.environment_page.clone(),
                state: State::InProgress,
                reported: true,
            },
        );
    }

    /// Posts one status; says whether GitHub took it. A missing permission
    /// stops all later reporting, since every later status would fail alike.
    async fn report(&mut self, state: State, result: &Result<()>, sink: &dyn Sink) -> bool {
        let Some(reporting) = &mut self.reporting else {
            return false;
        };
        let environment = reporting.environment.clone();
        let id = match reporting.id().await {
            Ok(Some(id)) => id,
            Ok(None) => {
                emit(sink, Event::RequestedNotFound { environment, state });
                return false;
            }
            Err(error) => {
                let error = error.to_string();
                let lost = Event::RequestedLookupFailed {
                    environment,
                    state,
                    error,
                };
                emit(sink, lost);
                return false;
            }
        };
        let mut status = json!({
            "state": state.as_str(),
            "description": description(state, &reporting.target, result),
        });
        if let Some(log_url) = &reporting.log_url {
            status["log_url"] = log_url.as_str().into();
        }
        if let (State::Success, Some(url)) = (state, &reporting.environment_url) {
            status["environment_url"] = url.as_str().into();
        }
        let posted = with_retries(|| reporting.api.post_status(id, &status)).await;
        match posted {
            Ok(()) => {
                let reported = Event::StatusReported {
                    id,
                    environment,
                    state,
                };
                emit(sink, reported);
                true
            }
            Err(error) if error.is_missing_permission() => {
                emit(sink, Event::StatusForbidden { id });
                self.reporting = None;
                false
            }
            Err(error) => {
                let error = error.to_string();
                emit(sink, Event::StatusNotReported { id, state, error });
                false
            }
        }
    }
}

/// The deployments API of the run's repository, with the run's token.
fn api(config: &Config, env: &Env, repository: &str) -> Result<Api> {
    let token = config
        .github_token
        .as_deref()
        .context("github-token is empty: environment needs a token")?;
    let api_url = env
        .get("GITHUB_API_URL")
        .filter(|url| !url.is_empty())
        .unwrap_or("https://api.github.com");
    Api::new(api_url, repository, token)
}

/// The deployment a `deployment` event names, or one to create for the ref
/// (`ref`, else GITHUB_SHA), found again by its request id if its answer
/// is lost.
fn adopted_or_requested(
    settings: &DeploymentSettings,
    env: &Env,
    sink: &dyn Sink,
) -> Result<Deployment> {
    if let Some(id) = settings.deployment_id {
        emit(sink, Event::AdoptedById { id });
        return Ok(Deployment::Known(id));
    }
    if let Some(event) = event_deployment(env)? {
        let id = event.id;
        if let Some(event_environment) = event.environment.filter(|e| *e != settings.environment) {
            let environment = settings.environment.clone();
            let other = Event::AdoptedForOtherEnvironment {
                id,
                event_environment,
                environment,
            };
            emit(sink, other);
        }
        emit(sink, Event::Adopted { id });
        return Ok(Deployment::Known(id));
    }
    Ok(Deployment::Requested {
        reference: settings
            .reference
            .as_deref()
            .or(env.get("GITHUB_SHA").filter(|sha| !sha.is_empty()))
            .context("ref is empty and GITHUB_SHA is not set: give the ref to deploy")?
            .to_owned(),
        request_id: std::iter::repeat_with(fastrand::alphanumeric)
            .take(20)
            .collect(),
    })
}

fn emit(sink: &dyn Sink, event: Event) {
    sink.emit(crate::event::Event::GitHub(event));
}

/// Creates the deployment of `reference` (`ref`, else GITHUB_SHA). Ok(None): GitHub could
/// not be used (permission, outage), the run goes on unreported.
async fn create(
    api: &Api,
    settings: &DeploymentSettings,
    config: &Config,
    sink: &dyn Sink,
    reference: &str,
    request_id: &str,
    rollback_to: &[String],
) -> Result<Option<u64>> {
    let request = deployment_request(settings, config, reference, request_id, rollback_to);
    let environment = &settings.environment;
    let what = format!("the deployment of {reference} to {environment}");
    match api
        .create_checked(&request, reference, environment, request_id)
        .await
    {
        Ok(Created::Deployment(id)) => Ok(Some(id)),
        Ok(Created::AutoMerged(message)) => bail!(
            "GitHub did not create {what}: it merged the default branch into {reference} instead ({message}). \
             Deploy the merged commit, or give ref a commit SHA."
        ),
        Err(error) if error.is_missing_permission() => {
            emit(sink, Event::CreateForbidden);
            Ok(None)
        }
        Err(ApiError::Answered { status: 409, message }) => bail!(
            "GitHub refused {what} (409 Conflict: {message}): {reference} conflicts with the default branch or its commit status checks failed."
        ),
        Err(ApiError::Answered { status: 422, message }) => bail!(
            "GitHub rejected {what} (422 {message}): check that ref names a branch, tag or commit of the repository and that environment is a valid environment name."
        ),
        Err(error) if error.is_unavailable() => {
            let error = error.to_string();
            emit(sink, Event::CreateUnavailable { error });
            Ok(None)
        }
        Err(error) => bail!("GitHub did not create {what}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::request::truncate;
    use super::*;
    use crate::event::Recorder;
    use crate::outcome::Failed;
    use anyhow::anyhow;
    use ecs_deploy_sim::{Scenario, Sim};

    fn config(inputs: &[(&str, &str)]) -> Config {
        Config::of_env(&Env::from_pairs(inputs.iter().copied())).unwrap()
    }

    /// The simulator's environment with the inputs of a run that reports
    /// to environment staging.
    fn run_env(sim: &Sim, extra: &[(&str, &str)]) -> Env {
        let inputs = [
            ("INPUT_TASK-DEFINITION", "shop"),
            ("INPUT_CLUSTER", "prod"),
            ("INPUT_ENVIRONMENT", "staging"),
            ("INPUT_GITHUB-TOKEN", "ghs_simulator"),
        ];
        let inputs = inputs.iter().chain(extra).map(|(k, v)| (*k, *v));
        Env::from_pairs(
            sim.env()
                .into_iter()
                .chain(inputs.map(|(k, v)| (k.to_owned(), v.to_owned()))),
        )
    }

    /// `Tracker::start` of a run with `env`, its events kept.
    async fn started(env: &Env, recorder: &Recorder) -> Option<Tracker> {
        let mut slot = None;
        Tracker::start(&Config::of_env(env).unwrap(), env, recorder, &[], &mut slot)
            .await
            .unwrap();
        slot
    }

    fn sim(faults: &str) -> Sim {
        Sim::start(Scenario::from_yaml(&format!("clusters: [prod]\n{faults}")).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_created_deployment_goes_in_progress_then_success() {
        let sim = sim("");
        let env = run_env(&sim, &[]);
        let recorder = Recorder::default();
        let slot = started(&env, &recorder).await;
        let tracker = slot.expect("a deployment is tracked");
        tracker.finish(&Ok(()), &recorder).await;
        let id = sim.github_deployments()[0]["id"].as_u64().unwrap();
        let environment = "staging".to_owned();
        assert_eq!(
            recorder.outputs(),
            [(Output::GitHubDeploymentId, id.to_string())]
        );
        assert_eq!(
            recorder.step_events::<Event>(),
            vec![
                Event::StatusReported {
                    id,
                    environment: environment.clone(),
                    state: State::InProgress
                },
                Event::StatusReported {
                    id,
                    environment: environment.clone(),
                    state: State::Success
                },
                Event::Finished {
                    id: Some(id),
                    environment,
                    environment_page: Some(format!(
                        "{}/acme/shop/deployments/staging",
                        env.get("GITHUB_SERVER_URL").unwrap()
                    )),
                    state: State::Success,
                    reported: true,
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_status_refused_for_permission_is_the_last_one_tried() {
        let sim = sim(
            "faults:\n  - {service: github, operation: \"POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses\", kind: accessDenied, always: true}\n",
        );
        let env = run_env(&sim, &[]);
        let recorder = Recorder::default();
        let slot = started(&env, &recorder).await;
        let tracker = slot.expect("the deployment was created");
        tracker.finish(&Ok(()), &recorder).await;
        let id = sim.github_deployments()[0]["id"].as_u64().unwrap();
        assert_eq!(
            recorder.step_events::<Event>(),
            vec![Event::StatusForbidden { id }]
        );
    }

    #[tokio::test]
    async fn without_a_create_nothing_is_tracked() {
        let sim = sim("faults:\n  - {service: github, kind: accessDenied, always: true}\n");
        let env = run_env(&sim, &[]);
        let recorder = Recorder::default();
        let slot = started(&env, &recorder).await;
        assert!(slot.is_none());
        let dry_run = run_env(&sim, &[("INPUT_DRY-RUN", "true")]);
        assert!(started(&dry_run, &recorder).await.is_none());
        assert_eq!(
            recorder.step_events::<Event>(),
            vec![
                Event::CreateForbidden,
                Event::DryRun {
                    environment: "staging".into()
                }
            ]
        );
        assert_eq!(sim.calls().len(), 1, "the dry run called nothing");
    }

    #[test]
    fn the_state_follows_the_outcome() {
        let failed: Result<()> =
            Err(anyhow!(Failed("rolled back".into())).context("deployment of shop-web"));
        assert_eq!(State::of(&Ok(())), State::Success);
        assert_eq!(State::of(&failed), State::Failure);
        assert_eq!(
            State::of(&Err(anyhow!("ServerException: unavailable"))),
            State::Error
        );
    }

    #[test]
    fn descriptions_say_what_happened_within_140_characters() {
        let target = "shop-web on prod";
        let failed: Result<()> = Err(anyhow!(Failed(
            "circuit breaker rolled back to shop:1".into()
        ))
        .context("deployment of shop-web"));
        let errored: Result<()> = Err(anyhow!("AccessDeniedException: {}", "x".repeat(200)));
        assert_eq!(
            description(State::InProgress, target, &Ok(())),
            "Deploying shop-web on prod"
        );
        assert_eq!(
            description(State::Success, target, &Ok(())),
            "Deployed shop-web on prod"
        );
        assert_eq!(
            description(State::Failure, target, &failed),
            "Failed: deployment of shop-web: circuit breaker rolled back to shop:1"
        );
        let long = description(State::Error, target, &errored);
        assert_eq!(long.chars().count(), 140);
        assert!(long.starts_with("ecs-deploy could not finish: AccessDeniedException: xxx"));
        assert!(long.ends_with("x…"));
    }

    #[test]
    fn truncation_counts_characters_and_keeps_one_line() {
        assert_eq!(truncate("a\n  b\tc", 140), "a b c");
        assert_eq!(truncate("ééééé", 5), "ééééé");
        assert_eq!(truncate("ééééé", 4), "ééé…");
        assert_eq!(truncate("ab cd", 4), "ab…");
    }

    #[test]
    fn the_log_url_is_the_run_at_its_attempt() {
        let base = [
            ("GITHUB_SERVER_URL", "https://github.example/"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_RUN_ID", "42"),
        ];
        let with_attempt = Env::from_pairs(base.into_iter().chain([("GITHUB_RUN_ATTEMPT", "2")]));
        assert_eq!(
            log_url(&with_attempt).as_deref(),
            Some("https://github.example/acme/shop/actions/runs/42/attempts/2")
        );
        assert_eq!(
            log_url(&Env::from_pairs(base)).as_deref(),
            Some("https://github.example/acme/shop/actions/runs/42")
        );
        assert_eq!(log_url(&Env::from_pairs(base[..2].iter().copied())), None);
    }

    #[test]
    fn the_request_deploys_exactly_the_ref_and_records_what_is_deployed() {
        let config = config(&[
            ("INPUT_TASK-DEFINITION", "td.json"),
            ("INPUT_IMAGES", "web=shop:2\nworker=shop:2\nproxy=envoy:1"),
            ("INPUT_CLUSTER", "prod"),
            ("INPUT_ENVIRONMENT", "preview-12"),
            ("INPUT_TRANSIENT-ENVIRONMENT", "true"),
            ("INPUT_PRODUCTION-ENVIRONMENT", "False"),
            ("INPUT_GITHUB-TOKEN", "t"),
        ]);
        let settings = config.github.as_ref().unwrap();
        assert_eq!(
            deployment_request(settings, &config, "feature/x", "r1", &[]),
            json!({
                "ref": "feature/x",
                "task": "deploy",
                "auto_merge": false,
                "required_contexts": [],
                "environment": "preview-12",
                "description": "ecs-deploy: the task definition from td.json",
                "payload": {
                    "cluster": "prod",
                    "services": [],
                    "images": ["shop:2", "envoy:1"],
                    "ecs_deploy_request_id": "r1",
                },
                "transient_environment": true,
                "production_environment": false,
            })
        );
    }

    #[test]
    fn a_deployment_event_names_the_deployment_to_adopt() {
        let event = r#"{"action": "created", "deployment": {"id": 7, "environment": "staging", "sha": "abc"}}"#;
        assert_eq!(
            parse_deployment_event(event).unwrap(),
            EventDeployment {
                id: 7,
                environment: Some("staging".into())
            }
        );
        for (text, message) in [
            (r#"{"deployment": {}}"#, "the event has no deployment.id"),
            ("push", "not JSON"),
        ] {
            assert_eq!(
                parse_deployment_event(text).unwrap_err().to_string(),
                message
            );
        }
    }
}
