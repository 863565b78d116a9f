//! Reading the task definition template from its source (file, S3 object or
//! ECS) into JSON, with file, line and column on a parse error.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::arn::Arn;
use crate::aws::LazyAws;
use crate::aws::{ecs, s3};
use crate::inputs::{Problems, RawInputs};
use crate::present::runner::FileLocation;

/// A document that is not valid JSON or YAML; the runner annotates its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: FileLocation,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = &self.location;
        write!(
            f,
            "{} is not valid {}: {} (line {}, column {})",
            at.file,
            if is_json(&at.file) { "JSON" } else { "YAML" },
            self.message,
            at.line,
            at.column
        )
    }
}

impl std::error::Error for ParseError {}

fn is_json(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json")
}

/// Parses JSON (`.json`, or text that starts with `{`) or YAML (the rest).
pub fn parse_document(name: &str, text: &str) -> Result<Value, ParseError> {
    let yaml =
        name.to_ascii_lowercase().ends_with(".yaml") || name.to_ascii_lowercase().ends_with(".yml");
    let json = is_json(name) || (!yaml && text.trim_start().starts_with('{'));
    let error = |message: String, line: usize, column: usize| ParseError {
        location: FileLocation {
            file: name.to_owned(),
            line,
            column,
        },
        message: strip_location(&message),
    };
    // Editors on Windows save a byte order mark that is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = if json {
        serde_json::from_str::<UniqueKeys>(text)
            .map_err(|e| error(e.to_string(), e.line(), e.column()))
    } else {
        serde_yaml_ng::from_str::<UniqueKeys>(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |at| (at.line(), at.column()));
            error(e.to_string(), line, column)
        })
    };
    parsed.map(|document| document.0)
}

/// A document in which no object has the same key twice: JSON and YAML
/// parsers keep the last value silently, so a second `family` would move a
/// service to another family without a word.
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON or YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "the key {key:?} appears twice in one object"
                )));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// serde's messages end with " at line L column C", which we report apart.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Accepts a bare definition or `aws ecs describe-task-definition` output
/// (`{"taskDefinition": {...}, "tags": [...]}`); tags move into the definition
/// so that they are registered with it.
pub fn unwrap_described(document: Value) -> Value {
    let Value::Object(mut outer) = document else {
        return document;
    };
    match outer.remove("taskDefinition") {
        Some(Value::Object(mut definition)) => {
            if let Some(tags) = outer
                .remove("tags")
                .filter(|t| t.as_array().is_some_and(|a| !a.is_empty()))
            {
                definition.insert("tags".into(), tags);
            }
            Value::Object(definition)
        }
        Some(other) => {
            outer.insert("taskDefinition".into(), other);
            Value::Object(outer)
        }
        None => Value::Object(outer),
    }
}

/// A task definition template, unwrapped from describe output if it is one.
pub(crate) async fn load(source: &TemplateSource, aws: &LazyAws) -> Result<Value> {
    Ok(unwrap_described(load_document(source, aws).await?))
}

/// Any JSON or YAML document from a file, an S3 object or ECS.
pub(crate) async fn load_document(source: &TemplateSource, aws: &LazyAws) -> Result<Value> {
    Ok(match source {
        TemplateSource::File { shown, path } => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read file {shown} (looked at {})", path.display())
            })?;
            parse_document(shown, &text)?
        }
        TemplateSource::S3 { bucket, key } => {
            let bytes = s3::get_object(&aws.get().await?.s3, bucket, key).await?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("s3://{bucket}/{key} is not UTF-8 text"))?;
            parse_document(&format!("s3://{bucket}/{key}"), &text)?
        }
        TemplateSource::Ecs(id) => ecs::describe_task_definition(&aws.get().await?.ecs, id).await?,
    })
}

/// Where the task definition template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// `shown` is the path as the user wrote it, for messages and annotations.
    File {
        shown: String,
        path: PathBuf,
    },
    S3 {
        bucket: String,
        key: String,
    },
    /// A task definition ARN, `family` or `family:revision`.
    Ecs(String),
}

impl fmt::Display for TemplateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateSource::File { shown, .. } => write!(f, "{shown}"),
            TemplateSource::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            TemplateSource::Ecs(id) => write!(f, "{id}"),
        }
    }
}

pub(crate) fn parse_template_source(
    value: &str,
    workspace: Option<&Path>,
) -> Result<TemplateSource, String> {
    parse_template_input("task-definition", value, workspace)
}

/// A template source given in `input` (task-definition, migration-task-definition).
pub(crate) fn parse_template_input(
    input: &str,
    value: &str,
    workspace: Option<&Path>,
) -> Result<TemplateSource, String> {
    if let Some(object) = value.strip_prefix("s3://") {
        return parse_s3_object(input, value, object);
    }
    if value.starts_with("arn:") {
        let is_task_definition_arn = Arn::parse(value).is_some_and(|arn| {
            arn.service == "ecs" && arn.resource.starts_with("task-definition/")
        });
        return if is_task_definition_arn {
            Ok(TemplateSource::Ecs(value.to_owned()))
        } else {
            Err(format!(
                "{input}: {value:?} is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)"
            ))
        };
    }
    if is_family_reference(value) {
        return Ok(TemplateSource::Ecs(value.to_owned()));
    }
    Ok(file_source(value, workspace))
}

/// `bucket/key`, the part of an `s3://` value after the scheme.
pub(crate) fn parse_s3_object(
    input: &str,
    value: &str,
    object: &str,
) -> Result<TemplateSource, String> {
    match object.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(TemplateSource::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }),
        _ => Err(format!(
            "{input}: {value:?} is not an S3 object; use s3://bucket/key"
        )),
    }
}

/// A path relative to the workspace (GITHUB_WORKSPACE), when there is one.
pub(crate) fn file_source(value: &str, workspace: Option<&Path>) -> TemplateSource {
    TemplateSource::File {
        shown: value.to_owned(),
        path: workspace.map_or_else(|| PathBuf::from(value), |w| w.join(value)),
    }
}

/// `family` or `family:revision`; a file needs an extension or a directory,
/// so the two cannot be confused.
/// The template: `task-definition`, or the ECS revision that
/// `task-definition-arn` or `task-definition-family` (with
/// `task-definition-revision`) name, as amazon-ecs-render-task-definition
/// takes it. One source at most.
pub(crate) fn from_inputs(
    inputs: &RawInputs,
    workspace: Option<&Path>,
    problems: &mut Problems,
) -> Option<TemplateSource> {
    let given: Vec<&str> = [
        "task-definition",
        "task-definition-arn",
        "task-definition-family",
    ]
    .into_iter()
    .filter(|name| inputs.get(name).is_some())
    .collect();
    if let [first, second, ..] = given.as_slice() {
        problems.add(
            second,
            format!("{first} and {second} both name the template: give one of them"),
        );
        return None;
    }
    let revision = inputs.get("task-definition-revision");
    if let Some(revision) = revision {
        if inputs.get("task-definition-family").is_none() {
            problems.add(
                "task-definition-revision",
                "task-definition-revision: needs task-definition-family, the family of the revision",
            );
        } else if revision.parse::<u32>().map_or(true, |r| r == 0) {
            problems.add(
                "task-definition-revision",
                format!(
                    "task-definition-revision: {revision:?} is not a revision number (1, 2, ...)"
                ),
            );
        }
    }
    if let Some(value) = inputs.get("task-definition") {
        return problems.check("task-definition", parse_template_source(value, workspace));
    }
    if let Some(arn) = inputs.get("task-definition-arn") {
        return problems.check(
            "task-definition-arn",
            parse_template_input("task-definition-arn", arn, workspace).and_then(|source| {
                match source {
                    TemplateSource::Ecs(_) if arn.starts_with("arn:") => Ok(source),
                    _ => Err(format!(
                        "task-definition-arn: {arn:?} is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)"
                    )),
                }
            }),
        );
    }
    let family = inputs.get("task-definition-family")?;
    let reference = match revision {
        Some(revision) => format!("{family}:{revision}"),
        None => family.to_owned(),
    };
    problems.check(
        "task-definition-family",
        match parse_template_input("task-definition-family", &reference, workspace) {
            Ok(source @ TemplateSource::Ecs(_)) => Ok(source),
            _ => Err(format!(
                "task-definition-family: {family:?} is not a task definition family (letters, digits, - and _)"
            )),
        },
    )
}

fn is_family_reference(value: &str) -> bool {
    let (family, revision) = match value.split_once(':') {
        Some((family, revision)) => (family, Some(revision)),
        None => (value, None),
    };
    let family_ok = !family.is_empty()
        && family.len() <= 255
        && family
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    family_ok && revision.is_none_or(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_yaml_parse_to_the_same_value() {
        let json_text =
            r#"{"family": "web", "containerDefinitions": [{"name": "web", "cpu": 256}]}"#;
        let yaml_text = "family: web\ncontainerDefinitions:\n  - name: web\n    cpu: 256\n";
        assert_eq!(
            parse_document("td.json", json_text).unwrap(),
            parse_document("td.yaml", yaml_text).unwrap()
        );
        assert_eq!(parse_document("td", json_text).unwrap()["family"], "web");
    }

    #[test]
    fn parse_errors_carry_file_line_and_column() {
        let cases = [
            (
                "td.json",
                "{\n  \"family\": \"web\",\n  \"cpu\": 256,,\n}",
                3,
                14,
            ),
            (
                "td.yaml",
                "family: web\ncontainerDefinitions:\n  - name: web\n   bad: [\n",
                4,
                4,
            ),
        ];
        for (name, text, line, column) in cases {
            let error = parse_document(name, text).unwrap_err();
            assert_eq!(
                (error.location.line, error.location.column),
                (line, column),
                "{name}: {error}"
            );
            assert_eq!(error.location.file, name);
        }
        assert_eq!(
            parse_document("td.json", "{\n  \"family\": \"web\",\n  \"cpu\": 256,,\n}")
                .unwrap_err()
                .to_string(),
            "td.json is not valid JSON: key must be a string (line 3, column 14)"
        );
        assert_eq!(
            parse_document(
                "td.yaml",
                "family: web\ncontainerDefinitions:\n  - name: web\n   bad: [\n"
            )
            .unwrap_err()
            .to_string(),
            "td.yaml is not valid YAML: did not find expected '-' indicator (line 4, column 4)"
        );
    }

    #[test]
    fn a_key_twice_in_one_object_is_an_error_with_its_place() {
        let json_text = "{\n  \"family\": \"web\",\n  \"family\": \"other\"\n}";
        let error = parse_document("td.json", json_text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "td.json is not valid JSON: the key \"family\" appears twice in one object (line 3, column 10)"
        );
        let yaml_text = "family: web\ncontainerDefinitions:\n  - name: web\n    name: api\n";
        let error = parse_document("td.yaml", yaml_text).unwrap_err();
        assert!(
            error.to_string().starts_with("td.yaml is not valid YAML: "),
            "{error}"
        );
        // YAML errors point at the object that has the key twice.
        assert_eq!(
            error.to_string(),
            "td.yaml is not valid YAML: containerDefinitions[0]: the key \"name\" appears twice in one object (line 3, column 5)"
        );
        // The same key in two objects is fine.
        let fine = r#"{"containerDefinitions": [{"name": "a"}, {"name": "b"}]}"#;
        assert!(parse_document("td.json", fine).is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_document() {
        let text = "\u{feff}{\"family\": \"web\"}";
        assert_eq!(
            parse_document("td.json", text).unwrap(),
            json!({"family": "web"})
        );
        assert_eq!(
            parse_document("td.yaml", "\u{feff}family: web\n").unwrap(),
            json!({"family": "web"})
        );
    }

    #[test]
    fn describe_output_is_unwrapped_with_its_tags() {
        let described = json!({
            "taskDefinition": {"family": "web", "containerDefinitions": []},
            "tags": [{"key": "team", "value": "shop"}]
        });
        assert_eq!(
            unwrap_described(described),
            json!({"family": "web", "containerDefinitions": [], "tags": [{"key": "team", "value": "shop"}]})
        );
        let no_tags = json!({"taskDefinition": {"family": "web"}, "tags": []});
        assert_eq!(unwrap_described(no_tags), json!({"family": "web"}));
        let bare = json!({"family": "web", "tags": [{"key": "a", "value": "b"}]});
        assert_eq!(unwrap_described(bare.clone()), bare);
    }
}
