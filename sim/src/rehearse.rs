//! `ecs-deploy-sim rehearse <scenario>`: runs the real ecs-deploy binary, or
//! the action's image, against the simulator the way the GitHub runner runs
//! the action, and shows what the Actions UI would: the step's log, the
//! annotations, the step outputs and where the job summary went.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};
use ecs_deploy_sim::container_action::{self, ACTION_YML};
use ecs_deploy_sim::{JobDirectory, Scenario, Sim};

use crate::actions_log::ActionsLog;

/// Variables passed through from the caller's environment to the binary;
/// everything else is left out so that the caller's AWS profile or token
/// cannot leak in.
const PASSED_THROUGH: [&str; 3] = ["PATH", "HOME", "TMPDIR"];

/// What runs the step.
enum Step {
    Binary(PathBuf),
    /// A container image, run with `docker run` as the runner runs it.
    Image(String),
}

pub fn rehearse(args: &[String]) -> anyhow::Result<i32> {
    let mut scenario_path = None;
    let mut step = None;
    let mut job_dir = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value = || {
            rest.next()
                .with_context(|| format!("{arg} needs a value"))
                .cloned()
        };
        match arg.as_str() {
            "--ecs-deploy" => step = Some(Step::Binary(PathBuf::from(value()?))),
            "--image" => step = Some(Step::Image(value()?)),
            "--job-dir" => job_dir = Some(PathBuf::from(value()?)),
            path if scenario_path.is_none() => scenario_path = Some(path.to_string()),
            other => bail!("unexpected argument {other}"),
        }
    }
    let scenario_path = scenario_path.context("rehearse needs a scenario file")?;
    let scenario = Scenario::from_file(&scenario_path)?;
    let step = step.unwrap_or_else(|| Step::Binary(default_binary()));
    let job = JobDirectory::kept_at(job_dir.unwrap_or_else(|| default_job_dir(&scenario_path)))?;
    for (name, content) in &scenario.rehearsal.files {
        let path = job.path("workspace").join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let with = scenario.rehearsal.inputs.clone();
    let sim = Sim::start_with(scenario, 0, 0, crate::models_or_notice())?;
    // The runner gives the token to the action only as `github-token`'s
    // default, `${{ github.token }}`; GITHUB_TOKEN is no variable of the step.
    let (mut variables, token): (Vec<_>, Vec<_>) = sim
        .env()
        .into_iter()
        .partition(|(name, _)| name != "GITHUB_TOKEN");
    let token = token.into_iter().next().map(|(_, token)| token);
    let inputs = container_action::inputs(ACTION_YML, &with, token.as_deref().unwrap_or(""))?;
    variables.extend(job.runner_env());
    variables.extend(
        inputs
            .iter()
            .map(|(name, value)| (container_action::input_variable(name), value.clone())),
    );

    let (mut command, what) = match &step {
        Step::Binary(binary) => (
            binary_command(binary, &job, &variables),
            binary.display().to_string(),
        ),
        Step::Image(image) => (
            image_command(image, &job, &variables),
            format!("the image {image} (docker run)"),
        ),
    };
    println!("Rehearsing {scenario_path} with {what}");
    println!("The step's log, as the Actions UI shows it:");
    let (reader, writer) = std::io::pipe()?;
    command.stdout(writer.try_clone()?).stderr(writer);
    let mut child = command.spawn().with_context(|| match &step {
        Step::Binary(binary) => format!(
            "cannot run {} (build it with `cargo build`, or pass --ecs-deploy PATH)",
            binary.display()
        ),
        Step::Image(_) => "cannot run docker".to_string(),
    })?;
    // The pipe ends when the step's copies of its writing end close.
    drop(command);
    let mut log = ActionsLog::new();
    for line in std::io::BufReader::new(reader).split(b'\n') {
        let line = String::from_utf8_lossy(&line?).into_owned();
        for shown in log.show(line.strip_suffix('\r').unwrap_or(&line)) {
            println!("{shown}");
        }
    }
    let status = child.wait()?;

    let annotations = log.annotations();
    if !annotations.is_empty() {
        print_section(
            "Annotations (listed on the run's page)",
            annotations.iter().flat_map(|annotation| annotation.lines()),
        );
    }
    let outputs = container_action::outputs(&job.read("file_commands/output"))?;
    print_section(
        "Step outputs",
        outputs.iter().map(|(name, value)| {
            let value = log.mask(value).replace('\n', "\n    ");
            format!("{name} = {value}")
        }),
    );
    print_section(
        "Job summary",
        [summary_place(&job.path("file_commands/summary"))],
    );
    print_section("Simulator calls", call_counts(&sim));
    println!("ecs-deploy exited with {status}");
    Ok(status.code().unwrap_or(1))
}

/// The binary run with exactly the step's variables.
fn binary_command(binary: &Path, job: &JobDirectory, variables: &[(String, String)]) -> Command {
    let mut command = Command::new(binary);
    command.env_clear().current_dir(job.path("workspace"));
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(variables.iter().map(|(name, value)| (name, value)));
    command
}

/// `docker run` as the runner runs a container action: the variables named
/// on the command line, their values (paths as the container sees them) in
/// the client's environment, the only place they are read from.
fn image_command(image: &str, job: &JobDirectory, variables: &[(String, String)]) -> Command {
    let names: Vec<&str> = variables.iter().map(|(name, _)| name.as_str()).collect();
    let mut command = Command::new("docker");
    command.args(container_action::docker_run_arguments(
        &format!("ecs-deploy-rehearsal-{}", std::process::id()),
        &names,
        job.root(),
        image,
    ));
    command.envs(
        variables
            .iter()
            .map(|(name, value)| (name, container_action::container_value(job.root(), value))),
    );
    command.env("HOME", "/github/home");
    command
}

/// ecs-deploy built next to this binary (the same target directory), or
/// the one on PATH.
fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("ecs-deploy")))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("ecs-deploy"))
}

/// One job directory per scenario, replaced by its next rehearsal.
fn default_job_dir(scenario_path: &str) -> PathBuf {
    let name = Path::new(scenario_path)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".to_string());
    std::env::temp_dir().join("ecs-deploy-rehearsal").join(name)
}

fn summary_place(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(summary) => format!(
            "{} lines of Markdown in {} (GITHUB_STEP_SUMMARY), shown on the run's summary page",
            summary.lines().count(),
            path.display()
        ),
        Err(_) => "(none written)".to_string(),
    }
}

fn print_section(title: &str, lines: impl IntoIterator<Item = String>) {
    println!("---- {title} ----");
    let mut lines = lines.into_iter().peekable();
    if lines.peek().is_none() {
        println!("(none)");
    }
    for line in lines {
        println!("{line}");
    }
}

fn call_counts(sim: &Sim) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for call in sim.calls() {
        *counts
            .entry(format!("{} {}", call.service, call.operation))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(operation, count)| format!("{count:>4}  {operation}"))
        .collect()
}
