//! One run of ecs-deploy, step by step: inputs → services as they are →
//! template → render → (dry run: show and stop) → register → migration →
//! deploy and judge. Each step is a function that returns a typed value to
//! the next (the releases are `release`'s) and emits what a person should
//! see as events; the outputs with a value per service are `outputs`'. AWS
//! is reached through `LazyAws` only by the steps that need it.

mod event;
mod outputs;
mod release;
mod verdict;

pub(crate) use event::{Event, WouldDeploy};
pub(crate) use release::{release_index, Release};

use outputs::{by_service, by_service_index, write_deployment_outputs, write_handoff_outputs};
use release::{register, render_releases};

use std::ffi::OsString;
use std::future::Future;
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::arn::resource_name;
use crate::aws::ecs;
use crate::aws::LazyAws;
use crate::cancel::{InFlight, Signals, CANCEL_DEADLINE};
use crate::config::Config;
use crate::deploy::settings::Follow;
use crate::deploy::{self, codedeploy, express, Current, DeployResult, Deployed, Started};
use crate::env::Env;
use crate::event::{Output, Sink};
use crate::inputs::{self, Invocation};
use crate::present::Presenter;
use crate::render::family;
use crate::scheduled::{self, plan::family_and_revision, plan::FamilyMove};
use crate::{github, migration, preflight, revisions, timings};

/// Runs ecs-deploy and returns the process exit code: 0 on success, 1 on a
/// failed deployment or bad input.
pub async fn run(env: &Env, args: &[OsString]) -> i32 {
    // First of all: as PID 1 in its container the binary would otherwise
    // ignore the runner's SIGINT and SIGTERM.
    let mut signals = Signals::install();
    let presenter = Presenter::from_env(env);
    let rejected = |reason: String| {
        presenter.emit(Event::ArgumentsRejected { reason }.into());
        1
    };
    let args: Vec<String> = match args.iter().map(|arg| arg.clone().into_string()).collect() {
        Ok(args) => args,
        Err(_) => return rejected("a command-line argument is not valid UTF-8".to_owned()),
    };
    let inputs = match inputs::read(env, &args) {
        Ok(Invocation::Run(inputs)) => inputs,
        Ok(Invocation::Help) => {
            presenter.emit(Event::HelpAsked.into());
            return 0;
        }
        Ok(Invocation::Version) => {
            presenter.emit(Event::VersionAsked.into());
            return 0;
        }
        Err(error) => return rejected(error.to_string()),
    };
    let config = match Config::from_inputs(&inputs, env) {
        Ok(config) => config,
        Err(invalid) => {
            let problems = invalid.0.iter().map(ToString::to_string).collect();
            presenter.emit(Event::InputsInvalid { problems }.into());
            return 1;
        }
    };
    // Before anything else is printed.
    let secrets = config.github_token.iter().chain(
        config
            .render
            .container
            .secrets
            .iter()
            .map(|(_, value_from)| value_from),
    );
    for value in secrets {
        let value = value.clone();
        presenter.emit(Event::Secret { value }.into());
    }
    let mut progress = Progress::default();
    let result = tracked(&config, env, &presenter, &mut progress, &mut signals).await;
    presenter.finish(&result, config.summary_file.as_deref())
}

/// The run inside its GitHub deployment: in progress before any AWS work,
/// then the run's result. A signal (the runner cancelling the job) stops
/// what is safe to stop and ends the run as failed, which GitHub shows.
async fn tracked(
    config: &Config,
    env: &Env,
    presenter: &Presenter,
    progress: &mut Progress,
    signals: &mut Signals,
) -> Result<()> {
    let aws = LazyAws::new(config.deploy.max_retries);
    // Each deployment id is written as soon as it is known, so that a
    // cancel, a timeout or expired credentials cannot lose it.
    let started = Mutex::new(vec![Started::Nothing; config.services.len()]);
    let in_flight = InFlight::watched(|service, what| {
        let Some(i) = config
            .services
            .iter()
            .position(|s| resource_name(s) == service)
        else {
            return;
        };
        let mut started = started.lock().unwrap_or_else(|e| e.into_inner());
        started[i] = what.into();
        write_deployment_outputs(presenter, config, &started);
    });
    let run = RunContext {
        config,
        env,
        sink: presenter,
        aws: &aws,
        in_flight: &in_flight,
    };
    // The GitHub deployment starts inside the race too: a signal while
    // GitHub is slow must not wait for it.
    let raced = tokio::select! {
        result = execute(&run, progress) => Ok(result),
        signal = signals.received() => Err(signal),
    };
    let (result, cancelled_at) = match raced {
        Ok(result) => (result, None),
        Err(signal) => {
            let at = tokio::time::Instant::now();
            let report = in_flight
                .stop_all(
                    aws.loaded(),
                    config.deploy.rollback_on_failure,
                    config.deploy.roll_back_on_cancel,
                )
                .await;
            (
                Err(verdict::cancelled(signal, &report, config, progress)),
                Some(at),
            )
        }
    };
    presenter.describe_run(config, progress);
    report_to_github(presenter, progress, &result, cancelled_at).await;
    result
}

/// The GitHub deployment's final status from the run's `result`: a run
/// cancelled once every service was deployed did deploy; a deployment
/// left for a later job stays in_progress.
async fn report_to_github(
    presenter: &Presenter,
    progress: &mut Progress,
    result: &Result<()>,
    cancelled_at: Option<tokio::time::Instant>,
) {
    let Some(deployment) = progress.github.take() else {
        return;
    };
    // Cancelled after every service was deployed, in what follows the
    // deploy: the environment runs the new revisions.
    let scheduled_failed = progress
        .scheduled
        .as_ref()
        .is_some_and(|s| !s.failures.is_empty());
    let github_result = match cancelled_at {
        Some(_) if progress.all_deployed() && !scheduled_failed => &Ok(()),
        _ => result,
    };
    // A deployment left for a later job is neither a success nor a failure
    // yet: that job reports its verdict.
    if result.is_ok() && cancelled_at.is_none() && progress.handed_off() {
        deployment.leave_in_progress(presenter);
        return;
    }
    let finished = deployment.finish(github_result, presenter);
    match cancelled_at {
        // GitHub's retries must not outlast the runner's patience.
        Some(at) => {
            if tokio::time::timeout_at(at + CANCEL_DEADLINE, finished)
                .await
                .is_err()
            {
                presenter.emit(Event::FinalStatusLate.into());
            }
        }
        None => finished.await,
    }
}

/// How far the run got: each step's result, kept for the summary whether
/// the run ends well or not, and the GitHub deployment once there is one.
#[derive(Default)]
pub(crate) struct Progress {
    pub(crate) github: Option<github::Tracker>,
    pub(crate) current: Vec<Current>,
    pub(crate) releases: Vec<Release>,
    pub(crate) registered: Vec<ecs::Registered>,
    pub(crate) deployed: Vec<Deployed>,
    pub(crate) scheduled: Option<scheduled::Moves>,
    pub(crate) old_revisions: Option<revisions::CleanUp>,
    /// `service-deployment`: the revisions the followed deployment moves
    /// the service from and to.
    pub(crate) followed: Option<(String, String)>,
}

impl Progress {
    /// With `task-definition: previous`: the revisions the services go back to.
    fn rollback_to(&self) -> Vec<String> {
        self.releases
            .iter()
            .filter_map(|release| release.goes_back_to.clone())
            .collect()
    }

    /// A deployment was left under way for a later job to follow
    /// (`wait-until`, `codedeploy-wait-until: ready`).
    fn handed_off(&self) -> bool {
        self.deployed
            .iter()
            .any(|d| matches!(d.result, DeployResult::HandedOff(_) | DeployResult::Ready))
    }

    /// Every service reached a successful verdict (or already ran its
    /// revision): what follows the deploy may begin.
    pub(crate) fn all_deployed(&self) -> bool {
        !self.deployed.is_empty()
            && self.deployed.iter().all(|d| {
                matches!(
                    d.result,
                    DeployResult::Succeeded | DeployResult::AlreadyRunning
                )
            })
    }
}

/// What every step of one run reads: the settings, the job's environment,
/// where lines go, the AWS clients and the record of what is in flight.
struct RunContext<'a> {
    config: &'a Config,
    env: &'a Env,
    /// Where every event and output goes.
    sink: &'a dyn Sink,
    aws: &'a LazyAws,
    in_flight: &'a InFlight<'a>,
}

impl RunContext<'_> {
    fn emit(&self, event: Event) {
        self.sink.emit(event.into());
    }

    fn output(&self, output: Output, value: String) -> Result<()> {
        self.sink.output(output, &value)
    }
}

/// What the checks before any change found, for the steps after them.
struct Checked {
    /// A `migration-task-definition` rendered apart from the releases.
    separate_migration: Option<Value>,
    /// With `update-scheduled-tasks`: the schedules that run a deployed
    /// family, read before anything changes.
    scheduled_tasks: Option<Vec<scheduled::Found>>,
}

/// The run's steps, in order; each keeps what it produced in `progress`.
async fn execute(run: &RunContext<'_>, progress: &mut Progress) -> Result<()> {
    if let Some(follow) = &run.config.deploy.follow {
        return follow_deployment(run, progress, follow).await;
    }
    let checked = check_before_any_change(run, progress).await?;
    if run.config.dry_run {
        return show_dry_run(run, progress, &checked).await;
    }
    let codedeploy_plan = codedeploy::plan(run.aws, run.config, &progress.current).await?;
    // Everything above changes nothing and may fail on its own; the GitHub
    // deployment is made only for a run that goes on to change something.
    github::Tracker::start(
        run.config,
        run.env,
        run.sink,
        &progress.rollback_to(),
        &mut progress.github,
    )
    .await?;
    register_releases(run, progress).await?;
    if let Some(migration) = &run.config.migration {
        migrate(run, progress, migration, checked.separate_migration).await?;
    }
    if run.config.services.is_empty() {
        return Ok(());
    }
    deploy_services(run, progress, &codedeploy_plan).await?;
    // Only after every service reached its verdict: a deployment not
    // waited for may still roll back.
    let followed_up = if progress.all_deployed() {
        after_the_deploy(run, progress, checked.scheduled_tasks.as_deref()).await
    } else {
        if run.config.update_scheduled_tasks || run.config.old_revisions.is_some() {
            run.emit(Event::FollowUpsSkipped);
        }
        Ok(())
    };
    measure_time(run, progress).await;
    followed_up
}

/// Where each successful deployment's time went, read last so that it
/// delays nothing a person waits for.
async fn measure_time(run: &RunContext<'_>, progress: &Progress) {
    let Some(clients) = run.aws.loaded() else {
        return;
    };
    let options = timings::Options {
        advice: run.config.advice,
        file: run.config.timings_file.clone(),
    };
    let releases = &progress.releases;
    let definitions: Vec<Option<&Value>> = (0..progress.current.len())
        .map(|service| release_index(releases, service).map(|r| &releases[r].rendered))
        .collect();
    timings::measure(
        clients,
        &run.config.cluster,
        &progress.current,
        &progress.deployed,
        &definitions,
        &options,
        run.sink,
    )
    .await;
}

/// Reads the services, renders the releases and checks everything that can
/// fail without changing anything: the dry run goes this far too.
async fn check_before_any_change(run: &RunContext<'_>, progress: &mut Progress) -> Result<Checked> {
    let RunContext {
        config, sink, aws, ..
    } = *run;
    timed(sink, "render", async {
        progress.current = deploy::describe_current(aws, config).await?;
        progress.releases = render_releases(run, &progress.current).await?;
        anyhow::Ok(())
    })
    .await?;
    let current = &progress.current;
    let releases = &progress.releases;
    check_express(config, current, releases)?;
    run.output(
        Output::TaskDefinition,
        by_service(config, releases, |r| releases[r].path.display().to_string()),
    )?;
    // Before anything is registered, and in the dry run too.
    let separate_migration = match &config.migration {
        Some(migration) => {
            let service = current.first().map(|c| &c.service);
            migration::check(aws, config, migration, &releases[0].rendered, service).await?
        }
        None => None,
    };
    if config.preflight {
        let definitions: Vec<&Value> = releases
            .iter()
            .map(|release| &release.rendered)
            .chain(&separate_migration)
            .collect();
        timed(
            sink,
            "preflight",
            preflight::check(aws, sink, &definitions, config.dry_run),
        )
        .await?;
    }
    // Read now, so that a bus that does not exist or a permission missing
    // stops the run before anything changes.
    let scheduled_tasks = match current.first().filter(|_| config.update_scheduled_tasks) {
        Some(first) => Some(
            scheduled::find(
                aws.get().await?,
                sink,
                &config.scheduled_task_buses,
                first.service.cluster_arn().unwrap_or_default(),
            )
            .await
            .context("failed to read the scheduled tasks (nothing was changed)")?,
        ),
        None => None,
    };
    Ok(Checked {
        separate_migration,
        scheduled_tasks,
    })
}

/// What the run would do, with nothing changed.
async fn show_dry_run(
    run: &RunContext<'_>,
    progress: &mut Progress,
    checked: &Checked,
) -> Result<()> {
    let RunContext {
        config, env, sink, ..
    } = *run;
    github::Tracker::start(
        config,
        env,
        sink,
        &progress.rollback_to(),
        &mut progress.github,
    )
    .await?;
    let (current, releases) = (&progress.current, &progress.releases);
    show_plan(run, current, releases);
    if let (Some(found), Some(first)) = (&checked.scheduled_tasks, current.first()) {
        progress.scheduled = Some(scheduled::would_move(
            sink,
            found,
            first.service.cluster_arn().unwrap_or_default(),
            &family_moves(current, releases, None),
        ));
    }
    clean_up_revisions(run, progress).await;
    Ok(())
}

async fn register_releases(run: &RunContext<'_>, progress: &mut Progress) -> Result<()> {
    let releases = &progress.releases;
    progress.registered = timed(run.sink, "register", register(run, releases)).await?;
    let registered = &progress.registered;
    run.output(
        Output::TaskDefinitionArn,
        by_service(run.config, releases, |r| registered[r].arn.clone()),
    )
}

/// The migration, on the first release and service: it runs where they run.
async fn migrate(
    run: &RunContext<'_>,
    progress: &Progress,
    migration: &migration::settings::MigrationConfig,
    separate_migration: Option<Value>,
) -> Result<()> {
    let definition = match separate_migration {
        Some(rendered) => migration::Definition::Separate(rendered),
        None => migration::Definition::Deployed {
            arn: &progress.registered[0].arn,
            json: &progress.releases[0].rendered,
        },
    };
    let service = progress.current.first().map(|c| &c.service);
    let migration_run = migration::run(
        run.aws,
        run.config,
        migration,
        run.sink,
        definition,
        service,
        run.in_flight,
    );
    timed(run.sink, "migration", migration_run).await
}

/// Every service moved to its registered revision and followed to its
/// verdict.
async fn deploy_services(
    run: &RunContext<'_>,
    progress: &mut Progress,
    codedeploy_plan: &codedeploy::Plan,
) -> Result<()> {
    let RunContext {
        config,
        sink,
        aws,
        in_flight,
        ..
    } = *run;
    let (current, releases, registered) =
        (&progress.current, &progress.releases, &progress.registered);
    run.output(
        Output::PreviousTaskDefinitionArn,
        by_service_index(config, |i| current[i].task_definition_arn.clone()),
    )?;
    let destinations: Vec<deploy::Destination> = releases
        .iter()
        .zip(registered)
        .flat_map(|(release, revision)| {
            release.services.iter().map(|&index| deploy::Destination {
                index,
                arn: revision.arn.clone(),
                definition: &release.rendered,
            })
        })
        .collect();
    run.emit(Event::DeployBegan);
    let started = SystemTime::now();
    let deployed = deploy::deploy_all(
        aws,
        config,
        current,
        destinations,
        codedeploy_plan,
        sink,
        in_flight,
    )
    .await;
    run.emit(Event::DeployEnded);
    show_express_endpoints(run, progress).await?;
    judge(run, progress, deployed, started)
}

/// `service-deployment`: a deployment started before this step, checked
/// before anything changes, then (after `hook-action`) followed to its
/// verdict, or to where `wait-until` says, as if this step had started it.
async fn follow_deployment(
    run: &RunContext<'_>,
    progress: &mut Progress,
    follow: &Follow,
) -> Result<()> {
    let RunContext {
        config, env, sink, ..
    } = *run;
    progress.current = deploy::describe_current(run.aws, config).await?;
    let clients = run.aws.get().await?;
    let attached = deploy::attach(clients, config, &progress.current[0], follow).await?;
    github::Tracker::start(config, env, sink, &[], &mut progress.github).await?;
    if let Some((from, to)) = attached.revisions() {
        run.output(Output::PreviousTaskDefinitionArn, from.to_owned())?;
        progress.followed = Some((from.to_owned(), to.to_owned()));
    }
    run.emit(Event::DeployBegan);
    let started = SystemTime::now();
    let deployed = deploy::follow(clients, config, attached, sink, run.in_flight).await;
    run.emit(Event::DeployEnded);
    judge(run, progress, deployed, started)
}

/// Each service's verdict told, the outputs of where deployments were
/// left, and the run's verdict from them.
fn judge(
    run: &RunContext<'_>,
    progress: &mut Progress,
    deployed: Result<Vec<Deployed>>,
    started: SystemTime,
) -> Result<()> {
    let verdicts = deployed.and_then(|deployed| {
        progress.deployed = deployed;
        write_handoff_outputs(run.sink, run.config, &progress.deployed)?;
        for d in &progress.deployed {
            run.emit(Event::Judged {
                service: d.service.clone(),
                deployment_id: d.deployment_id().unwrap_or_default().to_owned(),
                result: d.result.clone(),
            });
        }
        verdict::of_deployments(&progress.deployed)
    });
    run.emit(Event::StepTimed {
        step: "deploy",
        started,
        ended: SystemTime::now(),
        failed: verdicts.is_err(),
    });
    verdicts
}

/// The URL of each Express Mode service, as an output and the GitHub
/// deployment's environment URL. The deploy's verdict does not hang on it:
/// a failed lookup warns.
async fn show_express_endpoints(run: &RunContext<'_>, progress: &mut Progress) -> Result<()> {
    match deploy::express_endpoints(run.aws, &progress.current).await {
        Ok(endpoints) if !endpoints.is_empty() => {
            let endpoint_of = |i: usize| {
                endpoints
                    .iter()
                    .find(|(e, _)| *e == i)
                    .map_or(String::new(), |(_, url)| url.clone())
            };
            let value = by_service_index(run.config, endpoint_of);
            run.output(Output::ExpressEndpoint, value)?;
            if let Some(github) = &mut progress.github {
                github.default_environment_url(&endpoints[0].1);
            }
        }
        Ok(_) => {}
        Err(error) => run.emit(Event::ExpressEndpointUnread {
            reason: format!("{error:#}"),
        }),
    }
    Ok(())
}

/// Once every service is deployed: the scheduled tasks follow their
/// families, then the revisions nothing uses any more are cleaned up.
async fn after_the_deploy(
    run: &RunContext<'_>,
    progress: &mut Progress,
    scheduled_tasks: Option<&[scheduled::Found]>,
) -> Result<()> {
    run.in_flight.deployments_judged();
    if let (Some(found), Some(first)) = (scheduled_tasks, progress.current.first()) {
        let moves = family_moves(
            &progress.current,
            &progress.releases,
            Some(&progress.registered),
        );
        let cluster_arn = first.service.cluster_arn().unwrap_or_default();
        let outcome = progress.scheduled.insert(scheduled::Moves::default());
        scheduled::repoint(
            run.aws.get().await?,
            run.sink,
            found,
            cluster_arn,
            &moves,
            outcome,
        )
        .await;
    }
    // After the scheduled tasks moved: the revisions they left are free.
    clean_up_revisions(run, progress).await;
    match &progress.scheduled {
        Some(outcome) => outcome.check(),
        None => Ok(()),
    }
}

/// Each release's family, the revision its services ran before (None when
/// they ran another family) and the one they run now (`registered`; None
/// in the dry run).
fn family_moves(
    current: &[Current],
    releases: &[Release],
    registered: Option<&[ecs::Registered]>,
) -> Vec<FamilyMove> {
    releases
        .iter()
        .enumerate()
        .map(|(r, release)| {
            let family = family(&release.rendered).to_owned();
            let previous_revision = release
                .services
                .iter()
                .filter_map(
                    |&i| match family_and_revision(&current[i].task_definition_arn) {
                        (ran, revision) if ran == family => revision,
                        _ => None,
                    },
                )
                .max();
            FamilyMove {
                family,
                previous_revision,
                new_arn: registered.map(|registered| registered[r].arn.clone()),
            }
        })
        .collect()
}

/// With `keep-revisions`, the deployed families' old revisions cleaned up
/// after the deploy, or in the dry run what would be.
async fn clean_up_revisions(run: &RunContext<'_>, progress: &mut Progress) {
    let RunContext {
        config, sink, aws, ..
    } = *run;
    let Some(settings) = &config.old_revisions else {
        return;
    };
    // None in the dry run, which registers nothing.
    let registered = (!config.dry_run).then_some(progress.registered.as_slice());
    let mut families: Vec<revisions::Family> = Vec::new();
    for (r, release) in progress.releases.iter().enumerate() {
        // A deploy that moved no service left no revision behind, and the
        // revision its services ran before is not known here: nothing of
        // that family is cleaned up.
        let left_one_behind = match registered {
            // The real run: a deployment moved a service to another revision.
            Some(registered) => release.services.iter().any(|&i| {
                registered[r].arn != progress.current[i].task_definition_arn
                    && progress
                        .deployed
                        .iter()
                        .any(|d| d.index == i && d.result == DeployResult::Succeeded)
            }),
            // The dry run: the release is not what its services run already.
            None => release
                .as_is
                .as_ref()
                .is_none_or(|as_is| as_is.running_in.is_none()),
        };
        if !left_one_behind {
            continue;
        }
        let name = family(&release.rendered).to_owned();
        let ours = registered.and_then(|registered| family_and_revision(&registered[r].arn).1);
        match families.iter_mut().find(|f| f.name == name) {
            Some(known) => known.ours = known.ours.max(ours),
            None => families.push(revisions::Family {
                name,
                ours,
                registers_one: registered.is_none() && release.as_is.is_none(),
            }),
        }
    }
    let rollback_targets: Vec<String> = progress
        .current
        .iter()
        .map(|c| c.task_definition_arn.clone())
        .collect();
    // Only a dry run can get here without clients loaded.
    let clients = match aws.get().await {
        Ok(clients) => clients,
        Err(error) => {
            run.emit(Event::OldRevisionsUnread {
                reason: format!("{error:#}"),
            });
            return;
        }
    };
    let outcome = progress.old_revisions.insert(revisions::CleanUp::default());
    revisions::clean_up(
        clients,
        sink,
        settings,
        &families,
        &rollback_targets,
        config.dry_run,
        outcome,
    )
    .await;
}

/// An Express Mode service runs only a definition Express Mode takes:
/// refused before anything changes.
fn check_express(config: &Config, current: &[Current], releases: &[Release]) -> Result<()> {
    let express = current.iter().find(|c| deploy::is_express(&c.service));
    if let Some(service) = express {
        // UpdateExpressGatewayService takes none of these.
        if let Some(input) = config.deploy.service_settings_given().first() {
            anyhow::bail!(
                "{input} does not apply to Express service {}: Express Mode deploys only the task definition; remove {input}",
                service.service.service_name().unwrap_or_default()
            );
        }
    }
    for release in releases {
        for &i in &release.services {
            if deploy::is_express(&current[i].service) {
                express::check_definition(&release.rendered).map_err(|why| {
                    anyhow::anyhow!(
                        "task definition {} cannot run Express service {}: {why}",
                        family(&release.rendered),
                        current[i].service.service_name().unwrap_or_default()
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// Runs `step`, kept in the summary's timeline as done or failed.
async fn timed<T>(
    sink: &dyn Sink,
    step: &'static str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let started = SystemTime::now();
    let result = work.await;
    sink.emit(
        Event::StepTimed {
            step,
            started,
            ended: SystemTime::now(),
            failed: result.is_err(),
        }
        .into(),
    );
    result
}

/// The dry run's plan: what was rendered, each service it would move (or
/// leave) and the migration it would run.
fn show_plan(run: &RunContext<'_>, current: &[Current], releases: &[Release]) {
    let config = run.config;
    let cluster = resource_name(&config.cluster).to_owned();
    for release in releases {
        let family = family(&release.rendered).to_owned();
        run.emit(Event::DryRunRendered {
            family: family.clone(),
            path: release.path.clone(),
        });
        let revision = release
            .as_is
            .as_ref()
            .map(|as_is| resource_name(&as_is.revision.arn).to_owned());
        for &i in &release.services {
            let service = current[i]
                .service
                .service_name()
                .unwrap_or_default()
                .to_owned();
            let runs = resource_name(&current[i].task_definition_arn).to_owned();
            let starts = release.as_is.as_ref().is_none_or(|as_is| {
                deploy::starts_deployment(&config.deploy, &current[i], &as_is.revision.arn)
            });
            let cluster = cluster.clone();
            run.emit(match starts {
                false => Event::DryRunWouldLeave {
                    service,
                    cluster,
                    runs,
                },
                true => Event::DryRunWouldDeploy(WouldDeploy {
                    service,
                    cluster,
                    revision: revision.clone(),
                    family: family.clone(),
                    through_codedeploy: deploy::is_codedeploy(&current[i].service),
                    runs,
                }),
            });
        }
    }
    if let Some(migration) = &config.migration {
        migration::show_plan(run.sink, config, migration, &releases[0].rendered);
    }
}
