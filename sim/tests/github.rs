//! GitHub's deployments API: deployments, statuses, authentication, and
//! the answers GitHub gives besides 201.

use crate::common;

use common::start;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};

const SCENARIO: &str = r#"
github:
  pathPrefix: /api/v3
  repository: acme/shop
"#;

/// Each fault applies once to creating a deployment, after its skip.
const FAULTS: &str = r#"
faults:
  - {service: github, operation: "POST /repos/{owner}/{repo}/deployments", kind: autoMerged, skip: 2}
  - {service: github, operation: "POST /repos/{owner}/{repo}/deployments", kind: conflict, skip: 3}
  - {service: github, operation: "POST /repos/{owner}/{repo}/deployments", kind: accessDenied, skip: 4}
  - {service: github, operation: "POST /repos/{owner}/{repo}/deployments", kind: serverError, skip: 5}
"#;

fn authorized(request: RequestBuilder) -> RequestBuilder {
    request
        .header("authorization", "Bearer ghs_simulator")
        .header("x-github-api-version", "2022-11-28")
}

fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn creates_deployments_and_statuses() {
    let sim = start(SCENARIO);
    let api = sim.github_api_url();
    assert!(api.ends_with("/api/v3"));
    let client = Client::new();
    let deployments = format!("{api}/repos/acme/shop/deployments");

    let (status, _) = send(client.post(&deployments).json(&json!({"ref": "main"})));
    assert_eq!(status, 401, "an Authorization header is required");

    let create = |environment: &str| {
        send(authorized(client.post(&deployments)).json(&json!({
            "ref": "main",
            "environment": environment,
            "auto_merge": false,
            "required_contexts": [],
            "payload": {"image": "web:2"},
        })))
    };
    let (status, first) = create("production");
    assert_eq!(status, 201);
    let first_id = first["id"].as_u64().unwrap();
    assert_eq!(first["environment"], "production");
    assert_eq!(first["payload"]["image"], "web:2");
    assert!(first["url"].as_str().unwrap().starts_with(&api));

    let statuses = format!("{deployments}/{first_id}/statuses");
    let (status, posted) = send(authorized(client.post(&statuses)).json(&json!({
        "state": "success",
        "log_url": "https://example.test/run/1",
        "description": "Deployed web:2",
    })));
    assert_eq!(status, 201);
    assert_eq!(posted["state"], "success");
    assert_eq!(posted["log_url"], "https://example.test/run/1");

    let (status, second) = create("production");
    assert_eq!(status, 201);
    let second_statuses = format!("{deployments}/{}/statuses", second["id"]);
    let (status, _) =
        send(authorized(client.post(&second_statuses)).json(&json!({"state": "success"})));
    assert_eq!(status, 201);
    let (_, listed) = send(authorized(client.get(&statuses)));
    assert_eq!(
        listed[0]["state"], "inactive",
        "auto_inactive marks the earlier deployment"
    );
    assert_eq!(listed[1]["state"], "success");

    let (status, invalid) =
        send(authorized(client.post(&statuses)).json(&json!({"state": "done"})));
    assert_eq!(status, 422, "{invalid}");
    let (status, _) =
        send(authorized(client.post(&deployments)).json(&json!({"environment": "x"})));
    assert_eq!(status, 422, "ref is required");

    let (_, all) = send(authorized(
        client.get(format!("{deployments}?environment=production")),
    ));
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["id"], second["id"], "newest first");
    let (status, _) = send(authorized(
        client.get(format!("{api}/repos/other/repo/deployments")),
    ));
    assert_eq!(status, 404);

    let operations: Vec<String> = sim
        .calls()
        .into_iter()
        .filter(|call| call.service == "github")
        .map(|call| call.operation)
        .collect();
    assert_eq!(operations[0], "POST /repos/{owner}/{repo}/deployments");
    assert_eq!(operations[1], "POST /repos/{owner}/{repo}/deployments");
    assert_eq!(
        operations[2],
        "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
    );
    assert_eq!(sim.github_deployments().len(), 2);
}

#[test]
fn answers_as_github_does_when_the_scenario_says_so() {
    let sim = start(&format!("{SCENARIO}{FAULTS}"));
    let client = Client::new();
    let deployments = format!("{}/repos/acme/shop/deployments", sim.github_api_url());
    let create = || send(authorized(client.post(&deployments)).json(&json!({"ref": "main"})));
    let statuses: Vec<(u16, Value)> = (0..7).map(|_| create()).collect();
    let codes: Vec<u16> = statuses.iter().map(|(status, _)| *status).collect();
    // The first two are created; each later fault applies once, after its skip.
    assert_eq!(codes, [201, 201, 202, 409, 403, 502, 201]);
    assert!(statuses[2].1["message"]
        .as_str()
        .unwrap()
        .starts_with("Auto-merged"));
    assert!(statuses[2].1.get("id").is_none());
    assert_eq!(
        statuses[4].1["message"],
        "Resource not accessible by integration"
    );
    assert_eq!(sim.github_deployments().len(), 3);
}
