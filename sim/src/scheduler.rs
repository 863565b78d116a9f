//! Amazon EventBridge Scheduler over its REST-JSON protocol: schedules in
//! schedule groups, listed, read whole, created, and replaced whole by
//! UpdateSchedule (which keeps nothing of the old schedule but its
//! creation date: what the request leaves out takes its default).
//! Errors carry their code in `x-amzn-errortype` and `Message` in the body.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::aws::{object, AwsError, AwsResult, Paging};
use crate::model::ServiceModels;
use crate::reply::{percent_decode, query_parameters, Reply};
use crate::scenario::Scenario;
use crate::world::{str_field, World};

const DEFAULT_GROUP: &str = "default";

/// ListSchedules answers at most 100 a page.
const SCHEDULE_PAGES: Paging = Paging {
    size_member: "MaxResults",
    token_member: "NextToken",
    default_size: 100,
    max_size: 100,
    error_code: "ValidationException",
};

pub(crate) struct SchedulerState {
    groups: Vec<String>,
    /// Each as GetSchedule answers it.
    schedules: Vec<Map<String, Value>>,
}

impl Default for SchedulerState {
    fn default() -> Self {
        SchedulerState {
            groups: vec![DEFAULT_GROUP.to_string()],
            schedules: Vec::new(),
        }
    }
}

/// A Scheduler request: the operation its method and path name, the
/// schedule the path names, and its query or JSON body.
pub(crate) struct SchedulerRequest {
    /// As recorded in `Call::operation`: "UpdateSchedule", ...
    pub operation: String,
    name: Option<String>,
    query: Map<String, Value>,
    body: Value,
}

impl SchedulerRequest {
    pub(crate) fn parse(
        method: &str,
        path: &str,
        query: Option<&str>,
        body: &[u8],
    ) -> SchedulerRequest {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (operation, name) = match (method, segments.as_slice()) {
            ("GET", ["schedules"]) => ("ListSchedules".to_string(), None),
            ("GET", ["schedules", name]) => ("GetSchedule".to_string(), Some(*name)),
            ("POST", ["schedules", name]) => ("CreateSchedule".to_string(), Some(*name)),
            ("PUT", ["schedules", name]) => ("UpdateSchedule".to_string(), Some(*name)),
            _ => (format!("{method} {path}"), None),
        };
        SchedulerRequest {
            operation,
            name: name.map(percent_decode),
            query: query_parameters(query),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }

    /// Holds the request to Scheduler's model: the schedule's name in the
    /// URI, the query, the body.
    pub(crate) fn check(&self, models: &ServiceModels) -> Result<(), AwsError> {
        let path: Vec<(&str, &str)> = self
            .name
            .iter()
            .map(|name| ("Name", name.as_str()))
            .collect();
        models.check_rest("scheduler", &self.operation, &path, &self.query, &self.body)
    }

    /// The JSON body of a write, or the query parameters of a read.
    pub(crate) fn recorded_body(&self) -> Value {
        match self.operation.as_str() {
            "CreateSchedule" | "UpdateSchedule" => self.body.clone(),
            _ => Value::Object(self.query.clone()),
        }
    }
}

/// The answer in REST-JSON: the document, or the error's code in a header
/// and its message in the body.
pub(crate) fn reply(result: AwsResult) -> Reply {
    let (status, body, error_type) = match result {
        Ok(body) => (200, body, None),
        Err(error) => (
            error.status,
            json!({ "Message": error.message }),
            Some(error.code),
        ),
    };
    let reply = Reply::json(status, &body)
        .header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000");
    match error_type {
        Some(code) => reply.header("x-amzn-errortype", &code),
        None => reply,
    }
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    for given in &scenario.schedules {
        let name = str_field(given, "Name")
            .ok_or_else(|| anyhow::anyhow!("schedules: a schedule without Name: {given}"))?
            .to_string();
        let group = str_field(given, "GroupName").unwrap_or(DEFAULT_GROUP);
        if !world.scheduler.groups.iter().any(|known| known == group) {
            world.scheduler.groups.push(group.to_string());
        }
        let mut schedule = stored(world, given, &name);
        for date in ["CreationDate", "LastModificationDate"] {
            let at = given
                .get(date)
                .cloned()
                .unwrap_or_else(|| json!(world.epoch(Duration::ZERO)));
            schedule.insert(date.to_string(), at);
        }
        world.scheduler.schedules.push(schedule);
    }
    Ok(())
}

pub(crate) fn handle(world: &mut World, request: &SchedulerRequest) -> AwsResult {
    match (request.operation.as_str(), request.name.as_deref()) {
        ("ListSchedules", _) => list_schedules(world, &request.query),
        ("GetSchedule", Some(name)) => get_schedule(world, name, &request.query),
        ("CreateSchedule", Some(name)) => create_schedule(world, name, &request.body),
        ("UpdateSchedule", Some(name)) => update_schedule(world, name, &request.body),
        _ => Err(AwsError::client(
            "UnknownOperationException",
            format!(
                "The simulator does not implement scheduler {}.",
                request.operation
            ),
        )),
    }
}

fn not_found(message: String) -> AwsError {
    AwsError::new(404, "ResourceNotFoundException", message)
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", message)
}

/// The group a request names (default "default"), which must exist.
fn group<'a>(world: &World, named: Option<&'a str>) -> Result<&'a str, AwsError> {
    let group = named.unwrap_or(DEFAULT_GROUP);
    if world.scheduler.groups.iter().any(|known| known == group) {
        Ok(group)
    } else {
        Err(not_found(format!("Schedule group {group} does not exist.")))
    }
}

fn find_schedule(world: &World, group: &str, name: &str) -> Option<usize> {
    world.scheduler.schedules.iter().position(|schedule| {
        schedule.get("GroupName") == Some(&json!(group))
            && schedule.get("Name") == Some(&json!(name))
    })
}

fn schedule_not_found(name: &str) -> AwsError {
    not_found(format!("Schedule {name} does not exist."))
}

/// The schedule a create or update request describes, as GetSchedule will
/// answer it but for its CreationDate: the request's members (but its
/// client token), the defaults of those it leaves out, and what Scheduler
/// adds. The model's check has refused a request without its required
/// members.
fn stored(world: &World, request: &Value, name: &str) -> Map<String, Value> {
    // An unset member is absent, as GetSchedule answers it, never null.
    let mut schedule: Map<String, Value> = request
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(member, value)| !value.is_null() && *member != "ClientToken")
        .map(|(member, value)| (member.clone(), value.clone()))
        .collect();
    let group = str_field(request, "GroupName")
        .unwrap_or(DEFAULT_GROUP)
        .to_string();
    let defaults = [
        ("GroupName", json!(group)),
        ("State", json!("ENABLED")),
        ("ScheduleExpressionTimezone", json!("UTC")),
    ];
    for (member, default) in defaults {
        schedule.entry(member).or_insert(default);
    }
    if let Some(Value::Object(target)) = schedule.get_mut("Target") {
        // Scheduler's documented retry policy: 185 attempts within a day.
        target.entry("RetryPolicy").or_insert_with(
            || json!({"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}),
        );
    }
    let added = [
        ("Name", json!(name)),
        (
            "Arn",
            json!(world.arn("scheduler", &format!("schedule/{group}/{name}"))),
        ),
        ("LastModificationDate", json!(world.epoch(world.now))),
    ];
    for (member, value) in added {
        schedule.insert(member.to_string(), value);
    }
    schedule
}

/// ListSchedules: summaries of the schedules of a group (or all), by name
/// prefix and state, in group and name order, a page at a time.
fn list_schedules(world: &mut World, query: &Map<String, Value>) -> AwsResult {
    let text = |key: &str| query.get(key).and_then(Value::as_str);
    let group = match text("ScheduleGroup") {
        Some(named) => Some(group(world, Some(named))?),
        None => None,
    };
    let state = text("State");
    if state.is_some_and(|state| state != "ENABLED" && state != "DISABLED") {
        return Err(validation(
            "1 validation error detected: Value at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
        ));
    }
    let prefix = text("NamePrefix").unwrap_or("");
    let mut summaries: Vec<Value> = world
        .scheduler
        .schedules
        .iter()
        .filter(|s| group.is_none_or(|group| s.get("GroupName") == Some(&json!(group))))
        .filter(|s| state.is_none_or(|state| s.get("State") == Some(&json!(state))))
        .filter(|s| {
            s.get("Name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.starts_with(prefix))
        })
        .map(|s| {
            json!({
                "Arn": s["Arn"],
                "Name": s["Name"],
                "GroupName": s["GroupName"],
                "State": s["State"],
                "CreationDate": s["CreationDate"],
                "LastModificationDate": s["LastModificationDate"],
                "Target": {"Arn": s["Target"]["Arn"]},
            })
        })
        .collect();
    summaries.sort_by_key(|s| (s["GroupName"].to_string(), s["Name"].to_string()));
    // Query values are text; the page size is a number in the model.
    let mut paging = query.clone();
    if let Some(size) = text("MaxResults").and_then(|size| size.parse::<u64>().ok()) {
        paging.insert("MaxResults".to_string(), json!(size));
    }
    let (page, next_token) = SCHEDULE_PAGES.page(&Value::Object(paging), &summaries)?;
    Ok(object(vec![
        ("Schedules", json!(page)),
        ("NextToken", next_token.map_or(Value::Null, Value::from)),
    ]))
}

fn get_schedule(world: &mut World, name: &str, query: &Map<String, Value>) -> AwsResult {
    let group = query
        .get("groupName")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_GROUP);
    let index = find_schedule(world, group, name).ok_or_else(|| schedule_not_found(name))?;
    Ok(Value::Object(world.scheduler.schedules[index].clone()))
}

/// How far in the past a StartDate may be.
const START_DATE_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Scheduler refuses a StartDate more than five minutes in the past (on
/// CreateSchedule, documented; UpdateSchedule is held to the same).
fn start_date_not_past(world: &World, body: &Value) -> Result<(), AwsError> {
    let earliest = world.epoch(world.now) - START_DATE_TOLERANCE.as_secs_f64();
    match body.get("StartDate").and_then(Value::as_f64) {
        Some(start) if start < earliest => Err(validation(
            "The StartDate you specify cannot be earlier than 5 minutes ago.",
        )),
        _ => Ok(()),
    }
}

fn create_schedule(world: &mut World, name: &str, body: &Value) -> AwsResult {
    let group = group(world, str_field(body, "GroupName"))?;
    start_date_not_past(world, body)?;
    if find_schedule(world, group, name).is_some() {
        return Err(AwsError::new(
            409,
            "ConflictException",
            format!("Schedule {name} already exists."),
        ));
    }
    let mut schedule = stored(world, body, name);
    schedule.insert("CreationDate".to_string(), json!(world.epoch(world.now)));
    let arn = schedule["Arn"].clone();
    world.scheduler.schedules.push(schedule);
    Ok(json!({ "ScheduleArn": arn }))
}

fn update_schedule(world: &mut World, name: &str, body: &Value) -> AwsResult {
    let group = group(world, str_field(body, "GroupName"))?;
    let index = find_schedule(world, group, name).ok_or_else(|| schedule_not_found(name))?;
    start_date_not_past(world, body)?;
    let created = world.scheduler.schedules[index]["CreationDate"].clone();
    let mut schedule = stored(world, body, name);
    schedule.insert("CreationDate".to_string(), created);
    let arn = schedule["Arn"].clone();
    world.scheduler.schedules[index] = schedule;
    Ok(json!({ "ScheduleArn": arn }))
}

/// Every schedule as GetSchedule answers it.
pub(crate) fn all_schedules(world: &World) -> Vec<Value> {
    world
        .scheduler
        .schedules
        .iter()
        .cloned()
        .map(Value::Object)
        .collect()
}
