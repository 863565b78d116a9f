//! CloudWatch Logs DescribeLogGroups through the official SDK: the
//! scenario's groups and those tasks create, by prefix or pattern, a page
//! at a time.

use crate::common;

use std::time::Duration;

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
use aws_sdk_cloudwatchlogs::types::LogGroupClass;
use aws_sdk_cloudwatchlogs::Client;
use common::{sdk_config, start};

const GROUPS: &str = r#"
logGroups: [/ecs/web, /ecs/worker, /aws/lambda/thumbs]
taskDefinitions:
  - family: migrate
    containerDefinitions:
      - name: app
        image: "app:1"
        logConfiguration:
          logDriver: awslogs
          options: {awslogs-group: /ecs/migrate, awslogs-region: us-east-1, awslogs-stream-prefix: run}
timelines:
  tasks: [{family: migrate, seconds: 0.2, logs: [migrated]}]
"#;

async fn names(
    request: aws_sdk_cloudwatchlogs::operation::describe_log_groups::builders::DescribeLogGroupsFluentBuilder,
) -> Vec<String> {
    let answer = request.send().await.unwrap();
    answer
        .log_groups()
        .iter()
        .map(|group| group.log_group_name().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_log_groups_by_prefix_or_pattern() {
    let sim = start(GROUPS);
    let logs = Client::new(&sdk_config(&sim).await);
    let all = logs.describe_log_groups().send().await.unwrap();
    let group = &all.log_groups()[0];
    assert_eq!(
        group.log_group_name(),
        Some("/aws/lambda/thumbs"),
        "in name order"
    );
    assert_eq!(
        group.arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/thumbs:*")
    );
    assert_eq!(
        group.log_group_arn(),
        Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/thumbs")
    );
    assert!(group.creation_time().unwrap() > 0);
    assert_eq!(group.stored_bytes(), Some(0));
    assert_eq!(group.log_group_class(), Some(&LogGroupClass::Standard));
    assert_eq!(all.next_token(), None);

    let by_prefix = names(logs.describe_log_groups().log_group_name_prefix("/ecs/")).await;
    assert_eq!(by_prefix, ["/ecs/web", "/ecs/worker"]);
    let by_pattern = names(logs.describe_log_groups().log_group_name_pattern("work")).await;
    assert_eq!(by_pattern, ["/ecs/worker"]);
    let both = logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/")
        .log_group_name_pattern("work")
        .send()
        .await
        .unwrap_err();
    assert_eq!(both.code(), Some("InvalidParameterException"));
    assert_eq!(sim.calls_to("DescribeLogGroups")[0].service, "logs");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_log_groups_by_limit() {
    let sim = start(GROUPS);
    let logs = Client::new(&sdk_config(&sim).await);
    let first = logs.describe_log_groups().limit(2).send().await.unwrap();
    assert_eq!(first.log_groups().len(), 2);
    let rest = logs
        .describe_log_groups()
        .limit(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.log_groups().len(), 1);
    assert_eq!(rest.next_token(), None);
    let too_many = logs
        .describe_log_groups()
        .limit(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Some("InvalidParameterException"));
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_the_groups_tasks_create() {
    let sim = start(GROUPS);
    let config = sdk_config(&sim).await;
    let logs = Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let run = ecs
        .run_task()
        .task_definition("migrate")
        .send()
        .await
        .unwrap();
    let task_id = run.tasks()[0]
        .task_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let stream = format!("run/app/{task_id}");
    assert!(sim.wait_until(Duration::from_secs(10), |sim| {
        !sim.log_messages("/ecs/migrate", &stream).is_empty()
    }));
    let created = logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/migrate")
        .send()
        .await
        .unwrap();
    let scenario_group = logs
        .describe_log_groups()
        .log_group_name_prefix("/ecs/web")
        .send()
        .await
        .unwrap();
    assert!(
        created.log_groups()[0].creation_time() >= scenario_group.log_groups()[0].creation_time(),
        "created when the task first wrote"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_reaches_the_client() {
    let sim = start(&format!(
        "{GROUPS}\nfaults:\n  - {{service: logs, operation: DescribeLogGroups, kind: accessDenied}}"
    ));
    let logs = Client::new(&sdk_config(&sim).await);
    let denied = logs.describe_log_groups().send().await.unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
}
