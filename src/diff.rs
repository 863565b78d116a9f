//! What changes between two task definitions, in words a person reads:
//! `image of container web: shop:1 → shop:2`, `environment of container
//! web: + FEATURE_X`. Lists whose items all have a unique `name`
//! (containers, environment, secrets) are matched by name, so that a
//! reordering is not reported as a change. Entries of the environment,
//! secrets and `options` are named; environment values and options that
//! may be credentials never show (`render::hide_values`).

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::render;

/// One step of the way from a definition's root to a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    /// An item of a list matched by its `name`.
    Name(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Added(Value),
    Removed(Value),
    Changed { old: Value, new: Value },
}

/// A value that differs, where it is and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub path: Vec<Step>,
    pub edit: Edit,
}

/// Lists of named entries and maps whose values may be credentials or
/// references to them: their entries are named, and a value is shown only
/// where `shows_entry_value` says it cannot be a secret.
const NAMED_ONLY: &[&str] = &["environment", "secrets", "secretOptions", "options"];

/// Whether an entry's value is shown, by the rule `render::hide_values`
/// follows: a secret's `valueFrom` (where it is kept, not what it is) and
/// an option that is a known setting; never an environment value.
fn shows_entry_value(list: &str, name: &str) -> bool {
    match list {
        "secrets" | "secretOptions" => true,
        "options" => render::shows_option(name),
        _ => false,
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (container, rest) = match self.path.as_slice() {
            [Step::Key(key), Step::Name(name), rest @ ..] if key == "containerDefinitions" => {
                (Some(name.as_str()), rest)
            }
            rest => (None, rest),
        };
        // Where the named entry is: an item of a list, or a key of `options`.
        let entry = (1..rest.len()).find(|&i| match (&rest[i - 1], &rest[i]) {
            (Step::Key(list), Step::Name(_) | Step::Index(_)) => {
                NAMED_ONLY.contains(&list.as_str())
            }
            (Step::Key(map), Step::Key(_)) => map == "options",
            _ => false,
        });
        let (subject, entry) = match entry {
            Some(i) => (&rest[..i], Some((&rest[i], &rest[i + 1..]))),
            None => (rest, None),
        };
        let list = subject_key(subject).unwrap_or("");
        let subject = match (path_text(subject), container) {
            (path, Some(container)) if path.is_empty() => format!("container {container}"),
            (path, Some(container)) => format!("{path} of container {container}"),
            (path, None) => path,
        };
        let sign = match self.edit {
            Edit::Added(_) => '+',
            Edit::Removed(_) => '-',
            Edit::Changed { .. } => '~',
        };
        if let Some((name, field)) = entry {
            let name = step_name(name);
            write!(f, "{subject}: {sign} {name}")?;
            if !field.is_empty() {
                write!(f, " ({})", path_text(field))?;
            }
            if shows_entry_value(list, &name) {
                match &self.edit {
                    Edit::Changed { old, new } => {
                        write!(f, ": {} → {}", shown(&name, old), shown(&name, new))?
                    }
                    Edit::Added(Value::String(value)) | Edit::Removed(Value::String(value)) => {
                        write!(f, ": {value}")?
                    }
                    _ => {}
                }
            }
            return Ok(());
        }
        let hides_values = rest
            .iter()
            .any(|step| matches!(step, Step::Key(key) if NAMED_ONLY.contains(&key.as_str())));
        let key = subject_key(rest).unwrap_or("");
        match &self.edit {
            Edit::Added(value) | Edit::Removed(value) if hides_values => match names_in(value) {
                // A whole list or map: its names, not its values.
                Some(names) => write!(f, "{subject}: {sign} {names}"),
                None => write!(f, "{subject}: {sign} (values hidden)"),
            },
            Edit::Changed { .. } if hides_values => write!(f, "{subject}: ~ (value hidden)"),
            Edit::Added(value) | Edit::Removed(value) => {
                write!(f, "{subject}: {sign} {}", shown(key, value))
            }
            Edit::Changed { old, new } => {
                write!(f, "{subject}: {} → {}", shown(key, old), shown(key, new))
            }
        }
    }
}

/// The last key on the way to a value: what it is.
fn subject_key(path: &[Step]) -> Option<&str> {
    path.iter().rev().find_map(|step| match step {
        Step::Key(key) => Some(key.as_str()),
        _ => None,
    })
}

/// `portMappings[0].containerPort`, `volumes[data].host`.
fn path_text(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) if text.is_empty() => text.push_str(key),
            Step::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Step::Name(_) | Step::Index(_) => text.push_str(&format!("[{}]", step_name(step))),
        }
    }
    text
}

fn step_name(step: &Step) -> String {
    match step {
        Step::Key(name) | Step::Name(name) => name.clone(),
        Step::Index(i) => i.to_string(),
    }
}

/// The names of a list of named entries, or the keys of a map, joined.
fn names_in(value: &Value) -> Option<String> {
    let names: Vec<&str> = match value {
        Value::Array(entries) => entries
            .iter()
            .map(|entry| entry["name"].as_str())
            .collect::<Option<_>>()?,
        Value::Object(map) => map.keys().map(String::as_str).collect(),
        _ => return None,
    };
    Some(names.join(", "))
}

/// A value as a person reads it: a string as it is, anything else as JSON
/// with what may be a credential inside it hidden (a container's
/// environment, its log options).
fn shown(key: &str, value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() => text.clone(),
        _ => {
            let mut value = value.clone();
            render::hide_values(&mut value, key);
            value.to_string()
        }
    }
}

/// What changes from `old` to `new`, ignoring what ECS fills in when it is
/// absent (`without_defaults`): a definition as DescribeTaskDefinition
/// returns it against the template that registered it shows no change.
pub fn diff(old: &Value, new: &Value) -> Vec<Difference> {
    let mut differences = Vec::new();
    walk(
        &mut Vec::new(),
        &without_defaults(old),
        &without_defaults(new),
        &mut differences,
    );
    differences
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

fn walk(path: &mut Vec<Step>, old: &Value, new: &Value, differences: &mut Vec<Difference>) {
    let mut at = |step: Step, old: Option<&Value>, new: Option<&Value>| {
        path.push(step);
        match (old, new) {
            (Some(x), Some(y)) => walk(path, x, y, differences),
            (Some(x), None) => differences.push(Difference {
                path: path.clone(),
                edit: Edit::Removed(x.clone()),
            }),
            (None, Some(y)) => differences.push(Difference {
                path: path.clone(),
                edit: Edit::Added(y.clone()),
            }),
            (None, None) => {}
        }
        path.pop();
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                at(Step::Key(key.clone()), a.get(key), b.get(key));
            }
        }
        (Value::Array(a), Value::Array(b)) => match (names(a), names(b)) {
            (Some(old_names), Some(new_names)) => {
                for (name, x) in old_names.iter().zip(a) {
                    let y = new_names.iter().position(|n| n == name).map(|i| &b[i]);
                    at(Step::Name((*name).to_owned()), Some(x), y);
                }
                for (name, y) in new_names.iter().zip(b) {
                    if !old_names.contains(name) {
                        at(Step::Name((*name).to_owned()), None, Some(y));
                    }
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    at(Step::Index(i), a.get(i), b.get(i));
                }
            }
        },
        _ if old == new => {}
        _ => differences.push(Difference {
            path: path.clone(),
            edit: Edit::Changed {
                old: old.clone(),
                new: new.clone(),
            },
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
                "environment of container web: + B".to_owned(),
                "image of container web: shop:1 → shop:2".into(),
                "portMappings[0].containerPort of container web: 80 → 8080".into(),
                "cpu: - 256".into(),
                "memory: + 512".into(),
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
            lines.contains(&"logConfiguration.options of container web: ~ splunk-token".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with("container log-router: + {")
                    && line.contains("\"DB_PASSWORD\"")
                    && line.contains("\"splunk-token\":\"(hidden)\"")),
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
            ["image of container web: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1 → 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2"]
        );
    }

    #[test]
    fn identical_definitions_have_no_changes() {
        let value = json!({"family": "a", "containerDefinitions": [{"name": "a"}]});
        assert!(diff(&value, &value).is_empty());
    }

    #[test]
    fn environment_values_and_secret_options_are_named_never_shown() {
        let container = |extra: Value| {
            let mut container = json!({"name": "web", "image": "shop:1"});
            container
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"containerDefinitions": [container]})
        };
        let secret = |arn: &str| json!([{"name": "DB_URL", "valueFrom": arn}]);
        let cases = [
            // Where a secret is kept is no secret.
            (
                container(json!({"secrets": secret("arn:aws:ssm:::parameter/old")})),
                container(json!({"secrets": secret("arn:aws:ssm:::parameter/new")})),
                vec!["secrets of container web: ~ DB_URL (valueFrom): arn:aws:ssm:::parameter/old → arn:aws:ssm:::parameter/new"],
            ),
            // Options that are settings show; any other may be a token.
            (
                container(
                    json!({"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/a", "splunk-token": "t1"}}}),
                ),
                container(
                    json!({"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/b", "splunk-token": "t2", "mode": "non-blocking"}}}),
                ),
                vec![
                    "logConfiguration.options of container web: ~ awslogs-group: /ecs/a → /ecs/b",
                    "logConfiguration.options of container web: + mode: non-blocking",
                    "logConfiguration.options of container web: ~ splunk-token",
                ],
            ),
            (
                container(json!({"environment": [{"name": "A", "value": "pw1"}]})),
                container(
                    json!({"environment": [{"name": "A", "value": "pw2"}, {"name": "FEATURE_X", "value": "on"}]}),
                ),
                vec![
                    "environment of container web: ~ A (value)",
                    "environment of container web: + FEATURE_X",
                ],
            ),
            (
                container(json!({})),
                container(
                    json!({"environment": [{"name": "A", "value": "pw1"}, {"name": "B", "value": "pw2"}]}),
                ),
                vec!["environment of container web: + A, B"],
            ),
            // Repeated names compare by position, and still show no value.
            (
                container(
                    json!({"environment": [{"name": "A", "value": "pw1"}, {"name": "A", "value": "pw2"}]}),
                ),
                container(
                    json!({"environment": [{"name": "A", "value": "pw3"}, {"name": "A", "value": "pw2"}]}),
                ),
                vec!["environment of container web: ~ 0 (value)"],
            ),
        ];
        for (old, new, expected) in cases {
            let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
            assert_eq!(lines, expected);
        }
    }

    #[test]
    fn lists_with_repeated_names_compare_by_position() {
        let old = json!([{"name": "a", "v": 1}, {"name": "a", "v": 2}]);
        let new = json!([{"name": "a", "v": 1}]);
        assert_eq!(
            diff(&old, &new),
            [Difference {
                path: vec![Step::Index(1)],
                edit: Edit::Removed(json!({"name": "a", "v": 2}))
            }]
        );
    }
}
