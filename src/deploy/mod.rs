//! The deploy step: every service moved to its new task definition at the
//! same time, by whoever deploys it: ECS itself (`ecs`), or CodeDeploy for
//! services with the CODE_DEPLOY controller (`codedeploy`). Each way has a
//! start, a watch, a view of what AWS shows and a pure verdict; what they
//! share is here: the options, the services as they were, and the result.

pub mod codedeploy;
pub(crate) mod ecs;
pub(crate) mod express;
pub(crate) mod settings;

use std::time::SystemTime;

use anyhow::{anyhow, Context, Result};
use aws_sdk_ecs::types::{DeploymentRolloutState, Service};
use futures::{future, stream, StreamExt, TryStreamExt};
use serde_json::Value;

use crate::aws::{Aws, LazyAws, CONCURRENT_CALLS};
use crate::cancel::{DeploymentStarted, InFlight};
use crate::config::Config;
use crate::deploy::settings::{DeployOptions, Follow, Started as FollowedDeployment};
use crate::event::Sink;
use crate::template;

/// A service as it is before the deployment, with the definition it runs.
pub(crate) struct Current {
    pub(crate) service: Service,
    pub(crate) task_definition_arn: String,
    pub(crate) task_definition: Value,
}

/// What one service's deployment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeployResult {
    Succeeded,
    /// `wait-for-service-stability: false`: accepted, not watched.
    Started,
    /// CodeDeploy waits for traffic rerouting, as asked
    /// (`codedeploy-wait-until: ready`).
    Ready,
    Failed(String),
    /// Left under way where `wait-until` said, for a later job to follow.
    HandedOff(Handoff),
    /// The service already runs the revision and `force-new-deployment` is
    /// false: nothing to deploy.
    AlreadyRunning,
    /// ecs-deploy could not start or follow the deployment (an AWS API
    /// error), as opposed to a deployment that ran and failed.
    Error(String),
}

/// Where a native strategy's deployment was when the step stopped
/// following it (`wait-until`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handoff {
    /// What a later job follows (`service-deployment`).
    pub(crate) service_deployment_arn: Option<String>,
    /// The lifecycle stage it was in.
    pub(crate) stage: Option<String>,
    /// The PAUSE lifecycle hook that awaits action, if one does.
    pub(crate) paused_hook: Option<String>,
}

/// What was started for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Started {
    /// No deployment: the service already runs the revision, or the update
    /// or create call failed.
    Nothing,
    Ecs {
        deployment_id: String,
        service_deployment_arn: Option<String>,
        /// Stopped tasks of the deployment, grouped by reason.
        stopped_tasks: Vec<ecs::StoppedTasks>,
    },
    CodeDeploy {
        deployment_id: String,
    },
}

impl From<DeploymentStarted> for Started {
    fn from(started: DeploymentStarted) -> Started {
        match started {
            DeploymentStarted::Ecs {
                deployment_id,
                service_deployment_arn,
            } => Started::Ecs {
                deployment_id,
                service_deployment_arn,
                stopped_tasks: Vec::new(),
            },
            DeploymentStarted::CodeDeploy { deployment_id } => {
                Started::CodeDeploy { deployment_id }
            }
        }
    }
}

/// One service after the deploy step.
#[derive(Debug, Clone)]
pub(crate) struct Deployed {
    /// The service's place in the `service` input: results are matched to
    /// services by it, never by name (the input may give an ARN).
    pub(crate) index: usize,
    pub(crate) service: String,
    pub(crate) started: Started,
    pub(crate) result: DeployResult,
    /// What the deployment went through as ECS or CodeDeploy showed it,
    /// in order, each until the next one or `ended`.
    pub(crate) phases: Vec<Phase>,
    /// When the verdict came (or the deployment could not be started).
    pub(crate) ended: SystemTime,
}

/// A stretch of a deployment, from `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Phase {
    pub(crate) name: String,
    pub(crate) since: SystemTime,
    pub(crate) failed: bool,
}

impl Phase {
    pub(crate) fn new(name: &str) -> Phase {
        Phase {
            name: name.to_owned(),
            since: SystemTime::now(),
            failed: false,
        }
    }

    pub(crate) fn failed(name: &str) -> Phase {
        Phase {
            failed: true,
            ..Phase::new(name)
        }
    }
}

impl Deployed {
    fn already_running(index: usize, service: &str) -> Deployed {
        Deployed {
            index,
            service: service.to_owned(),
            started: Started::Nothing,
            result: DeployResult::AlreadyRunning,
            phases: Vec::new(),
            ended: SystemTime::now(),
        }
    }

    fn not_started(index: usize, service: &str, error: &anyhow::Error) -> Deployed {
        Deployed {
            index,
            service: service.to_owned(),
            started: Started::Nothing,
            result: DeployResult::Error(format!("{error:#}")),
            phases: Vec::new(),
            ended: SystemTime::now(),
        }
    }

    /// Each phase with when it ended: when the next began, or the verdict
    /// for the last; a failure that ends the deployment is the verdict's
    /// moment itself, however long the verdict took to be written.
    pub(crate) fn phase_ends(&self) -> impl Iterator<Item = (&Phase, SystemTime)> {
        let nexts = self.phases.iter().skip(1).map(|next| Some(next.since));
        self.phases
            .iter()
            .zip(nexts.chain([None]))
            .map(|(phase, next)| {
                let end = match next {
                    Some(next) => next,
                    None if phase.failed => phase.since,
                    None => self.ended,
                };
                (phase, end.max(phase.since))
            })
    }

    /// The ECS or CodeDeploy deployment id, when one was started.
    pub(crate) fn deployment_id(&self) -> Option<&str> {
        match &self.started {
            Started::Nothing => None,
            Started::Ecs { deployment_id, .. } | Started::CodeDeploy { deployment_id } => {
                Some(deployment_id)
            }
        }
    }
}

/// Whether moving `current` to revision `arn` starts a deployment. A
/// revision the service already runs, settled, with nothing else to change,
/// starts none unless one is forced. Anything else goes through the update,
/// which follows a deployment of that revision still under way.
pub(crate) fn starts_deployment(options: &DeployOptions, current: &Current, arn: &str) -> bool {
    !(options.service_settings_given().is_empty()
        && current.task_definition_arn == arn
        && settled(&current.service))
}

/// One deployment, completed: nothing under way that could still roll back.
fn settled(service: &Service) -> bool {
    match service.deployments() {
        [only] => only.rollout_state() == Some(&DeploymentRolloutState::Completed),
        _ => false,
    }
}

/// An ECS Express Mode service: ECS manages its resources, and it is
/// deployed with UpdateExpressGatewayService.
pub(crate) fn is_express(service: &Service) -> bool {
    service
        .resource_management_type()
        .is_some_and(|t| t.as_str() == "ECS")
}

pub(crate) fn is_codedeploy(service: &Service) -> bool {
    service
        .deployment_controller()
        .is_some_and(|c| c.r#type().as_str() == "CODE_DEPLOY")
}

/// Checks a service before anything changes: it must be ACTIVE and deployed
/// by ECS or CodeDeploy.
fn check_deployable(service: &Service, cluster: &str) -> Result<()> {
    let name = service.service_name().unwrap_or("?");
    match service.status() {
        Some("ACTIVE") => {}
        Some(status) => {
            return Err(anyhow!(
                "service {name} in cluster {cluster} is {status}; only an ACTIVE service can be deployed (recreate it or pick another)"
            ))
        }
        None => return Err(anyhow!("service {name} in cluster {cluster} has no status")),
    }
    let controller = service
        .deployment_controller()
        .map(|c| c.r#type().as_str())
        .unwrap_or("ECS");
    match controller {
        "ECS" | "CODE_DEPLOY" => Ok(()),
        other => Err(anyhow!(
            "service {name} has the {other} deployment controller: its deployments are made by another tool, not by UpdateService"
        )),
    }
}

/// The services as they are, each checked to be deployable, with the
/// definitions they run (read concurrently).
pub(crate) async fn describe_current(aws: &LazyAws, config: &Config) -> Result<Vec<Current>> {
    if config.services.is_empty() {
        return Ok(Vec::new());
    }
    let ecs = &aws.get().await?.ecs;
    let services =
        crate::aws::ecs::describe_services_or_fail(ecs, &config.cluster, &config.services).await?;
    for service in &services {
        check_deployable(service, &config.cluster)?;
        ecs::check_stop_point(&config.deploy, service)?;
    }
    stream::iter(services)
        .map(|service| async move {
            let name = service.service_name().unwrap_or_default().to_owned();
            let arn = service
                .task_definition()
                .with_context(|| format!("service {name} has no task definition"))?
                .to_owned();
            let definition = template::unwrap_described(
                crate::aws::ecs::describe_task_definition(ecs, &arn)
                    .await
                    .with_context(|| {
                        format!("failed to read the task definition service {name} runs")
                    })?,
            );
            Ok(Current {
                service,
                task_definition_arn: arn,
                task_definition: definition,
            })
        })
        .buffered(CONCURRENT_CALLS)
        .try_collect()
        .await
}

/// A deployment started before this step (`service-deployment`,
/// `codedeploy-deployment-id`), found and checked: nothing changed yet.
pub(crate) enum Attached {
    /// Boxed: the watch's state of one deployment is large.
    Ecs(Box<ecs::Attached>),
    CodeDeploy(codedeploy::Attached),
}

impl Attached {
    /// The task definitions the deployment moves the service from and
    /// to, where they are known.
    pub(crate) fn revisions(&self) -> Option<(&str, &str)> {
        match self {
            Attached::Ecs(attached) => Some(attached.revisions()),
            Attached::CodeDeploy(_) => None,
        }
    }
}

/// Finds the deployment `follow` names for `current`'s service, and checks
/// it, reading only.
pub(crate) async fn attach(
    aws: &Aws,
    config: &Config,
    current: &Current,
    follow: &Follow,
) -> Result<Attached> {
    let hook_action = follow.hook_action;
    Ok(match &follow.deployment {
        FollowedDeployment::Ecs(arn) => Attached::Ecs(Box::new(
            ecs::attach(
                aws,
                &config.cluster,
                current,
                (arn.as_deref(), hook_action),
                &config.deploy,
            )
            .await?,
        )),
        FollowedDeployment::CodeDeploy(id) => Attached::CodeDeploy(
            codedeploy::attach(&aws.codedeploy, config, &current.service, (id, hook_action))
                .await?,
        ),
    })
}

/// Acts as `hook-action` asks, then follows the attached deployment to
/// its verdict as if this step had started it.
pub(crate) async fn follow(
    aws: &Aws,
    config: &Config,
    attached: Attached,
    sink: &dyn Sink,
    in_flight: &InFlight<'_>,
) -> Result<Vec<Deployed>> {
    match attached {
        Attached::Ecs(attached) => {
            ecs::follow(
                aws,
                &config.cluster,
                *attached,
                &config.deploy,
                sink,
                in_flight,
            )
            .await
        }
        Attached::CodeDeploy(attached) => {
            let deployed =
                codedeploy::follow(&aws.codedeploy, attached, config, sink, in_flight).await?;
            Ok(vec![deployed])
        }
    }
}

/// A service (by its index into `current`) and the revision it moves to.
pub(crate) struct Destination<'a> {
    pub(crate) index: usize,
    pub(crate) arn: String,
    /// The revision's content: where its containers write their output.
    pub(crate) definition: &'a Value,
}

/// Moves every service to its destination. ECS services go through one
/// poll loop and each CODE_DEPLOY service through CodeDeploy, all at the
/// same time: the step takes as long as the slowest service, not the sum.
/// A service that could not be deployed is reported with the others rather
/// than abandoning them.
pub(crate) async fn deploy_all(
    aws: &LazyAws,
    config: &Config,
    current: &[Current],
    destinations: Vec<Destination<'_>>,
    plan: &codedeploy::Plan,
    sink: &dyn Sink,
    in_flight: &InFlight<'_>,
) -> Result<Vec<Deployed>> {
    let clients = aws.get().await?;
    let (already_running, destinations): (Vec<_>, Vec<_>) = destinations
        .into_iter()
        .partition(|d| !starts_deployment(&config.deploy, &current[d.index], &d.arn));
    let (via_codedeploy, via_ecs): (Vec<_>, Vec<_>) = destinations
        .into_iter()
        .partition(|d| is_codedeploy(&current[d.index].service));
    let ecs_targets: Vec<ecs::Target> = via_ecs
        .iter()
        .map(|d| ecs::Target::new(d.index, &current[d.index].service, &d.arn, d.definition))
        .collect();
    let ecs_deployments = async {
        if ecs_targets.is_empty() {
            return Ok(Vec::new());
        }
        ecs::deploy(
            clients,
            &config.cluster,
            &ecs_targets,
            &config.deploy,
            sink,
            in_flight,
        )
        .await
    };
    let codedeploy_deployments = future::join_all(via_codedeploy.into_iter().map(|destination| {
        deploy_with_codedeploy(clients, config, current, destination, plan, sink, in_flight)
    }));
    let (ecs_deployed, codedeploy_deployed) = tokio::join!(ecs_deployments, codedeploy_deployments);
    let mut deployed = ecs_deployed?;
    deployed.extend(codedeploy_deployed);
    deployed.extend(
        already_running
            .into_iter()
            .map(|Destination { index, .. }| {
                let service = current[index].service.service_name().unwrap_or_default();
                Deployed::already_running(index, service)
            }),
    );
    // Report in the input's order.
    deployed.sort_by_key(|d| d.index);
    Ok(deployed)
}

/// One CODE_DEPLOY service moved to its destination through CodeDeploy.
async fn deploy_with_codedeploy(
    clients: &Aws,
    config: &Config,
    current: &[Current],
    Destination { index, arn, .. }: Destination<'_>,
    plan: &codedeploy::Plan,
    sink: &dyn Sink,
    in_flight: &InFlight<'_>,
) -> Deployed {
    let service = current[index].service.service_name().unwrap_or_default();
    codedeploy::deploy(
        &clients.codedeploy,
        &current[index].service,
        &arn,
        plan,
        &config.codedeploy,
        &config.deploy,
        sink,
        in_flight,
    )
    .await
    .map_or_else(
        |e| Deployed::not_started(index, service, &e),
        |(deployment_id, result, phases)| Deployed {
            index,
            service: service.to_owned(),
            started: Started::CodeDeploy { deployment_id },
            result,
            phases,
            ended: SystemTime::now(),
        },
    )
}

/// The URL of each Express service in `current` (by its index), from
/// DescribeExpressGatewayService: where its newest configuration is served.
pub(crate) async fn express_endpoints(
    aws: &LazyAws,
    current: &[Current],
) -> Result<Vec<(usize, String)>> {
    let ecs = &aws.get().await?.ecs;
    let mut endpoints = Vec::new();
    for (i, service) in current
        .iter()
        .enumerate()
        .filter(|(_, c)| is_express(&c.service))
    {
        let arn = service.service.service_arn().unwrap_or_default();
        let endpoint = crate::aws::ecs::express_gateway_endpoint(ecs, arn)
            .await
            .map_err(|e| anyhow!("failed to read the endpoint of Express service {arn}: {e}"))?;
        endpoints.extend(endpoint.map(|endpoint| (i, endpoint)));
    }
    Ok(endpoints)
}
