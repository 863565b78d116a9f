//! The migration step: the one-off ECS task that runs `migration-command`
//! after registration and before any deployment. Starts it with RunTask
//! (idempotent through its clientToken), follows it with DescribeTasks while
//! streaming its CloudWatch logs, stops it with StopTask on timeout or
//! cancellation, and judges it. The decisions are pure functions in `plan`
//! and `verdict`; this module is the AWS edge around them.

mod event;
pub(crate) mod plan;
pub(crate) mod settings;
pub(crate) mod verdict;

pub(crate) use event::{Event, StartedTask};

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::types::{ContainerOverride, KeyValuePair, Service, Task};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::arn::resource_name;
use crate::aws::ecs::{self, OneOffTask};
use crate::aws::logs::{log_source, LogTail};
use crate::aws::{Aws, LazyAws, POLL_INTERVAL};
use crate::cancel::{Change, InFlight};
use crate::config::Config;
use crate::event::{Output, Sink};
use crate::links;
use crate::outcome::Failed;
use crate::poll::Schedule;
use crate::render::{self, family};
use crate::template;
use crate::template::TemplateSource;
use plan::{placement, Placement};
use settings::MigrationConfig;
use verdict::{verdict, Verdict};

/// How long a task stopped on timeout may take to reach STOPPED (ECS gives
/// containers their stopTimeout, 30 s by default, after SIGTERM).
const STOP_WAIT: Duration = Duration::from_secs(120);

/// The task definition the migration runs.
pub(crate) enum Definition<'a> {
    /// The one just registered for the service.
    Deployed { arn: &'a str, json: &'a Value },
    /// `migration-task-definition`, rendered by `check`, to be registered.
    Separate(Value),
}

/// Runs the migration to its end; a migration that did not succeed is an
/// error holding `outcome::Failed`, so nothing is deployed after it.
pub(crate) async fn run(
    aws: &LazyAws,
    config: &Config,
    migration: &MigrationConfig,
    sink: &dyn Sink,
    definition: Definition<'_>,
    service: Option<&Service>,
    in_flight: &InFlight<'_>,
) -> Result<()> {
    let clients = aws.get().await?;
    let (arn, definition) = match definition {
        Definition::Separate(rendered) => register_separate_template(aws, sink, rendered).await?,
        Definition::Deployed { arn, json } => (arn.to_owned(), json.clone()),
    };
    let (container, placement) = task_plan(config, migration, &definition, service)?;
    if migration.overrides.launch_type.is_some()
        && !migration.overrides.capacity_provider_strategy.is_empty()
    {
        sink.emit(Event::LaunchTypeIgnored.into());
    }
    let task = OneOffTask {
        cluster: &config.cluster,
        task_definition: &arn,
        started_by: &migration.started_by,
        client_token: client_token(migration, &config.cluster, &definition),
        container_override: container_override(migration, &container),
        placement: &placement,
        raw_fields: raw_fields(migration),
    };
    let task_arn = start(clients, in_flight, sink, task).await?;
    let started = StartedTask {
        task_arn: task_arn.clone(),
        command: migration.command.clone(),
        container: container.clone(),
    };
    if !migration.wait {
        sink.emit(Event::NotWaiting(started).into());
        return Ok(());
    }
    in_flight.migration_task_started(&config.cluster, &task_arn);

    let link = links::task(&config.cluster, &task_arn);
    let tail = log_tail(sink, clients, &definition, &container, &task_arn, &link);
    let mut watch = FollowedTask {
        ecs: &clients.ecs,
        cluster: &config.cluster,
        task_arn: &task_arn,
        link: &link,
        sink,
        tail,
    };
    sink.emit(Event::Started(started).into());
    let ending = watch.follow(migration.timeout).await?;
    let essential = plan::essential_containers(&definition);
    watch
        .settle(ending, migration.timeout, |task| {
            verdict(task, &container, &essential)
        })
        .await
}

/// Starts the task, recorded in `in_flight` while RunTask is under way, and
/// writes its outputs; returns its ARN. A task whose outputs cannot be
/// written is stopped: nothing may run on that nobody follows.
async fn start(
    clients: &Aws,
    in_flight: &InFlight<'_>,
    sink: &dyn Sink,
    task: OneOffTask<'_>,
) -> Result<String> {
    let call = in_flight.calling(Change::RunTask {
        cluster: task.cluster.to_owned(),
        task_definition: task.task_definition.to_owned(),
        started_by: task.started_by.to_owned(),
    });
    let started = ecs::run_task(&clients.ecs, &task).await;
    in_flight.answered(call);
    let task_arn = started?;
    let outputs = sink
        .output(Output::MigrationTaskArn, &task_arn)
        .and_then(|()| sink.output(Output::RunTaskArn, &json!([task_arn]).to_string()));
    let Err(error) = outputs else {
        return Ok(task_arn);
    };
    let stopped = ecs::stop_task(
        &clients.ecs,
        task.cluster,
        &task_arn,
        "the step outputs could not be written",
    )
    .await;
    let state = match stopped {
        Ok(()) => "it was stopped with StopTask".to_owned(),
        Err(e) => format!("it could not be stopped ({e}): stop it in the console"),
    };
    Err(error.context(format!(
        "task {task_arn} had started and nothing was deployed; {state}"
    )))
}

/// Checks, before anything is registered, that the one-off task can run
/// where `service` runs, from `deployed` (the definition being deployed) or
/// its own `migration-task-definition`; returns the latter rendered, so
/// that it is read once.
pub(crate) async fn check(
    aws: &LazyAws,
    config: &Config,
    migration: &MigrationConfig,
    deployed: &Value,
    service: Option<&Service>,
) -> Result<Option<Value>> {
    let separate = match &migration.template {
        Some(source) => Some(render_separate_template(aws, config, source).await?),
        None => None,
    };
    task_plan(
        config,
        migration,
        separate.as_ref().unwrap_or(deployed),
        service,
    )?;
    Ok(separate)
}

/// The decisive container and where the task runs.
fn task_plan(
    config: &Config,
    migration: &MigrationConfig,
    definition: &Value,
    service: Option<&Service>,
) -> Result<(String, Placement)> {
    let container = plan::decisive_container(
        definition,
        migration.container.as_deref(),
        plan::first_overridden(migration.container_overrides.as_ref()),
        &config.render.container_names,
    )?;
    plan::check_volumes(definition, migration.volume_configurations.as_ref())?;
    let mut placement = placement(service, &migration.overrides);
    if let Some(enable) = config.deploy.enable_ecs_managed_tags {
        placement.enable_ecs_managed_tags = enable;
    }
    if definition["networkMode"] != "awsvpc" {
        // ECS rejects a network configuration for any other network mode.
        placement.network = None;
    } else if placement.network.is_none() {
        bail!(
            "task definition {} uses networkMode awsvpc, so the migration task needs subnets: give run-task-subnets and run-task-security-groups, or a service to copy them from",
            family(definition)
        );
    }
    Ok((container, placement))
}

/// A tail of the decisive container's awslogs stream, or a notice saying
/// why there is none and where the output can be seen instead.
fn log_tail(
    sink: &dyn Sink,
    clients: &Aws,
    definition: &Value,
    container: &str,
    task_arn: &str,
    link: &str,
) -> Option<LogTail> {
    match log_source(definition, container) {
        Ok(source) => Some(LogTail::new(
            aws_sdk_cloudwatchlogs::Client::new(&clients.config_in(source.region.as_deref())),
            &source.group,
            &source.stream(resource_name(task_arn)),
        )),
        Err(why) => {
            sink.emit(
                Event::LogsUnavailable {
                    why: why.to_string(),
                    link: link.to_owned(),
                }
                .into(),
            );
            None
        }
    }
}

/// Loads and renders (with the same images and settings) the
/// `migration-task-definition` template.
async fn render_separate_template(
    aws: &LazyAws,
    config: &Config,
    source: &TemplateSource,
) -> Result<Value> {
    let template = template::load(source, aws).await.with_context(|| {
        format!("failed to load the migration task definition template {source}")
    })?;
    render::render(template, &config.render)
        .with_context(|| format!("failed to render the migration task definition {source}"))
}

/// The `migration-task-definition` template, rendered and registered.
async fn register_separate_template(
    aws: &LazyAws,
    sink: &dyn Sink,
    rendered: Value,
) -> Result<(String, Value)> {
    let registered = ecs::register_task_definition(&aws.get().await?.ecs, &rendered).await?;
    sink.emit(
        Event::SeparateRegistered {
            arn: registered.arn.clone(),
        }
        .into(),
    );
    Ok((registered.arn, rendered))
}

/// What the dry run would have run.
pub(crate) fn show_plan(
    sink: &dyn Sink,
    config: &Config,
    migration: &MigrationConfig,
    rendered: &Value,
) {
    sink.emit(
        Event::DryRunWouldRun {
            command: migration.command.clone(),
            template: migration.template.as_ref().map(ToString::to_string),
            family: family(rendered).to_owned(),
            cluster: config.cluster.clone(),
        }
        .into(),
    );
}

/// The migration container's command and environment.
fn container_override(migration: &MigrationConfig, container: &str) -> ContainerOverride {
    let environment: Vec<KeyValuePair> = migration
        .environment
        .iter()
        .map(|(name, value)| KeyValuePair::builder().name(name).value(value).build())
        .collect();
    ContainerOverride::builder()
        .name(container)
        .set_command(migration.command.clone())
        .set_environment((!environment.is_empty()).then_some(environment))
        .build()
}

/// What run-task-* gives as JSON, which goes to ECS as given.
fn raw_fields(migration: &MigrationConfig) -> Vec<(&'static str, Value)> {
    let mut fields = Vec::new();
    if let Some(overrides) = &migration.container_overrides {
        fields.push((
            "overrides",
            plan::task_overrides(overrides, &migration.environment),
        ));
    }
    if let Some(tags) = &migration.tags {
        fields.push(("tags", tags.clone()));
    }
    if let Some(volumes) = &migration.volume_configurations {
        fields.push(("volumeConfigurations", volumes.clone()));
    }
    fields
}

/// RunTask's clientToken: the step's own in Actions; outside Actions each
/// process draws its own, which still covers the SDK's own retries.
fn client_token(migration: &MigrationConfig, cluster: &str, definition: &Value) -> String {
    match &migration.step {
        Some(step) => plan::client_token(step, cluster, family(definition)),
        None => {
            let random: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(40)
                .collect();
            format!("{}{random}", plan::CLIENT_TOKEN_PREFIX)
        }
    }
}

enum Ending {
    Stopped(Box<Task>),
    TimedOut,
}

/// One started migration task being followed.
struct FollowedTask<'a> {
    ecs: &'a aws_sdk_ecs::Client,
    cluster: &'a str,
    task_arn: &'a str,
    link: &'a str,
    sink: &'a dyn Sink,
    /// None when the container's logs cannot be read.
    tail: Option<LogTail>,
}

impl FollowedTask<'_> {
    /// Polls until the task stops or the timeout passes. Cancellation is the
    /// pipeline's: it stops the task recorded in `InFlight`.
    async fn follow(&mut self, timeout: Duration) -> Result<Ending> {
        let _group = Folded::open(
            self.sink,
            Event::FollowBegan {
                task_id: resource_name(self.task_arn).to_owned(),
            },
        );
        let began = Instant::now();
        let deadline = began + timeout;
        let mut schedule = Schedule::new(None);
        let mut last_status = String::new();
        loop {
            // RunTask has just answered with the task PROVISIONING: the
            // first look comes one quiet interval later.
            let outlook = verdict::outlook(&last_status);
            tokio::select! {
                () = tokio::time::sleep(schedule.wait(began.elapsed(), outlook)) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(Ending::TimedOut),
            }
            let task = self.describe().await?;
            schedule.polled(began.elapsed(), 1);
            let status = task.last_status().unwrap_or("UNKNOWN");
            if status != last_status {
                last_status = status.to_owned();
                self.sink.emit(
                    Event::Status {
                        status: last_status.clone(),
                    }
                    .into(),
                );
            }
            // After DescribeTasks: a STOPPED task's lines are all written.
            self.drain_logs().await;
            if status == "STOPPED" {
                return Ok(Ending::Stopped(Box::new(task)));
            }
        }
    }

    /// Judges a stopped task; stops the task first on timeout or cancellation.
    async fn settle(
        &mut self,
        ending: Ending,
        timeout: Duration,
        judge: impl Fn(&Task) -> Verdict,
    ) -> Result<()> {
        match ending {
            Ending::Stopped(task) => self.conclude(judge(&task), None),
            Ending::TimedOut => {
                let reason = format!(
                    "the migration did not finish within {}",
                    shown_duration(timeout)
                );
                self.stop(&reason).await?;
                let judged = match self.wait_stopped(STOP_WAIT).await? {
                    Some(task) => judge(&task),
                    None => Verdict {
                        exit_code: None,
                        failure: None,
                        details: vec![format!(
                            "the task had not stopped {} after StopTask",
                            shown_duration(STOP_WAIT)
                        )],
                    },
                };
                self.conclude(
                    judged,
                    Some(format!(
                        "{reason}: ecs-deploy stopped the task with StopTask"
                    )),
                )
            }
        }
    }

    /// The task once STOPPED, or None if it is still stopping after `limit`.
    async fn wait_stopped(&mut self, limit: Duration) -> Result<Option<Task>> {
        let _group = Folded::open(self.sink, Event::StopWaitBegan);
        let deadline = Instant::now() + limit;
        loop {
            let task = self.describe().await?;
            self.drain_logs().await;
            if task.last_status() == Some("STOPPED") {
                return Ok(Some(task));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn describe(&self) -> Result<Task> {
        let id = resource_name(self.task_arn);
        let (tasks, failures) =
            ecs::describe_tasks(self.ecs, self.cluster, &[self.task_arn.to_owned()])
                .await
                .map_err(|e| {
                    anyhow!(
                        "failed to follow migration task {id}: {e}; the task was left running: {}",
                        self.link
                    )
                })?;
        if let Some(failure) = failures.first() {
            bail!(
                "ECS cannot describe migration task {id}: {}",
                failure.reason().unwrap_or("no reason given")
            );
        }
        tasks
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("DescribeTasks answered without migration task {id}"))
    }

    /// Passes new log lines on as they are read. A stream that cannot be read
    /// is not read again, as the verdict does not depend on it.
    async fn drain_logs(&mut self) {
        let Some(tail) = &mut self.tail else {
            return;
        };
        let sink = self.sink;
        let drained = tail
            .drain(|lines| {
                sink.emit(
                    Event::LogLines {
                        lines: lines.to_vec(),
                    }
                    .into(),
                )
            })
            .await;
        if let Err(error) = drained {
            sink.emit(
                Event::LogsLost {
                    error: format!("{error:#}"),
                    link: self.link.to_owned(),
                }
                .into(),
            );
            self.tail = None;
        }
    }

    async fn stop(&self, reason: &str) -> Result<()> {
        let id = resource_name(self.task_arn);
        ecs::stop_task(self.ecs, self.cluster, self.task_arn, reason)
            .await
            .map_err(|e| {
                anyhow!(
                    "{reason}, and stopping migration task {id} failed: {e} (allow ecs:StopTask to the role, and stop the task in the console: {})",
                    self.link
                )
            })?;
        self.sink.emit(
            Event::StoppedOnTimeout {
                reason: reason.to_owned(),
                task_id: id.to_owned(),
            }
            .into(),
        );
        Ok(())
    }

    /// Writes the exit code output and turns a failure into `Failed` with
    /// everything a person needs: why, each container, the last log lines
    /// and the task's console page.
    fn conclude(&self, judged: Verdict, stopped: Option<String>) -> Result<()> {
        let id = resource_name(self.task_arn);
        if let Some(code) = judged.exit_code {
            self.sink
                .output(Output::MigrationExitCode, &code.to_string())
                .with_context(|| {
                    format!("migration task {id} had stopped with exit code {code}; nothing was deployed")
                })?;
        }
        let headline = stopped.or(judged.failure);
        self.sink.emit(
            Event::Concluded {
                task_id: id.to_owned(),
                link: self.link.to_owned(),
                failure: headline.clone(),
            }
            .into(),
        );
        let Some(headline) = headline else {
            return Ok(());
        };
        let mut message = format!("migration failed: {headline}");
        for line in &judged.details {
            message.push_str(&format!("\n{line}"));
        }
        let recent: Vec<&str> = self.tail.iter().flat_map(LogTail::recent).collect();
        if !recent.is_empty() {
            message.push_str("\nlast log lines:");
            for line in recent {
                message.push_str(&format!("\n  {line}"));
            }
        }
        message.push_str(&format!(
            "\ntask: {}\nThe service was not updated.",
            self.link
        ));
        Err(Failed(message).into())
    }
}

/// A collapsed group in the step log, closed on every way out (errors
/// included), so that the final annotation is not folded away in it.
struct Folded<'a>(&'a dyn Sink);

impl<'a> Folded<'a> {
    fn open(sink: &'a dyn Sink, opening: Event) -> Folded<'a> {
        sink.emit(opening.into());
        Folded(sink)
    }
}

impl Drop for Folded<'_> {
    fn drop(&mut self) {
        self.0.emit(Event::FoldEnded.into());
    }
}

fn shown_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let count = |n: u64, unit: &str| match n {
        1 => format!("1 {unit}"),
        n => format!("{n} {unit}s"),
    };
    match (seconds / 60, seconds % 60) {
        (0, seconds) => count(seconds, "second"),
        (minutes, 0) => count(minutes, "minute"),
        (minutes, seconds) => format!("{} {}", count(minutes, "minute"), count(seconds, "second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::event::Recorder;
    use ecs_deploy_sim::{Scenario, Sim};

    /// shop:1 logs to CloudWatch; `TASK` stands for what its one-off task does.
    const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - name: web
        image: "shop:1"
        logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/shop, awslogs-stream-prefix: ecs}}
logGroups: [/ecs/shop]
timelines:
  tasks:
    - {family: shop, TASK}
"#;

    /// What a migration of shop:1 emitted, wrote and ended with.
    struct Migrated {
        result: Result<()>,
        events: Vec<Event>,
        outputs: Vec<(Output, String)>,
    }

    impl Migrated {
        fn task_arn(&self) -> &str {
            &self.outputs[0].1
        }

        fn task_id(&self) -> String {
            resource_name(self.task_arn()).to_owned()
        }
    }

    async fn migrate(task: &str, timeout: Option<Duration>) -> Migrated {
        let sim =
            Sim::start(Scenario::from_yaml(&SCENARIO.replace("TASK", task)).unwrap()).unwrap();
        let aws = LazyAws::loaded_with(Aws::of_sim(&sim).await);
        let config = Config::of_env(&Env::from_pairs([
            ("INPUT_TASK-DEFINITION", "shop"),
            ("INPUT_CLUSTER", "prod"),
            ("INPUT_MIGRATION-COMMAND", "bin/rails db:migrate"),
        ]))
        .unwrap();
        let mut migration = config.migration.clone().unwrap();
        migration.timeout = timeout.unwrap_or(migration.timeout);
        let clients = aws.get().await.unwrap();
        let json = ecs::describe_task_definition(&clients.ecs, "shop:1")
            .await
            .unwrap()["taskDefinition"]
            .clone();
        let arn = json["taskDefinitionArn"].as_str().unwrap().to_owned();
        let recorder = Recorder::default();
        let in_flight = InFlight::watched(|_, _| {});
        let definition = Definition::Deployed {
            arn: &arn,
            json: &json,
        };
        let result = run(
            &aws, &config, &migration, &recorder, definition, None, &in_flight,
        )
        .await;
        Migrated {
            result,
            events: recorder.step_events(),
            outputs: recorder.outputs(),
        }
    }

    #[tokio::test]
    async fn a_migration_that_exits_0_succeeds_with_its_logs_and_outputs() {
        let migrated = migrate(
            "seconds: 0.5, exitCode: 0, logs: ['42 migrations applied']",
            None,
        )
        .await;
        migrated.result.as_ref().unwrap();
        let (arn, id) = (migrated.task_arn().to_owned(), migrated.task_id());
        assert_eq!(
            migrated.outputs,
            [
                (Output::MigrationTaskArn, arn.clone()),
                (Output::RunTaskArn, format!("[\"{arn}\"]")),
                (Output::MigrationExitCode, "0".into()),
            ]
        );
        assert_eq!(
            migrated.events,
            [
                Event::Started(StartedTask {
                    task_arn: arn.clone(),
                    command: Some(vec!["bin/rails".into(), "db:migrate".into()]),
                    container: "web".into(),
                }),
                Event::FollowBegan {
                    task_id: id.clone()
                },
                Event::Status {
                    status: "STOPPED".into()
                },
                Event::LogLines {
                    lines: vec!["42 migrations applied".into()]
                },
                Event::FoldEnded,
                Event::Concluded {
                    task_id: id.clone(),
                    link: links::task("prod", &arn),
                    failure: None,
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_migration_fails_the_run_with_its_last_log_lines() {
        let migrated = migrate(
            "seconds: 0.5, exitCode: 3, logs: ['relation users does not exist']",
            None,
        )
        .await;
        let message = format!("{:#}", migrated.result.as_ref().unwrap_err());
        assert!(migrated.result.as_ref().unwrap_err().is::<Failed>());
        assert!(
            message.contains("last log lines:\n  relation users does not exist"),
            "{message}"
        );
        assert_eq!(migrated.outputs[2], (Output::MigrationExitCode, "3".into()));
        let Some(Event::Concluded {
            failure: Some(headline),
            ..
        }) = migrated.events.last()
        else {
            panic!("no failed verdict: {:?}", migrated.events);
        };
        assert!(
            message.starts_with(&format!("migration failed: {headline}")),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_migration_past_its_timeout_is_stopped_and_fails() {
        let migrated = migrate("seconds: 600, exitCode: 0", Some(Duration::from_secs(1))).await;
        assert!(migrated.result.as_ref().unwrap_err().is::<Failed>());
        let id = migrated.task_id();
        let reason = "the migration did not finish within 1 second";
        assert!(migrated.events.contains(&Event::StoppedOnTimeout {
            reason: reason.into(),
            task_id: id.clone(),
        }));
        assert!(migrated.events.contains(&Event::StopWaitBegan));
        assert_eq!(
            migrated.events.last(),
            Some(&Event::Concluded {
                task_id: id,
                link: links::task("prod", migrated.task_arn()),
                failure: Some(format!(
                    "{reason}: ecs-deploy stopped the task with StopTask"
                )),
            })
        );
    }
}
