//! The `rehearse` subcommand runs a binary the way the GitHub runner runs
//! the action (every input of action.yml as an INPUT_* variable, file
//! commands, the simulator's environment and nothing of the caller's AWS
//! configuration) and shows what the Actions UI would.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

/// Stands in for ecs-deploy: shows what it was given, speaks the runner's
/// protocol, writes outputs and a summary, and fails with a code of its own.
const FAKE_ECS_DEPLOY: &str = r####"#!/bin/bash
# bash, not sh: dash drops variables whose names hold a hyphen.
echo "::add-mask::$(printenv INPUT_GITHUB-TOKEN)"
echo "::group::Given"
echo "service=$INPUT_SERVICE image=$INPUT_IMAGE cluster=$INPUT_CLUSTER"
case "$AWS_ENDPOINT_URL" in http://127.0.0.1:*) echo "endpoint=simulator" ;; esac
echo "profile=${AWS_PROFILE:-none} GITHUB_TOKEN=${GITHUB_TOKEN:-none}"
echo "token=$(printenv INPUT_GITHUB-TOKEN)"
echo "::endgroup::"
cat task-def.json; echo
echo "::stop-commands::ghadelimiter_1"
echo "::error::relayed as printed"
echo "::ghadelimiter_1::"
echo "::warning file=task-def.json,line=1,col=2::not 100%25 sure%0Asecond line" >&2
echo "::debug::not shown"
echo "task-definition-arn=arn:aws:ecs:eu-west-1:111122223333:task-definition/app:2" >> "$GITHUB_OUTPUT"
printf 'note<<EOF\nfirst\nsecond\nEOF\n' >> "$GITHUB_OUTPUT"
echo "### Deployed" >> "$GITHUB_STEP_SUMMARY"
exit 3
"####;

#[test]
fn runs_the_binary_as_the_runner_would_and_shows_what_the_ui_would() {
    let dir = std::env::temp_dir().join(format!(
        "ecs-deploy-sim-rehearse-test-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("ecs-deploy");
    std::fs::write(&fake, FAKE_ECS_DEPLOY).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let scenario = dir.join("scenario.yaml");
    std::fs::write(
        &scenario,
        r#"
region: eu-west-1
rehearsal:
  inputs: {service: web, image: "app:2"}
  files: {task-def.json: '{"family": "app"}'}
"#,
    )
    .unwrap();
    let job = dir.join("job");

    let output = Command::new(env!("CARGO_BIN_EXE_ecs-deploy-sim"))
        .arg("rehearse")
        .arg(&scenario)
        .arg("--ecs-deploy")
        .arg(&fake)
        .arg("--job-dir")
        .arg(&job)
        .env("AWS_PROFILE", "production")
        .output()
        .unwrap();
    let summary = std::fs::read_to_string(job.join("file_commands/summary"));
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    let shown: Vec<&str> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("The step's log"))
        .skip(1)
        .take_while(|line| !line.starts_with("---- Simulator calls"))
        .collect();
    let summary_line = format!(
        "1 lines of Markdown in {} (GITHUB_STEP_SUMMARY), shown on the run's summary page",
        job.join("file_commands/summary").display()
    );
    assert_eq!(
        shown,
        [
            "▸ Given",
            "  service=web image=app:2 cluster=default",
            "  endpoint=simulator",
            "  profile=none GITHUB_TOKEN=none",
            "  token=***",
            r#"{"family": "app"}"#,
            "::stop-commands::ghadelimiter_1",
            "::error::relayed as printed",
            "::ghadelimiter_1::",
            "Warning: not 100% sure",
            "second line",
            "---- Annotations (listed on the run's page) ----",
            "Warning at task-def.json#L1: not 100% sure",
            "  second line",
            "---- Step outputs ----",
            "task-definition-arn = arn:aws:ecs:eu-west-1:111122223333:task-definition/app:2",
            "note = first",
            "    second",
            "---- Job summary ----",
            &summary_line,
        ],
        "{stdout}"
    );
    assert_eq!(summary.unwrap(), "### Deployed\n");
    assert!(
        stdout.ends_with("ecs-deploy exited with exit status: 3\n"),
        "{stdout}"
    );
}

#[test]
fn lists_the_scenarios_with_their_descriptions() {
    let dir = std::env::temp_dir().join(format!(
        "ecs-deploy-sim-scenarios-test-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("b-long-name.yaml"), "description: Second\n").unwrap();
    std::fs::write(dir.join("a.yaml"), "description: First\n").unwrap();
    std::fs::write(dir.join("c.yaml"), "region: eu-west-1\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a scenario").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-deploy-sim"))
        .arg("scenarios")
        .arg(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "a            First\nb-long-name  Second\nc            (no description)\n"
    );
}
