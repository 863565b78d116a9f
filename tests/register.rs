//! Rendering and registration, end to end: the binary against the simulator.

use crate::common;

use common::{sim, Job};
use serde_json::{json, Value};

const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    cpu: "256"
    memory: "512"
    containerDefinitions:
      - {name: web, image: "shop:1", essential: true, environment: [{name: MODE, value: web}]}
      - {name: worker, image: "shop:1", command: [bin/worker]}
    tags: [{key: team, value: shop}]
services:
  - cluster: prod
    serviceName: shop-web
    taskDefinition: shop:1
    desiredCount: 2
    launchType: FARGATE
s3Objects:
  - bucket: infra
    key: ecs/shop.yaml
    body: |
      family: shop
      containerDefinitions:
        - name: web
          image: placeholder
"#;

const TEMPLATE: &str = r#"{
  "family": "shop",
  "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:9",
  "revision": 9,
  "status": "ACTIVE",
  "registeredAt": "2026-01-01T00:00:00Z",
  "enableFaultInjection": true,
  "containerDefinitions": [{"name": "web", "image": "placeholder", "healthCheck": null}]
}"#;

fn ecs_operations(sim: &ecs_deploy_sim::Sim) -> Vec<String> {
    sim.calls()
        .into_iter()
        .filter(|call| call.service == "ecs")
        .map(|call| call.operation)
        .collect()
}

#[test]
fn a_file_template_is_registered_with_every_member_as_given() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).file("td.json", TEMPLATE).run(&[
        ("task-definition", "td.json"),
        ("container-name", "web"),
        ("image", "shop:2"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());

    let registered = sim.task_definitions();
    assert_eq!(registered.len(), 1);
    let body = &registered[0];
    // A member the typed SDK shapes may lag behind reaches ECS as given.
    assert_eq!(body["enableFaultInjection"], json!(true));
    assert_eq!(
        body["containerDefinitions"][0],
        json!({"name": "web", "image": "shop:2"})
    );
    for key in ["taskDefinitionArn", "revision", "status", "registeredAt"] {
        assert!(body.get(key).is_none(), "{key} sent");
    }
    assert_eq!(ecs_operations(&sim), ["RegisterTaskDefinition"]);

    assert_eq!(
        run.outputs["task-definition-arn"],
        "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"
    );
    let rendered: Value =
        serde_json::from_str(&std::fs::read_to_string(&run.outputs["task-definition"]).unwrap())
            .unwrap();
    assert_eq!(&rendered, body);
    assert!(
        run.summary.contains("| Task definition | [`shop:2`](https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/shop/2/containers?region=us-east-1) |"),
        "{}",
        run.summary
    );
}

#[test]
fn an_s3_yaml_template_is_read_and_registered() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("task-definition", "s3://infra/ecs/shop.yaml"),
        ("image", "shop:3"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        sim.task_definitions()[0]["containerDefinitions"][0]["image"],
        "shop:3"
    );
    assert_eq!(sim.calls_to("GetObject").len(), 1);
}

#[test]
fn a_family_template_keeps_its_tags() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("task-definition", "shop"),
        ("images", "web=shop:4\nworker=shop-worker:4"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    let body = &sim.task_definitions()[0];
    assert_eq!(body["tags"], json!([{"key": "team", "value": "shop"}]));
    assert_eq!(body["containerDefinitions"][1]["image"], "shop-worker:4");
    assert_eq!(
        body["containerDefinitions"][1]["command"],
        json!(["bin/worker"])
    );
    assert!(body.get("compatibilities").is_none() && body.get("requiresAttributes").is_none());
    assert!(
        run.log()
            .contains("image of container web: shop:1 → shop:4"),
        "{}",
        run.log()
    );
}

#[test]
fn the_services_current_definition_is_the_default_template() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "shop:5"),
        ("environment-variables", "MODE=api\nNEW=1"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    let body = &sim.task_definitions()[0];
    assert_eq!(body["containerDefinitions"][0]["image"], "shop:5");
    assert_eq!(
        body["containerDefinitions"][0]["environment"],
        json!([{"name": "MODE", "value": "api"}, {"name": "NEW", "value": "1"}])
    );
    let log = run.log();
    assert!(log.contains("::group::Changes against arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1 (3 changed)"), "{log}");
    assert!(log.contains("environment of container web: + NEW"), "{log}");
    assert!(log.contains("✔ shop-web: deployment ecs-svc/"), "{log}");
    assert!(
        run.summary.contains("| Service `shop-web` | [`shop:1`](https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/shop/1/containers?region=us-east-1) → [`shop:2`]("),
        "{}",
        run.summary
    );
}

#[test]
fn a_dry_run_changes_nothing_and_shows_the_diff() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "shop:6"),
        ("dry-run", "true"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        ecs_operations(&sim),
        ["DescribeServices", "DescribeTaskDefinition"]
    );
    assert!(sim.task_definitions().is_empty());
    assert!(run.outputs.contains_key("task-definition"));
    assert!(!run.outputs.contains_key("task-definition-arn"));
    let log = run.log();
    // The changes first, then the rendered JSON, folded; then the service
    // it would move.
    let changes = log.find("image of container web: shop:1 → shop:6");
    let rendered = log.find("::group::Rendered task definition shop\n{");
    assert!(
        changes.is_some() && rendered.is_some() && changes < rendered,
        "{log}"
    );
    assert!(
        log.contains("\nDry run: would deploy a new revision of shop to service shop-web in cluster prod (now shop:1)\n"),
        "{log}"
    );
    assert!(
        run.summary.contains("not registered (dry run)"),
        "{}",
        run.summary
    );
}

#[test]
fn a_dry_run_of_a_local_file_needs_no_aws_at_all() {
    // No simulator, no credentials, no region: nothing may reach for AWS.
    let run = Job::new(None)
        .file(
            "td.yaml",
            "family: shop\ncontainerDefinitions:\n  - name: web\n    image: x\n",
        )
        .run(&[
            ("task-definition", "td.yaml"),
            ("image", "shop:7"),
            ("dry-run", "TRUE"),
        ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(run.log().contains("\"image\": \"shop:7\""), "{}", run.log());
}

/// Without a region or credentials the run stops before its first call with
/// one error that says what to set, not the SDK's "dispatch failure".
#[test]
fn no_region_or_no_credentials_is_one_error_that_says_what_to_set() {
    let job = || {
        Job::new(None)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .file(
                "td.json",
                r#"{"family": "shop", "containerDefinitions": [{"name": "web", "image": "x"}]}"#,
            )
    };
    let inputs = [
        ("task-definition", "td.json"),
        ("image", "shop:7"),
        ("cluster", "prod"),
        ("service", "shop-web"),
    ];
    let cases = [
        (
            job()
                .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
                .env("AWS_SECRET_ACCESS_KEY", "secret"),
            "No AWS region is set: set AWS_REGION (aws-actions/configure-aws-credentials sets it from its aws-region input) or AWS_DEFAULT_REGION before this step.",
        ),
        (
            job().env("AWS_REGION", "eu-west-1"),
            "No AWS credentials were found: run aws-actions/configure-aws-credentials before this step (role-to-assume with OIDC needs `permissions: id-token: write`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. The SDK looked in the environment, the profile files, a web identity token, and the ECS and EC2 metadata endpoints.",
        ),
    ];
    for (job, expected) in cases {
        let run = job.run(&inputs);
        assert_eq!(run.code, 1, "{}", run.log());
        let errors = run.error_lines();
        assert_eq!(errors.len(), 1, "{}", run.log());
        assert!(
            errors[0].ends_with(expected),
            "{}\nexpected it to end with: {expected}",
            errors[0]
        );
    }
}

/// Failures that happen before anything is changed: exit 1, one actionable
/// message, and no mutating call.
#[test]
fn failures_name_what_failed_and_register_nothing() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("task-definition", "s3://infra/missing.json")],
            "::error::failed to load the task definition template s3://infra/missing.json: failed to read s3://infra/missing.json: NoSuchKey: ",
        ),
        (
            &[("task-definition", "s3://nobucket/td.json")],
            "failed to read s3://nobucket/td.json: NoSuchBucket: ",
        ),
        (
            &[("task-definition", "shop:42")],
            "::error::failed to load the task definition template shop:42: failed to describe task definition shop:42: ClientException: Unable to describe task definition. (check the family or ARN",
        ),
        (
            &[("cluster", "nope"), ("service", "shop-web")],
            "::error::failed to describe service shop-web in cluster nope: ClusterNotFoundException: ",
        ),
        (
            &[("task-definition", "missing.json")],
            "::error::failed to load the task definition template missing.json: cannot read file missing.json",
        ),
        (
            &[("task-definition", "shop"), ("container-name", "api"), ("image", "x")],
            "::error::failed to render the task definition shop: container \"api\" is not in task definition shop; its containers are: web, worker",
        ),
    ];
    for (inputs, expected) in cases {
        let sim = sim(SCENARIO);
        let run = Job::new(Some(&sim)).run(inputs);
        assert_eq!(run.code, 1, "{inputs:?}: {}", run.log());
        assert!(
            run.log().contains(expected),
            "{inputs:?}: expected {expected:?} in\n{}",
            run.log()
        );
        assert!(sim.task_definitions().is_empty(), "{inputs:?} registered");
    }
}

#[test]
fn a_malformed_template_is_annotated_at_its_line_and_column() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim))
        .file("td.json", "{\n  \"family\": \"shop\"\n  \"cpu\": 1\n}")
        .run(&[("task-definition", "td.json")]);
    assert_eq!(run.code, 1);
    assert!(
        run.log().contains("::error file=td.json,line=3,col=3::failed to load the task definition template td.json: td.json is not valid JSON: expected `,` or `}` (line 3, column 3)"),
        "{}",
        run.log()
    );
    assert!(sim.calls().is_empty());
}

#[test]
fn invalid_inputs_stop_before_any_aws_call() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("service", "shop-web"),
        ("dry-run", "yes"),
        ("images", "web"),
    ]);
    assert_eq!(run.code, 1);
    let log = run.log();
    assert!(
        log.contains("::error::invalid input images: line 1 is not of the form container=image"),
        "{log}"
    );
    assert!(
        log.contains("::error::invalid input dry-run: \"yes\" is not a boolean"),
        "{log}"
    );
    assert!(sim.calls().is_empty());
}

#[test]
fn a_misspelled_input_stops_the_run_before_any_aws_call_naming_the_input_meant() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim))
        .file(
            "td.json",
            r#"{"family": "shop", "containerDefinitions": [{"name": "web", "image": "shop:1"}]}"#,
        )
        .run_with_defaults(&[
            ("cluster", "prod"),
            ("service", "shop-web"),
            ("container-name", "web"),
            ("image", "shop:2"),
            ("task-defintion", "td.json"),
            ("colour", "blue"),
        ]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert_eq!(
        run.error_lines(),
        [
            "::error::invalid input INPUT_COLOUR: names no input of ecs-deploy, so its value would be ignored; the inputs are listed in action.yml",
            "::error::invalid input INPUT_TASK-DEFINTION: names no input of ecs-deploy, so its value would be ignored; did you mean task-definition?",
        ],
        "{}",
        run.log()
    );
    assert!(sim.calls().is_empty(), "{:?}", sim.calls());
}

#[test]
fn the_github_token_is_masked_before_anything_else() {
    let run = Job::new(None)
        .file(
            "td.json",
            r#"{"family": "a", "containerDefinitions": [{"name": "a"}]}"#,
        )
        .run(&[
            ("task-definition", "td.json"),
            ("dry-run", "true"),
            ("github-token", "ghs_secret123"),
        ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.starts_with("::add-mask::ghs_secret123\n"),
        "{}",
        run.stdout
    );
    assert_eq!(run.log().matches("ghs_secret123").count(), 1);
}

#[test]
fn each_output_has_its_own_random_delimiter() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim))
        .file("td.json", TEMPLATE)
        .run(&[("task-definition", "td.json"), ("image", "shop:8")]);
    assert_eq!(run.code, 0, "{}", run.log());
    let output =
        std::fs::read_to_string(run.workspace.parent().unwrap().join("file_commands/output"))
            .unwrap();
    let delimiters: Vec<&str> = output
        .lines()
        .filter_map(|l| l.split_once("<<").map(|(_, d)| d))
        .collect();
    assert_eq!(delimiters.len(), 2);
    assert_ne!(delimiters[0], delimiters[1]);
}

#[test]
fn a_malformed_secret_line_is_named_by_its_number_never_shown() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim)).run(&[
        ("service", "shop-web"),
        (
            "environment-variables",
            "RAILS_ENV=production\nDB_PASSWORD: hunter2",
        ),
        (
            "secrets",
            "API_KEY arn:aws:ssm:us-east-1:123456789012:parameter/api-key-s3cr3t",
        ),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains(
            "::error::invalid input environment-variables: line 2 is not of the form NAME=value"
        ),
        "{log}"
    );
    assert!(
        log.contains("::error::invalid input secrets: line 1 is not of the form NAME=valueFrom"),
        "{log}"
    );
    assert!(!log.contains("hunter2") && !log.contains("s3cr3t"), "{log}");
    assert!(
        sim.calls().is_empty(),
        "no AWS call before the inputs are accepted"
    );
}
