//! ELBv2 over awsQuery through the official SDK: target groups with the
//! scenario's values and ELBv2's defaults, their attributes, the health of
//! the targets a service's tasks are as its deployments roll out, and the
//! XML errors and faults.

use crate::common;

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata as _;
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use aws_sdk_elasticloadbalancingv2::Client;
use common::{reaches, sdk_config, start};

const DEADLINE: Duration = Duration::from_secs(10);

const SHOP_WEB: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/0123456789abcdef";

/// A service behind target group shop-web; its first deployment completes
/// at once, its second takes 3 s: pending 0.5 s, pulling 0.5 s, its tasks
/// checked until 2 s, then a 1 s drain.
fn world(faults: &str) -> ecs_deploy_sim::Sim {
    start(&format!(
        r#"
clusters: [prod]
taskDefinitions:
  - family: web
    networkMode: awsvpc
    containerDefinitions: [{{name: web, image: 'nginx:1', essential: true}}]
  - family: web
    networkMode: awsvpc
    containerDefinitions: [{{name: web, image: 'nginx:2', essential: true}}]
targetGroups:
  - TargetGroupName: shop-web
    TargetGroupArn: "{SHOP_WEB}"
    Protocol: HTTPS
    Port: 8080
    VpcId: vpc-0abc
    HealthCheckIntervalSeconds: 10
    HealthCheckTimeoutSeconds: 4
    HealthyThresholdCount: 2
    UnhealthyThresholdCount: 3
    HealthCheckPath: /up
    LoadBalancerArns: ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"]
    attributes: {{deregistration_delay.timeout_seconds: "30", stickiness.type: lb_cookie}}
  - TargetGroupName: plain
services:
  - cluster: prod
    serviceName: web
    taskDefinition: web:1
    desiredCount: 2
    launchType: FARGATE
    networkConfiguration: {{awsvpcConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}}}
    loadBalancers: [{{targetGroupArn: "{SHOP_WEB}", containerName: web, containerPort: 8080}}]
timelines:
  deployments:
    - {{cluster: prod, service: web, seconds: 0.2}}
    - {{cluster: prod, service: web, seconds: 3, drainSeconds: 1, pendingSeconds: 0.5, pullSeconds: 0.5}}
faults:
{faults}
"#
    ))
}

async fn client(sim: &ecs_deploy_sim::Sim) -> Client {
    Client::new(&sdk_config(sim).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn describes_target_groups_with_the_scenarios_values_or_elbv2s_defaults() {
    let sim = world("  []");
    let elb = client(&sim).await;
    let all = elb.describe_target_groups().send().await.unwrap();
    assert_eq!(all.target_groups().len(), 2);

    let by_arn = elb
        .describe_target_groups()
        .target_group_arns(SHOP_WEB)
        .send()
        .await
        .unwrap();
    let shop = &by_arn.target_groups()[0];
    assert_eq!(shop.target_group_arn(), Some(SHOP_WEB));
    assert_eq!(shop.target_group_name(), Some("shop-web"));
    assert_eq!(shop.protocol().unwrap().as_str(), "HTTPS");
    assert_eq!(shop.port(), Some(8080));
    assert_eq!(shop.vpc_id(), Some("vpc-0abc"));
    assert_eq!(shop.health_check_interval_seconds(), Some(10));
    assert_eq!(shop.health_check_timeout_seconds(), Some(4));
    assert_eq!(shop.healthy_threshold_count(), Some(2));
    assert_eq!(shop.unhealthy_threshold_count(), Some(3));
    assert_eq!(shop.health_check_path(), Some("/up"));
    assert_eq!(shop.load_balancer_arns().len(), 1);

    let by_name = elb
        .describe_target_groups()
        .names("plain")
        .send()
        .await
        .unwrap();
    let plain = &by_name.target_groups()[0];
    let arn = plain.target_group_arn().unwrap();
    let suffix = arn
        .strip_prefix("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plain/")
        .unwrap();
    assert!(suffix.len() == 16 && suffix.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(plain.protocol().unwrap().as_str(), "HTTP");
    assert_eq!(plain.port(), Some(80));
    assert!(plain.vpc_id().unwrap().starts_with("vpc-"));
    assert_eq!(plain.health_check_protocol().unwrap().as_str(), "HTTP");
    assert_eq!(plain.health_check_port(), Some("traffic-port"));
    assert_eq!(plain.health_check_enabled(), Some(true));
    assert_eq!(plain.health_check_interval_seconds(), Some(30));
    assert_eq!(plain.health_check_timeout_seconds(), Some(5));
    assert_eq!(plain.healthy_threshold_count(), Some(5));
    assert_eq!(plain.unhealthy_threshold_count(), Some(2));
    assert_eq!(plain.health_check_path(), Some("/"));
    assert_eq!(plain.matcher().unwrap().http_code(), Some("200"));
    assert!(plain.load_balancer_arns().is_empty());
    assert_eq!(plain.target_type().unwrap().as_str(), "ip");

    let call = &sim.calls_to("DescribeTargetGroups")[2];
    assert_eq!(call.service, "elasticloadbalancing");
    assert_eq!(call.body, serde_json::json!({"Names": ["plain"]}));
}

#[tokio::test(flavor = "multi_thread")]
async fn attributes_are_elbv2s_defaults_under_the_scenarios() {
    let sim = world("  []");
    let elb = client(&sim).await;
    let attributes = |arn: String| {
        let elb = elb.clone();
        async move {
            let answer = elb
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .unwrap();
            answer
                .attributes()
                .iter()
                .map(|a| (a.key().unwrap().to_owned(), a.value().unwrap().to_owned()))
                .collect::<std::collections::BTreeMap<String, String>>()
        }
    };
    let shop = attributes(SHOP_WEB.to_string()).await;
    assert_eq!(shop["deregistration_delay.timeout_seconds"], "30");
    assert_eq!(shop["stickiness.type"], "lb_cookie");
    assert_eq!(shop["stickiness.enabled"], "false");
    assert_eq!(shop["load_balancing.algorithm.type"], "round_robin");
    assert_eq!(shop["slow_start.duration_seconds"], "0");
    let plain_arn = elb
        .describe_target_groups()
        .names("plain")
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    let plain = attributes(plain_arn).await;
    assert_eq!(plain.len(), 4);
    assert_eq!(plain["deregistration_delay.timeout_seconds"], "300");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_target_groups_and_malformed_requests_are_refused() {
    let sim = world("  []");
    let elb = client(&sim).await;
    let missing = elb
        .describe_target_groups()
        .names("plain")
        .names("ghost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("TargetGroupNotFound"));
    assert_eq!(
        missing.message(),
        Some("One or more target groups not found")
    );
    assert!(missing
        .into_service_error()
        .is_target_group_not_found_exception());
    let ghost = format!("{}-ghost", SHOP_WEB);
    let attributes = elb
        .describe_target_group_attributes()
        .target_group_arn(&ghost)
        .send()
        .await
        .unwrap_err();
    assert!(attributes
        .into_service_error()
        .is_target_group_not_found_exception());
    let health = elb
        .describe_target_health()
        .target_group_arn(&ghost)
        .send()
        .await
        .unwrap_err();
    assert_eq!(health.code(), Some("TargetGroupNotFound"));

    // Held to the model: PageSize is 1 to 400.
    let refused = elb
        .describe_target_groups()
        .page_size(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ValidationError"));
    assert_eq!(
        refused.message(),
        Some("1 validation error detected: Value 0 at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_fault_answers_in_the_xml_error_shape() {
    let sim = world(
        "  - {service: elasticloadbalancing, operation: DescribeTargetHealth, kind: accessDenied}",
    );
    let elb = client(&sim).await;
    let denied = elb
        .describe_target_health()
        .target_group_arn(SHOP_WEB)
        .send()
        .await
        .unwrap_err();
    assert_eq!(denied.raw_response().unwrap().status().as_u16(), 403);
    assert_eq!(denied.code(), Some("AccessDenied"));
    assert!(denied
        .message()
        .unwrap()
        .contains("elasticloadbalancing:DescribeTargetHealth"));
    // Once: the next call is answered.
    let health = elb
        .describe_target_health()
        .target_group_arn(SHOP_WEB)
        .send()
        .await
        .unwrap();
    assert!(
        health.target_health_descriptions().is_empty(),
        "the service's tasks at the start are counted, not listed"
    );
}

/// The targets of shop-web as (state, address) pairs, sorted.
async fn states(elb: &Client) -> Vec<(String, String)> {
    let health = elb
        .describe_target_health()
        .target_group_arn(SHOP_WEB)
        .send()
        .await
        .unwrap();
    let mut states: Vec<(String, String)> = health
        .target_health_descriptions()
        .iter()
        .map(|description| {
            let target = description.target().unwrap();
            assert_eq!(target.port(), Some(8080));
            assert_eq!(description.health_check_port(), Some("8080"));
            let state = description.target_health().unwrap().state().unwrap();
            (state.as_str().to_owned(), target.id().unwrap().to_owned())
        })
        .collect();
    states.sort();
    states
}

fn count(states: &[(String, String)], state: &str) -> usize {
    states.iter().filter(|(s, _)| s == state).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn target_health_follows_the_deployments_tasks() {
    let sim = world("  []");
    let config = sdk_config(&sim).await;
    let (ecs, elb) = (aws_sdk_ecs::Client::new(&config), Client::new(&config));
    let first = common::update_service(&ecs, "web", "web:2").await;
    let successful = aws_sdk_ecs::types::ServiceDeploymentStatus::Successful;
    assert!(reaches(&ecs, &first, successful.clone(), DEADLINE).await);
    let old = states(&elb).await;
    assert_eq!(count(&old, "healthy"), 2, "{old:?}");
    assert!(old.iter().all(|(_, ip)| ip.starts_with("10.0.")));

    let second = common::update_service(&ecs, "web", "web:1").await;
    // Every distinct answer, in order, until the drain.
    let seen = std::sync::Mutex::new(Vec::new());
    let watched = common::eventually(DEADLINE, || async {
        let now = states(&elb).await;
        let mut seen = seen.lock().unwrap();
        if !seen.contains(&now) {
            seen.push(now.clone());
        }
        count(&now, "draining") == 2 && count(&now, "healthy") == 2
    })
    .await;
    let seen = seen.into_inner().unwrap();
    assert!(watched, "{seen:?}");
    assert!(
        seen.iter()
            .any(|s| count(s, "initial") == 2 && count(s, "healthy") == 2),
        "the new tasks are checked before the drain: {seen:?}"
    );
    let draining: Vec<&String> = seen
        .last()
        .unwrap()
        .iter()
        .filter(|(s, _)| s == "draining")
        .map(|(_, ip)| ip)
        .collect();
    assert_eq!(draining, old.iter().map(|(_, ip)| ip).collect::<Vec<_>>());

    assert!(reaches(&ecs, &second, successful, DEADLINE).await);
    let new = states(&elb).await;
    assert_eq!(count(&new, "healthy"), 2, "{new:?}");
    assert!(new.iter().all(|target| !old.contains(target)));

    let asked = elb
        .describe_target_health()
        .target_group_arn(SHOP_WEB)
        .targets(
            TargetDescription::builder()
                .id("10.9.9.9")
                .port(8080)
                .build(),
        )
        .targets(TargetDescription::builder().id(&new[0].1).build())
        .send()
        .await
        .unwrap();
    let described = asked.target_health_descriptions();
    assert_eq!(described.len(), 2);
    let unused = described[0].target_health().unwrap();
    assert_eq!(unused.state().unwrap().as_str(), "unused");
    assert_eq!(unused.reason().unwrap().as_str(), "Target.NotRegistered");
    let registered = described[1].target_health().unwrap();
    assert_eq!(registered.state().unwrap().as_str(), "healthy");
    assert_eq!(described[1].target().unwrap().port(), Some(8080));
}
