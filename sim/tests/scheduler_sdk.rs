//! EventBridge Scheduler through the official SDK: schedules listed, read
//! whole and replaced whole, over Scheduler's REST-JSON protocol.

use crate::common;

use aws_sdk_scheduler::error::ProvideErrorMetadata as _;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::operation::update_schedule::builders::UpdateScheduleFluentBuilder;
use aws_sdk_scheduler::types::{
    EcsParameters, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};
use aws_sdk_scheduler::Client;
use common::{sdk_config, start};
use serde_json::Value;

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
const MIGRATE_1: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:1";
const MIGRATE_2: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:2";

const SCHEDULES: &str = r#"
schedules:
  - Name: nightly-migrate
    Description: runs the migrations at night
    ScheduleExpression: "cron(0 3 * * ? *)"
    ScheduleExpressionTimezone: Europe/Paris
    StartDate: 4102444800
    EndDate: 4133980800
    FlexibleTimeWindow: {Mode: FLEXIBLE, MaximumWindowInMinutes: 15}
    KmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ActionAfterCompletion: NONE
    Target:
      Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      Input: '{"containerOverrides": [{"name": "app", "command": ["migrate"]}]}'
      RetryPolicy: {MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3}
      DeadLetterConfig: {Arn: "arn:aws:sqs:us-east-1:123456789012:dead-letters"}
      EcsParameters:
        TaskDefinitionArn: arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:1
        TaskCount: 1
        LaunchType: FARGATE
        NetworkConfiguration: {awsvpcConfiguration: {Subnets: [subnet-1], SecurityGroups: [sg-1], AssignPublicIp: DISABLED}}
        PlatformVersion: LATEST
        Group: migrations
        EnableECSManagedTags: true
        EnableExecuteCommand: false
        PlacementConstraints: [{type: distinctInstance}]
        PlacementStrategy: [{type: spread, field: "attribute:ecs.availability-zone"}]
        PropagateTags: TASK_DEFINITION
        ReferenceId: nightly
        Tags: [{team: data}]
  - Name: hourly-report
    GroupName: reports
    State: DISABLED
    ScheduleExpression: rate(1 hour)
    FlexibleTimeWindow: {Mode: "OFF"}
    Target:
      Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
      RoleArn: arn:aws:iam::123456789012:role/scheduler
      EcsParameters: {TaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/report:1"}
  - Name: daily-report
    GroupName: reports
    ScheduleExpression: rate(1 day)
    FlexibleTimeWindow: {Mode: "OFF"}
    Target: {Arn: "arn:aws:lambda:us-east-1:123456789012:function:report", RoleArn: "arn:aws:iam::123456789012:role/scheduler"}
"#;

async fn get(scheduler: &Client, name: &str, group: Option<&str>) -> GetScheduleOutput {
    scheduler
        .get_schedule()
        .name(name)
        .set_group_name(group.map(str::to_string))
        .send()
        .await
        .unwrap()
}

/// A list member as GetSchedule answered it: absent when empty.
fn non_empty<T: Clone>(list: &[T]) -> Option<Vec<T>> {
    (!list.is_empty()).then(|| list.to_vec())
}

/// The schedule's ECS parameters with another task definition, every
/// other member as it was.
fn with_task_definition(parameters: &EcsParameters, task_definition: &str) -> EcsParameters {
    EcsParameters::builder()
        .task_definition_arn(task_definition)
        .set_task_count(parameters.task_count())
        .set_launch_type(parameters.launch_type().cloned())
        .set_network_configuration(parameters.network_configuration().cloned())
        .set_platform_version(parameters.platform_version().map(str::to_string))
        .set_group(parameters.group().map(str::to_string))
        .set_capacity_provider_strategy(non_empty(parameters.capacity_provider_strategy()))
        .set_enable_ecs_managed_tags(parameters.enable_ecs_managed_tags())
        .set_enable_execute_command(parameters.enable_execute_command())
        .set_placement_constraints(non_empty(parameters.placement_constraints()))
        .set_placement_strategy(non_empty(parameters.placement_strategy()))
        .set_propagate_tags(parameters.propagate_tags().cloned())
        .set_reference_id(parameters.reference_id().map(str::to_string))
        .set_tags(non_empty(parameters.tags()))
        .build()
        .unwrap()
}

/// FlexibleTimeWindow Mode OFF: the schedule runs on time.
fn window_off() -> FlexibleTimeWindow {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .unwrap()
}

/// An UpdateSchedule of daily-report (group reports) with its required
/// members, running `expression`.
fn update_daily_report(scheduler: &Client, expression: &str) -> UpdateScheduleFluentBuilder {
    scheduler
        .update_schedule()
        .name("daily-report")
        .group_name("reports")
        .schedule_expression(expression)
        .flexible_time_window(window_off())
        .target(
            Target::builder()
                .arn("arn:aws:lambda:us-east-1:123456789012:function:report")
                .role_arn("arn:aws:iam::123456789012:role/scheduler")
                .build()
                .unwrap(),
        )
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_a_schedule_whole() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let schedule = get(&scheduler, "nightly-migrate", None).await;
    assert_eq!(
        schedule.arn(),
        Some("arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly-migrate")
    );
    assert_eq!(schedule.group_name(), Some("default"));
    assert_eq!(
        schedule.state(),
        Some(&ScheduleState::Enabled),
        "the default"
    );
    assert_eq!(
        schedule.schedule_expression_timezone(),
        Some("Europe/Paris")
    );
    assert_eq!(schedule.start_date().unwrap().secs(), 4_102_444_800);
    assert!(schedule.creation_date().is_some());
    assert!(schedule.last_modification_date().is_some());
    let window = schedule.flexible_time_window().unwrap();
    assert_eq!(window.mode(), &FlexibleTimeWindowMode::Flexible);
    assert_eq!(window.maximum_window_in_minutes(), Some(15));
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), CLUSTER);
    let ecs = target.ecs_parameters().unwrap();
    assert_eq!(ecs.task_definition_arn(), MIGRATE_1);
    assert_eq!(ecs.tags()[0]["team"], "data");
    assert_eq!(
        ecs.placement_strategy()[0].field(),
        Some("attribute:ecs.availability-zone")
    );

    let report = get(&scheduler, "hourly-report", Some("reports")).await;
    assert_eq!(report.state(), Some(&ScheduleState::Disabled));
    let retry = report.target().unwrap().retry_policy().unwrap();
    assert_eq!(
        (
            retry.maximum_event_age_in_seconds(),
            retry.maximum_retry_attempts()
        ),
        (Some(86_400), Some(185)),
        "Scheduler's default retry policy"
    );
    assert_eq!(report.schedule_expression_timezone(), Some("UTC"));

    let call = &sim.calls_to("GetSchedule")[1];
    assert_eq!(call.service, "scheduler");
    assert_eq!(call.path, "/schedules/hourly-report");
    assert_eq!(call.body["groupName"], "reports");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_with_what_get_answered_changes_only_what_it_changes() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let before = get(&scheduler, "nightly-migrate", None).await;
    let stored_before = sim.schedules()[0].clone();
    let target = before.target().unwrap();
    let updated_target = Target::builder()
        .arn(target.arn())
        .role_arn(target.role_arn())
        .set_input(target.input().map(str::to_string))
        .set_retry_policy(target.retry_policy().cloned())
        .set_dead_letter_config(target.dead_letter_config().cloned())
        .ecs_parameters(with_task_definition(
            target.ecs_parameters().unwrap(),
            MIGRATE_2,
        ))
        .build()
        .unwrap();
    let updated = scheduler
        .update_schedule()
        .name("nightly-migrate")
        .set_group_name(before.group_name().map(str::to_string))
        .set_schedule_expression(before.schedule_expression().map(str::to_string))
        .set_schedule_expression_timezone(before.schedule_expression_timezone().map(str::to_string))
        .set_start_date(before.start_date().cloned())
        .set_end_date(before.end_date().cloned())
        .set_description(before.description().map(str::to_string))
        .set_state(before.state().cloned())
        .set_kms_key_arn(before.kms_key_arn().map(str::to_string))
        .set_flexible_time_window(before.flexible_time_window().cloned())
        .set_action_after_completion(before.action_after_completion().cloned())
        .target(updated_target)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.schedule_arn(), before.arn().unwrap());

    let after = get(&scheduler, "nightly-migrate", None).await;
    assert_eq!(
        after
            .target()
            .unwrap()
            .ecs_parameters()
            .unwrap()
            .task_definition_arn(),
        MIGRATE_2
    );
    let mut expected = stored_before;
    expected["Target"]["EcsParameters"]["TaskDefinitionArn"] = MIGRATE_2.into();
    let mut stored_after = sim.schedules()[0].clone();
    for schedule in [&mut expected, &mut stored_after] {
        schedule
            .as_object_mut()
            .unwrap()
            .remove("LastModificationDate");
    }
    assert_eq!(stored_after, expected);
    assert_eq!(after.creation_date(), before.creation_date());

    let call = &sim.calls_to("UpdateSchedule")[0];
    assert_eq!(call.path, "/schedules/nightly-migrate");
    assert_eq!(
        call.body["Target"]["EcsParameters"]["TaskDefinitionArn"],
        MIGRATE_2
    );
    assert_eq!(call.body["FlexibleTimeWindow"]["Mode"], "FLEXIBLE");
    assert!(call.body.get("Name").is_none(), "the name is in the path");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_replaces_what_it_leaves_out_with_defaults() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    scheduler
        .update_schedule()
        .name("nightly-migrate")
        .schedule_expression("rate(1 day)")
        .flexible_time_window(window_off())
        .target(
            Target::builder()
                .arn(CLUSTER)
                .role_arn("arn:aws:iam::123456789012:role/scheduler")
                .ecs_parameters(
                    EcsParameters::builder()
                        .task_definition_arn(MIGRATE_2)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let after = get(&scheduler, "nightly-migrate", None).await;
    assert_eq!(after.description(), None);
    assert_eq!(after.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(after.start_date(), None);
    let target = after.target().unwrap();
    assert_eq!(target.input(), None);
    assert_eq!(
        target.retry_policy().unwrap().maximum_retry_attempts(),
        Some(185)
    );
    assert!(target
        .ecs_parameters()
        .unwrap()
        .network_configuration()
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_without_a_required_member_is_refused() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let refused = scheduler
        .update_schedule()
        .name("nightly-migrate")
        .schedule_expression("rate(1 day)")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.raw_response().unwrap().status().as_u16(), 400);
    let refused = refused.into_service_error();
    assert!(refused.is_validation_exception(), "{refused:?}");
    // In the order the model lists them, which differs between versions.
    let message = refused.message().unwrap();
    assert!(
        message.starts_with("2 validation errors detected: "),
        "{message}"
    );
    for member in ["target", "flexibleTimeWindow"] {
        let problem = format!(
            "Value null at '{member}' failed to satisfy constraint: Member must not be null"
        );
        assert!(message.contains(&problem), "{message}");
    }
    let unchanged = get(&scheduler, "nightly-migrate", None).await;
    assert_eq!(unchanged.schedule_expression(), Some("cron(0 3 * * ? *)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_date_more_than_five_minutes_past_is_refused() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let update = |start: i64| {
        update_daily_report(&scheduler, "rate(1 day)")
            .start_date(aws_sdk_scheduler::primitives::DateTime::from_secs(start))
            .send()
    };
    let refused = update(now - 10 * 60).await.unwrap_err();
    assert_eq!(refused.raw_response().unwrap().status().as_u16(), 400);
    let refused = refused.into_service_error();
    assert!(refused.is_validation_exception(), "{refused:?}");
    assert_eq!(
        refused.message(),
        Some("The StartDate you specify cannot be earlier than 5 minutes ago.")
    );
    let unchanged = get(&scheduler, "daily-report", Some("reports")).await;
    assert_eq!(unchanged.start_date(), None);

    update(now - 60).await.unwrap();
    let updated = get(&scheduler, "daily-report", Some("reports")).await;
    assert_eq!(updated.start_date().unwrap().secs(), now - 60);
    // Members never set are absent from GetSchedule's answer, not null.
    let stored = &sim.schedules()[2];
    assert_eq!(stored["Name"], "daily-report");
    for member in [
        "Description",
        "EndDate",
        "KmsKeyArn",
        "ActionAfterCompletion",
    ] {
        assert!(stored.get(member).is_none(), "{member}: {stored}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_schedule_is_not_found() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let missing = scheduler
        .get_schedule()
        .name("ghost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.raw_response().unwrap().status().as_u16(), 404);
    let missing = missing.into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert_eq!(missing.message(), Some("Schedule ghost does not exist."));
    let wrong_group = scheduler
        .get_schedule()
        .name("hourly-report")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(wrong_group.is_resource_not_found_exception());
    let update_missing = scheduler
        .update_schedule()
        .name("ghost")
        .schedule_expression("rate(1 day)")
        .flexible_time_window(window_off())
        .target(
            Target::builder()
                .arn(CLUSTER)
                .role_arn("arn:aws:iam::123456789012:role/scheduler")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(update_missing.is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_schedules_by_group_prefix_and_state_a_page_at_a_time() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let all = scheduler.list_schedules().send().await.unwrap();
    let names: Vec<&str> = all.schedules().iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, ["nightly-migrate", "daily-report", "hourly-report"]);
    let summary = &all.schedules()[0];
    assert_eq!(summary.group_name(), Some("default"));
    assert_eq!(summary.state(), Some(&ScheduleState::Enabled));
    assert_eq!(summary.target().unwrap().arn(), CLUSTER);
    assert!(summary.creation_date().is_some());
    assert!(summary.last_modification_date().is_some());

    let reports = scheduler
        .list_schedules()
        .group_name("reports")
        .name_prefix("hourly")
        .send()
        .await
        .unwrap();
    assert_eq!(reports.schedules().len(), 1);
    let disabled = scheduler
        .list_schedules()
        .state(ScheduleState::Disabled)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.schedules()[0].name(), Some("hourly-report"));

    let first = scheduler
        .list_schedules()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.schedules().len(), 2);
    let rest = scheduler
        .list_schedules()
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.schedules().len(), 1);
    assert_eq!(rest.next_token(), None);
    let call = &sim.calls_to("ListSchedules")[1];
    assert_eq!(call.body["ScheduleGroup"], "reports");

    let unknown_group = scheduler
        .list_schedules()
        .group_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(unknown_group.is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_schedules_once() {
    let sim = start(SCHEDULES);
    let scheduler = Client::new(&sdk_config(&sim).await);
    let create = || {
        scheduler
            .create_schedule()
            .name("weekly-cleanup")
            .group_name("reports")
            .schedule_expression("rate(7 days)")
            .flexible_time_window(window_off())
            .target(
                Target::builder()
                    .arn(CLUSTER)
                    .role_arn("arn:aws:iam::123456789012:role/scheduler")
                    .ecs_parameters(
                        EcsParameters::builder()
                            .task_definition_arn(MIGRATE_1)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let created = create().await.unwrap();
    assert_eq!(
        created.schedule_arn(),
        "arn:aws:scheduler:us-east-1:123456789012:schedule/reports/weekly-cleanup"
    );
    let read = get(&scheduler, "weekly-cleanup", Some("reports")).await;
    assert_eq!(read.state(), Some(&ScheduleState::Enabled));
    let again = create().await.unwrap_err();
    assert_eq!(again.raw_response().unwrap().status().as_u16(), 409);
    assert!(again.into_service_error().is_conflict_exception());
    let stored: Vec<Value> = sim.schedules();
    assert_eq!(stored.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_fail_updates_as_scheduler_does() {
    let sim = start(&format!(
        "{SCHEDULES}\nfaults:
  - {{service: scheduler, operation: UpdateSchedule, kind: accessDenied}}
  - {{service: scheduler, operation: UpdateSchedule, kind: conflict, skip: 1}}"
    ));
    let scheduler = Client::new(&sdk_config(&sim).await);
    let update = || update_daily_report(&scheduler, "rate(2 days)").send();
    let denied = update().await.unwrap_err();
    assert_eq!(denied.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied
        .message()
        .unwrap()
        .contains("scheduler:UpdateSchedule"));
    let conflict = update().await.unwrap_err().into_service_error();
    assert!(conflict.is_conflict_exception(), "{conflict:?}");
    update().await.unwrap();
    let read = get(&scheduler, "daily-report", Some("reports")).await;
    assert_eq!(read.schedule_expression(), Some("rate(2 days)"));
}

#[test]
fn a_member_sent_as_null_is_refused() {
    let sim = start(SCHEDULES);
    // What the AWS SDKs never send, as a hand-written client might: the
    // members GetSchedule left out, sent back as null.
    let body = serde_json::json!({
        "GroupName": "reports",
        "ScheduleExpression": "rate(2 days)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:report",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
        },
        "Description": null,
        "EndDate": null,
    });
    let response = reqwest::blocking::Client::new()
        .put(format!("{}/schedules/daily-report", sim.aws_endpoint()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000000/20261207/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "ValidationException"
    );
    let answer: Value = response.json().unwrap();
    assert_eq!(
        answer["Message"],
        "2 validation errors detected: \
         Value null at 'description' failed to satisfy constraint: Member must not be null (an unset member is left out, never sent as null); \
         Value null at 'endDate' failed to satisfy constraint: Member must not be null (an unset member is left out, never sent as null)"
    );
    let stored = &sim.schedules()[2];
    assert_eq!(stored["ScheduleExpression"], "rate(1 day)", "unchanged");
    assert_eq!(sim.calls_to("UpdateSchedule").len(), 1, "recorded");
}
