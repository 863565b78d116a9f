//! EventBridge rules and targets through the official SDK: a scheduled
//! task's rule found by its cluster, its targets read back exactly as put,
//! replaced by Id, and EventBridge's errors and failed entries.

use crate::common;

use aws_sdk_eventbridge::error::ProvideErrorMetadata as _;
use aws_sdk_eventbridge::types::{EcsParameters, LaunchType, RuleState, Target};
use aws_sdk_eventbridge::Client;
use common::{sdk_config, start};
use serde_json::{json, Value};

const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

const RULES: &str = r#"
eventRules:
  - name: nightly-report
    scheduleExpression: "cron(0 3 * * ? *)"
    targets:
      - Id: report
        Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
        RoleArn: arn:aws:iam::123456789012:role/ecsEventsRole
        Input: '{"containerOverrides": [{"name": "app", "command": ["report"]}]}'
        EcsParameters:
          TaskDefinitionArn: arn:aws:ecs:us-east-1:123456789012:task-definition/report:3
          TaskCount: 1
          LaunchType: FARGATE
          NetworkConfiguration: {awsvpcConfiguration: {Subnets: [subnet-1], SecurityGroups: [sg-1], AssignPublicIp: DISABLED}}
          PlatformVersion: LATEST
          Group: reports
          EnableECSManagedTags: true
          EnableExecuteCommand: false
          PropagateTags: TASK_DEFINITION
          ReferenceId: nightly
          Tags: [{Key: team, Value: data}]
        RetryPolicy: {MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600}
        DeadLetterConfig: {Arn: "arn:aws:sqs:us-east-1:123456789012:dead-letters"}
      - Id: notify
        Arn: "arn:aws:lambda:us-east-1:123456789012:function:notify"
  - name: hourly-ping
    scheduleExpression: rate(1 hour)
    state: DISABLED
    targets: [{Id: ping, Arn: "arn:aws:lambda:us-east-1:123456789012:function:ping"}]
  - name: weekly-cleanup
    eventBus: jobs
    scheduleExpression: rate(7 days)
    targets:
      - Id: cleanup
        Arn: arn:aws:ecs:us-east-1:123456789012:cluster/prod
        EcsParameters: {TaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/cleanup:1"}
"#;

/// The targets of the scenario's first rule, as they were set up.
fn scenario_targets() -> Value {
    let scenario: Value = serde_yaml_ng::from_str(RULES).unwrap();
    scenario["eventRules"][0]["targets"].clone()
}

/// An awsJson call as any client makes it, to see the exact JSON the SDK's
/// types would parse.
fn post(sim: &ecs_deploy_sim::Sim, operation: &str, body: Value) -> Value {
    let response = reqwest::blocking::Client::new()
        .post(sim.aws_endpoint())
        .header("x-amz-target", format!("AWSEvents.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "{operation}");
    response.json().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn finds_the_rules_that_target_a_cluster_on_each_bus() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let on_default = events
        .list_rule_names_by_target()
        .target_arn(CLUSTER)
        .send()
        .await
        .unwrap();
    assert_eq!(on_default.rule_names(), ["nightly-report"]);
    assert_eq!(on_default.next_token(), None);
    for bus in [
        "jobs",
        "arn:aws:events:us-east-1:123456789012:event-bus/jobs",
    ] {
        let on_jobs = events
            .list_rule_names_by_target()
            .target_arn(CLUSTER)
            .event_bus_name(bus)
            .send()
            .await
            .unwrap();
        assert_eq!(on_jobs.rule_names(), ["weekly-cleanup"], "{bus}");
    }
    let lambda = events
        .list_rule_names_by_target()
        .target_arn("arn:aws:lambda:us-east-1:123456789012:function:nobody")
        .send()
        .await
        .unwrap();
    assert!(lambda.rule_names().is_empty());
    let unknown_bus = events
        .list_rule_names_by_target()
        .target_arn(CLUSTER)
        .event_bus_name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(unknown_bus.is_resource_not_found_exception());
    assert_eq!(
        unknown_bus.message(),
        Some("Event bus ghost does not exist.")
    );
    let call = &sim.calls_to("ListRuleNamesByTarget")[0];
    assert_eq!(call.service, "events");
    assert_eq!(call.body["TargetArn"], CLUSTER);
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_targets_exactly_as_they_were_put() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let listed = events
        .list_targets_by_rule()
        .rule("nightly-report")
        .send()
        .await
        .unwrap();
    let targets = listed.targets();
    assert_eq!(targets.len(), 2);
    let report = targets[0].ecs_parameters().unwrap();
    assert_eq!(
        report.task_definition_arn(),
        "arn:aws:ecs:us-east-1:123456789012:task-definition/report:3"
    );
    assert_eq!(report.launch_type(), Some(&LaunchType::Fargate));
    assert_eq!(report.tags()[0].key(), "team");
    assert_eq!(
        targets[0].retry_policy().unwrap().maximum_retry_attempts(),
        Some(2)
    );
    assert_eq!(targets[1].id(), "notify");
}

#[test]
fn answers_targets_with_every_member_as_put() {
    let sim = start(RULES);
    let listed = post(&sim, "ListTargetsByRule", json!({"Rule": "nightly-report"}));
    assert_eq!(listed["Targets"], scenario_targets());
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_targets_by_limit() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let first = events
        .list_targets_by_rule()
        .rule("nightly-report")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.targets()[0].id(), "report");
    let second = events
        .list_targets_by_rule()
        .rule("nightly-report")
        .limit(1)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.targets()[0].id(), "notify");
    assert_eq!(second.next_token(), None);
}

fn cleanup_target(task_definition: &str) -> Target {
    Target::builder()
        .id("cleanup")
        .arn(CLUSTER)
        .ecs_parameters(
            EcsParameters::builder()
                .task_definition_arn(task_definition)
                .task_count(2)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// A Lambda target, added beside a rule's own.
fn audit_target() -> Target {
    Target::builder()
        .id("audit")
        .arn("arn:aws:lambda:us-east-1:123456789012:function:audit")
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn put_targets_replaces_a_target_by_id() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let next = "arn:aws:ecs:us-east-1:123456789012:task-definition/cleanup:2";
    let put = events
        .put_targets()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .targets(cleanup_target(next))
        .targets(audit_target())
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count(), 0);
    assert!(put.failed_entries().is_empty());
    let listed = events
        .list_targets_by_rule()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .send()
        .await
        .unwrap();
    let targets = listed.targets();
    assert_eq!(targets.len(), 2, "cleanup replaced, audit added");
    assert_eq!(targets[0].id(), "cleanup");
    let replaced = targets[0].ecs_parameters().unwrap();
    assert_eq!(replaced.task_definition_arn(), next);
    assert_eq!(replaced.task_count(), Some(2));
    assert_eq!(targets[1].id(), "audit");

    let call = &sim.calls_to("PutTargets")[0];
    assert_eq!(
        call.body["Targets"][0]["EcsParameters"]["TaskDefinitionArn"],
        next
    );
    let rules = sim.event_rules();
    let weekly = rules
        .iter()
        .find(|r| r["Name"] == "weekly-cleanup")
        .unwrap();
    assert_eq!(
        weekly["Targets"][0]["EcsParameters"]["TaskDefinitionArn"],
        next
    );
    assert_eq!(weekly["EventBusName"], "jobs");
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_targets_removes_by_id_and_names_an_unknown_one() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let removed = events
        .remove_targets()
        .rule("nightly-report")
        .ids("notify")
        .ids("gone")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.failed_entry_count(), 1);
    assert_eq!(removed.failed_entries()[0].target_id(), Some("gone"));
    assert_eq!(
        removed.failed_entries()[0].error_code(),
        Some("ResourceNotFoundException")
    );
    let listed = events
        .list_targets_by_rule()
        .rule("nightly-report")
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = listed.targets().iter().map(|t| t.id()).collect();
    assert_eq!(ids, ["report"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_and_describes_rules() {
    let sim = start(RULES);
    let events = Client::new(&sdk_config(&sim).await);
    let scenario_rule = events
        .describe_rule()
        .name("hourly-ping")
        .send()
        .await
        .unwrap();
    assert_eq!(
        scenario_rule.arn(),
        Some("arn:aws:events:us-east-1:123456789012:rule/hourly-ping")
    );
    assert_eq!(scenario_rule.state(), Some(&RuleState::Disabled));
    assert_eq!(scenario_rule.schedule_expression(), Some("rate(1 hour)"));
    assert_eq!(scenario_rule.event_bus_name(), Some("default"));
    assert_eq!(scenario_rule.created_by(), Some("123456789012"));

    let scheduled_on_jobs = events
        .put_rule()
        .name("daily-export")
        .event_bus_name("jobs")
        .schedule_expression("rate(1 day)")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        scheduled_on_jobs.message(),
        Some("ScheduleExpression is supported only on the default event bus.")
    );
    let created = events
        .put_rule()
        .name("daily-export")
        .event_bus_name("jobs")
        .event_pattern(r#"{"source": ["export"]}"#)
        .description("exports")
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.rule_arn(),
        Some("arn:aws:events:us-east-1:123456789012:rule/jobs/daily-export")
    );
    let described = events
        .describe_rule()
        .name("daily-export")
        .event_bus_name("jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(described.state(), Some(&RuleState::Enabled));
    assert_eq!(described.description(), Some("exports"));
    events
        .put_targets()
        .rule("daily-export")
        .event_bus_name("jobs")
        .targets(cleanup_target(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/export:1",
        ))
        .send()
        .await
        .unwrap();
    let by_target = events
        .list_rule_names_by_target()
        .target_arn(CLUSTER)
        .event_bus_name("jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(by_target.rule_names(), ["daily-export", "weekly-cleanup"]);

    let missing = events
        .describe_rule()
        .name("ghost")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception());
    assert_eq!(
        missing.message(),
        Some("Rule ghost does not exist on EventBus default.")
    );
    let wrong_bus = events
        .list_targets_by_rule()
        .rule("weekly-cleanup")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(wrong_bus.is_resource_not_found_exception());
    let put_nowhere = events
        .put_targets()
        .rule("ghost")
        .targets(cleanup_target("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(put_nowhere.is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_entries_fault_changes_nothing_and_says_so() {
    let sim = start(&format!(
        "{RULES}\nfaults:\n  - {{service: events, operation: PutTargets, kind: failedEntries}}"
    ));
    let events = Client::new(&sdk_config(&sim).await);
    let put = events
        .put_targets()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .targets(cleanup_target(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/cleanup:2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count(), 1);
    let failed = &put.failed_entries()[0];
    assert_eq!(failed.target_id(), Some("cleanup"));
    assert_eq!(failed.error_code(), Some("ConcurrentModificationException"));
    assert!(failed.error_message().is_some());
    let listed = events
        .list_targets_by_rule()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.targets()[0]
            .ecs_parameters()
            .unwrap()
            .task_definition_arn(),
        "arn:aws:ecs:us-east-1:123456789012:task-definition/cleanup:1"
    );
    let retried = events
        .put_targets()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .targets(cleanup_target(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/cleanup:2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.failed_entry_count(), 0, "the fault applied once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_reaches_the_client() {
    let sim = start(&format!(
        "{RULES}\nfaults:\n  - {{service: events, operation: ListRuleNamesByTarget, kind: accessDenied}}"
    ));
    let events = Client::new(&sdk_config(&sim).await);
    let denied = events
        .list_rule_names_by_target()
        .target_arn(CLUSTER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied
        .message()
        .unwrap()
        .contains("events:ListRuleNamesByTarget"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_of_the_same_name_on_two_buses_are_two_rules() {
    let sim = start(&format!(
        "{RULES}
  - name: weekly-cleanup
    eventPattern: '{{\"source\": [\"shop\"]}}'
    targets: [{{Id: other, Arn: \"arn:aws:lambda:us-east-1:123456789012:function:other\"}}]
  - name: on-deploy
    eventBus: releases
    eventPattern: '{{\"source\": [\"deploy\"]}}'
"
    ));
    let events = Client::new(&sdk_config(&sim).await);
    let buses = events.list_event_buses().send().await.unwrap();
    let names: Vec<(&str, &str)> = buses
        .event_buses()
        .iter()
        .map(|bus| (bus.name().unwrap(), bus.arn().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "default",
                "arn:aws:events:us-east-1:123456789012:event-bus/default"
            ),
            (
                "jobs",
                "arn:aws:events:us-east-1:123456789012:event-bus/jobs"
            ),
            (
                "releases",
                "arn:aws:events:us-east-1:123456789012:event-bus/releases"
            ),
        ]
    );
    let with_prefix = events
        .list_event_buses()
        .name_prefix("re")
        .send()
        .await
        .unwrap();
    assert_eq!(with_prefix.event_buses()[0].name(), Some("releases"));
    assert_eq!(with_prefix.event_buses().len(), 1);

    let rules_of = |bus: &'static str| {
        let events = events.clone();
        async move {
            let listed = events
                .list_rules()
                .event_bus_name(bus)
                .send()
                .await
                .unwrap();
            listed
                .rules()
                .iter()
                .map(|rule| {
                    (
                        rule.name().unwrap().to_string(),
                        rule.arn().unwrap().to_string(),
                        rule.event_bus_name().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let arn = |path: &str| format!("arn:aws:events:us-east-1:123456789012:rule/{path}");
    let triple = |name: &str, path: &str, bus: &str| (name.to_string(), arn(path), bus.to_string());
    assert_eq!(
        rules_of("default").await,
        [
            triple("hourly-ping", "hourly-ping", "default"),
            triple("nightly-report", "nightly-report", "default"),
            triple("weekly-cleanup", "weekly-cleanup", "default"),
        ]
    );
    assert_eq!(
        rules_of("jobs").await,
        [triple("weekly-cleanup", "jobs/weekly-cleanup", "jobs")]
    );
    let prefixed = events
        .list_rules()
        .name_prefix("n")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(prefixed.rules()[0].name(), Some("nightly-report"));
    assert_eq!(prefixed.next_token(), None);

    // Each bus's rule keeps its own targets.
    let targets_on = |bus: &'static str| {
        let events = events.clone();
        async move {
            let listed = events
                .list_targets_by_rule()
                .rule("weekly-cleanup")
                .event_bus_name(bus)
                .send()
                .await
                .unwrap();
            listed
                .targets()
                .iter()
                .map(|target| target.id().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(targets_on("default").await, ["other"]);
    assert_eq!(targets_on("jobs").await, ["cleanup"]);
    events
        .put_targets()
        .rule("weekly-cleanup")
        .event_bus_name("jobs")
        .targets(audit_target())
        .send()
        .await
        .unwrap();
    assert_eq!(targets_on("jobs").await, ["cleanup", "audit"]);
    assert_eq!(targets_on("default").await, ["other"]);
    let by_target = events
        .list_rule_names_by_target()
        .target_arn("arn:aws:lambda:us-east-1:123456789012:function:audit")
        .send()
        .await
        .unwrap();
    assert!(
        by_target.rule_names().is_empty(),
        "the default bus has none"
    );

    let put_on_releases = events
        .put_rule()
        .name("weekly-cleanup")
        .event_bus_name("releases")
        .event_pattern(r#"{"source": ["cleanup"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        put_on_releases.rule_arn(),
        Some(arn("releases/weekly-cleanup").as_str())
    );
    assert_eq!(rules_of("default").await.len(), 3, "unchanged");
    assert_eq!(rules_of("releases").await.len(), 2);
}
