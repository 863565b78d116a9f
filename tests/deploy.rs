//! ECS deployments, end to end: the binary against the simulator's rollout
//! timelines. Each test asserts on the verdict, the exit code, the messages
//! and what ended up running in the (simulated) service.

use crate::common;

use common::{deploy_web, running_revision, sim, Job, Run};
use ecs_deploy_sim::Sim;
use serde_json::{json, Value};

const TASK_DEFINITIONS: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
  - family: worker
    containerDefinitions: [{name: worker, image: "shop:1", command: [bin/worker]}]
"#;

fn scenario(services: &str, timelines: &str) -> Sim {
    sim(&format!(
        "{TASK_DEFINITIONS}\nservices:\n{services}\ntimelines:\n  deployments:\n{timelines}"
    ))
}

const WEB_WITH_BREAKER: &str = r#"
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
    deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}
"#;

const WEB_WITHOUT_BREAKER: &str = r#"
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 2
"#;

fn service(sim: &Sim, name: &str) -> Value {
    sim.services()
        .into_iter()
        .find(|s| s["serviceName"] == name)
        .expect("service exists")
}

fn update_service_bodies(sim: &Sim) -> Vec<Value> {
    sim.calls_to("UpdateService")
        .into_iter()
        .map(|c| c.body)
        .collect()
}

#[test]
fn a_rolling_deployment_succeeds_when_ours_completes() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: complete, seconds: 1}",
    );
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(running_revision(&sim, "web"), "shop:2");
    let arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:";
    assert_eq!(run.outputs["task-definition-arn"], format!("{arn}2"));
    assert_eq!(
        run.outputs["previous-task-definition-arn"],
        format!("{arn}1")
    );
    let deployment_id = &run.outputs["ecs-deployment-id"];
    assert!(deployment_id.starts_with("ecs-svc/"), "{deployment_id}");
    assert!(run.outputs["ecs-service-deployment-arn"].contains(":service-deployment/prod/web/"));
    let log = run.log();
    assert!(
        log.contains(&format!(
            "Service web: deployment {deployment_id} started, shop:1 → shop:2"
        )),
        "{log}"
    );
    assert!(
        log.contains("web: 2 of 2 running, 0 pending, 0 failed"),
        "{log}"
    );
    assert!(
        log.contains(&format!("✔ web: deployment {deployment_id} completed")),
        "{log}"
    );
    assert!(
        run.summary
            .contains("| Service `web` | [`shop:1`](https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/shop/1/containers?region=us-east-1) → [`shop:2`](https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/shop/2/containers?region=us-east-1): deployed |"),
        "{}",
        run.summary
    );
    assert_eq!(update_service_bodies(&sim).len(), 1);
}

#[test]
fn a_circuit_breaker_rollback_is_a_failure_naming_the_old_revision() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: tasksFail, seconds: 0.2}",
    );
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains("::error::deployment failed: service web: ECS rolled back to shop:1: Service deployment rolled back because the circuit breaker threshold was exceeded."),
        "{log}"
    );
    assert!(
        !log.contains("has reached a steady state.\nweb: has started"),
        "events from before the update: {log}"
    );
    // ECS's events follow our prefix without naming the service again.
    assert!(
        log.contains("\nweb: has stopped 1 running tasks: (task "),
        "{log}"
    );
    assert!(
        log.contains("\nweb: (deployment ecs-svc/")
            && log.contains(") deployment failed: tasks failed to start.\n"),
        "{log}"
    );
    assert!(!log.contains("(service web)"), "{log}");
    assert!(
        log.contains("web: 3 task(s) stopped: Essential container in task exited (web exited 1)"),
        "{log}"
    );
    assert!(run.summary.contains("| Stopped tasks of `web` | 3 task(s) stopped: Essential container in task exited (web exited 1) — e.g. ["), "{}", run.summary);
    // ECS rolls back by itself: we must not issue a second update.
    assert_eq!(update_service_bodies(&sim).len(), 1);
    assert!(
        sim.wait_until(std::time::Duration::from_secs(5), |sim| running_revision(
            sim, "web"
        ) == "shop:1")
    );
}

#[test]
fn a_crash_loop_without_breaker_fails_at_the_threshold_and_restores_the_previous_revision() {
    let sim = scenario(
        WEB_WITHOUT_BREAKER,
        "    - {cluster: prod, service: web, outcome: tasksFail, seconds: 0.2}",
    );
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains(
            "tasks of the new deployment stopped (threshold 3), 0 of 2 running; restored shop:1"
        ),
        "{log}"
    );
    let updates = update_service_bodies(&sim);
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(
        updates[1]["taskDefinition"],
        "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:1"
    );
    assert_eq!(running_revision(&sim, "web"), "shop:1");
}

#[test]
fn a_crash_loop_is_left_alone_when_rollback_is_off() {
    let sim = scenario(
        WEB_WITHOUT_BREAKER,
        "    - {cluster: prod, service: web, outcome: tasksFail, seconds: 0.2}",
    );
    let run = deploy_web(
        &sim,
        &[("rollback-on-failure", "false"), ("max-failed-tasks", "2")],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log().contains(
            "(threshold 2), 0 of 2 running; shop:1 was not restored (rollback-on-failure is false)"
        ),
        "{}",
        run.log()
    );
    assert_eq!(update_service_bodies(&sim).len(), 1);
}

#[test]
fn services_that_cannot_be_deployed_are_refused_before_any_change() {
    let services = r#"
  - {cluster: prod, serviceName: draining, taskDefinition: shop:1, status: DRAINING}
  - {cluster: prod, serviceName: retired, taskDefinition: shop:1, status: INACTIVE}
  - {cluster: prod, serviceName: external, taskDefinition: shop:1, deploymentController: {type: EXTERNAL}}
"#;
    let cases = [
        ("missing", "::error::service missing (MISSING) was not found in cluster prod; check the service and cluster inputs"),
        ("draining", "::error::service draining in cluster prod is DRAINING; only an ACTIVE service can be deployed"),
        ("retired", "::error::service retired in cluster prod is INACTIVE; only an ACTIVE service can be deployed"),
        ("external", "::error::service external has the EXTERNAL deployment controller: its deployments are made by another tool, not by UpdateService"),
    ];
    for (name, expected) in cases {
        let sim = scenario(services, "    []");
        let run = Job::new(Some(&sim)).run(&[
            ("cluster", "prod"),
            ("service", name),
            ("image", "shop:2"),
        ]);
        assert_eq!(run.code, 1, "{name}: {}", run.log());
        assert!(run.log().contains(expected), "{name}: {}", run.log());
        assert!(sim.task_definitions().is_empty(), "{name}: registered");
        assert!(update_service_bodies(&sim).is_empty(), "{name}: updated");
    }
}

#[test]
fn two_services_deploy_together_and_the_failing_one_is_named() {
    let services = r#"
  - {cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 2, deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}}
  - {cluster: prod, serviceName: worker, taskDefinition: worker:1, desiredCount: 1, deploymentConfiguration: {deploymentCircuitBreaker: {enable: true, rollback: true}}}
"#;
    let timelines = "    - {cluster: prod, service: web, outcome: complete, seconds: 1}\n    - {cluster: prod, service: worker, outcome: tasksFail, seconds: 0.2}";
    let sim = scenario(services, timelines);
    // No template: each service's own definition gets the new image.
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web\nworker"),
        ("images", "web=shop:2\nworker=shop-worker:2"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(log.contains("✔ web: deployment"), "{log}");
    assert!(
        log.contains("::error::deployment failed: service worker: ECS rolled back to worker:1: "),
        "{log}"
    );
    let arns: Value = serde_json::from_str(&run.outputs["task-definition-arn"]).unwrap();
    assert_eq!(
        arns,
        json!({
            "web": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2",
            "worker": "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:2"
        })
    );
    let ids: Value = serde_json::from_str(&run.outputs["ecs-deployment-id"]).unwrap();
    assert!(
        ids["web"].as_str().unwrap().starts_with("ecs-svc/")
            && ids["worker"].as_str().unwrap().starts_with("ecs-svc/")
    );
    // The two registers run concurrently: find worker's by its family.
    let registered = sim.task_definitions();
    let worker = &registered
        .iter()
        .find(|definition| definition["family"] == "worker")
        .expect("worker registered")["containerDefinitions"][0];
    assert_eq!(worker["image"], "shop-worker:2");
    assert_eq!(worker["command"], json!(["bin/worker"]));
    assert_eq!(running_revision(&sim, "web"), "shop:2");
}

/// web and worker deployed in one step, each from its own definition, with
/// the first call to `operation` throttled and no retries: the calls of the
/// two services are sent at once, so either may meet the throttle.
fn deploy_two_with_one_throttled(operation: &str, timelines: &str) -> (Sim, Run) {
    let services = r#"
  - {cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 2}
  - {cluster: prod, serviceName: worker, taskDefinition: worker:1, desiredCount: 1}
"#;
    let sim = scenario(
        services,
        &format!("{timelines}\nfaults:\n  - {{service: ecs, operation: {operation}, kind: throttle, times: 1}}"),
    );
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web\nworker"),
        ("images", "web=shop:2\nworker=shop-worker:2"),
        ("max-retries", "0"),
    ]);
    assert_eq!(run.code, 1, "{}", run.log());
    (sim, run)
}

#[test]
fn a_service_whose_update_fails_does_not_abandon_the_others() {
    let (sim, run) = deploy_two_with_one_throttled(
        "UpdateService",
        "    - {cluster: prod, service: web, outcome: complete, seconds: 1}\n    - {cluster: prod, service: worker, outcome: complete, seconds: 1}",
    );
    let log = run.log();
    let (refused, deployed) = if log.contains("::error::deployment did not finish: service web: ") {
        ("web", "worker")
    } else {
        ("worker", "web")
    };
    assert!(
        log.contains(&format!("::error::deployment did not finish: service {refused}: failed to update service {refused} in cluster prod: ThrottlingException")),
        "{log}"
    );
    assert!(log.contains(&format!("✔ {deployed}: deployment ")), "{log}");
    let deployed_revision = if deployed == "web" {
        "shop:2"
    } else {
        "worker:2"
    };
    assert_eq!(running_revision(&sim, deployed), deployed_revision);
    let ids: Value = serde_json::from_str(&run.outputs["ecs-deployment-id"]).unwrap();
    assert_eq!(ids[refused], "");
    assert!(ids[deployed].as_str().unwrap().starts_with("ecs-svc/"));
    assert!(
        run.summary
            .contains(&format!("**error**: failed to update service {refused}")),
        "{}",
        run.summary
    );
}

#[test]
fn a_failed_register_deploys_nothing_and_names_what_was_registered() {
    let (sim, run) = deploy_two_with_one_throttled("RegisterTaskDefinition", "    []");
    let registered = sim.task_definitions();
    assert_eq!(registered.len(), 1, "{registered:?}");
    let (family, refused) = match registered[0]["family"].as_str().unwrap() {
        "shop" => ("shop", "worker"),
        _ => ("worker", "shop"),
    };
    let arn = format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:2");
    assert!(
        run.log().contains(&format!(
            "::error::failed to register task definition {refused}: ThrottlingException"
        )) && run.log().contains(&format!(
            "; nothing was deployed, and {arn} stays registered, unused"
        )),
        "{}",
        run.log()
    );
    assert!(update_service_bodies(&sim).is_empty());
}

/// UpdateService from outside the step, as a second workflow or a person at
/// the console would.
fn force_new_deployment_elsewhere(sim: &Sim, service: &str) {
    let client = common::ecs_client(sim);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(
            client
                .update_service()
                .cluster("prod")
                .service(service)
                .force_new_deployment(true)
                .send(),
        )
        .expect("the second update is accepted");
}

#[test]
fn a_deployment_superseded_by_another_fails_within_a_poll() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: complete, seconds: 30}",
    );
    let running = Job::new(Some(&sim)).start(&[
        ("cluster", "prod"),
        ("service", "web"),
        ("container-name", "web"),
        ("image", "shop:2"),
    ]);
    assert!(sim.wait_until(std::time::Duration::from_secs(20), |sim| sim
        .calls_to("DescribeServices")
        .len()
        >= 2));
    force_new_deployment_elsewhere(&sim, "web");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let ids: Vec<String> = service(&sim, "web")["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let ours = &run.outputs["ecs-deployment-id"];
    let theirs = ids
        .iter()
        .find(|id| *id != ours)
        .expect("a newer deployment");
    assert!(
        run.log().contains(&format!(
            "::error::deployment failed: service web: the deployment was superseded by deployment {theirs} of shop:2"
        )),
        "{}",
        run.log()
    );
    // Long before the 30 s our deployment would have taken.
    assert!(sim.elapsed() < std::time::Duration::from_secs(25));
}

/// web and worker, each from its own definition, with these `images`.
fn web_and_worker_with_images(images: &str) -> (Sim, Run) {
    let services = r#"
  - {cluster: prod, serviceName: web, taskDefinition: shop:1}
  - {cluster: prod, serviceName: worker, taskDefinition: worker:1}
"#;
    let sim = scenario(services, "    []");
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web\nworker"),
        ("images", images),
    ]);
    (sim, run)
}

#[test]
fn a_container_in_no_services_definition_is_an_error() {
    let (sim, run) = web_and_worker_with_images("wrker=x:1");
    assert_eq!(run.code, 1);
    assert!(
        run.log().contains("::error::container \"wrker\" is in none of the services' task definitions: shop (web); worker (worker)"),
        "{}",
        run.log()
    );
    assert!(sim.task_definitions().is_empty());
}

#[test]
fn a_mistyped_container_of_the_services_own_definition_deploys_nothing() {
    let sim = scenario(WEB_WITH_BREAKER, "    []");
    for (input, value) in [("container-name", "wbe"), ("images", "wbe=shop:2")] {
        let run = Job::new(Some(&sim)).run(&[
            ("cluster", "prod"),
            ("service", "web"),
            ("image", "shop:2"),
            (input, value),
        ]);
        assert_eq!(run.code, 1, "{input}: {}", run.log());
        assert!(
            run.log().contains(
                "::error::container \"wbe\" is in none of the services' task definitions: shop (web)"
            ),
            "{input}: {}",
            run.log()
        );
    }
    assert!(sim.task_definitions().is_empty(), "nothing registered");
    assert!(update_service_bodies(&sim).is_empty());
}

#[test]
fn a_service_whose_own_definition_the_inputs_do_not_change_deploys_nothing() {
    let (sim, run) = web_and_worker_with_images("web=shop:2");
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.log().contains("::error::nothing the inputs set applies to task definition worker of service worker: its containers are worker; check container-name and images"),
        "{}",
        run.log()
    );
    assert!(sim.task_definitions().is_empty(), "nothing registered");
}

#[test]
fn a_service_given_by_arn_gets_its_own_outputs_and_summary_row() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: complete, seconds: 1}",
    );
    let arn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";
    let run = deploy_web(&sim, &[("service", arn)]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(run.outputs["ecs-deployment-id"].starts_with("ecs-svc/"));
    assert!(
        run.summary.contains(&format!("| Service `{arn}` |"))
            && run.summary.contains("shop:2`](")
            && run.summary.contains(": deployed |"),
        "{}",
        run.summary
    );
}

#[test]
fn not_waiting_returns_once_the_update_is_accepted() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: complete, seconds: 30}",
    );
    let run = deploy_web(&sim, &[("wait-for-service-stability", "false")]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log()
            .contains("not waiting (wait-for-service-stability is false)"),
        "{}",
        run.log()
    );
    assert!(
        sim.calls_to("DescribeServices").len() <= 1,
        "polled while told not to wait"
    );
}

#[test]
fn a_timeout_says_where_the_deployment_stood() {
    let sim = scenario(
        WEB_WITH_BREAKER,
        "    - {cluster: prod, service: web, outcome: complete, seconds: 60}",
    );
    let run = deploy_web(&sim, &[("wait-for-minutes", "0.05")]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains("timed out after 0.05 minutes with web (deployment ecs-svc/"),
        "{log}"
    );
    assert!(
        log.contains(": 0 running, 2 pending, 0 failed) still in progress; ECS goes on with it"),
        "{log}"
    );
}

#[test]
fn throttling_while_waiting_slows_the_polls_but_keeps_the_verdict() {
    let sim = sim(&format!(
        "{TASK_DEFINITIONS}\nservices:\n{WEB_WITH_BREAKER}\ntimelines:\n  deployments:\n    - {{cluster: prod, service: web, seconds: 1}}\nfaults:\n  - {{service: ecs, operation: DescribeServices, kind: throttle, skip: 1, times: 6}}\n"
    ));
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log().contains("ECS is throttling DescribeServices"),
        "{}",
        run.log()
    );
}

const ALARM_ROLLBACK: &str = include_str!("../sim/scenarios/alarm-rollback.yaml");
const BLUE_GREEN_PAUSE: &str = include_str!("../sim/scenarios/bluegreen-pause.yaml");

fn deploy_shop_web(sim: &Sim) -> Run {
    Job::new(Some(sim)).run(&[
        ("cluster", "prod"),
        ("service", "shop-web"),
        ("container-name", "web"),
        ("image", "ghcr.io/acme/shop:1.1.0"),
    ])
}

/// The step failed because ECS rolled shop-web back to shop:1, for `why`,
/// and the service does end on shop:1.
fn assert_rolled_back_to_shop_1(sim: &Sim, run: &Run, why: &str) {
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    let error = log
        .lines()
        .find(|l| l.starts_with("::error::"))
        .expect("an error line");
    assert!(
        error.starts_with("::error::deployment failed: service shop-web: ECS ")
            && error.contains(" back to shop:1: ")
            && error.contains(why),
        "{log}"
    );
    assert!(sim.wait_until(std::time::Duration::from_secs(10), |sim| {
        running_revision(sim, "shop-web") == "shop:1"
    }));
}

#[test]
fn an_alarm_rollback_fails_and_names_the_alarm_and_the_old_revision() {
    let sim = sim(ALARM_ROLLBACK);
    let run = deploy_shop_web(&sim);
    assert_rolled_back_to_shop_1(&sim, &run, "(alarms in ALARM: shop-web-5xx)");
}

#[test]
fn a_blue_green_deployment_reports_its_stages_and_warns_once_about_a_pause_hook() {
    let sim = sim(BLUE_GREEN_PAUSE);
    let run = deploy_shop_web(&sim);
    assert_eq!(run.code, 0, "{}", run.log());
    let log = run.log();
    let arn = &run.outputs["ecs-service-deployment-arn"];
    assert!(arn.starts_with("arn:aws:ecs:"), "{arn}");
    assert_eq!(log.matches("is paused at").count(), 1, "{log}");
    let warning = log.lines().find(|l| l.contains("is paused at")).unwrap();
    assert!(
        warning.starts_with(
            "::warning::shop-web: the deployment is paused at POST_TEST_TRAFFIC_SHIFT by lifecycle hook ecs-pause-"
        ) && warning.contains(&format!(
            "aws ecs continue-service-deployment --service-deployment-arn {arn} --hook-id ecs-pause-"
        )) && warning.contains("ECS will CONTINUE on its own"),
        "{warning}"
    );
    // The pause holds the stage for seconds: every poll in it sees the
    // same stage, printed once.
    assert_eq!(
        log.matches("shop-web: stage POST_TEST_TRAFFIC_SHIFT; new revision gets 0% of production and 100% of test traffic")
            .count(),
        1,
        "{log}"
    );
    assert!(log.contains("✔ shop-web: deployment "), "{log}");
    assert_eq!(running_revision(&sim, "shop-web"), "shop:2");
}

#[test]
fn a_blue_green_rollback_is_a_failure() {
    let sim = sim(&BLUE_GREEN_PAUSE
        .replace("action: CONTINUE", "action: ROLLBACK")
        .replace("hookTimeoutSeconds: 5", "hookTimeoutSeconds: 1"));
    let run = deploy_shop_web(&sim);
    assert!(
        run.log()
            .contains("::warning::shop-web: the deployment is paused at POST_TEST_TRAFFIC_SHIFT"),
        "{}",
        run.log()
    );
    assert_rolled_back_to_shop_1(&sim, &run, "lifecycle hook timed out");
}

/// The blue/green scenario with a Lambda hook after the scale-up instead
/// of its PAUSE hook; `timeline` is added to its deployment's timeline.
fn with_lambda_hook(timeline: &str) -> Sim {
    sim(&BLUE_GREEN_PAUSE
        .replace(
            "        - targetType: PAUSE\n          lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]\n          timeoutConfiguration: {timeoutInMinutes: 30, action: CONTINUE}\n",
            "        - targetType: AWS_LAMBDA\n          hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke-test\n          roleArn: arn:aws:iam::123456789012:role/ecs-hooks\n          lifecycleStages: [POST_SCALE_UP]\n",
        )
        .replace("      hookTimeoutSeconds: 5\n", &format!("      lambdaHookSeconds: 3\n{timeline}")))
}

#[test]
fn a_lambda_hook_that_runs_is_a_bar_of_the_timeline() {
    let sim = with_lambda_hook("");
    let run = deploy_shop_web(&sim);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.log().contains(
            "shop-web: lifecycle hook runs Lambda function smoke-test at POST_SCALE_UP\n"
        ),
        "{}",
        run.log()
    );
    let bars = common::gantt_bars(&run.summary);
    assert!(
        bars.contains(&(
            "shop-web".to_owned(),
            "lifecycle hook smoke-test".to_owned(),
            "done".to_owned()
        )),
        "{bars:?}"
    );
    assert_eq!(running_revision(&sim, "shop-web"), "shop:2");
}

#[test]
fn a_failed_lambda_hook_is_named_in_the_verdict_and_is_a_red_milestone() {
    let sim = with_lambda_hook("      lambdaHookFails: true\n");
    let run = deploy_shop_web(&sim);
    assert_rolled_back_to_shop_1(
        &sim,
        &run,
        "(lifecycle hook failed: Lambda function smoke-test)",
    );
    let bars = common::gantt_bars(&run.summary);
    assert!(
        bars.contains(&(
            "shop-web".to_owned(),
            "lifecycle hook smoke-test".to_owned(),
            "done".to_owned()
        )) && run
            .summary
            .contains("    lifecycle hook smoke-test failed, rolled back :crit, milestone, "),
        "{}",
        run.summary
    );
}

const DEPLOY_OK: &str = include_str!("../sim/scenarios/deploy-ok.yaml");

#[test]
fn an_early_success_is_the_verdict_and_the_old_tasks_drain_after_it() {
    // The old tasks drain for 20 s after the new ones all run.
    let sim = sim(&DEPLOY_OK
        .replace(
            "      strategy: ROLLING\n",
            "      strategy: ROLLING\n      earlySuccessCriteria: {enable: true, healthyPercent: 100, sourceServiceRevisionCleanup: DEFERRED}\n",
        )
        .replace("      seconds: 3\n      drainSeconds: 0.8", "      seconds: 22\n      drainSeconds: 20"));
    let run = deploy_shop_web(&sim);
    assert_eq!(run.code, 0, "{}", run.log());
    let log = run.log();
    assert!(
        log.contains("shop-web: ECS declared the deployment successful early (earlySuccessCriteria); 2 tasks of the old revision drain after the verdict (sourceServiceRevisionCleanup: DEFERRED)\n"),
        "{log}"
    );
    assert!(log.contains("✔ shop-web: deployment "), "{log}");
    // The verdict came while ECS still drains the old tasks.
    assert_eq!(
        service(&sim, "shop-web")["deployments"][0]["rolloutState"],
        "IN_PROGRESS"
    );
    assert!(
        run.summary.contains("| Old revision of `shop-web` | 2 tasks draining after the verdict (earlySuccessCriteria, DEFERRED clean-up) |"),
        "{}",
        run.summary
    );
}

/// A service whose tasks write to CloudWatch Logs and crash after writing
/// 25 lines, `extra` added to the scenario.
fn crash_loop_with_logs(extra: &str) -> Sim {
    let lines: Vec<String> = (1..=25).map(|n| format!("\"boot line {n}\"")).collect();
    sim(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions:
      - name: web
        image: "shop:1"
        essential: true
        logConfiguration: {{logDriver: awslogs, options: {{awslogs-group: /ecs/shop, awslogs-stream-prefix: shop}}}}
logGroups: [/ecs/shop]
services:
{WEB_WITHOUT_BREAKER}
timelines:
  deployments:
    - {{cluster: prod, service: web, outcome: tasksFail, seconds: 0.2, exitCode: 1, logs: [{}]}}
{extra}"#,
        lines.join(", ")
    ))
}

#[test]
fn a_crash_loop_shows_the_last_lines_the_first_stopped_task_wrote() {
    let sim = crash_loop_with_logs("");
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    let annotation = log
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap_or_default();
    // The reason, then the first stopped task's last 20 lines, and no more:
    // every task of the loop wrote the same.
    let (reason, excerpt) = annotation
        .split_once("%0A")
        .expect("lines after the reason");
    assert!(
        reason.starts_with("::error::deployment failed: service web: ")
            && reason.ends_with("; restored shop:1"),
        "{annotation}"
    );
    let mut lines = excerpt.split("%0A");
    let heading = lines.next().unwrap_or_default();
    assert!(
        heading.starts_with("web: last log lines of stopped task ")
            && heading.ends_with(" (container web):"),
        "{annotation}"
    );
    let expected: Vec<String> = (6..=25).map(|n| format!("  boot line {n}")).collect();
    assert_eq!(lines.collect::<Vec<_>>(), expected, "{annotation}");
    assert!(!log.contains("::notice::"), "{log}");
    // One read of the stream's end, for one task.
    let reads = sim.calls_to("GetLogEvents");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].body["startFromHead"], false);
    assert_eq!(reads[0].body["limit"], 20);
    assert!(
        run.summary
            .contains("```text\nweb: last log lines of stopped task "),
        "{}",
        run.summary
    );
}

#[test]
fn a_refused_log_read_is_one_notice_and_the_verdict_stands() {
    let sim = crash_loop_with_logs(
        "faults:\n  - {service: logs, operation: GetLogEvents, kind: accessDenied, always: true}\n",
    );
    let run = deploy_web(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let log = run.log();
    let notices: Vec<&str> = log
        .lines()
        .filter(|line| line.starts_with("::notice::"))
        .collect();
    assert_eq!(notices.len(), 1, "{log}");
    assert!(
        notices[0].starts_with("::notice::web: the last log lines of stopped task ")
            && notices[0].contains(" are not shown: failed to read log stream shop/web/")
            && notices[0].contains(" of group /ecs/shop: AccessDeniedException")
            && notices[0].contains(". See the task in the console: https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/"),
        "{log}"
    );
    let annotation = log
        .lines()
        .find(|line| line.starts_with("::error::"))
        .unwrap_or_default();
    assert!(
        annotation.starts_with("::error::deployment failed: service web: ")
            && annotation.ends_with("; restored shop:1"),
        "{annotation}"
    );
}
