//! EventBridge calls: the rules that start ECS tasks, their targets read
//! and written as raw JSON (`raw`), so that members this build does not
//! know go back as they were.

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_eventbridge::Client;
use serde_json::Value;

use super::raw::{set_body_fields, ResponseBody};
use super::{error_code, every_page, explain};

/// The name of every event bus, page after page.
pub(crate) async fn list_event_buses(events: &Client) -> Result<Vec<String>> {
    every_page(async |token| {
        let page = events
            .list_event_buses()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to list the event buses: {}",
                    explain("events:ListEventBuses", &e)
                )
            })?;
        let names = page.event_buses().iter().filter_map(|b| b.name());
        let names = names.map(str::to_owned).collect();
        Ok((names, page.next_token().map(str::to_owned)))
    })
    .await
}

/// The rules of `bus` with a target in `cluster_arn`, page after page.
pub(crate) async fn list_rule_names_by_target(
    events: &Client,
    bus: &str,
    cluster_arn: &str,
) -> Result<Vec<String>> {
    every_page(async |token| {
        let page = events
            .list_rule_names_by_target()
            .target_arn(cluster_arn)
            .event_bus_name(bus)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to list the rules of event bus {bus} that start tasks in {cluster_arn}: {}",
                    explain("events:ListRuleNamesByTarget", &e)
                )
            })?;
        let rules = page.rule_names().to_vec();
        Ok((rules, page.next_token().map(str::to_owned)))
    })
    .await
}

/// Every target of `rule`, as raw JSON, page after page.
pub(crate) async fn list_targets_by_rule(
    events: &Client,
    bus: &str,
    rule: &str,
) -> Result<Vec<Value>> {
    every_page(async |token| {
        let body = ResponseBody::default();
        events
            .list_targets_by_rule()
            .rule(rule)
            .event_bus_name(bus)
            .set_next_token(token)
            .customize()
            .interceptor(body.clone())
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to read the targets of rule {rule}: {}",
                    explain("events:ListTargetsByRule", &e)
                )
            })?;
        let page = body
            .json()
            .with_context(|| format!("failed to read the targets of rule {rule}"))?;
        let targets = page["Targets"].as_array().cloned().unwrap_or_default();
        Ok((targets, page["NextToken"].as_str().map(str::to_owned)))
    })
    .await
}

/// Whether `rule` still exists on `bus` (DescribeRule).
pub(crate) async fn rule_exists(events: &Client, bus: &str, rule: &str) -> Result<bool> {
    match events
        .describe_rule()
        .name(rule)
        .event_bus_name(bus)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(anyhow!(
            "failed to read rule {rule}: {}",
            explain("events:DescribeRule", &e)
        )),
    }
}

/// PutTargets of one `target`, given as raw JSON and sent as it is; an
/// entry EventBridge did not take is an error with its code.
pub(crate) async fn put_target(
    events: &Client,
    bus: &str,
    rule: &str,
    target: Value,
) -> Result<()> {
    let answer = events
        .put_targets()
        .rule(rule)
        .event_bus_name(bus)
        .customize()
        .mutate_request(set_body_fields(vec![(
            "Targets",
            Value::from(vec![target]),
        )]))
        .send()
        .await
        .map_err(|e| anyhow!("{}", explain("events:PutTargets", &e)))?;
    match answer.failed_entries().first() {
        Some(failed) if answer.failed_entry_count() > 0 => bail!(
            "PutTargets did not take it: {}: {}",
            failed.error_code().unwrap_or("?"),
            failed.error_message().unwrap_or_default()
        ),
        _ => Ok(()),
    }
}
