//! ECS task definitions: families, revisions, and their status: ACTIVE,
//! INACTIVE once deregistered, DELETE_IN_PROGRESS once submitted for
//! deletion (where they stay: nothing here finishes a deletion).

use std::collections::BTreeMap;

use anyhow::Context as _;

use super::*;

pub(super) fn store_task_definition(world: &mut World, body: &Value) -> Result<usize, AwsError> {
    let mut definition = body
        .as_object()
        .cloned()
        .ok_or_else(|| client_exception("The request body must be a JSON object."))?;
    let family = str_field(body, "family")
        .filter(|family| !family.is_empty())
        .ok_or_else(|| client_exception("Family must be specified."))?
        .to_string();
    let containers = body
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .filter(|containers| !containers.is_empty())
        .ok_or_else(|| client_exception("Container definitions must be specified."))?;
    for container in containers {
        for key in ["name", "image"] {
            if str_field(container, key).is_none_or(str::is_empty) {
                return Err(client_exception(&format!(
                    "Container.{key} should not be null or empty."
                )));
            }
        }
    }
    let tags = definition.remove("tags").unwrap_or_else(|| json!([]));
    let revision = world
        .ecs
        .task_definitions
        .iter()
        .filter(|existing| existing.family == family)
        .map(|existing| existing.revision)
        .max()
        .unwrap_or(0)
        + 1;
    world.ecs.task_definitions.push(TaskDefinition {
        arn: world.arn("ecs", &format!("task-definition/{family}:{revision}")),
        family,
        revision,
        status: TaskDefinitionStatus::Active,
        body: definition,
        tags,
        registered_at: world.epoch(world.now),
        deregistered_at: None,
    });
    Ok(world.ecs.task_definitions.len() - 1)
}

/// The describe-only members a scenario's task definition may carry beside
/// its RegisterTaskDefinition body.
const SEEDED_MEMBERS: [&str; 5] = [
    "status",
    "registeredAt",
    "deregisteredAt",
    "registeredSecondsAgo",
    "deregisteredSecondsAgo",
];

/// A scenario's task definition: a RegisterTaskDefinition body, and what
/// ECS records beside it when given: `status` (default ACTIVE, INACTIVE
/// once `deregistered…` is given), `registeredAt` and `deregisteredAt`
/// (epoch seconds) or `registeredSecondsAgo` and `deregisteredSecondsAgo`
/// (before the simulator started).
pub(super) fn seed_task_definition(world: &mut World, given: &Value) -> anyhow::Result<()> {
    let mut body = given.clone();
    let seeded: Map<String, Value> = SEEDED_MEMBERS
        .iter()
        .filter_map(|member| {
            let value = body.as_object_mut()?.remove(*member)?;
            Some((member.to_string(), value))
        })
        .collect();
    let index =
        store_task_definition(world, &body).map_err(|error| anyhow::anyhow!(error.message))?;
    let start = world.epoch(Duration::ZERO);
    let moment = |absolute: &str, ago: &str| -> anyhow::Result<Option<f64>> {
        match (seeded.get(absolute), seeded.get(ago)) {
            (Some(_), Some(_)) => anyhow::bail!("give {absolute} or {ago}, not both"),
            (Some(at), None) => at
                .as_f64()
                .map(Some)
                .with_context(|| format!("{absolute} must be epoch seconds")),
            (None, Some(ago)) => ago
                .as_f64()
                .map(|ago| Some(start - ago))
                .with_context(|| format!("{ago} must be a number of seconds")),
            (None, None) => Ok(None),
        }
    };
    let registered_at = moment("registeredAt", "registeredSecondsAgo")?;
    let deregistered_at = moment("deregisteredAt", "deregisteredSecondsAgo")?;
    let status = match seeded.get("status") {
        Some(status) => status
            .as_str()
            .and_then(TaskDefinitionStatus::parse)
            .with_context(|| {
                format!("status {status} is not ACTIVE, INACTIVE or DELETE_IN_PROGRESS")
            })?,
        None if deregistered_at.is_some() => TaskDefinitionStatus::Inactive,
        None => TaskDefinitionStatus::Active,
    };
    if status == TaskDefinitionStatus::Active && deregistered_at.is_some() {
        anyhow::bail!("an ACTIVE revision has no deregisteredAt");
    }
    let td = &mut world.ecs.task_definitions[index];
    td.status = status;
    if let Some(at) = registered_at {
        td.registered_at = at;
    }
    if status != TaskDefinitionStatus::Active {
        td.deregistered_at = Some(deregistered_at.unwrap_or(start));
    }
    Ok(())
}

/// Resolves an ARN, `family:revision`, or `family` (its latest ACTIVE revision).
pub(super) fn find_task_definition(world: &World, reference: &str) -> Option<usize> {
    let reference = reference
        .split_once(":task-definition/")
        .map_or(reference, |(_, rest)| rest);
    let definitions = &world.ecs.task_definitions;
    match reference.rsplit_once(':') {
        Some((family, revision)) => {
            let revision: i64 = revision.parse().ok()?;
            definitions
                .iter()
                .position(|td| td.family == family && td.revision == revision)
        }
        None => definitions
            .iter()
            .enumerate()
            .filter(|(_, td)| td.family == reference && td.status == TaskDefinitionStatus::Active)
            .max_by_key(|(_, td)| td.revision)
            .map(|(index, _)| index),
    }
}

/// Fills the members ECS answers with even when they were not registered.
pub(super) fn with_defaults(object: &mut Map<String, Value>, defaults: &[(&str, Value)]) {
    for (key, value) in defaults {
        object
            .entry(key.to_string())
            .or_insert_with(|| value.clone());
    }
}

fn render_task_definition(world: &World, index: usize) -> Value {
    let td = &world.ecs.task_definitions[index];
    let mut rendered = td.body.clone();
    with_defaults(
        &mut rendered,
        &[("volumes", json!([])), ("placementConstraints", json!([]))],
    );
    if let Some(Value::Array(containers)) = rendered.get_mut("containerDefinitions") {
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            with_defaults(
                container,
                &[
                    ("cpu", json!(0)),
                    ("portMappings", json!([])),
                    ("environment", json!([])),
                    ("mountPoints", json!([])),
                    ("volumesFrom", json!([])),
                ],
            );
        }
    }
    let fargate = td
        .body
        .get("requiresCompatibilities")
        .and_then(Value::as_array)
        .is_some_and(|list| list.iter().any(|c| c == "FARGATE"));
    let compatibilities = if fargate {
        json!(["EC2", "FARGATE"])
    } else {
        json!(["EC2"])
    };
    let describe_only = object(vec![
        ("taskDefinitionArn", json!(td.arn)),
        ("revision", json!(td.revision)),
        ("status", json!(td.status.as_str())),
        (
            "requiresAttributes",
            json!([{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}]),
        ),
        ("compatibilities", compatibilities),
        ("registeredAt", json!(td.registered_at)),
        (
            "registeredBy",
            json!(format!("arn:aws:iam::{}:root", world.account)),
        ),
        (
            "deregisteredAt",
            td.deregistered_at.map_or(Value::Null, |at| json!(at)),
        ),
    ]);
    if let Value::Object(members) = describe_only {
        rendered.extend(members);
    }
    Value::Object(rendered)
}

pub(super) fn register_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let index = store_task_definition(world, body)?;
    world.ecs.registered.push(body.clone());
    Ok(json!({
        "taskDefinition": render_task_definition(world, index),
        "tags": world.ecs.task_definitions[index].tags,
    }))
}

pub(super) fn describe_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let reference = required_str(body, "taskDefinition")?;
    let index = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("Unable to describe task definition."))?;
    let include_tags = str_list(body, "include").iter().any(|item| item == "TAGS");
    Ok(object(vec![
        ("taskDefinition", render_task_definition(world, index)),
        (
            "tags",
            if include_tags {
                world.ecs.task_definitions[index].tags.clone()
            } else {
                Value::Null
            },
        ),
    ]))
}

/// Whether a reference (an ARN or `family:revision`) names a revision
/// rather than a family, as deregistering and deleting need.
fn names_revision(reference: &str) -> bool {
    reference
        .split_once(":task-definition/")
        .map_or(reference, |(_, rest)| rest)
        .contains(':')
}

pub(super) fn deregister_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let reference = required_str(body, "taskDefinition")?;
    if !names_revision(reference) {
        return Err(client_exception(&format!(
            "Invalid revision number. Number: {reference}"
        )));
    }
    let index = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("The specified task definition does not exist."))?;
    let now = world.epoch(world.now);
    let td = &mut world.ecs.task_definitions[index];
    if td.status == TaskDefinitionStatus::Active {
        td.status = TaskDefinitionStatus::Inactive;
        td.deregistered_at = Some(now);
    }
    Ok(json!({ "taskDefinition": render_task_definition(world, index) }))
}

/// At most this many revisions per DeleteTaskDefinitions call.
const MAX_DELETED_AT_ONCE: usize = 10;

/// DeleteTaskDefinitions: each INACTIVE (or already deleting) revision named
/// is DELETE_IN_PROGRESS; one that is ACTIVE, missing or not a revision is a
/// failure, the others going on.
pub(super) fn delete_task_definitions(world: &mut World, body: &Value) -> AwsResult {
    let references = str_list(body, "taskDefinitions");
    if references.is_empty() {
        return Err(invalid_parameter(
            "size of TaskDefinition references list must be greater than 0",
        ));
    }
    if references.len() > MAX_DELETED_AT_ONCE {
        return Err(invalid_parameter(
            "Size of TaskDefinition references list cannot exceed 10",
        ));
    }
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for reference in &references {
        let found = find_task_definition(world, reference).filter(|_| names_revision(reference));
        let Some(index) = found else {
            let reason = if names_revision(reference) {
                "The specified task definition does not exist. Specify a valid account, family, revision and try again."
            } else {
                "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."
            };
            failures.push(json!({ "arn": reference, "reason": reason }));
            continue;
        };
        let td = &mut world.ecs.task_definitions[index];
        if td.status == TaskDefinitionStatus::Active {
            failures.push(json!({
                "arn": td.arn,
                "reason": "The specified task definition is still in ACTIVE status. Please deregister the target and try again.",
            }));
            continue;
        }
        td.status = TaskDefinitionStatus::DeleteInProgress;
        deleted.push(render_task_definition(world, index));
    }
    Ok(json!({ "taskDefinitions": deleted, "failures": failures }))
}

/// ListTaskDefinitions: the revisions of one family (`familyPrefix` is the
/// whole family name, despite its name) or of all, with one status
/// (default ACTIVE), by family and revision (`sort` DESC reverses it), 100
/// a page unless maxResults says otherwise.
pub(super) fn list_task_definitions(world: &mut World, body: &Value) -> AwsResult {
    let family = str_field(body, "familyPrefix");
    let status = str_field(body, "status").unwrap_or("ACTIVE");
    let status = TaskDefinitionStatus::parse(status)
        .ok_or_else(|| invalid_parameter(format!("Invalid status {status}.")))?;
    let mut listed: Vec<&TaskDefinition> = world
        .ecs
        .task_definitions
        .iter()
        .filter(|td| family.is_none_or(|family| td.family == family) && td.status == status)
        .collect();
    listed.sort_by(|a, b| (&a.family, a.revision).cmp(&(&b.family, b.revision)));
    if str_field(body, "sort") == Some("DESC") {
        listed.reverse();
    }
    let arns: Vec<&str> = listed.iter().map(|td| td.arn.as_str()).collect();
    page(body, "taskDefinitionArns", &arns, 100)
}

/// ListTaskDefinitionFamilies: family names in alphabetical order, those
/// starting with familyPrefix; with status ACTIVE only those with an ACTIVE
/// revision, with INACTIVE only those without, with ALL (the default)
/// both; 100 a page unless maxResults says otherwise.
pub(super) fn list_task_definition_families(world: &mut World, body: &Value) -> AwsResult {
    let prefix = str_field(body, "familyPrefix").unwrap_or("");
    let wanted_activity = match str_field(body, "status").unwrap_or("ALL") {
        "ACTIVE" => Some(true),
        "INACTIVE" => Some(false),
        "ALL" => None,
        other => return Err(invalid_parameter(format!("Invalid status {other}."))),
    };
    let mut families: BTreeMap<&str, bool> = BTreeMap::new();
    for td in &world.ecs.task_definitions {
        if td.family.starts_with(prefix) {
            *families.entry(&td.family).or_default() |= td.status == TaskDefinitionStatus::Active;
        }
    }
    let names: Vec<&str> = families
        .into_iter()
        .filter(|(_, active)| wanted_activity.is_none_or(|wanted| *active == wanted))
        .map(|(family, _)| family)
        .collect();
    page(body, "families", &names, 100)
}
