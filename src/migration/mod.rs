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

pub(crate) use event::Event;

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::types::{
    ContainerOverride, KeyValuePair, NetworkConfiguration, Service, Task, TaskOverride,
};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::arn::resource_name;
use crate::aws::ecs;
use crate::aws::logs::{log_source, LogTail};
use crate::aws::raw::set_body_fields;
use crate::aws::{explain, Aws, LazyAws, POLL_INTERVAL};
use crate::cancel::{Change, InFlight};
use crate::config::Config;
use crate::links;
use crate::outcome::Failed;
use crate::present::runner::Runner;
use crate::present::summary::text;
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
    runner: &Runner,
    definition: Definition<'_>,
    service: Option<&Service>,
    in_flight: &InFlight<'_>,
) -> Result<()> {
    let clients = aws.get().await?;
    let (arn, definition) = match definition {
        Definition::Separate(rendered) => register_separate_template(aws, runner, rendered).await?,
        Definition::Deployed { arn, json } => (arn.to_owned(), json.clone()),
    };
    let (container, placement) = task_plan(config, migration, &definition, service)?;
    if migration.overrides.launch_type.is_some()
        && !migration.overrides.capacity_provider_strategy.is_empty()
    {
        runner.warning(
            "run-task-launch-type is ignored: run-task-capacity-provider-strategy places the task",
        );
    }
    let call = in_flight.calling(Change::RunTask {
        cluster: config.cluster.clone(),
        task_definition: arn.clone(),
        started_by: migration.started_by.clone(),
    });
    let started = start(
        &clients.ecs,
        &config.cluster,
        migration,
        &arn,
        &definition,
        &container,
        &placement,
    )
    .await;
    in_flight.answered(call);
    let task_arn = started?;
    let outputs = runner
        .set_output("migration-task-arn", &task_arn)
        .and_then(|()| runner.set_output("run-task-arn", &json!([task_arn]).to_string()));
    if let Err(error) = outputs {
        // Nothing may run on that nobody follows.
        let stopped = ecs::stop_task(
            &clients.ecs,
            &config.cluster,
            &task_arn,
            "the step outputs could not be written",
        )
        .await;
        let state = match stopped {
            Ok(()) => "it was stopped with StopTask".to_owned(),
            Err(e) => format!("it could not be stopped ({e}): stop it in the console"),
        };
        return Err(error.context(format!(
            "task {task_arn} had started and nothing was deployed; {state}"
        )));
    }
    let shown = shown_command(migration.command.as_deref());
    if !migration.wait {
        runner.notice(&format!(
            "Started task {task_arn} ({shown} in container {container}); not waiting for it (wait-for-task-stopped is false), so its result does not hold back the deployment"
        ));
        return Ok(());
    }
    in_flight.migration_task_started(&config.cluster, &task_arn);

    let link = links::task(&config.cluster, &task_arn);
    let tail = log_tail(runner, clients, &definition, &container, &task_arn, &link);
    let mut watch = FollowedTask {
        ecs: &clients.ecs,
        cluster: &config.cluster,
        task_arn: &task_arn,
        link: &link,
        runner,
        tail,
    };
    runner.info(&format!(
        "Started migration task {task_arn}: {shown} in container {container}"
    ));
    let ending = watch.follow(migration.timeout).await?;
    let essential = plan::essential_containers(&definition);
    watch
        .settle(ending, migration.timeout, |task| {
            verdict(task, &container, &essential)
        })
        .await
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
    runner: &Runner,
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
            runner.notice(&format!(
                "The migration's output is not shown here: {why}. See the task in the console: {link}"
            ));
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
    runner: &Runner,
    rendered: Value,
) -> Result<(String, Value)> {
    let registered = ecs::register_task_definition(&aws.get().await?.ecs, &rendered).await?;
    runner.info(&format!(
        "Registered migration task definition {}",
        registered.arn
    ));
    Ok((registered.arn, rendered))
}

/// What the dry run would have run.
pub(crate) fn show_plan(
    runner: &Runner,
    config: &Config,
    migration: &MigrationConfig,
    rendered: &Value,
) {
    let definition = match &migration.template {
        Some(source) => format!("the task definition rendered from {source}"),
        None => format!("task definition {}", family(rendered)),
    };
    runner.notice(&format!(
        "Dry run: the migration {} would run as a one-off task of {definition} in cluster {}, before any deployment; nothing was started.",
        shown_command(migration.command.as_deref()),
        config.cluster
    ));
}

/// Starts the task and returns its ARN. RunTask's failures mean nothing
/// started; ECS says why in each.
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

async fn start(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    migration: &MigrationConfig,
    task_definition_arn: &str,
    definition: &Value,
    container: &str,
    placement: &Placement,
) -> Result<String> {
    let output = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(task_definition_arn)
        .count(1)
        .started_by(&migration.started_by)
        .client_token(client_token(migration, cluster, definition))
        .overrides(
            TaskOverride::builder()
                .container_overrides(container_override(migration, container))
                .build(),
        )
        .set_launch_type(placement.launch_type.clone())
        .set_capacity_provider_strategy(
            (!placement.capacity_provider_strategy.is_empty())
                .then(|| placement.capacity_provider_strategy.clone()),
        )
        .set_platform_version(placement.platform_version.clone())
        .set_network_configuration(placement.network.clone().map(|vpc| {
            NetworkConfiguration::builder()
                .awsvpc_configuration(vpc)
                .build()
        }))
        .set_propagate_tags(placement.propagate_tags.clone())
        .enable_ecs_managed_tags(placement.enable_ecs_managed_tags)
        .customize()
        .mutate_request(set_body_fields(raw_fields(migration)))
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "failed to start the migration task of {task_definition_arn} in cluster {cluster}: {}",
                explain("ecs:RunTask", &e)
            )
        })?;
    if !output.failures().is_empty() {
        let reasons: Vec<String> = output
            .failures()
            .iter()
            .map(|failure| {
                let detail = failure
                    .detail()
                    .map(|detail| format!(" ({detail})"))
                    .unwrap_or_default();
                format!(
                    "{}{detail} for {}",
                    failure.reason().unwrap_or("no reason given"),
                    failure.arn().unwrap_or("?")
                )
            })
            .collect();
        bail!(
            "ECS started no migration task of {task_definition_arn} in cluster {cluster}: {}",
            reasons.join("; ")
        );
    }
    output
        .tasks()
        .first()
        .and_then(Task::task_arn)
        .map(String::from)
        .ok_or_else(|| anyhow!("RunTask answered with neither a task nor a failure"))
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
    runner: &'a Runner,
    /// None when the container's logs cannot be read.
    tail: Option<LogTail>,
}

impl FollowedTask<'_> {
    /// Polls until the task stops or the timeout passes. Cancellation is the
    /// pipeline's: it stops the task recorded in `InFlight`.
    async fn follow(&mut self, timeout: Duration) -> Result<Ending> {
        let runner = self.runner;
        let _group = FoldedGroup::open(
            runner,
            &format!("Migration task {}", resource_name(self.task_arn)),
        );
        let deadline = Instant::now() + timeout;
        let mut last_status = String::new();
        loop {
            // RunTask has just answered with the task PROVISIONING: the first
            // look is worth taking one interval later, as for deployments.
            tokio::select! {
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(Ending::TimedOut),
            }
            let task = self.describe().await?;
            let status = task.last_status().unwrap_or("UNKNOWN");
            if status != last_status {
                self.runner.info(&format!("Task status: {status}"));
                last_status = status.to_owned();
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
        let runner = self.runner;
        let _group = FoldedGroup::open(runner, "Migration task stopping");
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

    /// Relays new log lines as plain text: they are the task's, not ours,
    /// so the runner must not take a line of them for a workflow command. A
    /// stream that cannot be read is not read again, as the verdict does not
    /// depend on it.
    async fn drain_logs(&mut self) {
        let Some(tail) = &mut self.tail else {
            return;
        };
        let runner = self.runner;
        let drained = tail
            .drain(|lines| runner.relay(lines.iter().map(String::as_str)))
            .await;
        if let Err(error) = drained {
            runner.warning(&format!(
                "{error:#}; the migration goes on without its logs: {}",
                self.link
            ));
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
        self.runner.warning(&format!(
            "{reason}: stopped migration task {id} with StopTask"
        ));
        Ok(())
    }

    /// Writes the exit code output and turns a failure into `Failed` with
    /// everything a person needs: why, each container, the last log lines
    /// and the task's console page.
    fn conclude(&self, judged: Verdict, stopped: Option<String>) -> Result<()> {
        let id = resource_name(self.task_arn);
        if let Some(code) = judged.exit_code {
            self.runner
                .set_output("migration-exit-code", &code.to_string())
                .with_context(|| {
                    format!("migration task {id} had stopped with exit code {code}; nothing was deployed")
                })?;
        }
        let headline = stopped.or(judged.failure);
        let outcome = match &headline {
            Some(headline) => format!("failed: {}", text(headline)),
            None => "succeeded".to_owned(),
        };
        // The run page is a report: losing it must not fail a migration.
        if let Err(error) = self.runner.append_summary(&format!(
            "Migration task [{}]({}) {outcome}\n\n",
            text(id),
            self.link
        )) {
            self.runner.warning(&format!("{error:#}"));
        }
        let Some(headline) = headline else {
            self.runner
                .info(&format!("Migration succeeded: task {id} exited with 0"));
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
struct FoldedGroup<'a>(&'a Runner);

impl<'a> FoldedGroup<'a> {
    fn open(runner: &'a Runner, title: &str) -> FoldedGroup<'a> {
        runner.group(title);
        FoldedGroup(runner)
    }
}

impl Drop for FoldedGroup<'_> {
    fn drop(&mut self) {
        self.0.end_group();
    }
}

/// `migration-command` as a shell line, or what `run-task` runs.
fn shown_command(command: Option<&[String]>) -> String {
    match command {
        Some(command) => format!(
            "`{}`",
            shlex::try_join(command.iter().map(String::as_str))
                .unwrap_or_else(|_| command.join(" "))
        ),
        None => "the task definition's command, with run-task-container-overrides".to_owned(),
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
