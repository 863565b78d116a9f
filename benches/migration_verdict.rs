//! How long after the migration task reaches STOPPED its verdict reaches the
//! step log (the issue's bound: 3 seconds). Runs the binary against the
//! simulator several times and compares the moment the verdict line is read
//! from its stdout with the task's stoppedAt. `cargo bench --bench
//! migration_verdict`; exits 1 when a run is over the bound.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecs_deploy::inputs::env_var_name;
use ecs_deploy_sim::{Scenario, Sim};

const RUNS: usize = 5;
const BOUND: Duration = Duration::from_secs(3);

const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - name: web
        image: "shop:1"
        logConfiguration: {logDriver: awslogs, options: {awslogs-group: /ecs/shop, awslogs-stream-prefix: ecs}}
timelines:
  tasks:
    - {family: shop, seconds: 3, exitCode: 1, logs: [one, two, three]}
"#;

/// Seconds from the task's STOPPED to the verdict line in the log.
fn one_run() -> f64 {
    let sim = Sim::start(Scenario::from_yaml(SCENARIO).expect("scenario")).expect("simulator");
    let temp = tempfile::tempdir().expect("temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deploy"))
        .env_clear()
        .envs(sim.env())
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_TEMP", temp.path())
        .env(env_var_name("cluster"), "prod")
        .env(env_var_name("task-definition"), "shop")
        .env(env_var_name("migration-command"), "migrate")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ecs-deploy starts");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let verdict_read_at = stdout
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with("::error::migration failed"))
        .map(|_| SystemTime::now())
        .expect("a verdict line");
    child.wait().expect("ecs-deploy ends");
    let stopped_at = sim.tasks()[0]["stoppedAt"]
        .as_f64()
        .expect("the task stopped");
    let read_at = verdict_read_at
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    read_at - stopped_at
}

fn main() {
    let mut latencies: Vec<f64> = (0..RUNS).map(|_| one_run()).collect();
    latencies.sort_by(f64::total_cmp);
    let max = latencies[RUNS - 1];
    println!(
        "migration verdict after STOPPED: min {:.2}s, median {:.2}s, max {max:.2}s ({RUNS} runs, bound {}s)",
        latencies[0],
        latencies[RUNS / 2],
        BOUND.as_secs()
    );
    if max > BOUND.as_secs_f64() {
        std::process::exit(1);
    }
}
