//! Cancellation. The runner sends SIGINT, then SIGTERM 7.5 s later, then
//! kills; the binary is PID 1 in its container, so without handlers of its
//! own the signals would be ignored. Steps record here what they started
//! that is still running; on a signal the pipeline stops what can be
//! stopped safely and says what was left in which state.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_codedeploy::types::DeploymentStatus;
use futures::future::join_all;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::aws::{codedeploy, ecs, Aws};

/// From the signal to the exit: the stops, then the GitHub status. The
/// runner follows its SIGINT with SIGTERM 7.5 s later.
pub(crate) const CANCEL_DEADLINE: Duration = Duration::from_secs(5);
/// Long enough to find what a call under way did; then StopTask or
/// StopDeployment (or the read and StopServiceDeployment of an ECS
/// rollback) have `STOP_DEADLINE`; what is left of `CANCEL_DEADLINE`
/// after both is the GitHub status's.
const LOOKUP_DEADLINE: Duration = Duration::from_millis(1500);
const STOP_DEADLINE: Duration = Duration::from_millis(2000);

/// What is running in AWS on our behalf right now, told as it starts to
/// whoever watches (the step outputs are written as soon as an id is known).
#[derive(Default)]
pub(crate) struct InFlight<'a> {
    running: Mutex<Running>,
    watcher: Option<Watcher<'a>>,
}

/// A call that changes something, as much as is needed to find its effect.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Register {
        family: String,
    },
    UpdateService {
        cluster: String,
        service: String,
        task_definition: String,
    },
    RunTask {
        cluster: String,
        task_definition: String,
        started_by: String,
    },
    CreateDeployment {
        application: String,
        group: String,
    },
}

/// A deployment started for a service, told to the watcher as soon as its id
/// is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DeploymentStarted {
    Ecs {
        deployment_id: String,
        service_deployment_arn: Option<String>,
    },
    CodeDeploy {
        deployment_id: String,
    },
}

#[derive(Debug, Clone)]
struct EcsDeployment {
    service: String,
    id: String,
    service_deployment_arn: Option<String>,
}

/// Told the service and what was started for it.
type Watcher<'a> = Box<dyn Fn(&str, DeploymentStarted) + Send + Sync + 'a>;

#[derive(Debug, Default, Clone)]
struct Running {
    /// Calls that change something and have not answered yet, by number:
    /// on a signal their effect is looked up, since it may have happened.
    under_way: Vec<(u64, Change)>,
    next_call: u64,
    /// (cluster, task ARN) of the migration task: stopped with StopTask.
    migration_tasks: Vec<(String, String)>,
    /// ECS deployments: left to ECS and its circuit breaker, or rolled
    /// back by their service deployment (`on-cancel: rollback`).
    ecs_deployments: Vec<EcsDeployment>,
    /// CodeDeploy deployment ids: stopped with rollback.
    codedeploy_deployments: Vec<String>,
}

impl<'a> InFlight<'a> {
    pub(crate) fn watched(
        watcher: impl Fn(&str, DeploymentStarted) + Send + Sync + 'a,
    ) -> InFlight<'a> {
        InFlight {
            running: Mutex::default(),
            watcher: Some(Box::new(watcher)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Running) -> T) -> T {
        f(&mut self.running.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn tell(&self, service: &str, started: DeploymentStarted) {
        if let Some(watcher) = &self.watcher {
            watcher(service, started);
        }
    }

    /// Records a call that changes something before it is sent; `answered`
    /// clears it. A run cancelled in between finds what it did.
    pub(crate) fn calling(&self, change: Change) -> u64 {
        self.with(|r| {
            r.next_call += 1;
            r.under_way.push((r.next_call, change));
            r.next_call
        })
    }

    pub(crate) fn answered(&self, call: u64) {
        self.with(|r| r.under_way.retain(|(number, _)| *number != call));
    }

    pub(crate) fn ecs_deployment_started(
        &self,
        service: &str,
        id: &str,
        service_deployment_arn: Option<&str>,
    ) {
        self.with(|r| {
            r.ecs_deployments.push(EcsDeployment {
                service: service.to_owned(),
                id: id.to_owned(),
                service_deployment_arn: service_deployment_arn.map(str::to_owned),
            })
        });
        self.tell(
            service,
            DeploymentStarted::Ecs {
                deployment_id: id.to_owned(),
                service_deployment_arn: service_deployment_arn.map(str::to_owned),
            },
        );
    }

    pub(crate) fn migration_task_started(&self, cluster: &str, task_arn: &str) {
        self.with(|r| {
            r.migration_tasks
                .push((cluster.to_owned(), task_arn.to_owned()))
        });
    }

    pub(crate) fn codedeploy_deployment_started(&self, service: &str, id: &str) {
        self.with(|r| r.codedeploy_deployments.push(id.to_owned()));
        self.tell(
            service,
            DeploymentStarted::CodeDeploy {
                deployment_id: id.to_owned(),
            },
        );
    }

    /// Every deployment reached its verdict: nothing is left to stop or to
    /// leave to ECS.
    pub(crate) fn deployments_judged(&self) {
        self.with(|r| {
            r.ecs_deployments.clear();
            r.codedeploy_deployments.clear();
        });
    }

    /// Stops what can be stopped safely, all at once, and returns one line
    /// per thing, saying what state it was left in. CodeDeploy deployments
    /// stop with `rollback`; ECS deployments are rolled back only with
    /// `roll_back_ecs` (`on-cancel: rollback`), else left to ECS.
    pub(crate) async fn stop_all(
        &self,
        aws: Option<&Aws>,
        rollback: bool,
        roll_back_ecs: bool,
    ) -> Vec<String> {
        let mut report = match aws {
            Some(aws) => self.find_effects(aws).await,
            None => Vec::new(),
        };
        let running = self.with(|r| r.clone());
        let tasks = running.migration_tasks.iter().map(|(cluster, arn)| async move {
            let Some(aws) = aws else {
                return format!("migration task {arn} was left running");
            };
            let stop = ecs::stop_task(&aws.ecs, cluster, arn, "the workflow was cancelled");
            match tokio::time::timeout(STOP_DEADLINE, stop).await {
                Ok(Ok(())) => format!("migration task {arn} was stopped with StopTask; nothing was deployed"),
                Ok(Err(e)) => format!("migration task {arn} could not be stopped ({e}); stop it in the console"),
                Err(_) => format!("migration task {arn} did not confirm the stop in time; check it in the console"),
            }
        });
        let codedeploy = running.codedeploy_deployments.iter().map(|id| async move {
            let Some(aws) = aws else {
                return format!("CodeDeploy deployment {id} was left running");
            };
            let stop = codedeploy::stop_deployment(&aws.codedeploy, id, rollback);
            match tokio::time::timeout(STOP_DEADLINE, stop).await {
                Ok(Ok(())) => format!("CodeDeploy deployment {id} was {}", codedeploy::stopped(rollback)),
                Ok(Err(e)) => format!("CodeDeploy deployment {id} could not be stopped ({e}); stop it in the console"),
                Err(_) => format!("CodeDeploy deployment {id} did not confirm the stop in time; check it in the console"),
            }
        });
        let ecs = running
            .ecs_deployments
            .iter()
            .map(|deployment| leave_or_roll_back(aws, deployment, roll_back_ecs));
        let (tasks, ecs, codedeploy) =
            tokio::join!(join_all(tasks), join_all(ecs), join_all(codedeploy));
        report.extend(tasks);
        report.extend(ecs);
        report.extend(codedeploy);
        report
    }
}

/// An ECS deployment under way at a signal: rolled back with
/// StopServiceDeployment when asked, its service deployment is known and,
/// read just before, still in progress (another service's may have
/// succeeded already); else left to ECS. Says which.
async fn leave_or_roll_back(
    aws: Option<&Aws>,
    deployment: &EcsDeployment,
    roll_back: bool,
) -> String {
    let EcsDeployment {
        service,
        id,
        service_deployment_arn,
    } = deployment;
    let left = format!(
        "ECS deployment {id} of service {service} is left to ECS: it goes on, and its circuit breaker (if enabled) rolls it back on failure"
    );
    let (Some(aws), Some(arn), true) = (aws, service_deployment_arn, roll_back) else {
        return left;
    };
    // The read and the stop share the stop's time.
    let read_then_stop = async {
        let records = ecs::describe_service_deployments(&aws.ecs, std::slice::from_ref(arn))
            .await
            .map_err(|e| crate::aws::error_text(&e))?;
        let status = records.first().and_then(|r| r.status()).map(|s| s.as_str());
        match status {
            Some("PENDING" | "IN_PROGRESS") => {
                ecs::roll_back_service_deployment(&aws.ecs, arn).await?;
                Ok::<_, String>(None)
            }
            ended => Ok(Some(ended.unwrap_or("not found").to_owned())),
        }
    };
    match tokio::time::timeout(STOP_DEADLINE, read_then_stop).await {
        Ok(Ok(None)) => format!("ECS deployment {id} of service {service} is rolling back (StopServiceDeployment ROLLBACK of {arn})"),
        Ok(Ok(Some(ended))) => format!("ECS deployment {id} of service {service} had ended ({ended}); nothing to roll back"),
        Ok(Err(e)) => format!("ECS deployment {id} of service {service} could not be rolled back ({e}); {left}"),
        Err(_) => format!("ECS deployment {id} of service {service} did not confirm the rollback in time; check service deployment {arn} in the console"),
    }
}

impl InFlight<'_> {
    /// Looks up what each call under way did, and records it as started
    /// (to be stopped or reported like the rest); says what it found for
    /// those that did nothing or cannot be known.
    async fn find_effects(&self, aws: &Aws) -> Vec<String> {
        let under_way = self.with(|r| std::mem::take(&mut r.under_way));
        let lookups = under_way.into_iter().map(|(_, change)| async move {
            let found = tokio::time::timeout(LOOKUP_DEADLINE, find_effect(aws, &change)).await;
            (change, found)
        });
        let mut report = Vec::new();
        for (change, found) in join_all(lookups).await {
            match found {
                Ok(Some(Effect::EcsDeployment { service, id })) => {
                    self.with(|r| {
                        r.ecs_deployments.push(EcsDeployment {
                            service,
                            id,
                            service_deployment_arn: None,
                        })
                    });
                }
                Ok(Some(Effect::Tasks { cluster, arns })) => {
                    self.with(|r| {
                        r.migration_tasks
                            .extend(arns.into_iter().map(|arn| (cluster.clone(), arn)))
                    });
                }
                Ok(Some(Effect::CodeDeploy(ids))) => {
                    self.with(|r| r.codedeploy_deployments.extend(ids));
                }
                Ok(None) => report.push(change.without_effect()),
                Err(_) => report.push(format!(
                    "{} was under way and its effect could not be checked in time; check it in the console",
                    change.what()
                )),
            }
        }
        report
    }
}

/// What a call under way turned out to have done.
enum Effect {
    EcsDeployment { service: String, id: String },
    Tasks { cluster: String, arns: Vec<String> },
    CodeDeploy(Vec<String>),
}

impl Change {
    fn what(&self) -> String {
        match self {
            Change::Register { family } => format!("RegisterTaskDefinition of {family}"),
            Change::UpdateService { service, .. } => format!("UpdateService of {service}"),
            Change::RunTask {
                task_definition, ..
            } => format!("RunTask of {task_definition}"),
            Change::CreateDeployment { group, .. } => format!("CreateDeployment in {group}"),
        }
    }

    /// What a person is told when no effect of the call was found; a
    /// register's effect is not looked up (an unused revision is harmless).
    fn without_effect(&self) -> String {
        match self {
            Change::Register { family } => format!(
                "RegisterTaskDefinition of {family} was under way: a new revision of it may exist, unused; nothing was deployed"
            ),
            _ => format!("{} was under way and had no effect", self.what()),
        }
    }
}

/// The deployment, tasks or CodeDeploy deployment a call created, if any.
async fn find_effect(aws: &Aws, change: &Change) -> Option<Effect> {
    match change {
        Change::Register { .. } => None,
        Change::UpdateService {
            cluster,
            service,
            task_definition,
        } => {
            let described =
                ecs::describe_services(&aws.ecs, cluster, std::slice::from_ref(service))
                    .await
                    .ok()?;
            let primary = described.services.first()?.deployments().iter().find(|d| {
                d.status() == Some("PRIMARY") && d.task_definition() == Some(task_definition)
            })?;
            Some(Effect::EcsDeployment {
                service: service.clone(),
                id: primary.id()?.to_owned(),
            })
        }
        Change::RunTask {
            cluster,
            task_definition,
            started_by,
        } => {
            let listed = ecs::list_tasks(
                &aws.ecs,
                cluster,
                Some(started_by),
                aws_sdk_ecs::types::DesiredStatus::Running,
                usize::MAX,
            )
            .await
            .ok()?;
            if listed.is_empty() {
                return None;
            }
            let (described, _) = ecs::describe_tasks(&aws.ecs, cluster, &listed).await.ok()?;
            let ours: Vec<String> = described
                .iter()
                .filter(|t| t.task_definition_arn() == Some(task_definition))
                .filter(|t| t.last_status() != Some("STOPPED"))
                .filter_map(|t| t.task_arn().map(str::to_owned))
                .collect();
            (!ours.is_empty()).then(|| Effect::Tasks {
                cluster: cluster.clone(),
                arns: ours,
            })
        }
        Change::CreateDeployment { application, group } => {
            let of = codedeploy::DeploymentsOf {
                application,
                group,
                statuses: &["Created", "Queued", "InProgress", "Baking", "Ready"]
                    .map(DeploymentStatus::from),
                created_since: None,
                limit: usize::MAX,
            };
            let ids = codedeploy::list_deployments(&aws.codedeploy, &of)
                .await
                .ok()?;
            (!ids.is_empty()).then_some(Effect::CodeDeploy(ids))
        }
    }
}

/// SIGINT and SIGTERM handlers, installed as the run starts; a signal that
/// arrives before `received` is awaited is kept, not lost.
pub(crate) struct Signals {
    interrupt: Option<Signal>,
    terminate: Option<Signal>,
}

impl Signals {
    pub(crate) fn install() -> Signals {
        Signals {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves on the first SIGINT or SIGTERM.
    pub(crate) async fn received(&mut self) -> &'static str {
        async fn next(handler: &mut Option<Signal>) {
            match handler {
                Some(handler) => {
                    handler.recv().await;
                }
                // No handler could be installed: wait on the other one.
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.interrupt) => "SIGINT",
            _ = next(&mut self.terminate) => "SIGTERM",
        }
    }
}
