//! `ecs-deploy-sim rehearse <scenario>`: runs the real ecs-deploy binary
//! against the simulator the way the GitHub runner runs the action, and
//! shows what the Actions log, the step outputs and the summary would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context as _};
use ecs_deploy_sim::{JobDirectory, Scenario, Sim};

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
    let job = JobDirectory::create("rehearsal")?;
    for (name, content) in &scenario.rehearsal.files {
        let path = job.path("workspace").join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut inputs = scenario.rehearsal.inputs.clone();
    let sim = Sim::start_with(scenario, 0, 0, crate::models_or_notice())?;
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
    command.env_clear().current_dir(job.path("workspace"));
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
