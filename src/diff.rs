//! A readable diff between two task definitions, as paths that changed:
//! `containerDefinitions[web].image: "shop:1" → "shop:2"`. Lists whose items
//! all have a unique `name` (containers, environment, secrets) are matched by
//! name, so that a reordering is not reported as a change.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::render;

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Added {
        path: String,
        value: Value,
    },
    Removed {
        path: String,
        value: Value,
    },
    Changed {
        path: String,
        old: Value,
        new: Value,
    },
}

/// Environment values and options may be credentials: a change to one is
/// shown by name.
fn hides_values(path: &str) -> bool {
    path.contains(".environment") || path.contains(".options")
}

/// The names of a list of named entries (environment variables), joined.
fn names_in(value: &Value) -> Option<String> {
    let names: Vec<&str> = value
        .as_array()?
        .iter()
        .map(|entry| entry["name"].as_str())
        .collect::<Option<_>>()?;
    Some(names.join(", "))
}

/// A whole value that was added or removed, with what may be a credential
/// inside it hidden (a container's environment, its log options).
fn shown(path: &str, value: &Value) -> Value {
    let key = path.rsplit('.').next().unwrap_or(path);
    let key = key.split('[').next().unwrap_or(key);
    let mut value = value.clone();
    render::hide_values(&mut value, key);
    value
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { path, .. }
            | Change::Removed { path, .. }
            | Change::Changed { path, .. }
                if hides_values(path) =>
            {
                let (sign, names) = match self {
                    Change::Added { value, .. } | Change::Removed { value, .. } => (
                        if matches!(self, Change::Added { .. }) {
                            '+'
                        } else {
                            '-'
                        },
                        names_in(value),
                    ),
                    Change::Changed { .. } => ('~', None),
                };
                match names {
                    // A whole list added or removed: its names, not its values.
                    Some(names) => write!(f, "{sign} {path}: {names} (values hidden)"),
                    None => write!(f, "{sign} {path} (value hidden)"),
                }
            }
            Change::Added { path, value } => write!(f, "+ {path}: {}", shown(path, value)),
            Change::Removed { path, value } => write!(f, "- {path}: {}", shown(path, value)),
            Change::Changed { path, old, new } => {
                write!(f, "~ {path}: {} → {}", shown(path, old), shown(path, new))
            }
        }
    }
}

/// What changes from `old` to `new`, ignoring what ECS fills in when it is
/// absent (`without_defaults`): a definition as DescribeTaskDefinition
/// returns it against the template that registered it shows no change.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk(
        String::new(),
        &without_defaults(old),
        &without_defaults(new),
        &mut changes,
    );
    changes
}

/// The definition with every value that means the same as its absence
/// removed. The rules, from the RegisterTaskDefinition reference and what
/// DescribeTaskDefinition returns for a definition that did not set them:
/// - an empty list or map (volumes, placementConstraints, and a container's
///   portMappings, environment, mountPoints, volumesFrom, secrets,
///   systemControls, ...);
/// - a container's `cpu: 0` and `essential: true`;
/// - a port mapping's `protocol: "tcp"`, and its `hostPort` when it equals
///   `containerPort` (awsvpc and host network modes require that).
fn without_defaults(definition: &Value) -> Value {
    let mut definition = definition.clone();
    drop_empty(&mut definition);
    for container in definition
        .get_mut("containerDefinitions")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let Some(container) = container.as_object_mut() else {
            continue;
        };
        if container.get("cpu") == Some(&Value::from(0)) {
            container.remove("cpu");
        }
        if container.get("essential") == Some(&Value::Bool(true)) {
            container.remove("essential");
        }
        for mapping in container
            .get_mut("portMappings")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(mapping) = mapping.as_object_mut() else {
                continue;
            };
            if mapping.get("protocol") == Some(&Value::from("tcp")) {
                mapping.remove("protocol");
            }
            if mapping.get("hostPort").is_some()
                && mapping.get("hostPort") == mapping.get("containerPort")
            {
                mapping.remove("hostPort");
            }
        }
    }
    definition
}

/// Removes empty lists and maps from objects, deepest first.
fn drop_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(drop_empty);
            map.retain(|_, v| !is_empty(v));
        }
        Value::Array(items) => items.iter_mut().for_each(drop_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: String, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = join(&path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(child, x, y, changes),
                    (Some(x), None) => changes.push(Change::Removed {
                        path: child,
                        value: x.clone(),
                    }),
                    (None, Some(y)) => changes.push(Change::Added {
                        path: child,
                        value: y.clone(),
                    }),
                    (None, None) => unreachable!("key comes from one of the maps"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => match (names(a), names(b)) {
            (Some(old_names), Some(new_names)) => {
                for (name, x) in old_names.iter().zip(a) {
                    let child = format!("{path}[{name}]");
                    match new_names.iter().position(|n| n == name) {
                        Some(i) => walk(child, x, &b[i], changes),
                        None => changes.push(Change::Removed {
                            path: child,
                            value: x.clone(),
                        }),
                    }
                }
                for (name, y) in new_names.iter().zip(b) {
                    if !old_names.contains(name) {
                        changes.push(Change::Added {
                            path: format!("{path}[{name}]"),
                            value: y.clone(),
                        });
                    }
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    let child = format!("{path}[{i}]");
                    match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => walk(child, x, y, changes),
                        (Some(x), None) => changes.push(Change::Removed {
                            path: child,
                            value: x.clone(),
                        }),
                        (None, Some(y)) => changes.push(Change::Added {
                            path: child,
                            value: y.clone(),
                        }),
                        (None, None) => unreachable!("index below the longer length"),
                    }
                }
            }
        },
        _ if old == new => {}
        _ => changes.push(Change::Changed {
            path,
            old: old.clone(),
            new: new.clone(),
        }),
    }
}

/// The `name` of every item, when all items have one and no two share it.
fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|item| item["name"].as_str())
        .collect::<Option<_>>()?;
    let unique: BTreeSet<&&str> = names.iter().collect();
    (unique.len() == names.len()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_paths_that_changed() {
        let old = json!({
            "family": "shop", "cpu": "256", "volumes": [],
            "containerDefinitions": [
                {"name": "worker", "image": "shop:1"},
                {"name": "web", "image": "shop:1", "environment": [{"name": "A", "value": "1"}], "portMappings": [{"containerPort": 80}]}
            ]
        });
        let new = json!({
            "family": "shop", "memory": "512", "volumes": [],
            "containerDefinitions": [
                {"name": "web", "image": "shop:2", "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}], "portMappings": [{"containerPort": 8080}]},
                {"name": "worker", "image": "shop:1"}
            ]
        });
        let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "+ containerDefinitions[web].environment[B] (value hidden)".to_owned(),
                "~ containerDefinitions[web].image: \"shop:1\" → \"shop:2\"".into(),
                "~ containerDefinitions[web].portMappings[0].containerPort: 80 → 8080".into(),
                "- cpu: \"256\"".into(),
                "+ memory: \"512\"".into(),
            ]
        );
    }

    #[test]
    fn environment_values_and_options_never_show_not_even_in_a_whole_container() {
        let sidecar = json!({
            "name": "log-router", "image": "fluent:1",
            "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}],
            "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "s3cr3t", "splunk-url": "https://x"}}
        });
        let old = json!({"containerDefinitions": [{"name": "web", "image": "a", "logConfiguration": {"logDriver": "splunk", "options": {"splunk-token": "old-token"}}}]});
        let mut new = old.clone();
        new["containerDefinitions"][0]["logConfiguration"]["options"]["splunk-token"] =
            json!("new-token");
        new["containerDefinitions"]
            .as_array_mut()
            .unwrap()
            .push(sidecar.clone());
        let removed = diff(&new, &old);
        let lines: Vec<String> = diff(&old, &new)
            .iter()
            .chain(&removed)
            .map(ToString::to_string)
            .collect();
        for secret in ["hunter2", "s3cr3t", "old-token", "new-token", "https://x"] {
            assert!(
                lines.iter().all(|line| !line.contains(secret)),
                "{secret} in {lines:?}"
            );
        }
        assert!(
            lines.contains(
                &"~ containerDefinitions[web].logConfiguration.options.splunk-token (value hidden)"
                    .to_owned()
            ),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(
                |line| line.starts_with("+ containerDefinitions[log-router]: ")
                    && line.contains("\"DB_PASSWORD\"")
                    && line.contains("\"splunk-token\":\"(hidden)\"")
            ),
            "{lines:?}"
        );
    }

    /// One rule a row: a value ECS fills in, against its absence.
    #[test]
    fn what_ecs_fills_in_is_no_change() {
        let container = |extra: Value| {
            let mut container = json!({"name": "web", "image": "shop:1"});
            container
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"family": "shop", "containerDefinitions": [container]})
        };
        let rules = [
            ("cpu 0", container(json!({"cpu": 0}))),
            ("essential true", container(json!({"essential": true}))),
            ("empty portMappings", container(json!({"portMappings": []}))),
            ("empty environment", container(json!({"environment": []}))),
            ("empty mountPoints", container(json!({"mountPoints": []}))),
            ("empty volumesFrom", container(json!({"volumesFrom": []}))),
            ("empty secrets", container(json!({"secrets": []}))),
            (
                "empty systemControls",
                container(json!({"systemControls": []})),
            ),
            ("empty dockerLabels", container(json!({"dockerLabels": {}}))),
            (
                "tcp and hostPort = containerPort",
                container(
                    json!({"portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]}),
                ),
            ),
            (
                "empty volumes and placementConstraints",
                json!({"family": "shop", "volumes": [], "placementConstraints": [], "containerDefinitions": [{"name": "web", "image": "shop:1"}]}),
            ),
        ];
        for (rule, described) in rules {
            let template = if rule.starts_with("tcp") {
                container(json!({"portMappings": [{"containerPort": 80}]}))
            } else {
                container(json!({}))
            };
            assert!(
                diff(&described, &template).is_empty(),
                "{rule}: {:?}",
                diff(&described, &template)
            );
            assert!(diff(&template, &described).is_empty(), "{rule}");
        }
        // What differs from the default is still a change.
        let changes = diff(
            &container(json!({"cpu": 0})),
            &container(json!({"cpu": 256})),
        );
        assert_eq!(changes.len(), 1);
        let udp = container(json!({"portMappings": [{"containerPort": 53, "protocol": "udp"}]}));
        assert_eq!(
            diff(
                &container(json!({"portMappings": [{"containerPort": 53}]})),
                &udp
            )
            .len(),
            1
        );
    }

    /// DescribeTaskDefinition's answer for a definition registered from the
    /// shipped example, as real ECS gives it, against the same template
    /// rendered with a new image: one line.
    #[test]
    fn a_pure_image_change_against_a_real_describe_output_is_one_line() {
        let described = crate::render::normalize(crate::template::unwrap_described(
            serde_json::from_str(include_str!("../tests/data/describe-task-definition.json"))
                .unwrap(),
        ));
        let template: Value =
            serde_json::from_str(include_str!("../examples/task-definition.json")).unwrap();
        let mut rendered = crate::render::normalize(template);
        rendered["containerDefinitions"][0]["image"] =
            json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2");
        let lines: Vec<String> = diff(&described, &rendered)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            ["~ containerDefinitions[web].image: \"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1\" → \"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2\""]
        );
    }

    #[test]
    fn identical_definitions_have_no_changes() {
        let value = json!({"family": "a", "containerDefinitions": [{"name": "a"}]});
        assert!(diff(&value, &value).is_empty());
    }

    #[test]
    fn lists_with_repeated_names_compare_by_position() {
        let old = json!([{"name": "a", "v": 1}, {"name": "a", "v": 2}]);
        let new = json!([{"name": "a", "v": 1}]);
        assert_eq!(
            diff(&old, &new),
            [Change::Removed {
                path: "[1]".into(),
                value: json!({"name": "a", "v": 2})
            }]
        );
    }
}
