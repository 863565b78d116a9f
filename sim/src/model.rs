//! The published AWS service models, and every request held to them, so
//! that a client sending what AWS would refuse fails here too: members
//! the model does not know, JSON `null` (the AWS SDKs leave an unset
//! member out), the wrong type, a value outside an enum, a missing
//! required member, a string, list or map too short or too long, a number
//! out of range. The models are botocore's `service-2.json` (the data
//! moto installs), read as published, never retyped.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use serde_json::{Map, Value};

use crate::aws::AwsError;

/// Names botocore's `data` directory (…/botocore/data); without it,
/// `python3` is asked where botocore is installed.
pub const MODELS_DIRECTORY_VARIABLE: &str = "ECS_DEPLOY_SIM_BOTOCORE_DATA";

/// The services whose requests the simulator checks, as named in
/// `Call::service`, each with its botocore directory.
const SERVICES: [(&str, &str); 9] = [
    ("ecs", "ecs"),
    ("codedeploy", "codedeploy"),
    ("logs", "logs"),
    ("ecr", "ecr"),
    ("secretsmanager", "secretsmanager"),
    ("ssm", "ssm"),
    ("events", "events"),
    ("scheduler", "scheduler"),
    ("elasticloadbalancing", "elbv2"),
];

/// The models of every service whose requests the simulator checks.
pub struct ServiceModels {
    services: HashMap<&'static str, ServiceModel>,
}

struct ServiceModel {
    operations: Map<String, Value>,
    shapes: Map<String, Value>,
    /// The code a request the model refuses is answered with.
    error_code: &'static str,
}

impl ServiceModels {
    /// The models, read once per process: from the directory
    /// `ECS_DEPLOY_SIM_BOTOCORE_DATA` names, else from the botocore that
    /// `python3` imports.
    pub fn load() -> anyhow::Result<Arc<ServiceModels>> {
        static MODELS: OnceLock<Result<Arc<ServiceModels>, String>> = OnceLock::new();
        MODELS
            .get_or_init(|| {
                botocore_data()
                    .and_then(|directory| ServiceModels::read(&directory))
                    .map(Arc::new)
                    .map_err(|error| {
                        format!(
                            "cannot read the AWS service models: {error:#} (install botocore, e.g. \
                             `python3 -m pip install 'moto[server]'` as scripts/test does, or set \
                             {MODELS_DIRECTORY_VARIABLE} to botocore's data directory)"
                        )
                    })
            })
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// Reads the newest version of each service's model under a botocore
    /// `data` directory.
    pub fn read(directory: &Path) -> anyhow::Result<ServiceModels> {
        let mut services = HashMap::new();
        for (service, botocore_name) in SERVICES {
            let path = newest_model(&directory.join(botocore_name))?;
            let model = read_model(&path).with_context(|| format!("in {}", path.display()))?;
            services.insert(service, model);
        }
        Ok(ServiceModels { services })
    }

    /// Checks an awsJson request body against its operation's input.
    /// Operations the model lacks (a model older than the operation) are
    /// not checked; the handler answers them.
    pub(crate) fn check_json(
        &self,
        service: &str,
        operation: &str,
        body: &Value,
    ) -> Result<(), AwsError> {
        let Some((model, input)) = self.input_of(service, operation) else {
            return Ok(());
        };
        let mut check = Check::new(&model.shapes);
        match input {
            Some(input) => check.shape(input, body, ""),
            None => check.no_members(body),
        }
        check.verdict(model.error_code)
    }

    /// Checks a REST-JSON request: the members bound to the URI (`path`,
    /// by their name in the URI template) and to the query string, and
    /// those of the body, which must not be bound elsewhere.
    pub(crate) fn check_rest(
        &self,
        service: &str,
        operation: &str,
        path: &[(&str, &str)],
        query: &Map<String, Value>,
        body: &Value,
    ) -> Result<(), AwsError> {
        let Some((model, input)) = self.input_of(service, operation) else {
            return Ok(());
        };
        let mut check = Check::new(&model.shapes);
        let Some(input) = input else {
            check.no_members(body);
            return check.verdict(model.error_code);
        };
        let members = model.shapes[input]
            .get("members")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut combined = match body {
            Value::Object(members) => members.clone(),
            Value::Null => Map::new(),
            other => {
                check.problem(format!(
                    "Value {other} at 'body' failed to satisfy constraint: Member must be a structure"
                ));
                Map::new()
            }
        };
        for (name, member) in &members {
            let location = member.get("location").and_then(Value::as_str);
            let Some(location) = location else { continue };
            if combined.contains_key(name) {
                check.problem(format!(
                    "Value at '{}' failed to satisfy constraint: Member belongs in the {location}, not the body",
                    wire_path("", name)
                ));
            }
            let bound_name = member
                .get("locationName")
                .and_then(Value::as_str)
                .unwrap_or(name);
            let text = match location {
                "uri" => path
                    .iter()
                    .find(|(label, _)| *label == bound_name)
                    .map(|(_, value)| *value),
                "querystring" => query.get(bound_name).and_then(Value::as_str),
                _ => None,
            };
            let Some(text) = text else {
                combined.remove(name);
                continue;
            };
            let shape = member["shape"].as_str().unwrap_or_default();
            match check.read_text(shape, text, name) {
                Some(value) => combined.insert(name.clone(), value),
                None => combined.remove(name),
            };
        }
        check.shape(input, &Value::Object(combined), "");
        check.verdict(model.error_code)
    }

    /// The shapes of a service's model and its operation's input shape
    /// (None: the operation takes no input), when the model has the
    /// operation: what an awsQuery request's parameters are read by.
    pub(crate) fn query_input(
        &self,
        service: &str,
        operation: &str,
    ) -> Option<(&Map<String, Value>, Option<&str>)> {
        self.input_of(service, operation)
            .map(|(model, input)| (&model.shapes, input))
    }

    /// The model of a service and its operation's input shape (None: the
    /// operation takes no input), when the model has the operation.
    fn input_of(&self, service: &str, operation: &str) -> Option<(&ServiceModel, Option<&str>)> {
        let model = self.services.get(service)?;
        let definition = model.operations.get(operation)?;
        let input = definition
            .get("input")
            .and_then(|input| input.get("shape"))
            .and_then(Value::as_str);
        Some((model, input))
    }
}

/// botocore's `data` directory: the variable's, or asked of `python3`.
fn botocore_data() -> anyhow::Result<PathBuf> {
    if let Some(directory) = std::env::var_os(MODELS_DIRECTORY_VARIABLE) {
        return Ok(PathBuf::from(directory));
    }
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))",
        ])
        .output()
        .context("cannot run python3 to find botocore")?;
    if !output.status.success() {
        anyhow::bail!(
            "python3 cannot import botocore: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        );
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
    ))
}

/// The `service-2.json(.gz)` of the newest API version under a service's
/// directory (versions are dates, so the greatest name is the newest).
fn newest_model(service_directory: &Path) -> anyhow::Result<PathBuf> {
    let entries = std::fs::read_dir(service_directory)
        .with_context(|| format!("cannot list {}", service_directory.display()))?;
    let mut versions: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    versions.sort();
    versions
        .iter()
        .rev()
        .flat_map(|version| ["service-2.json.gz", "service-2.json"].map(|file| version.join(file)))
        .find(|path| path.is_file())
        .with_context(|| format!("no service-2.json under {}", service_directory.display()))
}

fn read_model(path: &Path) -> anyhow::Result<ServiceModel> {
    let bytes = std::fs::read(path).context("cannot read the model")?;
    let text = if path.extension().is_some_and(|extension| extension == "gz") {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut text)
            .context("cannot decompress the model")?;
        text
    } else {
        bytes
    };
    let model: Value = serde_json::from_slice(&text).context("the model is not JSON")?;
    let section = |name: &str| {
        model
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .with_context(|| format!("the model has no {name}"))
    };
    let shapes = section("shapes")?;
    let declares = |code: &str| {
        shapes
            .get(code)
            .is_some_and(|shape| shape.get("exception") == Some(&Value::Bool(true)))
    };
    // The error the service answers a malformed member with: ECS, ECR,
    // CloudWatch Logs and Secrets Manager model InvalidParameterException
    // (ECR and Logs model ValidationException too, for other uses);
    // EventBridge and CodeDeploy answer ValidationException without
    // modelling it; the awsQuery services (ELBv2) ValidationError.
    let query = model.pointer("/metadata/protocol") == Some(&Value::from("query"));
    let error_code = if declares("InvalidParameterException") {
        "InvalidParameterException"
    } else if query {
        "ValidationError"
    } else {
        "ValidationException"
    };
    Ok(ServiceModel {
        operations: section("operations")?,
        shapes,
        error_code,
    })
}

/// A member's path as AWS's validation messages spell it: member names
/// with their first letter lowercased, joined by dots.
fn wire_path(parent: &str, member: &str) -> String {
    let mut characters = member.chars();
    let lowered: String = characters
        .next()
        .map(|first| first.to_lowercase().chain(characters).collect())
        .unwrap_or_default();
    if parent.is_empty() {
        lowered
    } else {
        format!("{parent}.{lowered}")
    }
}

/// One request's check: the problems found, in the order met.
struct Check<'a> {
    shapes: &'a Map<String, Value>,
    problems: Vec<String>,
}

impl<'a> Check<'a> {
    fn new(shapes: &'a Map<String, Value>) -> Check<'a> {
        Check {
            shapes,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    /// AWS's form: "2 validation errors detected: …; …".
    fn verdict(self, code: &str) -> Result<(), AwsError> {
        match self.problems.len() {
            0 => Ok(()),
            count => Err(AwsError::client(
                code,
                format!(
                    "{count} validation error{} detected: {}",
                    if count == 1 { "" } else { "s" },
                    self.problems.join("; ")
                ),
            )),
        }
    }

    /// An operation without input takes an empty object.
    fn no_members(&mut self, body: &Value) {
        if let Some(member) = body.as_object().and_then(|members| members.keys().next()) {
            self.problem(format!(
                "Value at '{}' failed to satisfy constraint: Member is not in the model (the operation takes no input)",
                wire_path("", member)
            ));
        }
    }

    fn broken(&mut self, value: &Value, path: &str, constraint: String) {
        let shown = match value {
            Value::String(text) => format!("'{text}'"),
            other => other.to_string(),
        };
        self.problem(format!(
            "Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A URI or query value as the member's shape reads it; None (and a
    /// problem) when it is no number where the shape wants one.
    fn read_text(&mut self, shape: &str, text: &str, member: &str) -> Option<Value> {
        let kind = self.shapes[shape]["type"].as_str().unwrap_or_default();
        match kind {
            "integer" | "long" => {
                let number = text.parse::<i64>().ok().map(Value::from);
                if number.is_none() {
                    self.broken(
                        &Value::from(text),
                        &wire_path("", member),
                        "Member must be a number".to_string(),
                    );
                }
                number
            }
            "boolean" => Some(Value::Bool(text == "true")),
            _ => Some(Value::from(text)),
        }
    }

    fn shape(&mut self, name: &str, value: &Value, path: &str) {
        let Some(shape) = self.shapes.get(name) else {
            return;
        };
        if shape.get("document") == Some(&Value::Bool(true)) {
            return;
        }
        let path_or_body = if path.is_empty() { "body" } else { path };
        if value.is_null() {
            self.problem(format!(
                "Value null at '{path_or_body}' failed to satisfy constraint: Member must not be null \
                 (an unset member is left out, never sent as null)"
            ));
            return;
        }
        let kind = shape["type"].as_str().unwrap_or_default();
        let fits = match kind {
            "structure" => value.is_object(),
            "map" => value.is_object(),
            "list" => value.is_array(),
            "string" | "blob" => value.is_string(),
            "integer" | "long" => value.is_i64() || value.is_u64(),
            "float" | "double" | "timestamp" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            let expected = match kind {
                "timestamp" => "a number (epoch seconds)",
                "blob" => "a base64 string",
                "integer" | "long" => "an integer",
                "float" | "double" => "a number",
                other => other,
            };
            self.broken(
                value,
                path_or_body,
                format!("Member must be {}{expected}", article(expected)),
            );
            return;
        }
        match value {
            Value::Object(members) if kind == "structure" => self.structure(name, members, path),
            Value::Object(entries) => {
                self.size(shape, entries.len(), value, path_or_body, "length");
                for (key, item) in entries {
                    let key_shape = shape["key"]["shape"].as_str().unwrap_or_default();
                    let value_shape = shape["value"]["shape"].as_str().unwrap_or_default();
                    let item_path = format!("{path_or_body}.{key}");
                    self.shape(key_shape, &Value::from(key.as_str()), &item_path);
                    self.shape(value_shape, item, &item_path);
                }
            }
            Value::Array(items) => {
                self.size(shape, items.len(), value, path_or_body, "length");
                let item_shape = shape["member"]["shape"].as_str().unwrap_or_default();
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{path_or_body}.{}.member", index + 1);
                    self.shape(item_shape, item, &item_path);
                }
            }
            Value::String(text) => {
                if let Some(allowed) = shape.get("enum").and_then(Value::as_array) {
                    if !allowed.contains(value) {
                        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                        self.broken(
                            value,
                            path_or_body,
                            format!("Member must satisfy enum value set: [{}]", names.join(", ")),
                        );
                    }
                }
                if kind == "string" {
                    let length = text.chars().count();
                    self.size(shape, length, value, path_or_body, "length");
                }
            }
            Value::Number(number) if kind != "timestamp" => {
                let number = number.as_f64().unwrap_or_default();
                let bound = |key: &str| shape.get(key).and_then(Value::as_f64);
                if let Some(min) = bound("min").filter(|min| number < *min) {
                    let min = plain(min);
                    self.broken(
                        value,
                        path_or_body,
                        format!("Member must have value greater than or equal to {min}"),
                    );
                }
                if let Some(max) = bound("max").filter(|max| number > *max) {
                    let max = plain(max);
                    self.broken(
                        value,
                        path_or_body,
                        format!("Member must have value less than or equal to {max}"),
                    );
                }
            }
            _ => {}
        }
    }

    /// A length (of a string, list or map) within the shape's min and max.
    fn size(&mut self, shape: &Value, length: usize, value: &Value, path: &str, what: &str) {
        let bound = |key: &str| shape.get(key).and_then(Value::as_u64);
        let length = length as u64;
        if let Some(min) = bound("min").filter(|min| length < *min) {
            self.broken(
                value,
                path,
                format!("Member must have {what} greater than or equal to {min}"),
            );
        }
        if let Some(max) = bound("max").filter(|max| length > *max) {
            self.broken(
                value,
                path,
                format!("Member must have {what} less than or equal to {max}"),
            );
        }
    }

    fn structure(&mut self, name: &str, given: &Map<String, Value>, path: &str) {
        let shape = &self.shapes[name];
        let members = shape
            .get("members")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (member, value) in given {
            let member_path = wire_path(path, member);
            match members.get(member).and_then(|m| m["shape"].as_str()) {
                Some(member_shape) => self.shape(member_shape, value, &member_path),
                None => self.problem(format!(
                    "Value at '{member_path}' failed to satisfy constraint: Member is not in the model of {name}"
                )),
            }
        }
        let required = shape.get("required").and_then(Value::as_array);
        for member in required.into_iter().flatten().filter_map(Value::as_str) {
            if !given.contains_key(member) {
                self.problem(format!(
                    "Value null at '{}' failed to satisfy constraint: Member must not be null",
                    wire_path(path, member)
                ));
            }
        }
        if shape.get("union") == Some(&Value::Bool(true)) && given.len() != 1 {
            self.problem(format!(
                "Value at '{}' failed to satisfy constraint: Member must have exactly one member set",
                if path.is_empty() { "body" } else { path }
            ));
        }
    }
}

/// A bound as the model writes it: 1, not 1.0.
fn plain(bound: f64) -> String {
    if bound.fract() == 0.0 && bound.abs() < 1e15 {
        format!("{}", bound as i64)
    } else {
        bound.to_string()
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with("a ") || noun.starts_with("an ") {
        ""
    } else if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an "
    } else {
        "a "
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A model in botocore's format with one shape of each kind and
    /// constraint, so that each rule is broken once below.
    fn model() -> ServiceModels {
        let shapes = json!({
            "PutRequest": {"type": "structure", "required": ["Name", "Target"], "members": {
                "Name": {"shape": "Name"},
                "Count": {"shape": "Count"},
                "Size": {"shape": "Size"},
                "Enabled": {"shape": "Boolean"},
                "StartDate": {"shape": "Date"},
                "Mode": {"shape": "Mode"},
                "Target": {"shape": "Target"},
                "Tags": {"shape": "Tags"},
                "Labels": {"shape": "Labels"},
                "Payload": {"shape": "Payload"},
                "Choice": {"shape": "Choice"},
                "Details": {"shape": "Details"}
            }},
            "GetRequest": {"type": "structure", "required": ["Name"], "members": {
                "Name": {"shape": "Name", "location": "uri", "locationName": "Name"},
                "Group": {"shape": "Name", "location": "querystring", "locationName": "groupName"},
                "MaxResults": {"shape": "Count", "location": "querystring", "locationName": "MaxResults"}
            }},
            "Name": {"type": "string", "min": 1, "max": 5},
            "Count": {"type": "integer", "min": 1, "max": 100},
            "Size": {"type": "long"},
            "Boolean": {"type": "boolean"},
            "Date": {"type": "timestamp"},
            "Mode": {"type": "string", "enum": ["OFF", "FLEXIBLE"]},
            "Target": {"type": "structure", "required": ["Arn"], "members": {"Arn": {"shape": "Name"}}},
            "Tags": {"type": "list", "member": {"shape": "Name"}, "min": 1, "max": 2},
            "Labels": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Name"}, "max": 1},
            "Payload": {"type": "blob"},
            "Choice": {"type": "structure", "union": true, "members": {"A": {"shape": "Name"}, "B": {"shape": "Name"}}},
            "Details": {"type": "structure", "document": true},
            "ValidationException": {"type": "structure", "exception": true, "members": {}}
        });
        let operations = json!({
            "Put": {"input": {"shape": "PutRequest"}},
            "Get": {"input": {"shape": "GetRequest"}},
            "Ping": {}
        });
        let model = ServiceModel {
            operations: operations.as_object().unwrap().clone(),
            shapes: shapes.as_object().unwrap().clone(),
            error_code: "ValidationException",
        };
        ServiceModels {
            services: HashMap::from([("svc", model)]),
        }
    }

    fn valid() -> Value {
        json!({
            "Name": "web", "Count": 3, "Size": 5_000_000_000_i64, "Enabled": true,
            "StartDate": 1767225600.5, "Mode": "OFF", "Target": {"Arn": "a"},
            "Tags": ["x"], "Labels": {"k": "v"}, "Payload": "aGk=", "Choice": {"A": "a"},
            "Details": {"anything": null}
        })
    }

    /// The request with one member set (or removed, for None).
    fn with(member: &str, value: Option<Value>) -> Value {
        let mut request = valid();
        match value {
            Some(value) => request[member] = value,
            None => {
                request.as_object_mut().unwrap().remove(member);
            }
        }
        request
    }

    #[test]
    fn accepts_a_request_the_model_allows() {
        assert_eq!(model().check_json("svc", "Put", &valid()), Ok(()));
        assert_eq!(model().check_json("svc", "Ping", &json!({})), Ok(()));
        // An operation the model lacks is left to its handler.
        assert_eq!(model().check_json("svc", "Other", &json!({"x": 1})), Ok(()));
    }

    #[test]
    fn refuses_each_broken_rule_naming_the_member_and_the_rule() {
        let cases = [
            (with("Extra", Some(json!(1))), "Value at 'extra' failed to satisfy constraint: Member is not in the model of PutRequest"),
            (with("Count", Some(Value::Null)), "Value null at 'count' failed to satisfy constraint: Member must not be null (an unset member is left out, never sent as null)"),
            (with("Name", None), "Value null at 'name' failed to satisfy constraint: Member must not be null"),
            (with("Target", Some(json!({}))), "Value null at 'target.arn' failed to satisfy constraint: Member must not be null"),
            (with("Name", Some(json!(""))), "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"),
            (with("Name", Some(json!("longer"))), "Value 'longer' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5"),
            (with("Name", Some(json!(7))), "Value 7 at 'name' failed to satisfy constraint: Member must be a string"),
            (with("Count", Some(json!(0))), "Value 0 at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1"),
            (with("Count", Some(json!(101))), "Value 101 at 'count' failed to satisfy constraint: Member must have value less than or equal to 100"),
            (with("Count", Some(json!("3"))), "Value '3' at 'count' failed to satisfy constraint: Member must be an integer"),
            (with("Size", Some(json!(1.5))), "Value 1.5 at 'size' failed to satisfy constraint: Member must be an integer"),
            (with("Enabled", Some(json!("true"))), "Value 'true' at 'enabled' failed to satisfy constraint: Member must be a boolean"),
            (with("StartDate", Some(json!("2026-01-01T00:00:00Z"))), "Value '2026-01-01T00:00:00Z' at 'startDate' failed to satisfy constraint: Member must be a number (epoch seconds)"),
            (with("Mode", Some(json!("ON"))), "Value 'ON' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]"),
            (with("Target", Some(json!("a"))), "Value 'a' at 'target' failed to satisfy constraint: Member must be a structure"),
            (with("Tags", Some(json!({}))), "Value {} at 'tags' failed to satisfy constraint: Member must be a list"),
            (with("Tags", Some(json!([]))), "Value [] at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"),
            (with("Tags", Some(json!(["a", "b", "c"]))), "Value [\"a\",\"b\",\"c\"] at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2"),
            (with("Tags", Some(json!(["a", null]))), "Value null at 'tags.2.member' failed to satisfy constraint: Member must not be null (an unset member is left out, never sent as null)"),
            (with("Labels", Some(json!(["k"]))), "Value [\"k\"] at 'labels' failed to satisfy constraint: Member must be a map"),
            (with("Labels", Some(json!({"a": "1", "b": "2"}))), "Value {\"a\":\"1\",\"b\":\"2\"} at 'labels' failed to satisfy constraint: Member must have length less than or equal to 1"),
            (with("Labels", Some(json!({"k": "too long"}))), "Value 'too long' at 'labels.k' failed to satisfy constraint: Member must have length less than or equal to 5"),
            (with("Payload", Some(json!([1]))), "Value [1] at 'payload' failed to satisfy constraint: Member must be a base64 string"),
            (with("Choice", Some(json!({"A": "a", "B": "b"}))), "Value at 'choice' failed to satisfy constraint: Member must have exactly one member set"),
        ];
        for (request, message) in cases {
            let refused = model().check_json("svc", "Put", &request).unwrap_err();
            assert_eq!(refused.status, 400);
            assert_eq!(refused.code, "ValidationException");
            assert_eq!(
                refused.message,
                format!("1 validation error detected: {message}")
            );
        }
    }

    #[test]
    fn lists_every_problem_at_once() {
        let refused = model()
            .check_json(
                "svc",
                "Put",
                &json!({"Name": "web", "Target": null, "Mode": "ON"}),
            )
            .unwrap_err();
        assert!(
            refused
                .message
                .starts_with("2 validation errors detected: "),
            "{}",
            refused.message
        );
    }

    #[test]
    fn refuses_members_on_an_operation_without_input() {
        let refused = model()
            .check_json("svc", "Ping", &json!({"Name": "x"}))
            .unwrap_err();
        assert!(refused.message.contains("'name'"), "{}", refused.message);
    }

    #[test]
    fn reads_rest_members_from_the_uri_and_the_query() {
        let models = model();
        let query = |pairs: &[(&str, &str)]| -> Map<String, Value> {
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), json!(value)))
                .collect()
        };
        let check = |path: &[(&str, &str)], query: &Map<String, Value>, body: &Value| {
            models
                .check_rest("svc", "Get", path, query, body)
                .map_err(|error| error.message)
        };
        assert_eq!(
            check(
                &[("Name", "web")],
                &query(&[("groupName", "g"), ("MaxResults", "5"), ("other", "x")]),
                &Value::Null
            ),
            Ok(())
        );
        assert_eq!(
            check(&[("Name", "longer")], &query(&[]), &Value::Null),
            Err("1 validation error detected: Value 'longer' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5".to_string())
        );
        assert_eq!(
            check(&[("Name", "web")], &query(&[("MaxResults", "many")]), &Value::Null),
            Err("1 validation error detected: Value 'many' at 'maxResults' failed to satisfy constraint: Member must be a number".to_string())
        );
        assert_eq!(
            check(&[("Name", "web")], &query(&[("MaxResults", "500")]), &Value::Null),
            Err("1 validation error detected: Value 500 at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100".to_string())
        );
        assert_eq!(
            check(&[("Name", "web")], &query(&[]), &json!({"Group": "g"})),
            Err("1 validation error detected: Value at 'group' failed to satisfy constraint: Member belongs in the querystring, not the body".to_string())
        );
        assert_eq!(
            check(&[], &query(&[]), &Value::Null),
            Err("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null".to_string())
        );
    }

    #[test]
    fn reads_the_installed_botocore_models() {
        // The models the tests run against must be there (scripts/test
        // installs them with moto).
        let models = ServiceModels::load().expect("botocore's models");
        for (service, _) in SERVICES {
            assert!(models.services[service].operations.len() > 5, "{service}");
        }
        assert_eq!(
            models.services["elasticloadbalancing"].error_code,
            "ValidationError"
        );
        let refused = models
            .check_json("ecs", "DescribeServices", &json!({"cluster": "prod"}))
            .unwrap_err();
        assert_eq!(refused.code, "InvalidParameterException");
        assert!(
            refused.message.contains("'services'"),
            "{}",
            refused.message
        );
    }
}
