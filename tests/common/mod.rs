//! Runs the compiled ecs-deploy binary the way the runner does: inputs as
//! INPUT_* variables, file commands in a temporary directory, and AWS and
//! GitHub pointed at the simulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ecs_deploy::inputs::{env_var_name, InputDefault, INPUTS};
use ecs_deploy_sim::{Scenario, Sim};

pub fn sim(yaml: &str) -> Sim {
    Sim::start(Scenario::from_yaml(yaml).expect("scenario parses")).expect("simulator starts")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub workspace: PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    /// Everything the step printed.
    pub fn log(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A workspace with the given files, ready to run the action in.
pub struct Job {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Job {
    pub fn new(sim: Option<&Sim>) -> Job {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["workspace", "temp", "file_commands"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let path = |sub: &str| dir.path().join(sub).display().to_string();
        let mut env = vec![
            ("GITHUB_ACTIONS".to_owned(), "true".to_owned()),
            ("GITHUB_WORKSPACE".to_owned(), path("workspace")),
            ("RUNNER_TEMP".to_owned(), path("temp")),
            ("GITHUB_OUTPUT".to_owned(), path("file_commands/output")),
            (
                "GITHUB_STEP_SUMMARY".to_owned(),
                path("file_commands/summary"),
            ),
        ];
        if let Some(sim) = sim {
            env.extend(sim.env());
        }
        Job { dir, env }
    }

    /// Where the workspace files are (GITHUB_WORKSPACE).
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    pub fn file(self, name: &str, text: &str) -> Job {
        std::fs::write(self.dir.path().join("workspace").join(name), text).unwrap();
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Job {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs the action with these inputs, as the runner passes them.
    pub fn run(self, inputs: &[(&str, &str)]) -> Run {
        self.start(inputs).finish()
    }

    /// Runs the action as the runner does for a `with:` block: every input
    /// action.yml declares is set, to its default or empty, then the given
    /// ones.
    pub fn run_with_defaults(self, with: &[(&str, &str)]) -> Run {
        let mut inputs: Vec<(&str, &str)> = INPUTS
            .iter()
            .map(|spec| match spec.default {
                InputDefault::None => (spec.name, ""),
                InputDefault::Value(value) => (spec.name, value),
                // `${{ github.token }}`
                InputDefault::Expression(_) => (spec.name, "ghs_runner_token"),
            })
            .collect();
        inputs.extend_from_slice(with);
        self.run(&inputs)
    }

    /// Starts the action and returns at once, so that a test can act on it
    /// (signal it) while it runs.
    pub fn start(self, inputs: &[(&str, &str)]) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-deploy"));
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in inputs {
            command.env(env_var_name(name), value);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        Running {
            child: command.spawn().expect("ecs-deploy starts"),
            job: self,
        }
    }
}

pub struct Running {
    child: Child,
    job: Job,
}

impl Running {
    /// Sends a signal the way the runner cancels a job ("INT", "TERM").
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    pub fn finish(self) -> Run {
        let output = self.child.wait_with_output().expect("ecs-deploy ends");
        let dir = self.job.dir;
        let file_commands = dir.path().join("file_commands");
        Run {
            code: output.status.code().expect("exited"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
            outputs: parse_output_file(&file_commands.join("output")),
            summary: std::fs::read_to_string(file_commands.join("summary")).unwrap_or_default(),
            workspace: dir.path().join("workspace"),
            _dir: dir,
        }
    }
}

/// A client of the simulator from the SDK crate `$sdk` (`aws_sdk_ecs`,
/// `aws_sdk_scheduler`, ...), for what happens outside the step: a second
/// workflow, a person at the console.
#[macro_export]
macro_rules! sim_client {
    ($sdk:ident, $sim:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .endpoint_url($sim.aws_endpoint())
                .region($sdk::config::Region::new("us-east-1"))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDEXAMPLE",
                    "secret",
                    None,
                    None,
                    "test",
                ))
                .build(),
        )
    };
}

pub fn ecs_client(sim: &Sim) -> aws_sdk_ecs::Client {
    sim_client!(aws_sdk_ecs, sim)
}

impl Run {
    /// The error annotations the step wrote, as the runner reads them.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.starts_with("::error"))
            .collect()
    }

    /// The lines of the step's log group `title`.
    pub fn group_lines(&self, title: &str) -> Vec<String> {
        let open = format!("::group::{title}\n");
        let start = self
            .stdout
            .find(&open)
            .unwrap_or_else(|| panic!("no {title} group\n{}", self.log()))
            + open.len();
        let end = start + self.stdout[start..].find("::endgroup::").unwrap();
        self.stdout[start..end].lines().map(str::to_owned).collect()
    }
}

/// Parses GITHUB_OUTPUT as the runner does: `name=value` lines, or
/// `name<<DELIMITER`, value lines, and the delimiter alone on a line.
pub fn parse_output_file(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut outputs = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let heredoc = line
            .find("<<")
            .filter(|&i| line.find('=').is_none_or(|eq| i < eq));
        match heredoc {
            Some(i) => {
                let (name, delimiter) = (&line[..i], &line[i + 2..]);
                let mut value = Vec::new();
                loop {
                    let next = lines
                        .next()
                        .unwrap_or_else(|| panic!("no delimiter for output {name}"));
                    if next == delimiter {
                        break;
                    }
                    value.push(next);
                }
                outputs.insert(name.to_owned(), value.join("\n"));
            }
            None => {
                let (name, value) = line.split_once('=').expect("name=value");
                outputs.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    outputs
}

/// The bars of the Mermaid gantt chart in a summary, as (section, name,
/// tag), after checking each line against the part of Mermaid's gantt
/// grammar that ecs-deploy writes: the header lines, `section <name>`, and
/// `<name> :<done|crit>, <start ms>, <end ms>` (an end after its start) or
/// `<name> :<done|crit>, milestone, <ms>, 0d`, with a name that holds no
/// `:`, `#`, `;` or `%`. Panics on anything
/// else, and when there is not exactly one chart.
pub fn gantt_bars(summary: &str) -> Vec<(String, String, String)> {
    let charts: Vec<&str> = summary.split("```mermaid\n").skip(1).collect();
    assert_eq!(charts.len(), 1, "one chart in\n{summary}");
    let chart = charts[0].split("\n```").next().unwrap();
    let mut lines = chart.lines();
    assert_eq!(lines.next(), Some("gantt"));
    assert_eq!(lines.next(), Some("    dateFormat x"));
    let axis = lines.next().unwrap();
    assert!(
        ["    axisFormat %H:%M:%S", "    axisFormat %H:%M"].contains(&axis),
        "{axis}"
    );
    let tick = lines
        .next()
        .unwrap()
        .strip_prefix("    tickInterval ")
        .unwrap();
    let unit = tick.trim_start_matches(|c: char| c.is_ascii_digit());
    assert!(
        tick.len() > unit.len() && ["second", "minute"].contains(&unit),
        "{tick}"
    );
    assert_eq!(lines.next(), Some("    todayMarker off"));
    let valid_name = |name: &str| {
        !name.is_empty() && name == name.trim() && !name.contains([':', '#', ';', '%', '<', '>'])
    };
    let mut section = None;
    let mut bars = Vec::new();
    for line in lines {
        let line = line.strip_prefix("    ").expect("indented");
        if let Some(name) = line.strip_prefix("section ") {
            assert!(valid_name(name), "section {name:?}");
            section = Some(name.to_owned());
            continue;
        }
        let (name, rest) = line.split_once(" :").expect("a task line");
        assert!(valid_name(name), "task {name:?}");
        let fields: Vec<&str> = rest.split(", ").collect();
        let tag = match fields.as_slice() {
            [tag, start, end] => {
                let (start, end): (u64, u64) = (start.parse().unwrap(), end.parse().unwrap());
                assert!(start < end, "{line}");
                tag
            }
            [tag, "milestone", start, "0d"] => {
                start.parse::<u64>().unwrap();
                tag
            }
            _ => panic!("task {line:?}"),
        };
        assert!(["done", "crit"].contains(tag), "{line}");
        let section = section.clone().expect("a task inside a section");
        bars.push((section, name.to_owned(), (*tag).to_owned()));
    }
    bars
}

/// A run that moves service web of cluster prod to image shop:2 in its
/// container web, with the `extra` inputs.
pub fn deploy_web(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![
        ("cluster", "prod"),
        ("service", "web"),
        ("container-name", "web"),
        ("image", "shop:2"),
    ];
    inputs.extend_from_slice(extra);
    Job::new(Some(sim)).run(&inputs)
}

/// The revision (`family:revision`) service `name` runs now.
pub fn running_revision(sim: &Sim, name: &str) -> String {
    sim.services()
        .into_iter()
        .find(|s| s["serviceName"] == name)
        .expect("service exists")["taskDefinition"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// The states of a GitHub deployment's statuses, oldest first.
pub fn status_states(deployment: &serde_json::Value) -> Vec<String> {
    let mut states: Vec<String> = deployment["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|status| status["state"].as_str().unwrap().to_owned())
        .collect();
    states.reverse();
    states
}
