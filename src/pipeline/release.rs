//! The releases: each rendered task definition with the services that run
//! it, from a template, the services' own definitions or the revisions they
//! ran before (`task-definition: previous`); what each changes against what
//! runs; then each registered, or kept as it is when an existing revision
//! already holds it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use futures::{stream, StreamExt, TryStreamExt};
use serde_json::Value;

use super::{Event, RunContext};
use crate::aws::ecs;
use crate::aws::CONCURRENT_CALLS;
use crate::cancel::Change;
use crate::config::Config;
use crate::deploy::Current;
use crate::env::Env;
use crate::render::{self, family};
use crate::template::{self, TemplateSource};
use crate::{diff, previous};

/// One rendered task definition and the services (indexes into
/// `config.services`) that will run it: one for a shared template, one per
/// service when each starts from its own current definition.
pub(crate) struct Release {
    pub(crate) rendered: Value,
    pub(crate) services: Vec<usize>,
    pub(crate) path: PathBuf,
    /// An ECS revision that already holds what was rendered: deployed as
    /// is, not registered again.
    pub(crate) as_is: Option<AsIs>,
    /// With `task-definition: previous`: the revision the service goes back
    /// to (registered again as a copy when it is not ACTIVE).
    pub(crate) goes_back_to: Option<String>,
}

/// Which of `releases` deploys service `service` (its place in the
/// `service` input).
pub(crate) fn release_index(releases: &[Release], service: usize) -> Option<usize> {
    releases.iter().position(|r| r.services.contains(&service))
}

/// An existing ECS revision a release deploys instead of registering one.
pub(crate) struct AsIs {
    pub(crate) revision: ecs::Registered,
    /// The service that runs it, when it is used because what was rendered
    /// is identical to it; otherwise it is the template (or the revision
    /// `previous` goes back to), which the inputs leave unchanged.
    pub(crate) running_in: Option<String>,
}

/// The template rendered once for every service, or each service's own
/// definition rendered for it; each written to a file and its changes
/// shown.
pub(super) async fn render_releases(
    run: &RunContext<'_>,
    current: &[Current],
) -> Result<Vec<Release>> {
    let config = run.config;
    let mut releases = match &config.template {
        Some(source) => vec![release_of_template(run, current, source).await?],
        None if config.previous_revision => releases_going_back(run, current).await?,
        None => releases_of_current_definitions(run, current)?,
    };
    for release in &mut releases {
        for i in release.services.clone() {
            compare_with_running(run, release, &current[i]);
        }
        // After its changes: the changes are what a person reads first.
        if config.dry_run {
            let definition = release.rendered.clone();
            run.emit(Event::Rendered { definition });
        }
    }
    Ok(releases)
}

/// One release for every service, from the `task-definition` template; an
/// ECS revision the inputs leave unchanged is deployed as is.
async fn release_of_template(
    run: &RunContext<'_>,
    current: &[Current],
    source: &TemplateSource,
) -> Result<Release> {
    let template = template::load(source, run.aws)
        .await
        .with_context(|| format!("failed to load the task definition template {source}"))?;
    let rendered = render_template(template.clone(), run.config)?;
    let mut unchanged = None;
    if let TemplateSource::Ecs(id) = source {
        let described = ecs::Registered::described(&template);
        let base = render::normalize(template);
        if current.is_empty() {
            show_changes(run, &rendered, id, &base);
        }
        unchanged = described.filter(|_| diff::diff(&base, &rendered).is_empty());
    }
    let mut release = release(run, rendered, (0..current.len()).collect())?;
    release.as_is = unchanged.map(|revision| AsIs {
        revision,
        running_in: None,
    });
    Ok(release)
}

/// `task-definition: previous`: for each service, the revision it ran
/// before, as it is (registered again when it is not ACTIVE).
async fn releases_going_back(run: &RunContext<'_>, current: &[Current]) -> Result<Vec<Release>> {
    let (config, clients) = (run.config, run.aws.get().await?);
    let found: Vec<previous::Previous> = stream::iter(current)
        .map(|service| async move {
            previous::find(clients, config, service)
                .await
                .context("task-definition: previous")
        })
        .buffered(CONCURRENT_CALLS)
        .try_collect()
        .await?;
    let mut releases = Vec::new();
    for (i, found) in found.into_iter().enumerate() {
        run.emit(Event::GoingBack {
            service: current[i]
                .service
                .service_name()
                .unwrap_or_default()
                .to_owned(),
            to: found.arn.clone(),
            from: current[i].task_definition_arn.clone(),
        });
        // ECS moves services only to ACTIVE revisions.
        let active = ecs::Registered::described(&found.definition);
        if active.is_none() {
            run.emit(Event::RegisteringAgain {
                arn: found.arn.clone(),
                status: found.definition["status"]
                    .as_str()
                    .unwrap_or("not ACTIVE")
                    .to_owned(),
            });
        }
        let mut release = release(run, render::normalize(found.definition), vec![i])?;
        release.as_is = active.map(|revision| AsIs {
            revision,
            running_in: None,
        });
        release.goes_back_to = Some(found.arn);
        releases.push(release);
    }
    Ok(releases)
}

/// One release per service, each rendered from the definition it runs.
fn releases_of_current_definitions(
    run: &RunContext<'_>,
    current: &[Current],
) -> Result<Vec<Release>> {
    let config = run.config;
    check_containers_exist(config, current)?;
    let mut releases = Vec::new();
    for (i, definition) in current.iter().map(|c| &c.task_definition).enumerate() {
        let spec = render::restrict_to(&config.render, definition);
        let rendered = render::render(definition.clone(), &spec).with_context(|| {
            format!(
                "failed to render the task definition {}",
                family(definition)
            )
        })?;
        releases.push(release(run, rendered, vec![i])?);
    }
    Ok(releases)
}

/// What `rendered` changes against `against`, the definition `base` is.
fn show_changes(run: &RunContext<'_>, rendered: &Value, against: &str, base: &Value) {
    run.emit(Event::Changes {
        against: against.to_owned(),
        changes: diff::diff(base, rendered),
    });
}

/// Shows what `release` changes in what `current` runs, and deploys what
/// the service runs as is when it holds what was rendered: registering it
/// again would make an identical revision and a deployment that changes
/// nothing.
fn compare_with_running(run: &RunContext<'_>, release: &mut Release, current: &Current) {
    let base = render::normalize(current.task_definition.clone());
    show_changes(run, &release.rendered, &current.task_definition_arn, &base);
    if release
        .as_is
        .as_ref()
        .is_none_or(|a| a.running_in.is_none())
        && diff::diff(&base, &release.rendered).is_empty()
    {
        if let Some(revision) = ecs::Registered::described(&current.task_definition) {
            release.as_is = Some(AsIs {
                revision,
                running_in: current.service.service_name().map(str::to_owned),
            });
        }
    }
}

/// Registers every release at once. Every register runs to its end, so that
/// a failure can say which revisions exist anyway.
pub(super) async fn register(
    run: &RunContext<'_>,
    releases: &[Release],
) -> Result<Vec<ecs::Registered>> {
    let (ecs, in_flight) = (&run.aws.get().await?.ecs, run.in_flight);
    let results: Vec<Result<ecs::Registered>> = stream::iter(releases)
        .map(|release| async move {
            if let Some(as_is) = &release.as_is {
                return Ok(as_is.revision.clone());
            }
            let call = in_flight.calling(Change::Register {
                family: family(&release.rendered).to_owned(),
            });
            let registered = ecs::register_task_definition(ecs, &release.rendered).await;
            in_flight.answered(call);
            registered
        })
        .buffered(CONCURRENT_CALLS)
        .collect()
        .await;
    let (mut registered, mut errors) = (Vec::new(), Vec::new());
    for (release, result) in releases.iter().zip(results) {
        match result {
            Ok(revision) => {
                let arn = revision.arn.clone();
                run.emit(match &release.as_is {
                    Some(AsIs {
                        running_in: Some(service),
                        ..
                    }) => Event::KeptRunning {
                        service: service.clone(),
                        arn,
                    },
                    Some(_) => Event::DeployingAsIs { arn },
                    None => Event::Registered { arn },
                });
                registered.push(revision);
            }
            Err(error) => errors.push(format!("{error:#}")),
        }
    }
    if !errors.is_empty() {
        let mut message = errors.join("; ");
        let arns: Vec<&str> = registered
            .iter()
            .filter(|r| {
                releases
                    .iter()
                    .all(|release| release.as_is.as_ref().map(|a| &a.revision) != Some(*r))
            })
            .map(|r| r.arn.as_str())
            .collect();
        if !arns.is_empty() {
            message.push_str(&format!(
                "; nothing was deployed, and {} stays registered, unused",
                arns.join(", ")
            ));
        }
        anyhow::bail!(message);
    }
    Ok(registered)
}

/// Starting from the services' own definitions, a container named in the
/// inputs must exist in at least one of them, and the inputs must change
/// something in each: a typo must not register the old image again and
/// deploy it as a success.
fn check_containers_exist(config: &Config, current: &[Current]) -> Result<()> {
    let definitions: Vec<&Value> = current.iter().map(|c| &c.task_definition).collect();
    let unmatched = render::unmatched_containers(&config.render, &definitions);
    if !unmatched.is_empty() {
        let known: Vec<String> = definitions
            .iter()
            .map(|d| format!("{} ({})", family(d), render::container_names(d).join(", ")))
            .collect();
        anyhow::bail!(
            "container {} is in none of the services' task definitions: {}",
            unmatched
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            known.join("; ")
        );
    }
    if config.render.is_empty() {
        return Ok(());
    }
    for (c, definition) in current.iter().zip(&definitions) {
        if render::restrict_to(&config.render, definition).is_empty() {
            anyhow::bail!(
                "nothing the inputs set applies to task definition {} of service {}: its containers are {}; check container-name and images",
                family(definition),
                c.service.service_name().unwrap_or("?"),
                render::container_names(definition).join(", ")
            );
        }
    }
    Ok(())
}

fn render_template(template: Value, config: &Config) -> Result<Value> {
    let family = family(&template).to_owned();
    render::render(template, &config.render)
        .with_context(|| format!("failed to render the task definition {family}"))
}

fn release(run: &RunContext<'_>, rendered: Value, services: Vec<usize>) -> Result<Release> {
    let path = write_rendered(run.env, &rendered)?;
    Ok(Release {
        rendered,
        services,
        path,
        as_is: None,
        goes_back_to: None,
    })
}

/// The rendered definition in a file for later steps, in the runner's
/// temporary directory (RUNNER_TEMP).
fn write_rendered(env: &Env, rendered: &Value) -> Result<PathBuf> {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect();
    // A family may have 255 characters, a file name no more in all.
    let family: String = family(rendered).chars().take(100).collect();
    let temp_dir = env
        .get("RUNNER_TEMP")
        .filter(|dir| !dir.is_empty())
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let path = temp_dir.join(format!("task-definition-{family}-{suffix}.json"));
    let text = serde_json::to_string_pretty(rendered)?;
    std::fs::write(&path, text + "\n").with_context(|| {
        format!(
            "failed to write the rendered task definition to {}",
            path.display()
        )
    })?;
    Ok(path)
}
