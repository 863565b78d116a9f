//! Where a deploy's time went: the binary against a service behind a
//! target group whose timeline places the image pull, the health checks
//! and the drain. The breakdown is measured from the simulator's task
//! timestamps and events; the advice names a setting only when what it
//! cost this run was material.

use crate::common;

use common::{deploy_web, sim, Run};
use ecs_deploy_sim::Sim;
use serde_json::Value;

const TARGET_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/0123456789abcdef";

/// The image deployed, 1.21 GB in ECR.
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:2";

/// A rolling service behind target group shop-web (deregistration delay
/// `delay`, health checks 30 s apart, 5 to be healthy), whose deployment
/// `timeline` places.
fn scenario(delay: u32, timeline: &str, faults: &str) -> Sim {
    sim(&world(delay, timeline, faults))
}

/// The scenario's YAML.
fn world(delay: u32, timeline: &str, faults: &str) -> String {
    format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{{name: web, image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1", essential: true, portMappings: [{{containerPort: 8080}}]}}]
ecrRepositories:
  - name: shop
    images: [{{tags: ["1"], sizeBytes: 1180000000}}, {{tags: ["2"], sizeBytes: 1210000000}}]
targetGroups:
  - TargetGroupName: shop-web
    TargetGroupArn: "{TARGET_GROUP}"
    attributes: {{"deregistration_delay.timeout_seconds": "{delay}"}}
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    launchType: FARGATE
    networkConfiguration: {{awsvpcConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}}}
    loadBalancers: [{{targetGroupArn: "{TARGET_GROUP}", containerName: web, containerPort: 8080}}]
timelines:
  deployments:
    - {{cluster: prod, service: web, outcome: complete, {timeline}}}
{faults}"#
    )
}

/// The world with target group shop-web calling a target healthy after 2
/// checks 10 s apart.
fn with_quick_health_checks(world: &str) -> String {
    world.replace(
        "    attributes:",
        "    HealthCheckIntervalSeconds: 10\n    HealthyThresholdCount: 2\n    attributes:",
    )
}

/// The deploy of `IMAGE`, its timings written to timings.json.
fn deploy(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![("image", IMAGE), ("timings", "timings.json")];
    inputs.extend_from_slice(extra);
    deploy_web(sim, &inputs)
}

fn notices(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|line| line.strip_prefix("::notice::"))
        .map(str::to_owned)
        .collect()
}

/// The written JSON's one service.
fn measured(run: &Run) -> Value {
    let written = std::fs::read_to_string(run.workspace.join("timings.json")).unwrap();
    let timings: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&run.outputs["timings"]).unwrap(),
        timings,
        "the output and the file hold the same JSON"
    );
    timings["services"][0].clone()
}

/// The part's seconds, to the hundredth: the simulator's timestamps are
/// whole milliseconds.
fn part_seconds(service: &Value, part: &str) -> Option<f64> {
    service["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == part)
        .map(|p| (p["seconds"].as_f64().unwrap() * 100.0).round() / 100.0)
}

#[test]
fn a_long_deregistration_delay_is_named_with_the_drain_it_cost() {
    let sim = scenario(300, "seconds: 3, drainSeconds: 2, pullSeconds: 0.5", "");
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let service = measured(&run);
    // Measured from the simulator's clock: the new tasks pulled for 0.5 s
    // and were registered then; the drain began at 1 s and lasted the 2 s
    // until the deployment completed.
    assert_eq!(part_seconds(&service, "imagePull"), Some(0.5));
    assert_eq!(part_seconds(&service, "healthChecks"), Some(0.5));
    assert_eq!(part_seconds(&service, "draining"), Some(2.0));
    let advice = service["advice"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{advice:#?}");
    assert!((advice[0]["costSeconds"].as_f64().unwrap() - 2.0).abs() < 0.01);
    assert_eq!(advice[0]["about"]["targetGroup"], "shop-web");
    assert_eq!(
        advice[0]["now"]["deregistration_delay.timeout_seconds"],
        300
    );
    let notices = notices(&run);
    assert_eq!(notices.len(), 1, "{}", run.log());
    assert!(
        notices[0].starts_with("web: draining the old tasks took 2.0 s of the ")
            && notices[0]
                .contains("Target group shop-web has deregistration_delay.timeout_seconds 300"),
        "{}",
        notices[0]
    );
    // The log ends with the time, then the advice.
    let lines: Vec<&str> = run.stdout.lines().collect();
    let time = lines[lines.len() - 2];
    assert!(
        time.starts_with("Deploy time of web: ")
            && time.ends_with("; longest measured part: draining the old tasks, 2.0 s."),
        "{}",
        run.log()
    );
    assert_eq!(lines[lines.len() - 1], format!("::notice::{}", notices[0]));
    assert!(run
        .summary
        .contains("| web | draining the old tasks | 2.0 s |"));
    assert!(run
        .summary
        .contains("- web: draining the old tasks took 2.0 s"));
    // Each read once.
    for read in [
        "DescribeTargetGroups",
        "DescribeTargetGroupAttributes",
        "ListTasks",
        "DescribeTasks",
    ] {
        assert_eq!(sim.calls_to(read).len(), 1, "{read}");
    }
}

#[test]
fn a_fast_service_gets_its_breakdown_and_no_advice() {
    // The same 300 s setting, but this drain took 0.2 s of the deployment:
    // the advice follows what the setting cost, not what it is. Its health
    // checks took the rest, with a target group already at 2 checks 10 s
    // apart: nothing to win there either.
    let sim = sim(&with_quick_health_checks(&world(
        300,
        "seconds: 3, drainSeconds: 0.2",
        "",
    )));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let service = measured(&run);
    assert_eq!(part_seconds(&service, "draining"), Some(0.2));
    assert_eq!(part_seconds(&service, "healthChecks"), Some(2.8));
    assert_eq!(service["advice"], serde_json::json!([]));
    assert_eq!(notices(&run), Vec::<String>::new(), "{}", run.log());
    assert!(!run.summary.contains("\n- web:"), "{}", run.summary);
}

#[test]
fn a_denied_target_group_read_drops_its_advice_with_one_notice_and_changes_nothing_else() {
    let denied = "faults:\n  - {service: elasticloadbalancing, operation: DescribeTargetGroups, kind: accessDenied, always: true}\n";
    let sim = scenario(300, "seconds: 3, drainSeconds: 2", denied);
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    // The verdict and every other output as in a run whose read is allowed.
    let allowed = deploy(&scenario(300, "seconds: 3, drainSeconds: 2", ""), &[]);
    let verdict = |run: &Run| {
        run.stdout
            .lines()
            .find(|line| line.starts_with('✔'))
            .map(str::to_owned)
    };
    assert_eq!(verdict(&run), verdict(&allowed), "{}", run.log());
    let without_timings = |run: &Run| {
        let mut outputs = run.outputs.clone();
        outputs.remove("timings");
        outputs.remove("task-definition");
        outputs
    };
    assert_eq!(without_timings(&run), without_timings(&allowed));
    let notices = notices(&run);
    assert_eq!(notices.len(), 1, "{}", run.log());
    assert!(
        notices[0].starts_with(
            "The target groups were not read, so there is no advice on their health checks or deregistration delay: AccessDenied"
        ),
        "{}",
        notices[0]
    );
    let service = measured(&run);
    assert_eq!(part_seconds(&service, "draining"), Some(2.0));
    assert_eq!(service["advice"], serde_json::json!([]));
}

#[test]
fn advice_false_reads_no_target_group_or_image() {
    let sim = scenario(300, "seconds: 3, drainSeconds: 2", "");
    let run = deploy(&sim, &[("advice", "false")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(notices(&run), Vec::<String>::new(), "{}", run.log());
    assert_eq!(measured(&run)["advice"], serde_json::json!([]));
    assert!(sim.calls_to("DescribeTargetGroups").is_empty());
    // The preflight's lookup only, before the deploy.
    let deployed_at = sim.calls_to("UpdateService")[0].at;
    assert!(sim
        .calls_to("DescribeImages")
        .iter()
        .all(|call| call.at < deployed_at));
}

#[test]
fn a_long_pull_names_the_image_with_its_size_from_ecr() {
    let sim = scenario(30, "seconds: 5, pullSeconds: 3, drainSeconds: 2", "");
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let service = measured(&run);
    assert_eq!(part_seconds(&service, "imagePull"), Some(3.0));
    let advice = service["advice"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{service:#?}\n{}", run.log());
    assert_eq!(advice[0]["about"]["image"], IMAGE);
    assert_eq!(advice[0]["now"]["imageSizeInBytes"], 1_210_000_000u64);
    assert!(
        notices(&run)[0].starts_with(&format!(
            "web: pulling {IMAGE} (1210 MB) took 3.0 s of the "
        )),
        "{}",
        run.log()
    );
}

#[test]
fn a_container_health_check_slower_than_the_target_groups_is_named() {
    // The target group calls a target healthy after 2 checks 10 s apart;
    // the container checks itself every 60 s.
    let yaml = world(30, "seconds: 4, drainSeconds: 1.8", "")
        .replace(
            "portMappings: [{containerPort: 8080}]}",
            "portMappings: [{containerPort: 8080}], healthCheck: {command: [CMD-SHELL, 'curl -f localhost:8080/up'], interval: 60}}",
        )
;
    let sim = sim(&with_quick_health_checks(&yaml));
    let run = deploy(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    let service = measured(&run);
    let advice = service["advice"].as_array().unwrap();
    assert_eq!(advice.len(), 1, "{service:#?}");
    assert_eq!(advice[0]["about"]["container"], "web");
    assert_eq!(advice[0]["now"]["healthCheck.interval"], 60);
    assert_eq!(advice[0]["suggested"]["healthCheck.interval"], 20);
    assert!(
        notices(&run)[0].contains("Container web's health check runs every 60 s, slower than target group shop-web, which calls a target healthy in about 20 s"),
        "{}",
        run.log()
    );
}
