//! ECS Express Mode services, deployed with UpdateExpressGatewayService and
//! judged like any service, against the shipped express scenarios.

use crate::common;

use std::path::Path;

use common::{Job, Run};
use ecs_deploy_sim::{Scenario, Sim};

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

/// The shipped scenario `name`, with `timelines` added to its timelines.
fn scenario(name: &str, timelines: &str) -> Sim {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sim/scenarios/{name}.yaml"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("timelines:\n", &format!("timelines:\n{timelines}"));
    Sim::start(Scenario::from_yaml(&text).unwrap()).unwrap()
}

fn deploy(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "Main"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
    ];
    inputs.extend_from_slice(extra);
    Job::new(Some(sim)).run(&inputs)
}

#[test]
fn an_express_service_is_deployed_through_its_own_api_and_reports_its_endpoint() {
    let sim = scenario("express-ok", "");
    let run = deploy(
        &sim,
        &[("environment", "production"), ("github-token", "ghs_token")],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(sim.calls_to("UpdateService").is_empty());
    let updates = sim.calls_to("UpdateExpressGatewayService");
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].body["taskDefinitionArn"],
        format!("{ARN}/shop-web:2")
    );
    assert_eq!(
        updates[0].body["serviceArn"],
        "arn:aws:ecs:us-east-1:123456789012:service/prod/shop-web"
    );
    // The canary's stages, as for any native strategy.
    assert!(
        run.stdout
            .contains("shop-web: stage CLEAN_UP; new revision gets 100% of production"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout.contains("✔ shop-web: deployment "),
        "{}",
        run.log()
    );
    let endpoint = "https://shop-web-5f2a9c.ecs.us-east-1.on.aws";
    assert_eq!(run.outputs["express-endpoint"], endpoint);
    let deployment = sim.github_deployments().pop().unwrap();
    let statuses = deployment["statuses"].as_array().unwrap();
    let success = statuses.iter().find(|s| s["state"] == "success").unwrap();
    assert_eq!(success["environment_url"], endpoint);
}

#[test]
fn an_alarm_rollback_fails_naming_the_revision_it_went_back_to() {
    let sim = scenario("express-rollback", "");
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run
        .stdout
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap();
    assert!(error.contains("shop-web:1"), "{error}");
    assert!(error.contains("shop-web-express-5xx"), "{error}");
}

#[test]
fn a_definition_express_mode_cannot_run_is_refused_before_anything_changes() {
    let sim = scenario("express-ok", "");
    let run = Job::new(Some(&sim))
        .file(
            "td.json",
            r#"{"family": "shop-web", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
                "containerDefinitions": [{"name": "web", "image": "shop:2", "portMappings": [{"containerPort": 8080, "name": "http"}]}]}"#,
        )
        .run(&[
            ("cluster", "prod"),
            ("service", "shop-web"),
            ("task-definition", "td.json"),
        ]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::task definition shop-web cannot run Express service shop-web: it has no container named Main, the one Express Mode sends traffic to"),
        "{}",
        run.log()
    );
    for mutating in [
        "RegisterTaskDefinition",
        "UpdateExpressGatewayService",
        "RunTask",
    ] {
        assert!(sim.calls_to(mutating).is_empty(), "{mutating}");
    }
}

#[test]
fn a_migration_runs_before_the_express_deploy() {
    let sim = scenario(
        "express-ok",
        "  tasks:\n    - {family: shop-web, outcome: exit, exitCode: 0, seconds: 0.5, logs: [\"migrated\"]}\n",
    );
    let run = deploy(&sim, &[("migration-command", "bin/rails db:migrate")]);
    assert_eq!(run.code, 0, "{}", run.log());
    let calls = sim.calls();
    let position = |operation: &str| calls.iter().position(|c| c.operation == operation).unwrap();
    assert!(position("RunTask") < position("UpdateExpressGatewayService"));
    let run_task = &sim.calls_to("RunTask")[0].body;
    assert_eq!(
        run_task["overrides"]["containerOverrides"][0]["name"],
        "Main"
    );
    assert!(run.stdout.contains("migrated"), "{}", run.log());
}

#[test]
fn deploy_options_express_mode_does_not_take_are_refused_before_anything_changes() {
    let sim = scenario("express-ok", "");
    let run = deploy(&sim, &[("desired-count", "4")]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::desired-count does not apply to Express service shop-web: Express Mode deploys only the task definition; remove desired-count"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("RegisterTaskDefinition").is_empty());
}
