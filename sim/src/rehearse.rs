//! `ecs-deploy-sim rehearse <scenario>`: runs the real ecs-deploy binary
//! against the simulator the way the GitHub runner runs the action, and
//! shows what the Actions log, the step outputs and the summary would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};
use ecs_deploy_sim::{Scenario, Sim};

/// Variables passed through from the caller's environment; everything else
/// is left out so that the caller's AWS profile or token cannot leak in.
const PASSED_THROUGH: [&str; 3] = ["PATH", "HOME", "TMPDIR"];

pub fn rehearse(args: &[String]) -> anyhow::Result<i32> {
    let mut scenario_path = None;
    let mut binary = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--ecs-deploy" => {
                binary = Some(PathBuf::from(
                    rest.next().context("--ecs-deploy needs a path")?,
                ))
            }
            path if scenario_path.is_none() => scenario_path = Some(path.to_string()),
            other => bail!("unexpected argument {other}"),
        }
    }
    let scenario_path = scenario_path.context("rehearse needs a scenario file")?;
    let scenario = Scenario::from_file(&scenario_path)?;
    let binary = binary.unwrap_or_else(default_binary);
    let job = JobDirectory::create()?;
    for (name, content) in &scenario.rehearsal.files {
        let path = job.workspace().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut inputs = scenario.rehearsal.inputs.clone();
    let sim = Sim::start(scenario)?;
    // The runner fills `github-token` from its default, `${{ github.token }}`.
    if let Some((_, token)) = sim
        .env()
        .into_iter()
        .find(|(name, _)| name == "GITHUB_TOKEN")
    {
        inputs.entry("github-token".to_string()).or_insert(token);
    }

    println!("Rehearsing {scenario_path} with {}", binary.display());
    let mut command = Command::new(&binary);
    command.env_clear().current_dir(job.workspace());
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(sim.env()).envs(job.runner_env()).envs(
        inputs
            .iter()
            .map(|(name, value)| (input_variable(name), value)),
    );
    let status = command.status().with_context(|| {
        format!(
            "cannot run {} (build it with `cargo build`, or pass --ecs-deploy PATH)",
            binary.display()
        )
    })?;

    print_section("Step outputs", &job.read("file_commands/output"));
    print_section("Step summary", &job.read("file_commands/summary"));
    print_section("Simulator calls", &call_counts(&sim));
    println!("ecs-deploy exited with {status}");
    Ok(status.code().unwrap_or(1))
}

/// The runner's variable for an input: INPUT_ + the name upper-cased with
/// spaces turned into underscores, hyphens kept.
fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
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

fn print_section(title: &str, text: &str) {
    println!("---- {title} ----");
    if text.trim().is_empty() {
        println!("(none)");
    } else {
        println!("{}", text.trim_end());
    }
}

fn call_counts(sim: &Sim) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for call in sim.calls() {
        *counts
            .entry(format!("{} {}", call.service, call.operation))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(operation, count)| format!("{count:>4}  {operation}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The runner's directories for one job, removed when the rehearsal ends.
struct JobDirectory {
    root: PathBuf,
}

impl JobDirectory {
    fn create() -> anyhow::Result<JobDirectory> {
        let root =
            std::env::temp_dir().join(format!("ecs-deploy-rehearsal-{}", std::process::id()));
        for sub in ["workspace", "temp", "file_commands", "home"] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("cannot create {}", root.join(sub).display()))?;
        }
        Ok(JobDirectory { root })
    }

    fn workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }

    fn path(&self, relative: &str) -> String {
        self.root.join(relative).display().to_string()
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(Path::new(&self.path(relative))).unwrap_or_default()
    }

    fn runner_env(&self) -> Vec<(String, String)> {
        [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", self.path("workspace")),
            ("RUNNER_TEMP", self.path("temp")),
            ("GITHUB_OUTPUT", self.path("file_commands/output")),
            ("GITHUB_STEP_SUMMARY", self.path("file_commands/summary")),
            ("GITHUB_ENV", self.path("file_commands/env")),
            ("GITHUB_STATE", self.path("file_commands/state")),
            // Keeps the caller's AWS configuration files out of the rehearsal.
            ("AWS_CONFIG_FILE", self.path("home/aws-config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path("home/aws-credentials"),
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }
}

impl Drop for JobDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
