//! The `rehearse` subcommand runs a binary the way the GitHub runner runs
//! the action: inputs as INPUT_* variables, file commands, the simulator's
//! environment and nothing of the caller's AWS configuration.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

/// Stands in for ecs-deploy: shows what it was given, writes an output and
/// a summary, and fails with a code of its own.
const FAKE_ECS_DEPLOY: &str = r####"#!/bin/sh
echo "service=$INPUT_SERVICE image=$INPUT_IMAGE"
echo "endpoint=$AWS_ENDPOINT_URL"
echo "profile=${AWS_PROFILE:-none}"
cat task-def.json
echo "task-definition-arn=arn:aws:ecs:eu-west-1:111122223333:task-definition/app:2" >> "$GITHUB_OUTPUT"
echo "### Deployed" >> "$GITHUB_STEP_SUMMARY"
exit 3
"####;

#[test]
fn runs_the_binary_as_the_runner_would_and_reports_what_it_left() {
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

    let output = Command::new(env!("CARGO_BIN_EXE_ecs-deploy-sim"))
        .arg("rehearse")
        .arg(&scenario)
        .arg("--ecs-deploy")
        .arg(&fake)
        .env("AWS_PROFILE", "production")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("service=web image=app:2"), "{stdout}");
    assert!(stdout.contains("endpoint=http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("profile=none"), "{stdout}");
    assert!(stdout.contains(r#"{"family": "app"}"#), "{stdout}");
    assert!(
        stdout.contains("task-definition-arn=arn:aws:ecs:eu-west-1"),
        "{stdout}"
    );
    assert!(stdout.contains("### Deployed"), "{stdout}");
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
