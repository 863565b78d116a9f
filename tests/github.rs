//! GitHub deployments and statuses, end to end: the binary against the
//! simulator's GitHub API.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{sim, status_states, Job, Run};
use ecs_deploy_sim::Sim;
use serde_json::{json, Value};

const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - {name: web, image: "shop:1", essential: true}
services:
  - {cluster: prod, serviceName: shop-web, taskDefinition: shop:1}
"#;

const TOKEN: &str = "ghs_simulator";
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const CREATE: &str = "POST /repos/{owner}/{repo}/deployments";
const LIST: &str = "GET /repos/{owner}/{repo}/deployments";
const STATUS: &str = "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses";

fn inputs<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut inputs = vec![
        ("task-definition", "shop"),
        ("image", "shop:2"),
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("environment", "staging"),
        ("environment-url", "https://staging.shop.example"),
        ("github-token", TOKEN),
    ];
    inputs.extend_from_slice(extra);
    inputs
}

fn scenario_with_faults(faults: &str) -> Sim {
    sim(&format!("{SCENARIO}faults:\n{faults}"))
}

fn only_deployment(sim: &Sim) -> Value {
    let deployments = sim.github_deployments();
    assert_eq!(deployments.len(), 1, "{deployments:#?}");
    deployments.into_iter().next().unwrap()
}

/// The token may appear only in the command that asks the runner to mask it.
fn assert_token_hidden(run: &Run) {
    for line in run.log().lines().filter(|line| line.contains(TOKEN)) {
        assert_eq!(line, format!("::add-mask::{TOKEN}"), "token printed");
    }
}

#[test]
fn a_created_deployment_goes_in_progress_then_success() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());

    let create = &sim.calls_to(CREATE)[0].body;
    assert_eq!(
        create,
        &json!({
            "ref": SHA,
            "task": "deploy",
            "auto_merge": false,
            "required_contexts": [],
            "environment": "staging",
            "description": "ecs-deploy: shop-web on prod",
            "payload": {
                "cluster": "prod",
                "services": ["shop-web"],
                "images": ["shop:2"],
                "ecs_deploy_request_id": create["payload"]["ecs_deploy_request_id"],
            },
        })
    );
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "success"]);
    let success = &deployment["statuses"][0];
    let server = sim
        .env()
        .into_iter()
        .find(|(k, _)| k == "GITHUB_SERVER_URL");
    assert_eq!(
        success["log_url"],
        format!("{}/acme/shop/actions/runs/1/attempts/1", server.unwrap().1)
    );
    assert_eq!(success["environment_url"], "https://staging.shop.example");
    assert_eq!(success["description"], "Deployed shop-web on prod");
    assert_eq!(deployment["statuses"][1]["environment_url"], "");

    // The GitHub statuses frame every change in AWS: the deployment is
    // in progress before the register and ends after the last look.
    let calls = sim.calls();
    let first_change = calls
        .iter()
        .position(|c| c.operation == "RegisterTaskDefinition")
        .unwrap();
    let last_aws = calls.iter().rposition(|c| c.service == "ecs").unwrap();
    assert_eq!(calls[first_change - 1].service, "github");
    assert_eq!(calls[last_aws + 1].service, "github");

    assert_eq!(
        run.outputs["github-deployment-id"],
        deployment["id"].to_string()
    );
    assert!(run.outputs.contains_key("task-definition-arn"));
    assert!(
        run.summary
            .contains("| GitHub deployment | 1001 to [staging]("),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(": `success` |"), "{}", run.summary);
    assert_token_hidden(&run);
}

#[test]
fn an_aws_error_after_the_create_is_reported_as_error() {
    let sim = scenario_with_faults(
        "  - {service: ecs, operation: RegisterTaskDefinition, kind: accessDenied}\n",
    );
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 1, "{}", run.log());
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "error"]);
    let description = deployment["statuses"][0]["description"].as_str().unwrap();
    assert!(
        description
            .starts_with("ecs-deploy could not finish: failed to register task definition shop"),
        "{description}"
    );
    assert!(description.chars().count() <= 140, "{description}");
    // Outputs set before the failure are kept.
    assert_eq!(run.outputs["github-deployment-id"], "1001");
    assert!(
        run.summary
            .contains("**⚠️ ecs-deploy could not finish**: failed to register"),
        "{}",
        run.summary
    );
    assert_token_hidden(&run);
}

#[test]
fn what_fails_before_anything_changes_creates_no_github_deployment() {
    for (input, value) in [
        ("task-definition", "no-such-family"),
        ("service", "no-such-service"),
    ] {
        let sim = sim(SCENARIO);
        let run = Job::new(Some(&sim)).run(&inputs(&[(input, value)]));
        assert_eq!(run.code, 1, "{input}: {}", run.log());
        assert!(
            sim.github_deployments().is_empty(),
            "{input}: a deployment was created"
        );
        assert!(sim.calls_to(CREATE).is_empty(), "{input}");
        assert!(!run.outputs.contains_key("github-deployment-id"), "{input}");
    }
}

/// Creates a deployment as another workflow or ChatOps would, and returns its id.
fn create_deployment_directly(sim: &Sim, environment: &str) -> u64 {
    let api = sim.github_api_url();
    let authority = api.strip_prefix("http://").unwrap();
    let body =
        json!({"ref": "main", "environment": environment, "required_contexts": []}).to_string();
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST /repos/acme/shop/deployments HTTP/1.1\r\nHost: {authority}\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    serde_json::from_str::<Value>(body).unwrap()["id"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_deployment_event_is_adopted_not_duplicated() {
    let sim = sim(SCENARIO);
    let id = create_deployment_directly(&sim, "staging");
    let event =
        json!({"deployment": {"id": id, "environment": "staging", "ref": "main", "sha": SHA}});
    let job = Job::new(Some(&sim)).file("event.json", &event.to_string());
    let event_path = job.workspace().join("event.json");
    let run = job
        .env("GITHUB_EVENT_NAME", "deployment")
        .env("GITHUB_EVENT_PATH", event_path.to_str().unwrap())
        .run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to(CREATE).len(), 1, "only the event's create");
    let deployment = only_deployment(&sim);
    assert_eq!(deployment["id"], id);
    assert_eq!(status_states(&deployment), ["in_progress", "success"]);
    assert_eq!(run.outputs["github-deployment-id"], id.to_string());
}

#[test]
fn a_token_without_permission_warns_and_the_deployment_goes_on() {
    let sim = scenario_with_faults("  - {service: github, kind: accessDenied, always: true}\n");
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("::warning::")
            && run.stdout.contains("permissions: deployments: write"),
        "{}",
        run.log()
    );
    assert_eq!(sim.task_definitions().len(), 1, "AWS work went on");
    assert!(sim.github_deployments().is_empty());
    assert_eq!(sim.calls_to(CREATE).len(), 1, "a 403 is not retried");
    assert!(!run.outputs.contains_key("github-deployment-id"));
}

#[test]
fn a_status_refused_for_permission_stops_reporting_but_not_the_deployment() {
    let sim = scenario_with_faults(&format!(
        "  - {{service: github, operation: \"{STATUS}\", kind: accessDenied, always: true}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("permissions: deployments: write"),
        "{}",
        run.log()
    );
    assert_eq!(sim.calls_to(STATUS).len(), 1, "no status after a 403");
    assert_eq!(sim.task_definitions().len(), 1);
}

#[test]
fn refused_creates_stop_before_any_aws_change_with_a_clear_message() {
    let cases = [
        ("conflict", "GitHub refused the deployment of 0123456789abcdef0123456789abcdef01234567 to staging (409 Conflict: Conflict: Commit status checks failed for main.)"),
        ("unprocessable", "GitHub rejected the deployment of 0123456789abcdef0123456789abcdef01234567 to staging (422 Validation Failed): check that ref names a branch, tag or commit"),
        ("autoMerged", "it merged the default branch into 0123456789abcdef0123456789abcdef01234567 instead (Auto-merged main into the deployed ref on deployment.)"),
    ];
    for (kind, message) in cases {
        let sim = scenario_with_faults(&format!(
            "  - {{service: github, operation: \"{CREATE}\", kind: {kind}}}\n"
        ));
        let run = Job::new(Some(&sim)).run(&inputs(&[]));
        assert_eq!(run.code, 1, "{kind}: {}", run.log());
        assert!(run.stdout.contains("::error::"), "{kind}: {}", run.log());
        assert!(run.stdout.contains(message), "{kind}: {}", run.log());
        assert!(
            sim.task_definitions().is_empty() && sim.calls_to("UpdateService").is_empty(),
            "{kind}: AWS was changed"
        );
        assert_eq!(sim.calls_to(CREATE).len(), 1, "{kind}: retried");
    }
}

#[test]
fn a_failed_create_is_looked_up_before_it_is_tried_again() {
    let sim = scenario_with_faults(&format!(
        "  - {{service: github, operation: \"{CREATE}\", kind: serverError}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    let github: Vec<String> = sim
        .calls()
        .into_iter()
        .filter(|call| call.service == "github")
        .map(|call| call.operation)
        .collect();
    assert_eq!(github, [CREATE, LIST, CREATE, STATUS, STATUS]);
    assert_eq!(sim.calls_to(LIST)[0].body["environment"], "staging");
    assert_eq!(
        status_states(&only_deployment(&sim)),
        ["in_progress", "success"]
    );
}

#[test]
fn a_create_whose_answer_was_lost_is_found_not_repeated() {
    let sim = scenario_with_faults(&format!(
        "  - {{service: github, operation: \"{CREATE}\", kind: dropAfter}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    let github: Vec<String> = sim
        .calls()
        .into_iter()
        .filter(|call| call.service == "github")
        .map(|call| call.operation)
        .collect();
    assert_eq!(github, [CREATE, LIST, STATUS, STATUS]);
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "success"]);
    assert_eq!(
        run.outputs["github-deployment-id"],
        deployment["id"].to_string()
    );
}

#[test]
fn a_github_5xx_on_a_status_is_retried() {
    let sim = scenario_with_faults(&format!(
        "  - {{service: github, operation: \"{STATUS}\", kind: serverError, skip: 1}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to(STATUS).len(), 3);
    assert_eq!(
        status_states(&only_deployment(&sim)),
        ["in_progress", "success"]
    );
    assert!(!run.stdout.contains("::warning::"), "{}", run.log());
}

#[test]
fn github_down_never_fails_the_aws_deployment() {
    let sim = scenario_with_faults("  - {service: github, kind: serverError, always: true}\n");
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(
            "::warning::GitHub deployment not created (GitHub answered 502: Server Error)"
        ),
        "{}",
        run.log()
    );
    assert_eq!(sim.task_definitions().len(), 1);
    assert!(sim.calls_to(STATUS).is_empty());
}

#[test]
fn statuses_github_did_not_take_are_warned_about_and_the_run_succeeds() {
    let sim = scenario_with_faults(&format!(
        "  - {{service: github, operation: \"{STATUS}\", kind: serverError, always: true}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to(STATUS).len(), 6, "three attempts per status");
    assert!(
        run.stdout.contains("::warning::GitHub deployment 1001: the success status was not reported (GitHub answered 502: Server Error)"),
        "{}",
        run.log()
    );
    assert!(
        run.summary
            .contains("(not reported: GitHub did not answer)"),
        "{}",
        run.summary
    );
}

#[test]
fn a_ghes_api_url_keeps_its_path_prefix() {
    let sim = sim(&format!("{SCENARIO}github: {{pathPrefix: /api/v3}}\n"));
    assert!(sim.github_api_url().ends_with("/api/v3"));
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        status_states(&only_deployment(&sim)),
        ["in_progress", "success"]
    );
}

#[test]
fn a_dry_run_creates_no_deployment() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&inputs(&[("dry-run", "true")]));
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(sim.calls().iter().all(|call| call.service != "github"));
    assert!(run
        .stdout
        .contains("no GitHub deployment to staging was created"));
}

#[test]
fn a_circuit_breaker_rollback_is_reported_as_failure() {
    let sim = sim(r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - cluster: prod
    serviceName: shop-web
    taskDefinition: shop:1
    desiredCount: 2
    deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}
timelines:
  deployments:
    - {cluster: prod, service: shop-web, outcome: tasksFail, seconds: 0.2}
"#);
    let run = Job::new(Some(&sim)).run(&inputs(&[]));
    assert_eq!(run.code, 1, "{}", run.log());
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "failure"]);
    let description = deployment["statuses"][0]["description"].as_str().unwrap();
    assert!(
        description
            .starts_with("Failed: deployment failed: service shop-web: ECS rolled back to shop:1"),
        "{description}"
    );
    assert!(description.chars().count() <= 140, "{description}");
    assert!(
        run.summary.contains("| Result | ❌ failed |"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(": `failure` |"), "{}", run.summary);
}

#[test]
fn a_cancelled_run_reports_failure() {
    let sim = sim(&format!(
        "{SCENARIO}timelines:\n  deployments:\n    - {{cluster: prod, service: shop-web, seconds: 60}}\n"
    ));
    let running = Job::new(Some(&sim)).start(&inputs(&[]));
    // The rollout has started: the deployment is in progress and polled.
    assert!(sim.wait_until(std::time::Duration::from_secs(20), |sim| sim
        .calls_to("DescribeServices")
        .len()
        >= 2));
    running.signal("TERM");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "failure"]);
    let description = deployment["statuses"][0]["description"].as_str().unwrap();
    assert!(
        description.starts_with("Failed: cancelled by SIGTERM: ECS deployment ecs-svc/"),
        "{description}"
    );
    assert!(run.summary.contains(": `failure` |"), "{}", run.summary);
}

#[test]
fn a_failed_migration_is_reported_as_failure_and_nothing_is_deployed() {
    let sim = sim(&format!(
        "{SCENARIO}timelines:\n  tasks:\n    - {{family: shop, seconds: 0.2, exitCode: 1}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&inputs(&[("migration-command", "bin/rails db:migrate")]));
    assert_eq!(run.code, 1, "{}", run.log());
    let deployment = only_deployment(&sim);
    assert_eq!(status_states(&deployment), ["in_progress", "failure"]);
    let description = deployment["statuses"][0]["description"].as_str().unwrap();
    assert!(
        description.starts_with("Failed: migration failed"),
        "{description}"
    );
    assert!(description.chars().count() <= 140, "{description}");
    assert!(
        sim.calls_to("UpdateService").is_empty(),
        "deployed after a failed migration"
    );
}
