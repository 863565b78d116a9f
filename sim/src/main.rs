//! `ecs-deploy-sim serve <scenario> [--port N]`: serves a scenario on
//! 127.0.0.1 and prints the environment a client needs.
//! `ecs-deploy-sim rehearse <scenario> [--ecs-deploy PATH | --image IMAGE]`:
//! runs ecs-deploy against it as the GitHub runner would.
//! `ecs-deploy-sim scenarios <directory>`: lists the scenarios there.

mod actions_log;
mod rehearse;

use std::io::Write as _;

use anyhow::{bail, Context as _};
use ecs_deploy_sim::{Scenario, ServiceModels, Sim};

const USAGE: &str = "usage: ecs-deploy-sim serve <scenario.yaml> [--port N]\n\
  Serves AWS (ECS, CodeDeploy, Logs, S3) on port N (default: ephemeral) and\n\
  GitHub on port N+1, prints KEY=VALUE lines, then `ready`, and serves until killed.\n\
usage: ecs-deploy-sim rehearse <scenario.yaml> [--ecs-deploy PATH | --image IMAGE] [--job-dir DIR]\n\
  Runs ecs-deploy (default: the one built next to this binary; with --image,\n\
  that container image through `docker run`) against the scenario with its\n\
  `rehearsal` inputs, as the GitHub runner would, shows what the Actions UI\n\
  would, and exits with its exit code. The job's files stay in DIR (default:\n\
  ecs-deploy-rehearsal/<scenario> in the temp directory).\n\
usage: ecs-deploy-sim scenarios <directory>\n\
  Lists the scenarios in the directory, each with its description.";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("rehearse") => std::process::exit(rehearse::rehearse(&args[1..])?),
        Some("scenarios") => list_scenarios(args.get(1).with_context(|| USAGE.to_string())?),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

/// The AWS service models; without them a person running the simulator by
/// hand gets a one-line notice and requests go unchecked (the tests, through
/// `Sim::start`, insist on them).
fn models_or_notice() -> Option<std::sync::Arc<ServiceModels>> {
    match ServiceModels::load() {
        Ok(models) => Some(models),
        Err(error) => {
            eprintln!(
                "ecs-deploy-sim: requests are not checked against the AWS service models: {error:#}"
            );
            None
        }
    }
}

/// Each `*.yaml` in `directory`, by name, with its description.
fn list_scenarios(directory: &str) -> anyhow::Result<()> {
    let mut scenarios = Vec::new();
    for entry in std::fs::read_dir(directory).with_context(|| format!("cannot read {directory}"))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "yaml")
        {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let description = Scenario::from_file(&path)?
                .description
                .unwrap_or_else(|| "(no description)".to_string());
            scenarios.push((name, description));
        }
    }
    scenarios.sort();
    let width = scenarios
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    for (name, description) in scenarios {
        println!("{name:width$}  {description}");
    }
    Ok(())
}

fn serve(args: &[String]) -> anyhow::Result<()> {
    let mut scenario_path = None;
    let mut port: u16 = 0;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                let value = rest.next().context("--port needs a value")?;
                port = value.parse().with_context(|| format!("bad port {value}"))?;
            }
            path if scenario_path.is_none() => scenario_path = Some(path.to_string()),
            other => bail!("unexpected argument {other}\n{USAGE}"),
        }
    }
    let scenario_path = scenario_path.with_context(|| USAGE.to_string())?;
    let scenario = Scenario::from_file(&scenario_path)?;
    let github_port = if port == 0 {
        0
    } else {
        port.checked_add(1).context("port too high")?
    };
    let sim = Sim::start_with(scenario, port, github_port, models_or_notice())?;
    let mut stdout = std::io::stdout().lock();
    for (key, value) in sim.env() {
        writeln!(stdout, "{key}={value}")?;
    }
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    drop(stdout);
    // Serves on the simulator's own thread until the process is killed.
    loop {
        std::thread::park();
    }
}
