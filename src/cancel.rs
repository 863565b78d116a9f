//! Cancellation. The runner sends SIGINT, then SIGTERM 7.5 s later, then
//! kills; the binary is PID 1 in its container, so without handlers of its
//! own the signals would be ignored. Steps record here what they started
//! that is still running; on a signal the pipeline stops what can be
//! stopped safely and says what was left in which state.

use std::sync::Mutex;
use std::time::Duration;

use futures::future::join_all;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::aws::{error_text, Aws};
use crate::deploy::Started;

/// From the signal to the exit: the stops, then the GitHub status. The
/// runner follows its SIGINT with SIGTERM 7.5 s later.
pub(crate) const CANCEL_DEADLINE: Duration = Duration::from_secs(5);
/// Long enough for StopTask or StopDeployment; what is left of
/// `CANCEL_DEADLINE` after it is the GitHub status's.
const STOP_DEADLINE: Duration = Duration::from_secs(3);

/// What is running in AWS on our behalf right now, told as it starts to
/// whoever watches (the step outputs are written as soon as an id is known).
#[derive(Default)]
pub(crate) struct InFlight<'a> {
    running: Mutex<Running>,
    watcher: Option<Watcher<'a>>,
}

/// Told the service and what was started for it.
type Watcher<'a> = Box<dyn Fn(&str, Started) + Send + Sync + 'a>;

#[derive(Debug, Default, Clone)]
struct Running {
    /// (cluster, task ARN) of the migration task: stopped with StopTask.
    migration_tasks: Vec<(String, String)>,
    /// (service, ECS deployment id): left to ECS and its circuit breaker.
    ecs_deployments: Vec<(String, String)>,
    /// CodeDeploy deployment ids: stopped with rollback.
    codedeploy_deployments: Vec<String>,
}

impl<'a> InFlight<'a> {
    pub(crate) fn watched(watcher: impl Fn(&str, Started) + Send + Sync + 'a) -> InFlight<'a> {
        InFlight {
            running: Mutex::default(),
            watcher: Some(Box::new(watcher)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Running) -> T) -> T {
        f(&mut self.running.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn tell(&self, service: &str, started: Started) {
        if let Some(watcher) = &self.watcher {
            watcher(service, started);
        }
    }

    pub(crate) fn ecs_deployment_started(
        &self,
        service: &str,
        id: &str,
        service_deployment_arn: Option<&str>,
    ) {
        self.with(|r| r.ecs_deployments.push((service.to_owned(), id.to_owned())));
        self.tell(
            service,
            Started::Ecs {
                deployment_id: id.to_owned(),
                service_deployment_arn: service_deployment_arn.map(str::to_owned),
                stopped_tasks: Vec::new(),
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
            Started::CodeDeploy {
                deployment_id: id.to_owned(),
            },
        );
    }

    /// Stops what can be stopped safely, all at once, and returns one line
    /// per thing, saying what state it was left in.
    pub(crate) async fn stop_all(&self, aws: Option<&Aws>, rollback: bool) -> Vec<String> {
        let running = self.with(|r| r.clone());
        let tasks = running.migration_tasks.iter().map(|(cluster, arn)| async move {
            let Some(aws) = aws else {
                return format!("migration task {arn} was left running");
            };
            let stop = aws
                .ecs
                .stop_task()
                .cluster(cluster)
                .task(arn)
                .reason("ecs-deploy: the workflow was cancelled")
                .send();
            match tokio::time::timeout(STOP_DEADLINE, stop).await {
                Ok(Ok(_)) => format!("migration task {arn} was stopped with StopTask; nothing was deployed"),
                Ok(Err(e)) => format!("migration task {arn} could not be stopped ({}); stop it in the console", error_text(&e)),
                Err(_) => format!("migration task {arn} did not confirm the stop in time; check it in the console"),
            }
        });
        let codedeploy = running.codedeploy_deployments.iter().map(|id| async move {
            let Some(aws) = aws else {
                return format!("CodeDeploy deployment {id} was left running");
            };
            let stop = aws
                .codedeploy
                .stop_deployment()
                .deployment_id(id)
                .auto_rollback_enabled(rollback)
                .send();
            match tokio::time::timeout(STOP_DEADLINE, stop).await {
                Ok(Ok(_)) if rollback => format!("CodeDeploy deployment {id} was stopped with rollback"),
                Ok(Ok(_)) => format!("CodeDeploy deployment {id} was stopped without rollback (rollback-on-failure is false)"),
                Ok(Err(e)) => format!("CodeDeploy deployment {id} could not be stopped ({}); stop it in the console", error_text(&e)),
                Err(_) => format!("CodeDeploy deployment {id} did not confirm the stop in time; check it in the console"),
            }
        });
        let (mut report, codedeploy) = tokio::join!(join_all(tasks), join_all(codedeploy));
        report.extend(running.ecs_deployments.iter().map(|(service, id)| format!(
            "ECS deployment {id} of service {service} is left to ECS: it goes on, and its circuit breaker (if enabled) rolls it back on failure"
        )));
        report.extend(codedeploy);
        report
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
