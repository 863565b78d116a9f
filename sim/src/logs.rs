//! CloudWatch Logs: log groups and streams written by tasks' awslogs
//! driver, read with GetLogEvents and FilterLogEvents, and listed with
//! DescribeLogGroups and DescribeLogStreams.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::aws::{object, str_list, AwsError, AwsResult, Paging};
use crate::scenario::Scenario;
use crate::world::{str_field, World};

/// Events GetLogEvents and FilterLogEvents return when no limit is given.
const DEFAULT_LIMIT: usize = 10_000;

/// DescribeLogGroups answers at most 50 groups a page.
const LOG_GROUP_PAGES: Paging = Paging {
    size_member: "limit",
    token_member: "nextToken",
    default_size: 50,
    max_size: 50,
    error_code: "InvalidParameterException",
};

#[derive(Default)]
pub(crate) struct LogsState {
    /// By name, in the ASCII order DescribeLogGroups answers in.
    groups: BTreeMap<String, LogGroup>,
}

struct LogGroup {
    created_at: Duration,
    /// Stream name -> events in the order they were written.
    streams: BTreeMap<String, Vec<LogEvent>>,
}

impl LogGroup {
    fn new(created_at: Duration) -> LogGroup {
        LogGroup {
            created_at,
            streams: BTreeMap::new(),
        }
    }
}

#[derive(Clone)]
struct LogEvent {
    timestamp: i64,
    ingestion_time: i64,
    message: String,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) {
    for group in &scenario.log_groups {
        world
            .logs
            .groups
            .entry(group.clone())
            .or_insert_with(|| LogGroup::new(Duration::ZERO));
    }
}

/// Appends a line to a stream, creating the group and the stream as the
/// awslogs driver does.
pub(crate) fn put(world: &mut World, group: &str, stream: &str, message: &str) {
    let (now, timestamp) = (world.now, world.epoch_millis(world.now));
    world
        .logs
        .groups
        .entry(group.to_string())
        .or_insert_with(|| LogGroup::new(now))
        .streams
        .entry(stream.to_string())
        .or_default()
        .push(LogEvent {
            timestamp,
            ingestion_time: timestamp,
            message: message.to_string(),
        });
}

pub(crate) fn handle(world: &mut World, operation: &str, body: &Value) -> Option<AwsResult> {
    let result = match operation {
        "GetLogEvents" => get_log_events(world, body),
        "FilterLogEvents" => filter_log_events(world, body),
        "DescribeLogStreams" => describe_log_streams(world, body),
        "DescribeLogGroups" => describe_log_groups(world, body),
        _ => return None,
    };
    Some(result)
}

fn not_found(what: &str) -> AwsError {
    AwsError::client(
        "ResourceNotFoundException",
        format!("The specified log {what} does not exist."),
    )
}

/// The group named by logGroupName or logGroupIdentifier (a name or an ARN).
fn group<'a>(
    world: &'a World,
    body: &Value,
) -> Result<(&'a String, &'a BTreeMap<String, Vec<LogEvent>>), AwsError> {
    let name = str_field(body, "logGroupName")
        .or_else(|| str_field(body, "logGroupIdentifier"))
        .map(|name| {
            name.split_once(":log-group:")
                .map_or(name, |(_, rest)| rest.trim_end_matches(":*"))
        })
        .ok_or_else(|| {
            AwsError::client(
                "InvalidParameterException",
                "logGroupName must be specified.",
            )
        })?;
    world
        .logs
        .groups
        .get_key_value(name)
        .map(|(name, group)| (name, &group.streams))
        .ok_or_else(|| not_found("group"))
}

fn limit(body: &Value) -> usize {
    body.get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |limit| limit as usize)
}

fn in_time_range(body: &Value, timestamp: i64) -> bool {
    let start = body.get("startTime").and_then(Value::as_i64);
    let end = body.get("endTime").and_then(Value::as_i64);
    start.is_none_or(|start| timestamp >= start) && end.is_none_or(|end| timestamp < end)
}

/// Parses a token this module issued: a direction letter and an index.
fn parse_token(token: &str) -> Option<(char, usize)> {
    let (direction, index) = token.split_once('/')?;
    Some((direction.chars().next()?, index.parse().ok()?))
}

fn invalid_token() -> AwsError {
    AwsError::client(
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )
}

/// Forward tokens name the index of the next event to return; backward
/// tokens the index one past the last event of the previous page. A
/// forward token at the end of the stream comes back unchanged, as
/// CloudWatch Logs answers when there is nothing new.
fn get_log_events(world: &mut World, body: &Value) -> AwsResult {
    let (_, streams) = group(world, body)?;
    let stream = str_field(body, "logStreamName").ok_or_else(|| {
        AwsError::client(
            "InvalidParameterException",
            "logStreamName must be specified.",
        )
    })?;
    let events: Vec<&LogEvent> = streams
        .get(stream)
        .ok_or_else(|| not_found("stream"))?
        .iter()
        .filter(|event| in_time_range(body, event.timestamp))
        .collect();
    let limit = limit(body);
    let from_head = body
        .get("startFromHead")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (start, end) = match str_field(body, "nextToken") {
        Some(token) => match parse_token(token).ok_or_else(invalid_token)? {
            ('f', index) => (index.min(events.len()), (index + limit).min(events.len())),
            ('b', index) => (index.saturating_sub(limit), index.min(events.len())),
            _ => return Err(invalid_token()),
        },
        None if from_head => (0, limit.min(events.len())),
        None => (events.len().saturating_sub(limit), events.len()),
    };
    let page: Vec<Value> = events[start..end]
        .iter()
        .map(|event| {
            json!({
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.ingestion_time,
            })
        })
        .collect();
    Ok(json!({
        "events": page,
        "nextForwardToken": format!("f/{end:056}"),
        "nextBackwardToken": format!("b/{start:056}"),
    }))
}

/// Tokens name the index of the next matching event.
fn filter_log_events(world: &mut World, body: &Value) -> AwsResult {
    let (_, streams) = group(world, body)?;
    let names = str_list(body, "logStreamNames");
    let prefix = str_field(body, "logStreamNamePrefix");
    let pattern = str_field(body, "filterPattern")
        .map(|pattern| pattern.trim_matches('"'))
        .filter(|pattern| !pattern.is_empty());
    let selected: Vec<(&String, &Vec<LogEvent>)> = streams
        .iter()
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .filter(|(name, _)| prefix.is_none_or(|prefix| name.starts_with(prefix)))
        .collect();
    let mut matching: Vec<(&String, &LogEvent)> = selected
        .iter()
        .flat_map(|(name, events)| events.iter().map(move |event| (*name, event)))
        .filter(|(_, event)| in_time_range(body, event.timestamp))
        .filter(|(_, event)| pattern.is_none_or(|pattern| event.message.contains(pattern)))
        .collect();
    matching.sort_by_key(|(_, event)| event.timestamp);
    let start = match str_field(body, "nextToken") {
        Some(token) => match parse_token(token).ok_or_else(invalid_token)? {
            ('n', index) => index,
            _ => return Err(invalid_token()),
        },
        None => 0,
    }
    .min(matching.len());
    let end = (start + limit(body)).min(matching.len());
    let events: Vec<Value> = matching[start..end]
        .iter()
        .enumerate()
        .map(|(offset, (stream, event))| {
            json!({
                "logStreamName": stream,
                "timestamp": event.timestamp,
                "message": event.message,
                "ingestionTime": event.ingestion_time,
                "eventId": format!("{:056}", start + offset),
            })
        })
        .collect();
    let searched: Vec<Value> = selected
        .iter()
        .map(|(name, _)| json!({"logStreamName": name, "searchedCompletely": true}))
        .collect();
    Ok(object(vec![
        ("events", Value::Array(events)),
        ("searchedLogStreams", Value::Array(searched)),
        (
            "nextToken",
            if end < matching.len() {
                json!(format!("n/{end}"))
            } else {
                Value::Null
            },
        ),
    ]))
}

fn describe_log_streams(world: &mut World, body: &Value) -> AwsResult {
    let (group_name, streams) = group(world, body)?;
    let prefix = str_field(body, "logStreamNamePrefix").unwrap_or("");
    let described: Vec<Value> = streams
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, events)| {
            let first = events.first().map(|event| event.timestamp);
            let last = events.last().map(|event| event.timestamp);
            object(vec![
                ("logStreamName", json!(name)),
                (
                    "arn",
                    json!(world.arn("logs", &format!("log-group:{group_name}:log-stream:{name}"))),
                ),
                ("creationTime", first.map_or(Value::Null, Value::from)),
                (
                    "firstEventTimestamp",
                    first.map_or(Value::Null, Value::from),
                ),
                ("lastEventTimestamp", last.map_or(Value::Null, Value::from)),
                ("lastIngestionTime", last.map_or(Value::Null, Value::from)),
                ("storedBytes", json!(0)),
            ])
        })
        .collect();
    Ok(json!({ "logStreams": described }))
}

/// The groups whose name starts with logGroupNamePrefix or contains
/// logGroupNamePattern (not both), in name order, a page at a time.
fn describe_log_groups(world: &mut World, body: &Value) -> AwsResult {
    let prefix = str_field(body, "logGroupNamePrefix");
    let pattern = str_field(body, "logGroupNamePattern");
    if prefix.is_some() && pattern.is_some() {
        return Err(AwsError::client(
            "InvalidParameterException",
            "logGroupNamePrefix and logGroupNamePattern are mutually exclusive.",
        ));
    }
    let groups: Vec<Value> = world
        .logs
        .groups
        .iter()
        .filter(|(name, _)| prefix.is_none_or(|prefix| name.starts_with(prefix)))
        .filter(|(name, _)| pattern.is_none_or(|pattern| name.contains(pattern)))
        .map(|(name, group)| {
            let arn = world.arn("logs", &format!("log-group:{name}"));
            json!({
                "logGroupName": name,
                "creationTime": world.epoch_millis(group.created_at),
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "storedBytes": 0,
                "logGroupClass": "STANDARD",
                "logGroupArn": arn,
            })
        })
        .collect();
    let (page, next_token) = LOG_GROUP_PAGES.page(body, &groups)?;
    Ok(object(vec![
        ("logGroups", json!(page)),
        ("nextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

/// The messages of one stream, in order; empty when it does not exist.
pub(crate) fn messages(world: &World, group: &str, stream: &str) -> Vec<String> {
    world
        .logs
        .groups
        .get(group)
        .and_then(|group| group.streams.get(stream))
        .map(|events| events.iter().map(|event| event.message.clone()).collect())
        .unwrap_or_default()
}
