//! Around the deploy: an existing revision deployed as is, rollback to the
//! previous revision, scheduled tasks following the service, old revisions
//! cleaned up.

use crate::common;

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

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

/// Service web runs shop:1 (shop:2 is registered, unused), with scheduled
/// tasks of its family and others, in its cluster and another.
fn scheduled_scenario(extra: &str) -> String {
    format!(
        r#"
clusters: [prod, staging]
taskDefinitions:
  - family: shop
    containerDefinitions: [{{name: web, image: "shop:1", essential: true}}]
  - family: shop
    containerDefinitions: [{{name: web, image: "shop:2", essential: true}}]
  - family: report
    containerDefinitions: [{{name: report, image: "report:1", essential: true}}]
services:
  - cluster: prod
    serviceName: web
    taskDefinition: shop:1
    desiredCount: 1
    deploymentConfiguration: {{deploymentCircuitBreaker: {{enable: true, rollback: true}}}}
eventRules:
  - name: nightly
    scheduleExpression: "cron(0 3 * * ? *)"
    targets:
      - Id: cleanup
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        Input: '{{"containerOverrides": [{{"name": "web", "command": ["bin/cleanup"]}}]}}'
        EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1", TaskCount: 1, LaunchType: FARGATE}}
      - Id: report
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{ARN}/report:1", TaskCount: 1}}
  - name: weekly
    eventBus: jobs
    scheduleExpression: "cron(0 4 ? * SUN *)"
    targets:
      - Id: digest
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1"}}
schedules:
  - Name: migrate-check
    GroupName: jobs
    State: DISABLED
    Description: nightly schema check
    ScheduleExpression: "rate(1 day)"
    ScheduleExpressionTimezone: Europe/Berlin
    StartDate: 1767225600
    FlexibleTimeWindow: {{Mode: FLEXIBLE, MaximumWindowInMinutes: 15}}
    ActionAfterCompletion: NONE
    KmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    Target:
      Arn: {CLUSTER}
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      Input: '{{"containerOverrides": [{{"name": "web", "command": ["bin/check"]}}]}}'
      RetryPolicy: {{MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2}}
      DeadLetterConfig: {{Arn: "arn:aws:sqs:us-east-1:123456789012:dead"}}
      EcsParameters:
        TaskDefinitionArn: "{ARN}/shop:1"
        TaskCount: 1
        LaunchType: FARGATE
        PlatformVersion: "1.4.0"
        NetworkConfiguration: {{awsvpcConfiguration: {{Subnets: [subnet-a], SecurityGroups: [sg-a], AssignPublicIp: DISABLED}}}}
        Tags: [{{team: shop}}]
  - Name: staging-check
    ScheduleExpression: "rate(1 day)"
    FlexibleTimeWindow: {{Mode: "OFF"}}
    Target:
      Arn: arn:aws:ecs:us-east-1:123456789012:cluster/staging
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1"}}
  - Name: pinned
    ScheduleExpression: "rate(1 hour)"
    FlexibleTimeWindow: {{Mode: "OFF"}}
    Target:
      Arn: {CLUSTER}
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:2"}}
{extra}
"#
    )
}

fn deploy_with_scheduled_tasks(sim: &Sim, extra: &[(&str, &str)]) -> Run {
    let mut inputs = vec![
        ("container-name", "web"),
        ("image", "shop:9"),
        ("update-scheduled-tasks", "true"),
        ("scheduled-task-event-buses", "default, jobs"),
    ];
    inputs.extend_from_slice(extra);
    run(sim, &inputs)
}

fn task_definition_of_schedule(sim: &Sim, name: &str) -> serde_json::Value {
    sim.schedules()
        .into_iter()
        .find(|s| s["Name"] == name)
        .unwrap()["Target"]["EcsParameters"]["TaskDefinitionArn"]
        .clone()
}

#[test]
fn scheduled_tasks_of_the_family_follow_a_successful_deploy() {
    let sim = sim(&scheduled_scenario(""));
    let before = sim
        .schedules()
        .into_iter()
        .find(|s| s["Name"] == "migrate-check")
        .unwrap();
    let run = deploy_with_scheduled_tasks(&sim, &[]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.group_lines("Scheduled tasks"),
        [
            "moved rule nightly target cleanup: shop:1 → shop:3",
            "left rule nightly target report on report:1: it runs report, which this deploy does not change",
            "moved rule weekly (bus jobs) target digest: shop:1 → shop:3",
            "left schedule pinned on shop:2: it pins shop:2, newer than shop:1 that the service ran",
            "moved schedule migrate-check (group jobs): shop:1 → shop:3",
        ]
    );
    assert!(
        run.summary
            .contains("| Scheduled tasks | 3 moved, 2 left |"),
        "{}",
        run.summary
    );

    // The schedule is as it was but for its task definition, and its start
    // date, which had passed.
    let after = sim
        .schedules()
        .into_iter()
        .find(|s| s["Name"] == "migrate-check")
        .unwrap();
    let mut expected = before.clone();
    expected["Target"]["EcsParameters"]["TaskDefinitionArn"] = format!("{ARN}/shop:3").into();
    expected["LastModificationDate"] = after["LastModificationDate"].clone();
    expected.as_object_mut().unwrap().remove("StartDate");
    assert_eq!(after, expected);
    // The rule targets too, each sent back whole.
    let put: Vec<_> = sim.calls_to("PutTargets");
    assert_eq!(put.len(), 2);
    assert_eq!(
        put[0].body["Targets"],
        serde_json::json!([{
            "Id": "cleanup",
            "Arn": CLUSTER,
            "RoleArn": "arn:aws:iam::123456789012:role/events",
            "Input": "{\"containerOverrides\": [{\"name\": \"web\", \"command\": [\"bin/cleanup\"]}]}",
            "EcsParameters": {"TaskDefinitionArn": format!("{ARN}/shop:3"), "TaskCount": 1, "LaunchType": "FARGATE"}
        }])
    );
    assert_eq!(
        task_definition_of_schedule(&sim, "pinned"),
        format!("{ARN}/shop:2")
    );
    assert_eq!(
        task_definition_of_schedule(&sim, "staging-check"),
        format!("{ARN}/shop:1")
    );
}

#[test]
fn scheduled_tasks_stay_after_a_rollback() {
    let sim = sim(&scheduled_scenario(
        "timelines:\n  deployments:\n    - {cluster: prod, service: web, outcome: tasksFail, seconds: 1}\n",
    ));
    let run = deploy_with_scheduled_tasks(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        !run.stdout.contains("::group::Scheduled tasks"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("PutTargets").is_empty());
    assert!(sim.calls_to("UpdateSchedule").is_empty());
    assert_eq!(
        task_definition_of_schedule(&sim, "migrate-check"),
        format!("{ARN}/shop:1")
    );
}

#[test]
fn a_target_that_cannot_be_moved_fails_the_step_after_the_others_moved() {
    let sim = sim(&scheduled_scenario(
        "faults:\n  - {service: events, operation: PutTargets, kind: failedEntries, always: true}\n",
    ));
    let run = deploy_with_scheduled_tasks(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    let error = run
        .stdout
        .lines()
        .find(|line| line.starts_with("::error"))
        .unwrap()
        .to_owned();
    assert!(
        error.contains("the services are deployed, but 2 scheduled task(s) still start the old revision: rule nightly target cleanup: PutTargets did not take it: ConcurrentModificationException"),
        "{error}"
    );
    assert_eq!(
        task_definition_of_schedule(&sim, "migrate-check"),
        format!("{ARN}/shop:3")
    );
    assert!(
        run.summary
            .contains("| Scheduled tasks | 1 moved, 2 left, **2 failed** |"),
        "{}",
        run.summary
    );
}

#[test]
fn the_dry_run_says_which_scheduled_tasks_would_move() {
    let sim = sim(&scheduled_scenario(""));
    let run = deploy_with_scheduled_tasks(&sim, &[("dry-run", "true")]);
    assert_eq!(run.code, 0, "{}", run.log());
    let lines = run.group_lines("Scheduled tasks");
    assert!(
        lines.contains(
            &"would move schedule migrate-check (group jobs): shop:1 → the new revision".to_owned()
        ),
        "{lines:?}"
    );
    assert!(sim.calls_to("PutTargets").is_empty());
    assert!(sim.calls_to("UpdateSchedule").is_empty());
}

/// shop:1 to shop:6, each registered days ago; web runs shop:5, worker
/// shop:4, a schedule pins shop:2.
const SIX_REVISIONS: &str = r#"
clusters: [prod]
taskDefinitions:
  - {family: shop, containerDefinitions: [{name: web, image: "shop:1"}], registeredSecondsAgo: 600000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:2"}], registeredSecondsAgo: 500000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:3"}], registeredSecondsAgo: 400000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:4"}], registeredSecondsAgo: 300000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:5"}], registeredSecondsAgo: 200000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:6"}], registeredSecondsAgo: 100000}
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:5, desiredCount: 1}
  - {cluster: prod, serviceName: worker, taskDefinition: shop:4, desiredCount: 1}
schedules:
  - Name: nightly
    ScheduleExpression: "rate(1 day)"
    FlexibleTimeWindow: {Mode: "OFF"}
    Target:
      Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {TaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:2"}
"#;

#[test]
fn keep_revisions_deregisters_only_what_nothing_uses() {
    let sim = sim(SIX_REVISIONS);
    let run = run(
        &sim,
        &[
            ("container-name", "web"),
            ("image", "shop:7"),
            ("keep-revisions", "2"),
            ("delete-revisions", "true"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    // Kept: shop:7 and shop:6 (newest), shop:5 (web ran it), shop:4
    // (worker runs it), shop:2 (the schedule starts it). Deregistered just
    // now, shop:1 and shop:3 are not deleted for days.
    assert_eq!(
        run.group_lines("Old revisions"),
        ["deregistered shop:1, shop:3"]
    );
    // Sent at once, answered in any order.
    let mut deregistered: Vec<String> = sim
        .calls_to("DeregisterTaskDefinition")
        .into_iter()
        .map(|call| call.body["taskDefinition"].as_str().unwrap().to_owned())
        .collect();
    deregistered.sort();
    assert_eq!(
        deregistered,
        [format!("{ARN}/shop:1"), format!("{ARN}/shop:3")]
    );
    assert!(sim.calls_to("DeleteTaskDefinitions").is_empty());
    assert!(
        run.summary
            .contains("| Old revisions | 2 deregistered: `shop:1`, `shop:3` |"),
        "{}",
        run.summary
    );
}

#[test]
fn old_revisions_stay_after_a_failed_deploy() {
    let sim = sim(&format!(
        "{SIX_REVISIONS}timelines:\n  deployments:\n    - {{cluster: prod, service: web, outcome: tasksFail, seconds: 1}}\n"
    ));
    let run = run(
        &sim,
        &[
            ("container-name", "web"),
            ("image", "shop:7"),
            ("keep-revisions", "1"),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(sim.calls_to("DeregisterTaskDefinition").is_empty());
}

#[test]
fn delete_revisions_without_keep_revisions_is_refused_before_any_call() {
    let sim = sim(SIX_REVISIONS);
    for inputs in [
        [("delete-revisions", "true"), ("keep-revisions", "")],
        [("delete-revisions", "false"), ("keep-revisions", "0")],
    ] {
        let run = run(&sim, &inputs);
        assert_eq!(run.code, 1, "{}", run.log());
        assert!(
            run.stdout.contains("::error::invalid input"),
            "{}",
            run.log()
        );
    }
    assert!(sim.calls().is_empty());
}

#[test]
fn a_bad_grace_period_is_refused_before_any_call_even_unused_or_in_the_dry_run() {
    let sim = sim(SIX_REVISIONS);
    for inputs in [
        vec![
            ("keep-revisions", "2"),
            ("delete-revisions-after-days", "0"),
        ],
        vec![("delete-revisions-after-days", "seven")],
        vec![("delete-revisions-after-days", "3651"), ("dry-run", "true")],
    ] {
        let run = run(&sim, &inputs);
        assert_eq!(run.code, 1, "{}", run.log());
        let error = run
            .stdout
            .lines()
            .find(|line| line.starts_with("::error::"))
            .unwrap_or_else(|| panic!("no error\n{}", run.log()));
        assert!(
            error.contains(
                "delete-revisions-after-days must be a whole number of days from 1 to 3650"
            ),
            "{error}"
        );
        let value = inputs
            .iter()
            .find(|(name, _)| *name == "delete-revisions-after-days")
            .unwrap()
            .1;
        // The value is not repeated back.
        assert!(!error.contains(&format!("{value:?}")), "{error}");
    }
    assert!(sim.calls().is_empty());
}

#[test]
fn previous_puts_back_the_revision_the_service_ran_before_without_registering() {
    let sim = sim(TWO_REVISIONS);
    let run_1 = run(&sim, &[("container-name", "web"), ("image", "shop:9")]);
    assert_eq!(run_1.code, 0, "{}", run_1.log());
    assert_eq!(
        run_1.outputs["task-definition-arn"],
        format!("{ARN}/shop:3")
    );
    let registered_before = sim.calls_to("RegisterTaskDefinition").len();

    let rollback = run(
        &sim,
        &[
            ("task-definition", "previous"),
            ("environment", "production"),
            ("github-token", "ghs_token"),
        ],
    );
    assert_eq!(rollback.code, 0, "{}", rollback.log());
    assert!(
        rollback
            .stdout
            .contains("Service web: going back to shop:1, the revision it ran before shop:3\n"),
        "{}",
        rollback.log()
    );
    assert!(rollback
        .stdout
        .contains(&format!("Deploying {ARN}/shop:1 as is")));
    assert_eq!(
        sim.calls_to("RegisterTaskDefinition").len(),
        registered_before
    );
    let updates = sim.calls_to("UpdateService");
    assert_eq!(
        updates.last().unwrap().body["taskDefinition"],
        format!("{ARN}/shop:1")
    );
    assert!(
        rollback.stdout.contains("✔ web: deployment "),
        "judged like any deploy: {}",
        rollback.log()
    );
    let deployment = sim.github_deployments().pop().unwrap();
    assert_eq!(
        deployment["description"],
        "ecs-deploy: rollback of web on prod to shop:1"
    );
    assert_eq!(
        deployment["payload"]["rollback_to"],
        serde_json::json!([format!("{ARN}/shop:1")])
    );
}

#[test]
fn previous_for_a_service_with_no_earlier_revision_says_so() {
    let sim = sim(TWO_REVISIONS);
    let run = run(&sim, &[("task-definition", "previous")]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains(&format!(
            "::error::task-definition: previous: service web has no earlier revision to go back to: its deployments show only {ARN}/shop:1, copies of it and revisions it was rolled back from\n"
        )),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("UpdateService").is_empty());
}

/// Service web runs shop:1, the only revision.
const ONE_REVISION: &str = r#"
clusters: [prod]
taskDefinitions:
  - family: shop
    containerDefinitions: [{name: web, image: "shop:1", essential: true}]
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 1}
"#;

fn deploy_image(sim: &Sim, image: &str) -> Run {
    let run = run(sim, &[("container-name", "web"), ("image", image)]);
    assert_eq!(run.code, 0, "{}", run.log());
    run
}

/// The task definition of the newest UpdateService, and the image of its
/// container web.
fn last_update(sim: &Sim) -> (String, String) {
    let updates = sim.calls_to("UpdateService");
    let arn = updates.last().unwrap().body["taskDefinition"]
        .as_str()
        .unwrap()
        .to_owned();
    let revision: usize = arn.rsplit(':').next().unwrap().parse().unwrap();
    // shop:1 is the scenario's; every later revision was registered here.
    let image = match revision {
        1 => "shop:1".to_owned(),
        n => sim.task_definitions()[n - 2]["containerDefinitions"][0]["image"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    (arn, image)
}

#[test]
fn previous_across_a_deregistered_revision_never_returns_to_the_one_it_left() {
    let sim = sim(ONE_REVISION);
    for image in ["shop:2", "shop:3", "shop:4"] {
        deploy_image(&sim, image);
    }
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(
            common::ecs_client(&sim)
                .deregister_task_definition()
                .task_definition("shop:3")
                .send(),
        )
        .expect("shop:3 is deregistered");
    let previous = || run(&sim, &[("task-definition", "previous")]);

    let first = previous();
    assert_eq!(first.code, 0, "{}", first.log());
    for line in [
        "Service web: going back to shop:3, the revision it ran before shop:4",
        "Registering shop:3 again as a new revision: it is INACTIVE, and ECS moves a service only to an ACTIVE revision",
        &format!("Registered {ARN}/shop:5"),
    ] {
        assert!(first.stdout.contains(&format!("{line}\n")), "{line}\n{}", first.log());
    }
    assert_eq!(
        last_update(&sim),
        (format!("{ARN}/shop:5"), "shop:3".into())
    );

    // shop:5 is shop:3 again: before it came shop:2, not shop:4.
    let second = previous();
    assert_eq!(second.code, 0, "{}", second.log());
    assert!(
        second
            .stdout
            .contains("Service web: going back to shop:2, the revision it ran before shop:5\n"),
        "{}",
        second.log()
    );
    assert_eq!(
        last_update(&sim),
        (format!("{ARN}/shop:2"), "shop:2".into())
    );

    let third = previous();
    assert_eq!(third.code, 0, "{}", third.log());
    assert_eq!(
        last_update(&sim),
        (format!("{ARN}/shop:1"), "shop:1".into())
    );
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 4);

    let fourth = previous();
    assert_eq!(fourth.code, 1, "{}", fourth.log());
    assert!(
        fourth.stdout.contains(&format!(
            "::error::task-definition: previous: service web has no earlier revision to go back to: its deployments show only {ARN}/shop:1, copies of it and revisions it was rolled back from\n"
        )),
        "{}",
        fourth.log()
    );
    assert_eq!(sim.calls_to("UpdateService").len(), 6);
}

#[test]
fn the_same_job_run_again_registers_nothing_and_deploys_nothing_unless_forced() {
    let sim = sim(ONE_REVISION);
    deploy_image(&sim, "shop:2");
    let again = deploy_image(&sim, "shop:2");
    for line in [
        format!("Keeping {ARN}/shop:2: service web runs it and the rendered task definition is identical, so no revision is registered"),
        "✔ web: already runs this revision; no deployment started (force-new-deployment: true starts one)".to_owned(),
    ] {
        assert!(again.stdout.contains(&format!("{line}\n")), "{line}\n{}", again.log());
    }
    assert_eq!(
        again.outputs["task-definition-arn"],
        format!("{ARN}/shop:2")
    );
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 1);
    assert_eq!(sim.calls_to("UpdateService").len(), 1);

    let forced = run(
        &sim,
        &[
            ("container-name", "web"),
            ("image", "shop:2"),
            ("force-new-deployment", "true"),
        ],
    );
    assert_eq!(forced.code, 0, "{}", forced.log());
    assert_eq!(sim.calls_to("RegisterTaskDefinition").len(), 1);
    let updates = sim.calls_to("UpdateService");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1].body["taskDefinition"], format!("{ARN}/shop:2"));
    assert_eq!(updates[1].body["forceNewDeployment"], true);
}

#[test]
fn after_the_same_job_ran_twice_with_keep_revisions_previous_still_goes_back() {
    let sim = sim(ONE_REVISION);
    for _ in 0..2 {
        let run = run(
            &sim,
            &[
                ("container-name", "web"),
                ("image", "shop:2"),
                ("keep-revisions", "1"),
            ],
        );
        assert_eq!(run.code, 0, "{}", run.log());
    }
    let rollback = run(&sim, &[("task-definition", "previous")]);
    assert_eq!(rollback.code, 0, "{}", rollback.log());
    assert!(
        rollback
            .stdout
            .contains("Service web: going back to shop:1, the revision it ran before shop:2\n"),
        "{}",
        rollback.log()
    );
    assert_eq!(last_update(&sim).1, "shop:1");
}

#[test]
fn previous_skips_a_revision_identical_to_the_current_one() {
    // Made outside the step: shop:3 holds what shop:2 holds, and web was
    // moved from one to the other.
    let sim = sim(ONE_REVISION);
    deploy_image(&sim, "shop:2");
    let ecs = common::ecs_client(&sim);
    let container = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("web")
        .image("shop:2")
        .essential(true)
        .build();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(
            ecs.register_task_definition()
                .family("shop")
                .container_definitions(container)
                .send(),
        )
        .expect("shop:3 is registered");
    runtime
        .block_on(
            ecs.update_service()
                .cluster("prod")
                .service("web")
                .task_definition("shop:3")
                .send(),
        )
        .expect("web moves to shop:3");
    assert!(sim.wait_until(std::time::Duration::from_secs(10), |sim| {
        let deployments = sim.services()[0]["deployments"].clone();
        deployments.as_array().is_some_and(|d| d.len() == 1)
            && deployments[0]["taskDefinition"] == format!("{ARN}/shop:3")
            && deployments[0]["rolloutState"] == "COMPLETED"
    }));

    let rollback = run(&sim, &[("task-definition", "previous")]);
    assert_eq!(rollback.code, 0, "{}", rollback.log());
    assert!(
        rollback
            .stdout
            .contains("Service web: going back to shop:1, the revision it ran before shop:3\n"),
        "{}",
        rollback.log()
    );
    assert_eq!(
        last_update(&sim),
        (format!("{ARN}/shop:1"), "shop:1".into())
    );
}

#[test]
fn previous_takes_no_rendering_and_needs_a_service() {
    let sim = sim(TWO_REVISIONS);
    let with_image = run(
        &sim,
        &[
            ("task-definition", "previous"),
            ("image", "shop:9"),
            ("container-name", "web"),
        ],
    );
    assert_eq!(with_image.code, 1);
    assert!(with_image.stdout.contains("::error::invalid input task-definition: previous deploys the revision each service ran before as it is"), "{}", with_image.log());
    let without_service =
        Job::new(Some(&sim)).run(&[("cluster", "prod"), ("task-definition", "previous")]);
    assert_eq!(without_service.code, 1);
    assert!(
        without_service
            .stdout
            .contains("::error::invalid input task-definition: previous needs service"),
        "{}",
        without_service.log()
    );
    assert!(sim.calls().is_empty());
}

#[test]
fn with_several_services_each_familys_tasks_follow_its_own_revision() {
    let sim = sim(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - {{family: shop, containerDefinitions: [{{name: web, image: "shop:1"}}]}}
  - {{family: worker, containerDefinitions: [{{name: web, image: "shop:1"}}]}}
services:
  - {{cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 1}}
  - {{cluster: prod, serviceName: worker, taskDefinition: worker:1, desiredCount: 1}}
eventRules:
  - name: nightly
    scheduleExpression: "cron(0 3 * * ? *)"
    targets:
      - {{Id: shop, Arn: {CLUSTER}, RoleArn: "arn:aws:iam::123456789012:role/events", EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1"}}}}
      - {{Id: worker, Arn: {CLUSTER}, RoleArn: "arn:aws:iam::123456789012:role/events", EcsParameters: {{TaskDefinitionArn: "{ARN}/worker:1"}}}}
"#
    ));
    let run = Job::new(Some(&sim)).run(&[
        ("cluster", "prod"),
        ("service", "web\nworker"),
        ("container-name", "web"),
        ("image", "shop:2"),
        ("update-scheduled-tasks", "true"),
    ]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.group_lines("Scheduled tasks"),
        [
            "moved rule nightly target shop: shop:1 → shop:2",
            "moved rule nightly target worker: worker:1 → worker:2",
        ]
    );
}

#[test]
fn the_running_revision_with_a_setting_to_change_is_still_updated() {
    let sim = sim(TWO_REVISIONS);
    let run = run(
        &sim,
        &[("task-definition", "shop:1"), ("propagate-tags", "SERVICE")],
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let updates = sim.calls_to("UpdateService");
    assert_eq!(updates.len(), 1, "{}", run.log());
    assert_eq!(updates[0].body["propagateTags"], "SERVICE");
}

#[test]
fn scheduled_tasks_that_cannot_be_read_stop_the_run_before_anything_changes() {
    let sim = sim(&scheduled_scenario(
        "faults:\n  - {service: scheduler, operation: ListSchedules, kind: accessDenied, always: true}\n",
    ));
    let run = deploy_with_scheduled_tasks(&sim, &[]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::failed to read the scheduled tasks (nothing was changed): failed to list the EventBridge Scheduler schedules: AccessDeniedException"),
        "{}",
        run.log()
    );
    for mutating in [
        "RegisterTaskDefinition",
        "UpdateService",
        "PutTargets",
        "UpdateSchedule",
    ] {
        assert!(sim.calls_to(mutating).is_empty(), "{mutating}");
    }
}

#[test]
fn scheduled_tasks_and_old_revisions_need_a_service() {
    let sim = sim(TWO_REVISIONS);
    for input in [("update-scheduled-tasks", "true"), ("keep-revisions", "2")] {
        let run =
            Job::new(Some(&sim)).run(&[("cluster", "prod"), ("task-definition", "shop:2"), input]);
        assert_eq!(run.code, 1, "{}", run.log());
        assert!(
            run.stdout.contains(&format!(
                "::error::invalid input {}: needs service: it acts on the families the services run",
                input.0
            )),
            "{}",
            run.log()
        );
    }
    assert!(sim.calls().is_empty());
}
