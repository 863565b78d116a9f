//! Faults injected per operation, seen through the official SDK, which
//! retries what AWS says is retryable.

use crate::common;

use std::time::{Duration, Instant};

use aws_sdk_ecs::error::ProvideErrorMetadata as _;
use aws_sdk_ecs::Client;
use common::{sdk_config, start, WEB};

fn with_faults(faults: &str) -> ecs_deploy_sim::Sim {
    start(&format!("{WEB}\nfaults:\n{faults}"))
}

fn attempts(sim: &ecs_deploy_sim::Sim, operation: &str) -> usize {
    sim.calls_to(operation).len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttling_burst_is_retried_away() {
    let sim =
        with_faults("  - {service: ecs, operation: DescribeServices, kind: throttle, times: 2}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let described = ecs
        .describe_services()
        .cluster("prod")
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(described.services().len(), 1);
    assert_eq!(attempts(&sim, "DescribeServices"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_have_the_codes_aws_uses() {
    let sim = with_faults(
        "  - {operation: DescribeServices, kind: serverError, always: true}
  - {operation: DescribeTaskDefinition, kind: expiredToken}
  - {operation: ListTaskDefinitions, kind: accessDenied}
  - {operation: ListServices, kind: throttle, always: true}",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let server = ecs
        .describe_services()
        .cluster("prod")
        .services("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(server.code(), Some("ServerException"));
    assert_eq!(
        attempts(&sim, "DescribeServices"),
        3,
        "retried, then given up"
    );
    let expired = ecs
        .describe_task_definition()
        .task_definition("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(expired.code(), Some("ExpiredTokenException"));
    let denied = ecs.list_task_definitions().send().await.unwrap_err();
    assert_eq!(denied.code(), Some("AccessDeniedException"));
    assert!(denied
        .message()
        .unwrap()
        .contains("ecs:ListTaskDefinitions"));
    let throttled = ecs
        .list_services()
        .cluster("prod")
        .send()
        .await
        .unwrap_err();
    assert_eq!(throttled.code(), Some("ThrottlingException"));
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_answers_and_dropped_connections() {
    let sim = with_faults(
        "  - {operation: DescribeTaskDefinition, kind: slow, seconds: 0.4}
  - {operation: ListTaskDefinitions, kind: drop}",
    );
    let ecs = Client::new(&sdk_config(&sim).await);
    let started = Instant::now();
    ecs.describe_task_definition()
        .task_definition("web")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    let listed = ecs.list_task_definitions().send().await.unwrap();
    assert_eq!(listed.task_definition_arns().len(), 1);
    assert_eq!(
        attempts(&sim, "ListTaskDefinitions"),
        2,
        "the dropped attempt was retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_answer_comes_after_the_call_took_effect() {
    let sim = with_faults("  - {operation: RegisterTaskDefinition, kind: slowAfter, seconds: 0.4}");
    let ecs = Client::new(&sdk_config(&sim).await);
    let register = ecs
        .register_task_definition()
        .family("late")
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("web")
                .image("late:1")
                .build(),
        )
        .send();
    let started = Instant::now();
    let register = tokio::spawn(register);
    // The revision exists while the answer is still on its way.
    while sim.task_definitions().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never took effect"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!register.is_finished(), "answered before the delay");
    let registered = register.await.unwrap().unwrap();
    assert_eq!(registered.task_definition().unwrap().family(), Some("late"));
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn a_dropped_connection_gets_no_answer() {
    let sim = with_faults("  - {service: s3, kind: drop}");
    let result = reqwest::blocking::get(format!("{}/infra/taskdef.json", sim.aws_endpoint()));
    assert!(result.is_err(), "{result:?}");
    let retried =
        reqwest::blocking::get(format!("{}/infra/taskdef.json", sim.aws_endpoint())).unwrap();
    assert_eq!(retried.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_faults_are_s3_errors() {
    let sim = with_faults("  - {service: s3, operation: GetObject, kind: accessDenied}");
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(&sim).await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let denied = s3
        .get_object()
        .bucket("infra")
        .key("taskdef.json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&denied),
        Some("AccessDenied")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_retried_and_the_client_token_starts_one_task() {
    let sim = start(&format!(
        "{}\nfaults:\n  - {{operation: RunTask, kind: dropAfter}}",
        r#"
taskDefinitions:
  - family: migrate
    containerDefinitions: [{name: app, image: "app:1"}]
timelines:
  tasks: [{family: migrate, seconds: 30}]
"#
    ));
    let ecs = Client::new(&sdk_config(&sim).await);
    // The SDK fills clientToken itself and keeps it across retries.
    let run = ecs
        .run_task()
        .task_definition("migrate")
        .send()
        .await
        .unwrap();
    assert_eq!(attempts(&sim, "RunTask"), 2, "the lost answer was retried");
    let tokens: Vec<_> = sim
        .calls_to("RunTask")
        .into_iter()
        .map(|call| call.body["clientToken"].clone())
        .collect();
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(sim.tasks().len(), 1, "the retry started nothing new");
    assert_eq!(
        run.tasks()[0].task_arn().map(str::to_string),
        sim.tasks()[0]["taskArn"].as_str().map(str::to_string)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_head_object_is_a_bodiless_403() {
    let sim = with_faults("  - {service: s3, operation: HeadObject, kind: accessDenied}");
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(&sim).await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let denied = s3
        .head_object()
        .bucket("infra")
        .key("taskdef.json")
        .send()
        .await
        .unwrap_err();
    let response = denied
        .raw_response()
        .expect("an answer, not a transport error");
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.body().bytes().unwrap_or_default().is_empty());
    assert!(!denied.into_service_error().is_not_found());
}
