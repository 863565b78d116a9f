//! Where each deployment's time went (`breakdown`, pure), measured after
//! the verdicts from what AWS reports: the new tasks' timestamps
//! (ListTasks, DescribeTasks), the services' events (DescribeServices),
//! and for the advice the target groups' health checks and deregistration
//! delay (ELBv2) and the images' sizes (ECR, once the tasks name them).
//! Every read comes after the verdict, so none slows it; one that fails
//! leaves out what it would have given, with one notice.

pub(crate) mod breakdown;
mod event;

pub(crate) use event::{Event, Read};

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aws_sdk_ecs::types::{DeploymentStrategy, DesiredStatus, Service, Task};
use futures::{future, stream, StreamExt};
use serde_json::Value;

use crate::arn::resource_name;
use crate::aws::{ecr, ecs, elbv2, explain, Aws, CONCURRENT_CALLS};
use crate::deploy::{Current, DeployResult, Deployed, Started};
use crate::event::Sink;
use crate::preflight::references::ecr_image;
use breakdown::{Advice, Part, Rollout, ServiceMoments, Settings, TargetGroup, TaskMoments};

/// At most this many of a deployment's new tasks are read.
const TASKS_READ: usize = 100;

/// One service's deployment, from its start to its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breakdown {
    pub(crate) service: String,
    pub(crate) started: SystemTime,
    pub(crate) ended: SystemTime,
    /// What its new tasks and the load balancer took (ECS services).
    pub(crate) parts: Vec<Part>,
    /// The stages its watcher saw, each (name, from, to): a strategy's
    /// bake and hooks, CodeDeploy's lifecycle events.
    pub(crate) stages: Vec<(String, SystemTime, SystemTime)>,
    pub(crate) advice: Vec<Advice>,
}

impl Breakdown {
    /// From the update to the verdict.
    pub(crate) fn total(&self) -> Duration {
        self.ended.duration_since(self.started).unwrap_or_default()
    }
}

/// The options of the breakdown.
pub(crate) struct Options {
    /// `advice`: read the settings and say which cost the most.
    pub(crate) advice: bool,
    /// `timings`: where the JSON goes.
    pub(crate) file: Option<PathBuf>,
}

/// Each successful deployment's breakdown, told through `sink`;
/// `definitions`: what each service (by index) was deployed with.
pub(crate) async fn measure(
    aws: &Aws,
    cluster: &str,
    current: &[Current],
    deployed: &[Deployed],
    definitions: &[Option<&Value>],
    options: &Options,
    sink: &dyn Sink,
) {
    let measured: Vec<&Deployed> = deployed
        .iter()
        .filter(|d| d.result == DeployResult::Succeeded && !d.phases.is_empty())
        .collect();
    if measured.is_empty() {
        return;
    }
    let ecs_ids: Vec<(&Deployed, &str)> = measured
        .iter()
        .filter_map(|d| match &d.started {
            Started::Ecs { deployment_id, .. } if !deployment_id.is_empty() => {
                Some((*d, deployment_id.as_str()))
            }
            _ => None,
        })
        .collect();
    let target_group_arns: BTreeSet<String> = ecs_ids
        .iter()
        .flat_map(|(d, _)| current[d.index].service.load_balancers())
        .filter_map(|lb| lb.target_group_arn().map(str::to_owned))
        .collect();
    let (tasks, services, target_groups) = future::join3(
        new_tasks(aws, cluster, &ecs_ids),
        services_after(aws, cluster, &ecs_ids),
        read_target_groups(aws, options.advice, &target_group_arns),
    )
    .await;
    let unread = |what, reason| sink.emit(Event::Unread { what, reason }.into());
    let tasks = tasks.unwrap_or_else(|reason| {
        unread(Read::Tasks, reason);
        vec![Vec::new(); ecs_ids.len()]
    });
    let services = services.unwrap_or_else(|reason| {
        unread(Read::Events, reason);
        Vec::new()
    });
    let target_groups = target_groups.unwrap_or_else(|reason| {
        unread(Read::TargetGroups, reason);
        Vec::new()
    });
    let (image_sizes, sizes_unread) = match options.advice {
        true => image_sizes(aws, tasks.iter().flatten()).await,
        false => (Vec::new(), None),
    };
    if let Some(reason) = sizes_unread {
        unread(Read::ImageSizes, reason);
    }
    let read = Readings {
        tasks,
        services,
        target_groups,
        image_sizes,
    };
    let breakdowns = measured
        .iter()
        .map(|d| {
            let at = ecs_ids.iter().position(|(e, _)| e.index == d.index);
            let definition = definitions.get(d.index).copied().flatten();
            read.breakdown(d, at, &current[d.index].service, definition, options.advice)
        })
        .collect();
    sink.emit(
        Event::Measured {
            breakdowns,
            file: options.file.clone(),
        }
        .into(),
    );
}

/// What was read, for every measured deployment.
struct Readings {
    /// Each ECS deployment's new tasks, in the order of its deployments.
    tasks: Vec<Vec<TaskMoments>>,
    services: Vec<Service>,
    target_groups: Vec<(String, TargetGroup)>,
    image_sizes: Vec<(String, u64)>,
}

impl Readings {
    /// The breakdown of `deployed`, the `at`th ECS deployment (None for
    /// CodeDeploy's), of a service that was `before`, deployed with
    /// `definition`.
    fn breakdown(
        &self,
        deployed: &Deployed,
        at: Option<usize>,
        before: &Service,
        definition: Option<&Value>,
        advice: bool,
    ) -> Breakdown {
        let service = at.and_then(|_| {
            self.services
                .iter()
                .find(|s| s.service_name() == Some(deployed.service.as_str()))
        });
        let settings = Settings {
            target_groups: groups_of(before, &self.target_groups),
            image_sizes: self.image_sizes.clone(),
            rollout: service.and_then(rollout),
            container_check: definition.and_then(breakdown::container_check),
        };
        let tasks = at.map_or(&[][..], |i| &self.tasks[i]);
        breakdown_of(deployed, tasks, service, &settings, advice)
    }
}

/// One deployment's breakdown from what was read.
fn breakdown_of(
    deployed: &Deployed,
    tasks: &[TaskMoments],
    service: Option<&Service>,
    settings: &Settings,
    advice: bool,
) -> Breakdown {
    let started = deployed.phases[0].since;
    let ended = deployed.ended;
    // A rolling deployment's events time its health checks and drain; a
    // native strategy drains only after its traffic shifts and bake, which
    // its stages show.
    let moments = match (service, deployed.deployment_id()) {
        (Some(service), Some(id)) if settings.rollout.is_some() => breakdown::service_moments(
            &events(service),
            created(service, id).unwrap_or(started),
            id,
        ),
        _ => ServiceMoments::default(),
    };
    let mut measured = Breakdown {
        service: deployed.service.clone(),
        started,
        ended,
        parts: breakdown::parts(started, ended, tasks, &moments),
        stages: deployed
            .phase_ends()
            .map(|(phase, end)| (phase.name.clone(), phase.since, end))
            .collect(),
        advice: Vec::new(),
    };
    if advice {
        measured.advice = breakdown::advice(
            measured.total(),
            &measured.parts,
            tasks,
            moments.drains,
            settings,
        );
    }
    measured
}

/// Each ECS deployment's running tasks (at most `TASKS_READ`), in the order
/// of `deployments`.
async fn new_tasks(
    aws: &Aws,
    cluster: &str,
    deployments: &[(&Deployed, &str)],
) -> Result<Vec<Vec<TaskMoments>>, String> {
    stream::iter(deployments)
        .map(|(_, id)| async move {
            let arns = ecs::list_tasks(
                &aws.ecs,
                cluster,
                Some(id),
                DesiredStatus::Running,
                TASKS_READ,
            )
            .await?;
            if arns.is_empty() {
                return Ok(Vec::new());
            }
            let (tasks, _) = ecs::describe_tasks(&aws.ecs, cluster, &arns).await?;
            Ok(tasks.iter().map(task_moments).collect())
        })
        .buffered(CONCURRENT_CALLS)
        .collect::<Vec<Result<_, String>>>()
        .await
        .into_iter()
        .collect()
}

fn task_moments(task: &Task) -> TaskMoments {
    let at = |time: Option<&aws_smithy_types::DateTime>| {
        time.and_then(|t| SystemTime::try_from(*t).ok())
    };
    TaskMoments {
        created: at(task.created_at()),
        pull_started: at(task.pull_started_at()),
        pull_stopped: at(task.pull_stopped_at()),
        started: at(task.started_at()),
        images: task
            .containers()
            .iter()
            .filter_map(|c| c.image().map(str::to_owned))
            .collect(),
    }
}

/// The deployed services as they are now, for their events and rollout.
async fn services_after(
    aws: &Aws,
    cluster: &str,
    deployments: &[(&Deployed, &str)],
) -> Result<Vec<Service>, String> {
    if deployments.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = deployments.iter().map(|(d, _)| d.service.clone()).collect();
    ecs::describe_services(&aws.ecs, cluster, &names)
        .await
        .map(|described| described.services)
        .map_err(|e| explain("ecs:DescribeServices", &e))
}

/// When ECS created deployment `id` of `service`: its events may come
/// before the watch began.
fn created(service: &Service, id: &str) -> Option<SystemTime> {
    let deployment = service.deployments().iter().find(|d| d.id() == Some(id))?;
    SystemTime::try_from(*deployment.created_at()?).ok()
}

/// The service's events, newest first, with their moments.
fn events(service: &Service) -> Vec<(SystemTime, String)> {
    service
        .events()
        .iter()
        .filter_map(|e| {
            let at = SystemTime::try_from(*e.created_at()?).ok()?;
            Some((at, e.message()?.to_owned()))
        })
        .collect()
}

/// A rolling service's rollout settings, with ECS's defaults for what the
/// service leaves out; None for the other strategies, which start every
/// new task at once.
fn rollout(service: &Service) -> Option<Rollout> {
    let configuration = service.deployment_configuration();
    let strategy = configuration.and_then(|c| c.strategy());
    if strategy.is_some_and(|s| *s != DeploymentStrategy::Rolling)
        || crate::deploy::is_express(service)
    {
        return None;
    }
    let percent =
        |value: Option<i32>, default| value.and_then(|v| u32::try_from(v).ok()).unwrap_or(default);
    Some(Rollout {
        desired: u32::try_from(service.desired_count()).unwrap_or(0),
        minimum_healthy_percent: percent(
            configuration.and_then(|c| c.minimum_healthy_percent()),
            100,
        ),
        maximum_percent: percent(configuration.and_then(|c| c.maximum_percent()), 200),
    })
}

/// The target groups (with their ARNs) the services register with, when
/// the advice is asked for.
async fn read_target_groups(
    aws: &Aws,
    advice: bool,
    arns: &BTreeSet<String>,
) -> Result<Vec<(String, TargetGroup)>, String> {
    if !advice || arns.is_empty() {
        return Ok(Vec::new());
    }
    let arns: Vec<String> = arns.iter().cloned().collect();
    let described = elbv2::target_groups(aws, &arns).await?;
    Ok(described
        .into_iter()
        .map(|(group, attributes)| {
            let attribute = |key: &str| {
                attributes
                    .iter()
                    .find(|(k, _)| k == key)
                    .and_then(|(_, v)| v.parse().ok())
            };
            let number = |value: Option<i32>| value.and_then(|v| u32::try_from(v).ok());
            let arn = group.target_group_arn().unwrap_or_default().to_owned();
            (
                arn.clone(),
                TargetGroup {
                    name: group
                        .target_group_name()
                        .map_or_else(|| resource_name(&arn).to_owned(), str::to_owned),
                    deregistration_delay: attribute("deregistration_delay.timeout_seconds"),
                    interval: number(group.health_check_interval_seconds()).unwrap_or(30),
                    healthy_threshold: number(group.healthy_threshold_count()).unwrap_or(5),
                },
            )
        })
        .collect())
}

/// The target groups `service` registers with, of those read.
fn groups_of(service: &Service, read: &[(String, TargetGroup)]) -> Vec<TargetGroup> {
    service
        .load_balancers()
        .iter()
        .filter_map(|lb| {
            let arn = lb.target_group_arn()?;
            read.iter().find(|(a, _)| a == arn).map(|(_, g)| g.clone())
        })
        .collect()
}

/// The size of each ECR image the new tasks run (others have none to read),
/// and why one could not be read: a refused image leaves the others'.
async fn image_sizes(
    aws: &Aws,
    tasks: impl Iterator<Item = &TaskMoments>,
) -> (Vec<(String, u64)>, Option<String>) {
    let images: BTreeSet<&String> = tasks.flat_map(|t| &t.images).collect();
    let sizes = future::join_all(images.into_iter().filter_map(|uri| {
        let image = ecr_image(uri)?;
        Some(async move {
            Ok::<_, String>(
                ecr::image_size(aws, &image)
                    .await?
                    .map(|b| (uri.clone(), b)),
            )
        })
    }))
    .await;
    let (mut read, mut unread) = (Vec::new(), None);
    for size in sizes {
        match size {
            Ok(Some(size)) => read.push(size),
            Ok(None) => {}
            Err(reason) => {
                unread.get_or_insert(reason);
            }
        }
    }
    (read, unread)
}
