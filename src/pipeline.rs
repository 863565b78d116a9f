//! One run of ecs-deploy, step by step: inputs → template → render →
//! (dry run: show and stop) → register. Each step is a function of the
//! previous one's result; AWS is reached through `LazyAws` only by the steps
//! that need it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::aws::LazyAws;
use crate::config::{Config, TemplateSource};
use crate::env::Env;
use crate::inputs::{self, Invocation};
use crate::render::{self, family};
use crate::runner::Runner;
use crate::summary::{task_definition_link, Summary};
use crate::template::{self, ParseError};
use crate::{diff, ecs, github};

/// Runs ecs-deploy and returns the process exit code: 0 on success, 1 on a
/// failed deployment or bad input.
pub async fn run(env: &Env, args: &[String]) -> i32 {
    let runner = Runner::from_env(env);
    let inputs = match inputs::read(env, args) {
        Ok(Invocation::Run(inputs)) => inputs,
        Ok(Invocation::Help) => {
            print!("{}", inputs::help_text());
            return 0;
        }
        Ok(Invocation::Version) => {
            println!("ecs-deploy {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(error) => {
            runner.error(&error.to_string(), None);
            return 1;
        }
    };
    let config = match Config::from_inputs(&inputs, env) {
        Ok(config) => config,
        Err(invalid) => {
            for problem in &invalid.0 {
                runner.error(&format!("invalid input {problem}"), None);
            }
            return 1;
        }
    };
    if let Some(token) = &config.github_token {
        runner.add_mask(token);
    }
    let mut summary = Summary::default();
    let result = tracked(&config, env, &runner, &mut summary).await;
    if let Err(error) = runner.append_summary(&summary.render(&result)) {
        runner.warning(&format!("{error:#}"));
    }
    match result {
        Ok(()) => 0,
        Err(error) => {
            let location = error
                .chain()
                .find_map(|cause| cause.downcast_ref::<ParseError>())
                .map(|parse| parse.location.clone());
            runner.error(&format!("{error:#}"), location.as_ref());
            1
        }
    }
}

/// The run inside its GitHub deployment: in progress before any AWS work,
/// then the run's result.
async fn tracked(config: &Config, env: &Env, runner: &Runner, summary: &mut Summary) -> Result<()> {
    let deployment = github::Tracker::start(config, env, runner).await?;
    let result = execute(config, runner, summary).await;
    deployment.finish(&result, runner, summary).await;
    result
}

/// The task definition a service runs now, described.
struct Current {
    arn: String,
    definition: Value,
}

async fn execute(config: &Config, runner: &Runner, summary: &mut Summary) -> Result<()> {
    let aws = LazyAws::default();
    describe_inputs(summary, config);
    let started = Instant::now();
    let current = match &config.service {
        Some(service) => Some(current_task_definition(&aws, &config.cluster, service).await?),
        None => None,
    };
    let template = match (&config.template, &current) {
        (Some(source), _) => template::load(source, &aws)
            .await
            .with_context(|| format!("failed to load the task definition template {source}"))?,
        (None, Some(current)) => current.definition.clone(),
        (None, None) => unreachable!("configuration requires task-definition or service"),
    };
    let rendered = render::render(template.clone(), &config.render)
        .with_context(|| format!("failed to render the task definition {}", family(&template)))?;
    summary.add_step("render", started.elapsed());
    let path = write_rendered(runner, &rendered)?;
    runner.set_output("task-definition", &path.display().to_string())?;

    // Compare with what runs now; an ECS template is itself the current one.
    let base = match (&current, &config.template) {
        (Some(current), _) => Some((
            current.arn.as_str(),
            render::normalize(current.definition.clone()),
        )),
        (None, Some(TemplateSource::Ecs(id))) => Some((id.as_str(), render::normalize(template))),
        _ => None,
    };
    show_rendered(
        runner,
        &rendered,
        base.as_ref().map(|(name, value)| (*name, value)),
        config.dry_run,
    );

    if config.dry_run {
        runner.notice(&format!(
            "Dry run: task definition {} was rendered to {} and not registered.",
            family(&rendered),
            path.display()
        ));
        describe_rendered(summary, &rendered, None, current.as_ref());
        return Ok(());
    }

    let started = Instant::now();
    let ecs = &aws.get().await.ecs;
    let registered = ecs::register_task_definition(ecs, &rendered).await?;
    summary.add_step("register", started.elapsed());
    runner.set_output("task-definition-arn", &registered.arn)?;
    runner.info(&format!("Registered {}", registered.arn));
    describe_rendered(summary, &rendered, Some(&registered), current.as_ref());
    if let Some(service) = &config.service {
        runner.notice(&format!(
            "Service {service} was not updated: ecs-deploy registered the task definition only."
        ));
    }
    Ok(())
}

async fn current_task_definition(aws: &LazyAws, cluster: &str, service: &str) -> Result<Current> {
    let ecs = &aws.get().await.ecs;
    let described = ecs::describe_service(ecs, cluster, service).await?;
    let arn = described
        .task_definition()
        .with_context(|| format!("service {service} has no task definition"))?
        .to_owned();
    let definition = template::unwrap_described(ecs::describe_task_definition(ecs, &arn).await?);
    Ok(Current { arn, definition })
}

fn write_rendered(runner: &Runner, rendered: &Value) -> Result<PathBuf> {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect();
    let path = runner.temp_dir().join(format!(
        "task-definition-{}-{suffix}.json",
        family(rendered)
    ));
    let text = serde_json::to_string_pretty(rendered)?;
    std::fs::write(&path, text + "\n").with_context(|| {
        format!(
            "failed to write the rendered task definition to {}",
            path.display()
        )
    })?;
    Ok(path)
}

fn show_rendered(runner: &Runner, rendered: &Value, base: Option<(&str, &Value)>, dry_run: bool) {
    if dry_run {
        runner.group(&format!("Rendered task definition {}", family(rendered)));
        runner.info(&serde_json::to_string_pretty(rendered).unwrap_or_default());
        runner.end_group();
    }
    if let Some((name, base)) = base {
        let changes = diff::diff(base, rendered);
        runner.group(&format!(
            "Changes against {name} ({} changed)",
            changes.len()
        ));
        if changes.is_empty() {
            runner.info("no changes");
        }
        for change in &changes {
            runner.info(&change.to_string());
        }
        runner.end_group();
    }
}

/// What the run was asked to do, known before any step can fail.
fn describe_inputs(summary: &mut Summary, config: &Config) {
    if let Some(service) = &config.service {
        summary.add(
            "Service",
            format!("`{service}` on cluster `{}`", config.cluster),
        );
    }
    if let Some(source) = &config.template {
        summary.add("Template", format!("`{source}`"));
    }
}

fn describe_rendered(
    summary: &mut Summary,
    rendered: &Value,
    registered: Option<&ecs::Registered>,
    current: Option<&Current>,
) {
    let old = current.map(|current| format!("{} → ", task_definition_link(&current.arn)));
    let new = match registered {
        Some(registered) => task_definition_link(&registered.arn),
        None => format!("`{}` rendered, not registered (dry run)", family(rendered)),
    };
    summary.add(
        "Task definition",
        format!("{}{new}", old.unwrap_or_default()),
    );
    for container in rendered["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        summary.add(
            format!("Image of `{}`", container["name"].as_str().unwrap_or("?")),
            format!("`{}`", container["image"].as_str().unwrap_or("(none)")),
        );
    }
}
