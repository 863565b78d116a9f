//! The `serve` subcommand: prints the environment, then `ready`, then serves.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

#[test]
fn prints_the_environment_then_ready_and_serves() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/minimal.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-deploy-sim"))
        .args(["serve", scenario])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut env = std::collections::HashMap::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        let (key, value) = line.split_once('=').expect("KEY=VALUE line");
        env.insert(key.to_string(), value.to_string());
    }
    for key in [
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_API_URL",
        "GITHUB_REPOSITORY",
    ] {
        assert!(env.contains_key(key), "{key} missing from {env:?}");
    }
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert!(env["GITHUB_API_URL"].ends_with("/api/v3"));
    let response = reqwest::blocking::Client::new()
        .post(&env["AWS_ENDPOINT_URL"])
        .header(
            "x-amz-target",
            "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
        )
        .body(r#"{"taskDefinition": "app"}"#)
        .send()
        .unwrap();
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(
        body["taskDefinition"]["taskDefinitionArn"],
        "arn:aws:ecs:eu-west-1:111122223333:task-definition/app:1"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
