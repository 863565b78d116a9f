//! ECS task definitions: families, revisions, ACTIVE and INACTIVE.

use std::collections::BTreeMap;

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
        active: true,
        body: definition,
        tags,
        registered_at: world.now,
        deregistered_at: None,
    });
    Ok(world.ecs.task_definitions.len() - 1)
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
            .filter(|(_, td)| td.family == reference && td.active)
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
        (
            "status",
            json!(if td.active { "ACTIVE" } else { "INACTIVE" }),
        ),
        (
            "requiresAttributes",
            json!([{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}]),
        ),
        ("compatibilities", compatibilities),
        ("registeredAt", json!(world.epoch(td.registered_at))),
        (
            "registeredBy",
            json!(format!("arn:aws:iam::{}:root", world.account)),
        ),
        (
            "deregisteredAt",
            td.deregistered_at
                .map_or(Value::Null, |at| json!(world.epoch(at))),
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

pub(super) fn deregister_task_definition(world: &mut World, body: &Value) -> AwsResult {
    let reference = required_str(body, "taskDefinition")?;
    if !reference.contains(':') {
        return Err(client_exception(&format!(
            "Invalid revision number. Number: {reference}"
        )));
    }
    let index = find_task_definition(world, reference)
        .ok_or_else(|| client_exception("The specified task definition does not exist."))?;
    let now = world.now;
    let td = &mut world.ecs.task_definitions[index];
    if td.active {
        td.active = false;
        td.deregistered_at = Some(now);
    }
    Ok(json!({ "taskDefinition": render_task_definition(world, index) }))
}

pub(super) fn list_task_definitions(world: &mut World, body: &Value) -> AwsResult {
    let prefix = str_field(body, "familyPrefix").unwrap_or("");
    let want_active = str_field(body, "status").unwrap_or("ACTIVE") == "ACTIVE";
    let mut arns: Vec<&TaskDefinition> = world
        .ecs
        .task_definitions
        .iter()
        .filter(|td| td.family.starts_with(prefix) && td.active == want_active)
        .collect();
    arns.sort_by(|a, b| (&a.family, a.revision).cmp(&(&b.family, b.revision)));
    if str_field(body, "sort") == Some("DESC") {
        arns.reverse();
    }
    let arns: Vec<&str> = arns.iter().map(|td| td.arn.as_str()).collect();
    Ok(json!({ "taskDefinitionArns": arns }))
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
            *families.entry(&td.family).or_default() |= td.active;
        }
    }
    let names: Vec<&str> = families
        .into_iter()
        .filter(|(_, active)| wanted_activity.is_none_or(|wanted| *active == wanted))
        .map(|(family, _)| family)
        .collect();
    page(body, "families", &names, 100)
}
