//! The preflight against the simulator: whatever the rendered definition
//! needs and does not exist stops the run before any call that changes
//! something, with every problem named; a check the role may not make is a
//! warning and the deploy goes ahead.

use crate::common;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

const SCENARIO: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1", essential: true}]
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:1}
ecrRepositories:
  - name: shop
    images: [{tags: [v1]}, {tags: [v2, latest]}, {tags: [v3]}]
secrets:
  - {name: shop/db, suffix: AbCdEf}
ssmParameters:
  - {name: /shop/api-key}
logGroups: [/ecs/shop]
s3Objects:
  - {bucket: config, key: shop.env, body: "A=1"}
"#;

/// Everything the template refers to: an ECR image, a secret (with a JSON
/// key), a parameter, an awslogs group and an environment file.
struct Template {
    image: &'static str,
    secret: &'static str,
    parameter: &'static str,
    log_group: &'static str,
    file: &'static str,
}

const PRESENT: Template = Template {
    image: "shop:v3",
    secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db-AbCdEf:url::",
    parameter: "/shop/api-key",
    log_group: "/ecs/shop",
    file: "arn:aws:s3:::config/shop.env",
};

impl Template {
    fn json(&self) -> String {
        serde_json::json!({
            "family": "shop",
            "containerDefinitions": [{
                "name": "web",
                "image": "placeholder",
                "secrets": [
                    {"name": "DB_URL", "valueFrom": self.secret},
                    {"name": "API_KEY", "valueFrom": self.parameter}
                ],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": self.log_group,
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "ecs"
                }},
                "environmentFiles": [{"type": "s3", "value": self.file}]
            }]
        })
        .to_string()
    }
}

fn deploy(sim: &Sim, template: &Template, extra: &[(&str, &str)]) -> Run {
    let image = format!("{REGISTRY}/{}", template.image);
    let mut inputs = vec![
        ("cluster", "prod"),
        ("service", "web"),
        ("task-definition", "td.json"),
        ("container-name", "web"),
        ("image", image.as_str()),
    ];
    inputs.extend_from_slice(extra);
    Job::new(Some(sim))
        .file("td.json", &template.json())
        .run(&inputs)
}

const MUTATING: &[&str] = &[
    "RegisterTaskDefinition",
    "UpdateService",
    "RunTask",
    "CreateDeployment",
];

fn assert_nothing_changed(sim: &Sim, run: &Run) {
    for call in sim.calls() {
        assert!(
            !MUTATING.contains(&call.operation.as_str()) && call.service != "github",
            "{} {} was called\n{}",
            call.service,
            call.operation,
            run.log()
        );
    }
}

/// The run's one error annotation.
fn error(run: &Run) -> String {
    let errors = run.error_lines();
    assert_eq!(errors.len(), 1, "{}", run.log());
    errors[0].replace("%0A", "\n")
}

fn assert_refused(template: &Template, problem: &str) {
    let sim = sim(SCENARIO);
    let run = deploy(&sim, template, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert_nothing_changed(&sim, &run);
    let error = error(&run);
    assert!(
        error.contains("the preflight found 1 problem before anything changed:"),
        "{error}"
    );
    assert!(error.contains(problem), "{problem}\nnot in\n{error}");
}

#[test]
fn everything_present_deploys_after_one_line() {
    let sim = sim(SCENARIO);
    let run = deploy(&sim, &PRESENT, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(
            "Preflight: 1 image, 2 secrets and parameters, 1 log group, 1 environment file checked, all present\n"
        ),
        "{}",
        run.log()
    );
    assert_eq!(sim.calls_to("UpdateService").len(), 1);
    // Values are never read: no GetSecretValue, parameters undecrypted.
    assert!(sim.calls_to("GetSecretValue").is_empty());
    let parameters = sim.calls_to("GetParameters");
    assert_eq!(parameters.len(), 1);
    assert_eq!(parameters[0].body["WithDecryption"], false);
    assert_eq!(
        parameters[0].body["Names"],
        serde_json::json!(["/shop/api-key"])
    );
}

#[test]
fn a_missing_tag_names_the_container_and_the_recent_tags() {
    assert_refused(
        &Template {
            image: "shop:v9",
            ..PRESENT
        },
        &format!("container web, image: image {REGISTRY}/shop:v9 does not exist: repository shop has no tag v9; its most recent tags: v3, v2, latest, v1"),
    );
}

#[test]
fn a_missing_repository_is_named() {
    assert_refused(
        &Template {
            image: "shopp:v3",
            ..PRESENT
        },
        &format!("container web, image: image {REGISTRY}/shopp:v3: repository shopp does not exist in registry 123456789012 (us-east-1)"),
    );
}

#[test]
fn a_missing_secret_is_named() {
    assert_refused(
        &Template {
            secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/dbb-AbCdEf",
            ..PRESENT
        },
        "container web, secret DB_URL: Secrets Manager secret arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/dbb-AbCdEf does not exist",
    );
}

#[test]
fn a_missing_parameter_is_named() {
    assert_refused(
        &Template {
            parameter: "/shop/api-kye",
            ..PRESENT
        },
        "container web, secret API_KEY: SSM parameter /shop/api-kye does not exist",
    );
}

#[test]
fn a_missing_log_group_is_named() {
    assert_refused(
        &Template {
            log_group: "/ecs/shopp",
            ..PRESENT
        },
        "container web, log group: log group /ecs/shopp in us-east-1 does not exist",
    );
}

#[test]
fn a_missing_environment_file_is_named() {
    assert_refused(
        &Template {
            file: "arn:aws:s3:::config/shop.envv",
            ..PRESENT
        },
        "container web, environment file: S3 object s3://config/shop.envv does not exist",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let sim = sim(SCENARIO);
    let run = deploy(
        &sim,
        &Template {
            image: "shop:v9",
            log_group: "/ecs/gone",
            parameter: "/gone",
            ..PRESENT
        },
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    assert_nothing_changed(&sim, &run);
    let error = error(&run);
    assert!(
        error.contains("the preflight found 3 problems before anything changed:"),
        "{error}"
    );
    for thing in [
        format!("{REGISTRY}/shop:v9"),
        "log group /ecs/gone".into(),
        "SSM parameter /gone".into(),
    ] {
        assert!(error.contains(&thing), "{thing} not in {error}");
    }
}

#[test]
fn access_denied_is_a_warning_and_the_deploy_goes_ahead() {
    let sim = sim(&format!(
        "{SCENARIO}faults:\n  - {{service: ecr, operation: DescribeImages, kind: accessDenied, always: true}}\n"
    ));
    // The tag does not exist, but the role may not look.
    let run = deploy(
        &sim,
        &Template {
            image: "shop:v9",
            ..PRESENT
        },
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("::warning::preflight skipped 1 check: the role may not call ecr:DescribeImages (AccessDenied)"),
        "{}",
        run.log()
    );
    assert_eq!(sim.calls_to("UpdateService").len(), 1);
}

/// The lines the preflight wrote: its warnings and its count.
fn preflight_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|line| line.starts_with("Preflight: ") || line.starts_with("::warning::preflight"))
        .collect()
}

#[test]
fn a_check_the_role_may_not_make_is_counted_as_not_checked() {
    let sim = sim(&format!(
        "{SCENARIO}faults:\n  - {{service: logs, operation: DescribeLogGroups, kind: accessDenied, always: true}}\n"
    ));
    let run = deploy(&sim, &PRESENT, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        preflight_lines(&run),
        [
            "::warning::preflight skipped 1 check: the role may not call logs:DescribeLogGroups (AccessDenied); allow it to have them checked before anything changes",
            "Preflight: 1 image, 2 secrets and parameters, 1 environment file present; 1 log group not checked (see the warnings above)",
        ],
        "{}",
        run.log()
    );
}

#[test]
fn without_credentials_a_dry_run_checks_nothing_and_says_why_once() {
    let run = Job::new(None)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .file("td.json", &PRESENT.json())
        .run(&[
            ("task-definition", "td.json"),
            ("container-name", "web"),
            ("image", &format!("{REGISTRY}/{}", PRESENT.image)),
            ("dry-run", "true"),
        ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        preflight_lines(&run),
        [
            "::warning::preflight checked nothing: No AWS credentials were found: run aws-actions/configure-aws-credentials before this step (role-to-assume with OIDC needs `permissions: id-token: write`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. The SDK looked in the environment, the profile files, a web identity token, and the ECS and EC2 metadata endpoints.",
            "Preflight: 1 image, 2 secrets and parameters, 1 log group, 1 environment file not checked (see the warnings above)",
        ],
        "{}",
        run.log()
    );
}

#[test]
fn the_dry_run_runs_the_preflight() {
    let sim = sim(SCENARIO);
    let missing = Template {
        secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf",
        ..PRESENT
    };
    let run = deploy(&sim, &missing, &[("dry-run", "true")]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(error(&run).contains("Secrets Manager secret arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf does not exist"));

    let run = deploy(&sim, &PRESENT, &[("dry-run", "true")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(run.stdout.contains("Preflight: "), "{}", run.log());
    assert_nothing_changed(&sim, &run);
}

#[test]
fn preflight_false_skips_every_check() {
    let sim = sim(SCENARIO);
    let run = deploy(
        &sim,
        &Template {
            image: "shop:v9",
            ..PRESENT
        },
        &[("preflight", "false")],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    for lookup in [
        "DescribeSecret",
        "GetParameters",
        "DescribeLogGroups",
        "HeadObject",
    ] {
        assert!(sim.calls_to(lookup).is_empty(), "{lookup} was called");
    }
    // After the deploy, the time advice reads the image's size.
    let deployed_at = sim.calls_to("UpdateService")[0].at;
    assert!(
        sim.calls_to("DescribeImages")
            .iter()
            .all(|call| call.at > deployed_at),
        "DescribeImages was called before the deploy"
    );
}

#[test]
fn images_outside_ecr_are_named_once_and_not_looked_up() {
    let sim = sim(SCENARIO);
    let run = Job::new(Some(&sim))
        .file(
            "td.json",
            r#"{"family": "shop", "containerDefinitions": [
                {"name": "web", "image": "ghcr.io/acme/shop:1"},
                {"name": "worker", "image": "ghcr.io/acme/shop:1"}]}"#,
        )
        .run(&[
            ("cluster", "prod"),
            ("service", "web"),
            ("task-definition", "td.json"),
        ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.stdout
            .matches("Preflight: images outside Amazon ECR are not checked: ghcr.io/acme/shop:1\n")
            .count(),
        1,
        "{}",
        run.log()
    );
    assert!(sim.calls_to("DescribeImages").is_empty());
}
