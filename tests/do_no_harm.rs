//! What ecs-deploy writes beyond the deployment it started (scheduled
//! tasks, old revisions, GitHub records) changes only what it can prove is
//! its own, from state read just before the write, and a cancelled run
//! says exactly what it did.

use crate::common;
use crate::sim_client;

use std::time::Duration;

use common::{sim, Job};
use ecs_deploy_sim::Sim;
use serde_json::{json, Value};

const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

/// Service web runs shop:1; its deployment takes `seconds`. A rule on the
/// default bus with two targets of the family, one on bus jobs, and a
/// schedule of the family with a start date long past.
fn scheduled(seconds: u32, extra: &str) -> String {
    format!(
        r#"
clusters: [prod, staging]
taskDefinitions:
  - family: shop
    containerDefinitions: [{{name: web, image: "shop:1", essential: true}}]
services:
  - {{cluster: prod, serviceName: web, taskDefinition: shop:1, desiredCount: 1}}
eventRules:
  - name: nightly
    scheduleExpression: "cron(0 3 * * ? *)"
    targets:
      - Id: cleanup
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1", TaskCount: 1}}
      - Id: reindex
        Arn: {CLUSTER}
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1", TaskCount: 1}}
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
    State: ENABLED
    ScheduleExpression: "rate(1 day)"
    StartDate: 1767225600
    FlexibleTimeWindow: {{Mode: "OFF"}}
    Target:
      Arn: {CLUSTER}
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1", TaskCount: 1}}
  - Name: staging-report
    Target:
      Arn: arn:aws:ecs:us-east-1:123456789012:cluster/staging
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {{TaskDefinitionArn: "{ARN}/shop:1"}}
    ScheduleExpression: "rate(1 day)"
    FlexibleTimeWindow: {{Mode: "OFF"}}
timelines:
  deployments:
    - {{cluster: prod, service: web, outcome: complete, seconds: {seconds}}}
{extra}
"#
    )
}

const MOVE_SCHEDULED: [(&str, &str); 6] = [
    ("cluster", "prod"),
    ("service", "web"),
    ("container-name", "web"),
    ("image", "shop:9"),
    ("update-scheduled-tasks", "true"),
    ("scheduled-task-event-buses", "default, jobs"),
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn schedule(sim: &Sim, name: &str) -> Value {
    sim.schedules()
        .into_iter()
        .find(|s| s["Name"] == name)
        .unwrap()
}

fn targets(sim: &Sim, rule: &str) -> Value {
    sim.event_rules()
        .into_iter()
        .find(|r| r["Name"] == rule)
        .unwrap()["Targets"]
        .clone()
}

#[test]
fn what_an_operator_changed_while_the_deploy_ran_stays() {
    let sim = sim(&scheduled(5, ""));
    let running = Job::new(Some(&sim)).start(&MOVE_SCHEDULED);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim
        .calls_to("UpdateService")
        .is_empty()));
    // While the deployment runs: the schedule is disabled and runs at
    // another hour; target cleanup runs three tasks; target reindex is
    // removed; target digest already moved on to a newer revision.
    runtime().block_on(async {
        sim_client!(aws_sdk_scheduler, sim)
            .update_schedule()
            .name("migrate-check")
            .group_name("jobs")
            .state(aws_sdk_scheduler::types::ScheduleState::Disabled)
            .schedule_expression("rate(12 hours)")
            .flexible_time_window(
                aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                    .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                    .build()
                    .unwrap(),
            )
            .target(
                aws_sdk_scheduler::types::Target::builder()
                    .arn(CLUSTER)
                    .role_arn("arn:aws:iam::123456789012:role/scheduler")
                    .ecs_parameters(
                        aws_sdk_scheduler::types::EcsParameters::builder()
                            .task_definition_arn(format!("{ARN}/shop:1"))
                            .task_count(1)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("the operator's update");
        let ecs_target = |id: &str, revision: u32, count: i32| {
            aws_sdk_eventbridge::types::Target::builder()
                .id(id)
                .arn(CLUSTER)
                .role_arn("arn:aws:iam::123456789012:role/events")
                .ecs_parameters(
                    aws_sdk_eventbridge::types::EcsParameters::builder()
                        .task_definition_arn(format!("{ARN}/shop:{revision}"))
                        .task_count(count)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        };
        let events = sim_client!(aws_sdk_eventbridge, sim);
        events
            .put_targets()
            .rule("nightly")
            .targets(ecs_target("cleanup", 1, 3))
            .send()
            .await
            .expect("the operator's target");
        events
            .remove_targets()
            .rule("nightly")
            .ids("reindex")
            .send()
            .await
            .expect("the operator's removal");
        events
            .put_targets()
            .rule("weekly")
            .event_bus_name("jobs")
            .targets(ecs_target("digest", 5, 1))
            .send()
            .await
            .expect("the operator's move");
    });
    let run = running.finish();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.group_lines("Scheduled tasks"),
        [
            "moved rule nightly target cleanup: shop:1 → shop:2",
            "left rule nightly target reindex: it was removed while the deploy ran, and stays removed",
            "left rule weekly (bus jobs) target digest on shop:5: it pins shop:5, newer than shop:1 that the service ran",
            "moved schedule migrate-check (group jobs): shop:1 → shop:2",
        ]
    );
    // Only the task definition changed in what the operator left.
    assert_eq!(
        targets(&sim, "nightly"),
        json!([{
            "Id": "cleanup",
            "Arn": CLUSTER,
            "RoleArn": "arn:aws:iam::123456789012:role/events",
            "EcsParameters": {"TaskDefinitionArn": format!("{ARN}/shop:2"), "TaskCount": 3}
        }])
    );
    assert_eq!(
        targets(&sim, "weekly")[0]["EcsParameters"]["TaskDefinitionArn"],
        format!("{ARN}/shop:5")
    );
    let after = schedule(&sim, "migrate-check");
    assert_eq!(after["State"], "DISABLED");
    assert_eq!(after["ScheduleExpression"], "rate(12 hours)");
    assert_eq!(
        after["Target"]["EcsParameters"]["TaskDefinitionArn"],
        format!("{ARN}/shop:2")
    );
}

#[test]
fn a_schedule_update_carries_no_past_start_date_and_no_null() {
    let sim = sim(&scheduled(1, ""));
    let run = Job::new(Some(&sim)).run(&MOVE_SCHEDULED);
    assert_eq!(run.code, 0, "{}", run.log());
    let updates = sim.calls_to("UpdateSchedule");
    assert_eq!(updates.len(), 1, "{}", run.log());
    assert_eq!(
        updates[0].body,
        // What GetSchedule answered (Scheduler's defaults included), less
        // its own record and the start date that has passed.
        json!({
            "GroupName": "jobs",
            "State": "ENABLED",
            "ScheduleExpression": "rate(1 day)",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": CLUSTER,
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "EcsParameters": {"TaskDefinitionArn": format!("{ARN}/shop:2"), "TaskCount": 1},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
            }
        })
    );
}

#[test]
fn only_the_schedules_of_the_cluster_are_read_and_one_that_cannot_be_is_left() {
    // Every GetSchedule is denied: the schedule of prod is left with a
    // warning, that of staging is never asked for.
    let sim = sim(&scheduled(
        1,
        "faults:\n  - {service: scheduler, operation: GetSchedule, kind: accessDenied, always: true}\n",
    ));
    let run = Job::new(Some(&sim)).run(&MOVE_SCHEDULED);
    assert_eq!(run.code, 0, "{}", run.log());
    let asked: Vec<String> = sim
        .calls_to("GetSchedule")
        .into_iter()
        .map(|call| call.path)
        .collect();
    assert_eq!(asked, ["/schedules/migrate-check"], "{}", run.log());
    assert!(
        run.stdout.contains("::warning::schedule migrate-check of group jobs is left as it is: failed to read schedule migrate-check of group jobs: AccessDeniedException"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("UpdateSchedule").is_empty());
    assert_eq!(sim.calls_to("PutTargets").len(), 3);
}

#[test]
fn cancelled_while_scheduled_tasks_move_it_says_what_moved_and_github_shows_the_deploy() {
    // The schedule's update takes effect at once but answers a minute later.
    let sim = sim(&scheduled(
        1,
        "faults:\n  - {service: scheduler, operation: UpdateSchedule, kind: slowAfter, seconds: 60}\n",
    ));
    let mut inputs = MOVE_SCHEDULED.to_vec();
    inputs.extend([
        ("environment", "production"),
        ("github-token", "ghs_simulator"),
    ]);
    let running = Job::new(Some(&sim)).start(&inputs);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim
        .calls_to("UpdateSchedule")
        .is_empty()));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::cancelled by SIGINT after every service was deployed; scheduled tasks: 3 moved, 0 left, not moved or not confirmed: schedule migrate-check (group jobs)\n"),
        "{}",
        run.log()
    );
    assert!(!run.log().contains("left to ECS"), "{}", run.log());
    assert!(run.summary.contains("| Service `web` |"), "{}", run.summary);
    assert!(run.summary.contains(": deployed |"), "{}", run.summary);
    let deployments = sim.github_deployments();
    assert_eq!(deployments[0]["statuses"][0]["state"], "success");
}

fn github_inputs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("cluster", "prod"),
        ("service", "web"),
        ("container-name", "web"),
        ("image", "shop:9"),
        ("environment", "production"),
        ("github-token", "ghs_simulator"),
    ]
}

#[test]
fn cancelled_while_the_github_deployment_is_created_it_still_gets_a_final_status() {
    // GitHub makes the deployment at once and answers a minute later.
    let sim = sim(&scheduled(
        30,
        "faults:\n  - {service: github, operation: \"POST /repos/{owner}/{repo}/deployments\", kind: slowAfter, seconds: 60}\n",
    ));
    let running = Job::new(Some(&sim)).start(&github_inputs());
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim
        .github_deployments()
        .is_empty()));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let statuses = &sim.github_deployments()[0]["statuses"];
    assert_eq!(statuses.as_array().unwrap().len(), 1, "{statuses}");
    assert_eq!(statuses[0]["state"], "failure", "{}", run.log());
    assert!(sim.calls_to("UpdateService").is_empty());
}

#[test]
fn cancelled_while_the_first_status_is_posted_the_deployment_still_gets_a_final_one() {
    let sim = sim(&scheduled(
        30,
        "faults:\n  - {service: github, operation: \"POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses\", kind: slowAfter, seconds: 60}\n",
    ));
    let running = Job::new(Some(&sim)).start(&github_inputs());
    assert!(sim.wait_until(Duration::from_secs(20), |sim| sim
        .github_deployments()
        .first()
        .is_some_and(|d| !d["statuses"].as_array().unwrap().is_empty())));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    let statuses = &sim.github_deployments()[0]["statuses"];
    // Newest first.
    assert_eq!(statuses[0]["state"], "failure", "{}", run.log());
    assert_eq!(statuses[1]["state"], "in_progress");
    assert!(sim.calls_to("UpdateService").is_empty());
}

/// shop:1 to shop:9 around a service web of cluster prod on shop:8:
/// shop:1 INACTIVE for 8 days; shop:2 INACTIVE for 25 hours; shop:3
/// INACTIVE, still run by a task in staging; shop:4 nothing uses; shop:5 run
/// by a service of staging; shop:6 by a rule on bus orders, which
/// `scheduled-task-event-buses` does not list; shop:7 by a task of
/// staging that no service started; shop:9 registered half an hour ago.
const REGION: &str = r#"
clusters: [prod, staging]
taskDefinitions:
  - {family: shop, containerDefinitions: [{name: web, image: "shop:1"}], registeredSecondsAgo: 2000000, deregisteredSecondsAgo: 691200}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:2"}], registeredSecondsAgo: 2000000, deregisteredSecondsAgo: 90000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:3"}], registeredSecondsAgo: 2000000, deregisteredSecondsAgo: 1000000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:4"}], registeredSecondsAgo: 900000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:5"}], registeredSecondsAgo: 800000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:6"}], registeredSecondsAgo: 700000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:7"}], registeredSecondsAgo: 600000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:8"}], registeredSecondsAgo: 500000}
  - {family: shop, containerDefinitions: [{name: web, image: "shop:9"}], registeredSecondsAgo: 1800}
services:
  - {cluster: prod, serviceName: web, taskDefinition: shop:8, desiredCount: 1}
  - {cluster: staging, serviceName: web, taskDefinition: shop:5, desiredCount: 1}
tasks:
  - {cluster: staging, taskDefinition: shop:3}
  - {cluster: staging, taskDefinition: shop:7}
eventRules:
  - name: orders-placed
    eventBus: orders
    eventPattern: '{"source": ["shop.orders"]}'
    targets:
      - Id: fulfil
        Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
        RoleArn: arn:aws:iam::123456789012:role/events
        EcsParameters: {TaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:6"}
"#;

const CLEAN_UP: [(&str, &str); 6] = [
    ("cluster", "prod"),
    ("service", "web"),
    ("container-name", "web"),
    ("image", "shop:10"),
    ("keep-revisions", "1"),
    ("delete-revisions", "true"),
];

fn calls_naming(sim: &Sim, operation: &str, member: &str) -> Vec<Value> {
    sim.calls_to(operation)
        .into_iter()
        .map(|call| call.body[member].clone())
        .collect()
}

#[test]
fn old_revisions_go_only_when_nothing_in_the_region_uses_them() {
    let sim = sim(REGION);
    let run = Job::new(Some(&sim)).run(&CLEAN_UP);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.group_lines("Old revisions"),
        [
            "kept shop:9: registered 30 minutes ago, perhaps for another run",
            "deregistered shop:4",
            "kept shop:2: INACTIVE for 25 hours, deleted after 7 day(s)",
            "deleted shop:1",
        ]
    );
    assert_eq!(
        calls_naming(&sim, "DeregisterTaskDefinition", "taskDefinition"),
        [format!("{ARN}/shop:4")]
    );
    assert_eq!(
        calls_naming(&sim, "DeleteTaskDefinitions", "taskDefinitions"),
        [json!([format!("{ARN}/shop:1")])]
    );
    assert!(
        run.summary
            .contains("| Old revisions | 1 deregistered: `shop:4`; 1 deleted: `shop:1` |"),
        "{}",
        run.summary
    );
}

#[test]
fn the_dry_run_lists_what_would_be_deregistered_and_deleted() {
    let sim = sim(REGION);
    let mut inputs = CLEAN_UP.to_vec();
    inputs.push(("dry-run", "true"));
    let run = Job::new(Some(&sim)).run(&inputs);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        run.group_lines("Old revisions"),
        [
            "kept shop:9: registered 30 minutes ago, perhaps for another run",
            "would deregister shop:4",
            "kept shop:2: INACTIVE for 25 hours, deleted after 7 day(s)",
            "would delete shop:1",
        ]
    );
    assert!(sim.calls_to("DeregisterTaskDefinition").is_empty());
    assert!(sim.calls_to("DeleteTaskDefinitions").is_empty());
    assert!(
        run.summary.contains(
            "| Old revisions | 1 would be deregistered: `shop:4`; 1 would be deleted: `shop:1` |"
        ),
        "{}",
        run.summary
    );
}

#[test]
fn what_cannot_be_read_keeps_every_revision() {
    let sim = sim(&format!(
        "{REGION}faults:\n  - {{service: events, operation: ListEventBuses, kind: accessDenied}}\n"
    ));
    let run = Job::new(Some(&sim)).run(&CLEAN_UP);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("::warning::Old revisions were kept: which are in use could not be told: failed to list the event buses: AccessDeniedException"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("DeregisterTaskDefinition").is_empty());
    assert!(sim.calls_to("DeleteTaskDefinitions").is_empty());
}

#[test]
fn cancelled_while_old_revisions_are_cleaned_up_it_says_what_was_confirmed() {
    // The deregistration takes effect at once but answers a minute later.
    let sim = sim(&format!(
        "{REGION}faults:\n  - {{service: ecs, operation: DeregisterTaskDefinition, kind: slowAfter, seconds: 60}}\n"
    ));
    let running = Job::new(Some(&sim)).start(&CLEAN_UP);
    assert!(sim.wait_until(Duration::from_secs(30), |sim| !sim
        .calls_to("DeregisterTaskDefinition")
        .is_empty()));
    running.signal("INT");
    let run = running.finish();
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("::error::cancelled by SIGINT after every service was deployed; the old revisions' clean-up was cut short (no change confirmed; not done or not confirmed: shop:4)\n"),
        "{}",
        run.log()
    );
    assert!(sim.calls_to("DeleteTaskDefinitions").is_empty());
}

#[test]
fn revisions_another_run_registers_during_the_deploy_stay() {
    let sim = sim(&format!(
        "{REGION}timelines:\n  deployments:\n    - {{cluster: prod, service: web, outcome: complete, seconds: 3}}\n"
    ));
    let running = Job::new(Some(&sim)).start(&CLEAN_UP);
    assert!(sim.wait_until(Duration::from_secs(20), |sim| !sim
        .calls_to("UpdateService")
        .is_empty()));
    // Another workflow registers shop:11 and shop:12 while web deploys shop:10.
    let ecs = common::ecs_client(&sim);
    runtime().block_on(async {
        for image in ["shop:11", "shop:12"] {
            let container = aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image(image)
                .build();
            ecs.register_task_definition()
                .family("shop")
                .container_definitions(container)
                .send()
                .await
                .expect("the other run's register");
        }
    });
    let run = running.finish();
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(
        calls_naming(&sim, "DeregisterTaskDefinition", "taskDefinition"),
        [format!("{ARN}/shop:4")]
    );
    let listed = runtime()
        .block_on(
            ecs.list_task_definitions()
                .family_prefix("shop")
                .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
                .send(),
        )
        .unwrap();
    let active: Vec<&str> = listed
        .task_definition_arns()
        .iter()
        .map(|arn| arn.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        active,
        ["shop:5", "shop:6", "shop:7", "shop:8", "shop:9", "shop:10", "shop:11", "shop:12"]
    );
}
