//! Around the deploy: an existing revision deployed as is, rollback to the
//! previous revision, scheduled tasks following the service, old revisions
//! cleaned up.

mod common;

use common::{sim, Job, Run};
use ecs_deploy_sim::Sim;

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

/// Service web runs shop:1; shop:2 is registered and runs nowhere.
const TWO_REVISIONS: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
  - family: shop
    containerDefinitions: [{name: web, image: "shop:2", essential: true}]
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 1}
"#;

fn run(sim: &Sim, inputs: &[(&str, &str)]) -> Run {
    let mut all = vec![("cluster", "prod"), ("service", "web")];
    all.extend_from_slice(inputs);
    Job::new(Some(sim)).run(&all)
}

#[test]
fn a_revision_the_inputs_do_not_change_is_deployed_as_is() {
    let sim = sim(TWO_REVISIONS);
    let run = run(&sim, &[("task-definition", "shop:2")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(&format!(
            "Deploying {ARN}/shop:2 as is: the inputs change nothing in it, so no revision is registered\n"
        )),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("RegisterTaskDefinition").is_empty());
    let updates = sim.calls_to("UpdateService");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body["taskDefinition"], format!("{ARN}/shop:2"));
    assert_eq!(run.outputs["task-definition-arn"], format!("{ARN}/shop:2"));
}

#[test]
fn a_revision_with_a_change_is_registered() {
    let sim = sim(TWO_REVISIONS);
    let run = run(
        &sim,
        &[
            ("task-definition", "shop:2"),
            ("container-name", "web"),
            ("image", "shop:3"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 1);
    assert_eq!(run.outputs["task-definition-arn"], format!("{ARN}/shop:3"));
}

#[test]
fn the_revision_the_service_runs_starts_no_deployment_unless_forced() {
    let sim = sim(TWO_REVISIONS);
    let run = run(&sim, &[("task-definition", "shop:1")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains(
            "✔ web: already runs this revision; no deployment started (force-new-deployment: true starts one)\n"
        ),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("UpdateService").is_empty());
    assert!(sim.calls_to("RegisterTaskDefinition").is_empty());

    let run = self::run(
        &sim,
        &[
            ("task-definition", "shop:1"),
            ("force-new-deployment", "true"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let updates = sim.calls_to("UpdateService");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body["forceNewDeployment"], true);
    assert_eq!(updates[0].body["taskDefinition"], format!("{ARN}/shop:1"));
}
