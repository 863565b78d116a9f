//! Whole-run snapshots, one per deployment kind and one of a dry run: the
//! binary runs a shipped scenario (sim/scenarios/) with the scenario's
//! rehearsal inputs (the dry run adds `dry-run`), and the
//! whole step log, the step outputs and the job summary must equal the
//! files under tests/snapshots/ line for line, so that a line printed
//! twice, lost, reordered or reworded fails, not only a missing substring.
//!
//! After a deliberate change of what the step prints, rewrite the files with
//!
//!     UPDATE_SNAPSHOTS=1 cargo test --test it snapshots
//!
//! and read the diff of tests/snapshots/ before committing it.
//!
//! Only what differs from one run to the next is replaced, token by token,
//! never a whole line (see `normalise`): the random stop-commands token, the
//! job's temporary directory, the random suffix of the rendered task
//! definition's file, and the elapsed times of the summary. The simulator's
//! ids (deployments, tasks, CodeDeploy) come from a seeded generator and
//! stay as they are.
//!
//! The polls come when `poll::Schedule` says, from what each saw (the first
//! 2.4 s after the start of the wait), and the scenarios' timelines put
//! every change the step reports at least 0.2 s after the poll before the
//! one that sees it; a poll can only come late (each one sleeps after the
//! previous one), never early: on a mismatch the simulator's calls are
//! printed with their times, to tell a slow machine from a change of
//! behaviour.

use crate::common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{Job, Run};
use ecs_deploy_sim::{Scenario, Sim};

/// One test per deployment kind: `test: "kind" from "scenario", exit code`,
/// or `from "scenario" with [(input, value), ...]` for inputs besides the
/// scenario's own.
macro_rules! snapshot_tests {
    ($($test:ident: $kind:literal from $scenario:literal $(with [$($input:expr),+])?, exit $code:literal;)*) => {
        $(
            #[test]
            fn $test() {
                assert_run_matches_snapshots($kind, $scenario, &[$($($input),+)?], $code);
            }
        )*
    };
}

snapshot_tests! {
    rolling_success: "rolling-success" from "deploy-ok", exit 0;
    circuit_breaker_rollback: "circuit-breaker-rollback" from "circuit-breaker", exit 1;
    crash_loop_stopped_at_the_failed_task_threshold: "crash-loop" from "crash-loop", exit 1;
    codedeploy_success: "codedeploy-success" from "codedeploy-ok", exit 0;
    codedeploy_failure: "codedeploy-failure" from "codedeploy-fails", exit 1;
    migration_failure: "migration-failure" from "migration-fails", exit 1;
    dry_run: "dry-run" from "deploy-ok" with [("dry-run", "true")], exit 0;
}

/// Runs sim/scenarios/`scenario`.yaml and compares the step log, outputs
/// and summary with tests/snapshots/`kind`.{log,outputs,summary.md}, and
/// the exit code with `exit_code`; panics with every difference.
fn assert_run_matches_snapshots(
    kind: &str,
    scenario: &str,
    extra: &[(&str, &str)],
    exit_code: i32,
) {
    let (sim, run) = run_scenario(scenario, extra);
    // The timeline must be a chart Mermaid reads; its bars are in the snapshot.
    common::gantt_bars(&run.summary);
    let mut differences = Vec::new();
    if run.code != exit_code {
        differences.push(format!("exit code {}, expected {exit_code}", run.code));
    }
    let actual = [
        ("log", run.log()),
        ("outputs", outputs_text(&run.outputs)),
        ("summary.md", run.summary.clone()),
    ];
    for (extension, text) in actual {
        let path = snapshot_dir().join(format!("{kind}.{extension}"));
        if let Err(difference) = compare_with_snapshot(&path, &normalise(&text, &run)) {
            differences.push(difference);
        }
    }
    assert!(
        differences.is_empty(),
        "{kind} ({scenario}) differs from its snapshots; after a deliberate change, \
         rerun with UPDATE_SNAPSHOTS=1 and review the files\n\n{}\n\
         simulator calls (seconds since it started):\n{}",
        differences.join("\n"),
        call_times(&sim)
    );
}

/// The scenario run as the rehearsal runs it: its `rehearsal.inputs` with
/// `extra`, plus the `github-token` the runner fills from its default.
fn run_scenario(scenario: &str, extra: &[(&str, &str)]) -> (Sim, Run) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sim/scenarios")
        .join(format!("{scenario}.yaml"));
    let scenario = Scenario::from_file(&path).expect("scenario parses");
    assert!(
        scenario.rehearsal.files.is_empty(),
        "{}: rehearsal files are not written by this test",
        path.display()
    );
    let mut inputs = scenario.rehearsal.inputs.clone();
    inputs.extend(
        extra
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    let sim = Sim::start(scenario).expect("simulator starts");
    let (_, token) = sim
        .env()
        .into_iter()
        .find(|(name, _)| name == "GITHUB_TOKEN")
        .expect("the simulator gives a token");
    inputs.entry("github-token".to_owned()).or_insert(token);
    let inputs: Vec<(&str, &str)> = inputs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let run = Job::new(Some(&sim)).run(&inputs);
    (sim, run)
}

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// One `name=value` line per output, in name order.
fn outputs_text(outputs: &BTreeMap<String, String>) -> String {
    outputs
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect()
}

/// `text` with what differs from run to run replaced by a placeholder:
/// exact strings this run produced, and the numbers of the summary's Time
/// row. Lines are never dropped or merged.
fn normalise(text: &str, run: &Run) -> String {
    let mut text = text.to_owned();
    // Workflow commands are stopped around relayed task logs with a random
    // token, one per block.
    let tokens: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("::stop-commands::"))
        .map(str::to_owned)
        .collect();
    for (n, token) in tokens.iter().enumerate() {
        text = text.replace(token, &format!("<stop-commands token {}>", n + 1));
    }
    // Files written to RUNNER_TEMP (the rendered task definition) end in a
    // random suffix: `task-definition-shop-Ab3dE5gH.json`.
    let job = run.workspace.parent().expect("the job directory");
    for name in random_file_names(&job.join("temp")) {
        text = text.replace(&name, &without_random_suffix(&name));
    }
    // Each job has a fresh temporary directory.
    text = text.replace(&job.display().to_string(), "<job>");
    without_times(&text)
}

/// The summary's step times, the deploy time's figures (its log line, its
/// table's rows, the `timings` output) and the timeline's wall-clock times
/// replaced.
fn without_times(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if let Some(times) = line.strip_prefix("| Time | ") {
                format!("| Time | {}", without_seconds(times))
            } else if let Some(json) = line.strip_prefix("timings=") {
                format!("timings={}\n", without_json_times(json))
            } else if line.starts_with("Deploy time of ") || line.ends_with(" s |\n") {
                without_seconds(line)
            } else {
                without_timestamps(line)
            }
        })
        .collect()
}

/// The `timings` output with each moment and duration as `"<n>"`.
fn without_json_times(json: &str) -> String {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, member) in members.iter_mut() {
                    if ["startedAt", "seconds", "costSeconds"].contains(&key.as_str()) {
                        *member = serde_json::Value::from("<n>");
                    } else {
                        walk(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value: serde_json::Value = serde_json::from_str(json).expect("timings is JSON");
    walk(&mut value);
    value.to_string()
}

/// The names in `dir` that end in `-` and 8 random letters or digits
/// before the extension.
fn random_file_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| without_random_suffix(name) != *name)
        .collect()
}

/// `task-definition-shop-Ab3dE5gH.json` → `task-definition-shop-<random>.json`;
/// any other name as it is.
fn without_random_suffix(name: &str) -> String {
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return name.to_owned();
    };
    match stem.rsplit_once('-') {
        Some((head, suffix))
            if suffix.len() == 8 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!("{head}-<random>.{extension}")
        }
        _ => name.to_owned(),
    }
}

/// A timeline bar's wall-clock times in milliseconds
/// (`    render :done, 1795980503097, 1795980503121`, or a milestone's
/// `:crit, milestone, 1795980503097, 0d`) as `<times>`.
fn without_timestamps(line: &str) -> String {
    match line.split_once(" :") {
        Some((name, rest)) if line.starts_with("    ") && rest.contains(", ") => {
            let tag = rest.split(", ").next().unwrap_or_default();
            // Whether a bar took no time at all (a milestone) is timing too.
            format!("{name} :{tag}, <times>\n")
        }
        _ => line.to_owned(),
    }
}

/// `render 0.1 s · deploy 4.0 s |` → `render <n> s · deploy <n> s |`: each
/// number of a `<number> s` pair, the labels and separators kept.
fn without_seconds(times: &str) -> String {
    let words: Vec<&str> = times.split(' ').collect();
    words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            let unit = words
                .get(i + 1)
                .map(|w| w.trim_end_matches(['.', ',', '\n']));
            let is_seconds = unit == Some("s") && word.parse::<f64>().is_ok();
            if is_seconds {
                "<n>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ok when `actual` equals the file at `path`; with UPDATE_SNAPSHOTS=1,
/// writes `actual` there instead. Err: what differs, line by line.
fn compare_with_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "cannot read {}: {error}; UPDATE_SNAPSHOTS=1 writes it from this run:\n{actual}",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "{} (- expected, + actual; line numbers of each):\n{}",
        path.display(),
        line_diff(&expected, actual)
    ))
}

/// Every line of both texts, aligned on their longest common subsequence:
/// `expected-line actual-line   text` for a line in both, `-` for one only
/// in `expected`, `+` for one only in `actual`.
fn line_diff(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.split('\n').collect();
    let actual: Vec<&str> = actual.split('\n').collect();
    // common[i][j]: the longest common subsequence of expected[i..] and actual[j..].
    let mut common = vec![vec![0usize; actual.len() + 1]; expected.len() + 1];
    for i in (0..expected.len()).rev() {
        for j in (0..actual.len()).rev() {
            common[i][j] = if expected[i] == actual[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut diff = String::new();
    while i < expected.len() || j < actual.len() {
        if i < expected.len() && j < actual.len() && expected[i] == actual[j] {
            writeln!(diff, "{:>4} {:>4}   {}", i + 1, j + 1, expected[i]).unwrap();
            (i, j) = (i + 1, j + 1);
        } else if i < expected.len() && (j == actual.len() || common[i + 1][j] >= common[i][j + 1])
        {
            writeln!(diff, "{:>4}      - {}", i + 1, expected[i]).unwrap();
            i += 1;
        } else {
            writeln!(diff, "     {:>4} + {}", j + 1, actual[j]).unwrap();
            j += 1;
        }
    }
    diff
}

fn call_times(sim: &Sim) -> String {
    sim.calls()
        .iter()
        .map(|call| {
            format!(
                "{:>9.3} {} {}\n",
                call.at.as_secs_f64(),
                call.service,
                call.operation
            )
        })
        .collect()
}

#[test]
fn the_diff_shows_a_duplicated_line_once_as_added_and_a_lost_line_as_removed() {
    let expected = "started\nprogress\ndone\n";
    let actual = "started\nstarted\ndone\n";
    let diff = [
        "   1    1   started",
        "   2      - progress",
        "        2 + started",
        "   3    3   done",
        "   4    4   ",
    ];
    assert_eq!(line_diff(expected, actual), diff.join("\n") + "\n");
}

#[test]
fn only_the_numbers_of_the_time_row_are_replaced() {
    assert_eq!(
        without_seconds("render 0.1 s · register 0.0 s · deploy 12.3 s |\n"),
        "render <n> s · register <n> s · deploy <n> s |\n"
    );
    assert_eq!(
        without_random_suffix("task-definition-shop-Ab3dE5gH.json"),
        "task-definition-shop-<random>.json"
    );
    assert_eq!(
        without_random_suffix("task-definition-shop.json"),
        "task-definition-shop.json"
    );
}

/// The README's example summary is the rehearsal of the circuit-breaker
/// scenario (scripts/readme-summary writes it): the same as that run's
/// snapshot, but for the times.
#[test]
fn the_readmes_example_summary_is_the_circuit_breaker_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = readme
        .split("<!-- example-summary -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /example-summary -->").next())
        .expect("README has the example summary between its markers");
    let snapshot =
        std::fs::read_to_string(snapshot_dir().join("circuit-breaker-rollback.summary.md"))
            .unwrap();
    assert_eq!(
        without_times(example).trim_end(),
        snapshot.trim_end(),
        "run scripts/readme-summary after a change of the summary"
    );
    common::gantt_bars(example);
}
