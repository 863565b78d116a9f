//! One run of ecs-deploy, step by step: inputs → template → render →
//! (dry run: show and stop) → register. Each step is a function of the
//! previous one's result; AWS is reached through `LazyAws` only by the steps
//! that need it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::aws::LazyAws;
use crate::config::{Config, TemplateSource};
use crate::env::Env;
use crate::inputs::{self, Invocation};
use crate::render::{self, family};
use crate::runner::Runner;
use crate::template::{self, ParseError};
use crate::{diff, ecs, migration};

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
    match execute(&config, &runner).await {
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

/// The task definition a service runs now, described.
struct Current {
    arn: String,
    definition: Value,
}

async fn execute(config: &Config, runner: &Runner) -> Result<()> {
    let aws = LazyAws::default();
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
        if let Some(migration) = &config.migration {
            migration::show_plan(runner, config, migration, &rendered);
        }
        return runner.append_summary(&summary(config, &rendered, None, current.as_ref()));
    }

    let ecs = &aws.get().await.ecs;
    let registered = ecs::register_task_definition(ecs, &rendered).await?;
    runner.set_output("task-definition-arn", &registered.arn)?;
    runner.info(&format!("Registered {}", registered.arn));
    runner.append_summary(&summary(
        config,
        &rendered,
        Some(&registered),
        current.as_ref(),
    ))?;
    if let Some(migration) = &config.migration {
        let deployed = migration::Definition {
            arn: &registered.arn,
            json: &rendered,
        };
        migration::run(&aws, config, migration, runner, deployed).await?;
    }
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

fn summary(
    config: &Config,
    rendered: &Value,
    registered: Option<&ecs::Registered>,
    current: Option<&Current>,
) -> String {
    let mut rows = vec![(
        "Task definition".to_owned(),
        match registered {
            Some(r) => format!("`{}:{}` registered", r.family, r.revision),
            None => format!("`{}` rendered, not registered (dry run)", family(rendered)),
        },
    )];
    if let Some(source) = &config.template {
        rows.push(("Template".to_owned(), format!("`{source}`")));
    }
    if let Some(current) = current {
        rows.push(("Service runs".to_owned(), format!("`{}`", current.arn)));
    }
    for container in rendered["containerDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        rows.push((
            format!("Image of `{}`", container["name"].as_str().unwrap_or("?")),
            format!("`{}`", container["image"].as_str().unwrap_or("(none)")),
        ));
    }
    let mut text = String::from("### ecs-deploy\n\n| | |\n|---|---|\n");
    for (name, value) in rows {
        text.push_str(&format!("| {name} | {} |\n", value.replace('|', "\\|")));
    }
    text.push('\n');
    text
}
