//! How GitHub's runner runs a container action (actions/runner's
//! `ContainerActionHandler`, its `docker run` as the step log shows it):
//! every input action.yml declares as an `INPUT_` variable, the job's
//! folders mounted under /github, the file commands it reads back. The
//! rehearsal and the benchmark share it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context as _};

/// The action's declaration, as the runner reads it from the repository.
pub const ACTION_YML: &str = include_str!("../../action.yml");

/// The job's folders (`JobDirectory`) and where the runner mounts each.
pub const MOUNTS: [(&str, &str); 5] = [
    ("temp", "/github/runner_temp"),
    ("home", "/github/home"),
    ("workflow", "/github/workflow"),
    ("file_commands", "/github/file_commands"),
    ("workspace", "/github/workspace"),
];

/// The value of each input as the runner passes it: the step's `with:`
/// value, else action.yml's default, else empty, for every input action.yml
/// declares; a `with:` value it does not declare is passed too (the runner
/// only warns about it). `${{ github.token }}` is the one expression a
/// default may hold.
pub fn inputs(
    action_yml: &str,
    with: &BTreeMap<String, String>,
    github_token: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Action {
        inputs: BTreeMap<String, Input>,
    }
    #[derive(serde::Deserialize)]
    struct Input {
        default: Option<String>,
    }
    let action: Action = serde_yaml_ng::from_str(action_yml).context("invalid action.yml")?;
    let mut values = with.clone();
    for (name, input) in action.inputs {
        let default = match input.default.as_deref() {
            Some("${{ github.token }}") => github_token.to_string(),
            Some(expression) if expression.contains("${{") => {
                bail!("the default of input {name}, {expression}, is not an expression the rehearsal evaluates")
            }
            default => default.unwrap_or_default().to_string(),
        };
        values.entry(name).or_insert(default);
    }
    Ok(values)
}

/// The runner's variable for an input: INPUT_ + the name upper-cased with
/// spaces turned into underscores, hyphens kept.
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// The step outputs in a GITHUB_OUTPUT file, in the order written (a name
/// set again keeps its place and takes the new value): `name=value` lines,
/// or `name<<DELIMITER`, the value's lines, and `DELIMITER` alone on a line
/// (actions/runner's `SetOutputFileCommand`).
pub fn outputs(file: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut lines = file.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        let (name, value) = match (equals, heredoc) {
            (Some(equals), heredoc) if heredoc.is_none_or(|heredoc| equals < heredoc) => {
                (&line[..equals], line[equals + 1..].to_string())
            }
            (_, Some(heredoc)) => {
                let delimiter = &line[heredoc + 2..];
                let mut value = Vec::new();
                loop {
                    match lines.next() {
                        Some(line) if line == delimiter => break,
                        Some(line) => value.push(line),
                        None => bail!(
                            "GITHUB_OUTPUT: no line {delimiter} ends the value of {}",
                            &line[..heredoc]
                        ),
                    }
                }
                (&line[..heredoc], value.join("\n"))
            }
            _ => bail!("GITHUB_OUTPUT: {line:?} is neither name=value nor name<<DELIMITER"),
        };
        match outputs.iter_mut().find(|(known, _)| known == name) {
            Some((_, known)) => *known = value,
            None => outputs.push((name.to_string(), value)),
        }
    }
    Ok(outputs)
}

/// A path in the job directory as the container sees it; other values as
/// they are (the runner translates every variable's value this way).
pub fn container_value(job_root: &Path, value: &str) -> String {
    for (folder, mount) in MOUNTS {
        let host = job_root.join(folder).display().to_string();
        if let Some(rest) = value.strip_prefix(&host) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{mount}{rest}");
            }
        }
    }
    value.to_string()
}

/// `docker run`'s arguments as the runner gives them: the variables by name
/// only (their values come from the client's environment), GITHUB_ACTIONS
/// and CI, the Docker socket and the job's folders mounted, the workspace
/// as working directory, no `-t`, `--init` or `--user`. One addition: the
/// host's network, where the simulator listens on 127.0.0.1 (on GitHub the
/// container reaches AWS and GitHub through the internet).
pub fn docker_run_arguments(
    container_name: &str,
    variables: &[&str],
    job_root: &Path,
    image: &str,
) -> Vec<String> {
    let mut arguments: Vec<String> = [
        "run",
        "--name",
        container_name,
        "--workdir",
        "/github/workspace",
        "--rm",
    ]
    .map(String::from)
    .to_vec();
    for name in variables {
        arguments.extend(["-e".to_string(), name.to_string()]);
    }
    arguments.extend(
        [
            "-e",
            "GITHUB_ACTIONS=true",
            "-e",
            "CI=true",
            "--network",
            "host",
        ]
        .map(String::from),
    );
    arguments.extend(["-v", "/var/run/docker.sock:/var/run/docker.sock"].map(String::from));
    for (folder, mount) in MOUNTS {
        arguments.push("-v".to_string());
        arguments.push(format!("{}:{mount}", job_root.join(folder).display()));
    }
    arguments.push(image.to_string());
    arguments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_input_gets_its_value_or_default_or_empty() {
        let action_yml = r#"
name: x
inputs:
  cluster:
    description: c
    default: "default"
  service:
    description: s
  github-token:
    default: ${{ github.token }}
  wait-for-minutes:
    default: "30"
runs: {using: docker, image: x}
"#;
        let with = BTreeMap::from([
            ("service".to_string(), "web".to_string()),
            ("wait-for-minutes".to_string(), "5".to_string()),
            ("not-declared".to_string(), "kept".to_string()),
        ]);
        let values = inputs(action_yml, &with, "ghs_x").unwrap();
        assert_eq!(
            values.into_iter().collect::<Vec<_>>(),
            [
                ("cluster", "default"),
                ("github-token", "ghs_x"),
                ("not-declared", "kept"),
                ("service", "web"),
                ("wait-for-minutes", "5"),
            ]
            .map(|(name, value)| (name.to_string(), value.to_string()))
        );
        assert_eq!(input_variable("task-definition"), "INPUT_TASK-DEFINITION");
        assert_eq!(input_variable("a b"), "INPUT_A_B");
    }

    #[test]
    fn a_default_with_another_expression_is_refused() {
        let action_yml = "inputs:\n  ref:\n    default: ${{ github.sha }}\n";
        let error = inputs(action_yml, &BTreeMap::new(), "t").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the default of input ref, ${{ github.sha }}, is not an expression the rehearsal evaluates"
        );
    }

    #[test]
    fn the_shipped_action_yml_is_read() {
        let values = inputs(ACTION_YML, &BTreeMap::new(), "ghs_x").unwrap();
        assert_eq!(values["cluster"], "default");
        assert_eq!(values["github-token"], "ghs_x");
        assert_eq!(values["image"], "");
    }

    #[test]
    fn outputs_are_read_in_both_forms() {
        let file = "task-definition-arn<<ghadelimiter_1\narn:aws:ecs:x:1:task-definition/shop:2\nghadelimiter_1\n\
                    plain=a=b<<c\n\
                    multi<<EOF\nline 1\n\nline 3\nEOF\n\
                    empty<<EOF\nEOF\n\
                    plain=again\n";
        assert_eq!(
            outputs(file).unwrap(),
            [
                (
                    "task-definition-arn",
                    "arn:aws:ecs:x:1:task-definition/shop:2"
                ),
                ("plain", "again"),
                ("multi", "line 1\n\nline 3"),
                ("empty", ""),
            ]
            .map(|(name, value)| (name.to_string(), value.to_string()))
        );
    }

    #[test]
    fn a_broken_outputs_file_is_an_error() {
        assert_eq!(
            outputs("name<<EOF\nvalue\n").unwrap_err().to_string(),
            "GITHUB_OUTPUT: no line EOF ends the value of name"
        );
        assert_eq!(
            outputs("just text\n").unwrap_err().to_string(),
            "GITHUB_OUTPUT: \"just text\" is neither name=value nor name<<DELIMITER"
        );
    }

    #[test]
    fn job_paths_become_the_containers() {
        let root = Path::new("/tmp/job");
        assert_eq!(
            container_value(root, "/tmp/job/file_commands/output"),
            "/github/file_commands/output"
        );
        assert_eq!(
            container_value(root, "/tmp/job/temp"),
            "/github/runner_temp"
        );
        assert_eq!(
            container_value(root, "/tmp/job/temporary"),
            "/tmp/job/temporary"
        );
        assert_eq!(
            container_value(root, "http://127.0.0.1:4566"),
            "http://127.0.0.1:4566"
        );
    }

    #[test]
    fn docker_run_is_given_what_the_runner_gives_it() {
        let arguments = docker_run_arguments(
            "ecs-deploy-rehearsal-7",
            &["INPUT_SERVICE", "GITHUB_OUTPUT"],
            Path::new("/tmp/job"),
            "ecs-deploy:ci",
        );
        assert_eq!(
            arguments.join(" "),
            "run --name ecs-deploy-rehearsal-7 --workdir /github/workspace --rm \
             -e INPUT_SERVICE -e GITHUB_OUTPUT -e GITHUB_ACTIONS=true -e CI=true \
             --network host -v /var/run/docker.sock:/var/run/docker.sock \
             -v /tmp/job/temp:/github/runner_temp -v /tmp/job/home:/github/home \
             -v /tmp/job/workflow:/github/workflow \
             -v /tmp/job/file_commands:/github/file_commands \
             -v /tmp/job/workspace:/github/workspace ecs-deploy:ci"
        );
    }
}
