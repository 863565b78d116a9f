//! Rendering a task definition: pure functions from a template (JSON as read)
//! and the inputs to the JSON that is registered. The template stays JSON
//! end to end so that fields newer than our SDK build pass through untouched.

pub(crate) mod settings;

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// Keys that DescribeTaskDefinition returns but RegisterTaskDefinition rejects.
pub const DESCRIBE_ONLY_KEYS: [&str; 8] = [
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderSpec {
    /// Containers that get `image` and the container settings; empty means
    /// the only container of the task definition.
    pub container_names: Vec<String>,
    pub image: Option<String>,
    /// Per-container images (`images` input).
    pub images: Vec<(String, String)>,
    pub container: ContainerSettings,
    pub task: TaskSettings,
    /// `keep-null-value-keys`: keys whose null values are kept.
    pub keep_null_keys: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerSettings {
    pub environment: Vec<(String, String)>,
    pub secrets: Vec<(String, String)>,
    pub docker_labels: Vec<(String, String)>,
    pub log_driver: Option<String>,
    pub log_options: Vec<(String, String)>,
    pub command: Option<Vec<String>>,
    pub env_files: Option<Vec<String>>,
}

impl ContainerSettings {
    fn is_empty(&self) -> bool {
        *self == ContainerSettings::default()
    }
}

impl RenderSpec {
    /// Whether it changes nothing in a definition (keeping nulls is no change).
    pub(crate) fn is_empty(&self) -> bool {
        self.image.is_none()
            && self.images.is_empty()
            && self.container.is_empty()
            && self.task == TaskSettings::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskSettings {
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// Removes what only describe output carries and every null, so that a
/// described definition and a template compare and register alike.
pub fn normalize(definition: Value) -> Value {
    normalize_keeping(definition, &[])
}

/// `normalize`, with the null values of `keep` kept.
fn normalize_keeping(mut definition: Value, keep: &[String]) -> Value {
    if let Value::Object(map) = &mut definition {
        for key in DESCRIBE_ONLY_KEYS {
            map.remove(key);
        }
    }
    drop_nulls(&mut definition, keep);
    definition
}

fn drop_nulls(value: &mut Value, keep: &[String]) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| !v.is_null() || keep.contains(key));
            map.values_mut().for_each(|v| drop_nulls(v, keep));
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(|v| drop_nulls(v, keep));
        }
        _ => {}
    }
}

/// The definition as it may be shown in a log, with what may be a secret
/// hidden (`hide_values`).
pub fn redacted(definition: &Value) -> Value {
    let mut shown = definition.clone();
    hide_values(&mut shown, "");
    shown
}

const HIDDEN: &str = "(hidden)";

/// `options` keys (a log configuration's, FireLens's) that hold settings,
/// never credentials: their values are shown. A log driver takes its
/// credentials as options too (`splunk-token`, a FireLens output's
/// `apikey`), so the value of any key not listed is hidden.
const SETTING_OPTIONS: &[&str] = &[
    // awslogs (and mode and max-buffer-size, every driver's)
    "awslogs-group",
    "awslogs-region",
    "awslogs-stream-prefix",
    "awslogs-create-group",
    "awslogs-datetime-format",
    "awslogs-multiline-pattern",
    "mode",
    "max-buffer-size",
    // FireLens outputs to CloudWatch Logs, Kinesis and Firehose
    "Name",
    "region",
    "log_group_name",
    "log_stream_name",
    "log_stream_prefix",
    "auto_create_group",
    "delivery_stream",
    "stream",
    // firelensConfiguration.options
    "enable-ecs-log-metadata",
    "config-file-type",
    "config-file-value",
];

/// Whether the value of option `key` is shown: only for known settings.
pub(crate) fn shows_option(key: &str) -> bool {
    SETTING_OPTIONS.contains(&key)
}

/// Hides, anywhere in `value` (found under the key `key`), what may be a
/// credential: every environment value, whatever its name (people keep
/// secrets in the environment, and a name does not say which), and the
/// value of every `options` key that is not a known setting. Names stay,
/// and so do secrets' `valueFrom`s: an ARN or parameter name says where a
/// secret is, not what it is.
pub(crate) fn hide_values(value: &mut Value, key: &str) {
    match (key, value) {
        ("environment", Value::Array(variables)) => {
            for variable in variables {
                if variable.get("value").is_some() {
                    variable["value"] = Value::from(HIDDEN);
                }
            }
        }
        ("options", Value::Object(options)) => {
            for (key, option) in options.iter_mut() {
                if !shows_option(key) {
                    *option = Value::from(HIDDEN);
                }
            }
        }
        (_, Value::Object(map)) => {
            for (key, child) in map.iter_mut() {
                hide_values(child, key);
            }
        }
        (_, Value::Array(items)) => {
            for item in items {
                hide_values(item, key);
            }
        }
        _ => {}
    }
}

pub fn family(definition: &Value) -> &str {
    definition["family"].as_str().unwrap_or("(no family)")
}

pub fn container_names(definition: &Value) -> Vec<&str> {
    definition["containerDefinitions"]
        .as_array()
        .map(|containers| {
            containers
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The part of `spec` that applies to `definition` when one set of inputs
/// renders several services' own definitions: containers it lacks are
/// skipped (`unmatched_containers` checks that each exists somewhere).
pub fn restrict_to(spec: &RenderSpec, definition: &Value) -> RenderSpec {
    let names = container_names(definition);
    let mut restricted = spec.clone();
    restricted
        .images
        .retain(|(c, _)| names.contains(&c.as_str()));
    if !spec.container_names.is_empty() {
        restricted
            .container_names
            .retain(|c| names.contains(&c.as_str()));
        if restricted.container_names.is_empty() {
            restricted.image = None;
            restricted.container = ContainerSettings::default();
        }
    }
    restricted
}

/// Container names the inputs mention that none of `definitions` has.
pub fn unmatched_containers(spec: &RenderSpec, definitions: &[&Value]) -> Vec<String> {
    let mentioned = spec
        .images
        .iter()
        .map(|(c, _)| c)
        .chain(&spec.container_names);
    let mut unmatched: Vec<String> = Vec::new();
    for name in mentioned {
        let known = definitions
            .iter()
            .any(|d| container_names(d).contains(&name.as_str()));
        if !known && !unmatched.contains(name) {
            unmatched.push(name.clone());
        }
    }
    unmatched
}

pub fn render(template: Value, spec: &RenderSpec) -> Result<Value> {
    let mut definition = normalize_keeping(template, &spec.keep_null_keys);
    check_shape(&definition)?;
    let targets = target_containers(&definition, spec)?;
    for (name, image) in &spec.images {
        container_mut(&mut definition, name)?.insert("image".into(), image.clone().into());
    }
    for name in &targets {
        let container = container_mut(&mut definition, name)?;
        if let Some(image) = &spec.image {
            container.insert("image".into(), image.clone().into());
        }
        apply_container_settings(container, name, &spec.container)?;
    }
    apply_task_settings(&mut definition, &spec.task);
    check_size(&definition)?;
    Ok(definition)
}

fn check_shape(definition: &Value) -> Result<()> {
    let Some(map) = definition.as_object() else {
        bail!("a task definition must be a JSON object");
    };
    match map.get("family") {
        None => bail!("the task definition has no \"family\""),
        Some(Value::String(family)) if is_valid_family(family) => {}
        Some(Value::String(family)) => bail!(
            "the task definition's family {family:?} is not a valid family name (1 to 255 letters, digits, - and _)"
        ),
        Some(other) => bail!("the task definition's \"family\" is {other}, not a string"),
    }
    let containers = map.get("containerDefinitions").and_then(Value::as_array);
    match containers {
        Some(list) if !list.is_empty() => {
            if list.iter().any(|c| !c["name"].is_string()) {
                bail!(
                    "every entry of containerDefinitions in task definition {} needs a \"name\"",
                    family(definition)
                );
            }
            Ok(())
        }
        _ => bail!(
            "task definition {} has no containerDefinitions",
            family(definition)
        ),
    }
}

/// ECS's rule for a family name; it also names the rendered file.
fn is_valid_family(family: &str) -> bool {
    (1..=255).contains(&family.len())
        && family
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// ECS registers task definitions of at most 64 KiB.
const MAX_DEFINITION_BYTES: usize = 64 * 1024;

/// Checked before the request is sent, so that an oversized definition is
/// refused at once with its size instead of uploaded and retried.
fn check_size(definition: &Value) -> Result<()> {
    let size = serde_json::to_vec(definition)?.len();
    if size > MAX_DEFINITION_BYTES {
        bail!(
            "the rendered task definition {} is {size} bytes; ECS registers at most {MAX_DEFINITION_BYTES} (64 KiB)",
            family(definition)
        );
    }
    Ok(())
}

fn target_containers(definition: &Value, spec: &RenderSpec) -> Result<Vec<String>> {
    if !spec.container_names.is_empty() {
        return Ok(spec.container_names.clone());
    }
    if spec.image.is_none() && spec.container.is_empty() {
        return Ok(Vec::new());
    }
    match container_names(definition).as_slice() {
        [only] => Ok(vec![only.to_string()]),
        several => bail!(
            "container-name is required: task definition {} has several containers ({})",
            family(definition),
            several.join(", ")
        ),
    }
}

fn container_mut<'a>(definition: &'a mut Value, name: &str) -> Result<&'a mut Map<String, Value>> {
    let known = container_names(definition).join(", ");
    let family = family(definition).to_owned();
    definition["containerDefinitions"]
        .as_array_mut()
        .and_then(|containers| {
            containers
                .iter_mut()
                .find(|c| c["name"] == name)
                .and_then(Value::as_object_mut)
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "container {name:?} is not in task definition {family}; its containers are: {known}"
            )
        })
}

fn apply_container_settings(
    container: &mut Map<String, Value>,
    name: &str,
    settings: &ContainerSettings,
) -> Result<()> {
    merge_named(
        container,
        name,
        "environment",
        "value",
        &settings.environment,
    )?;
    merge_named(container, name, "secrets", "valueFrom", &settings.secrets)?;
    merge_keys(container, name, "dockerLabels", &settings.docker_labels)?;
    if settings.log_driver.is_some() || !settings.log_options.is_empty() {
        let log = container
            .entry("logConfiguration")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(log) = log.as_object_mut() else {
            bail!("logConfiguration of container {name} is not an object");
        };
        if let Some(driver) = &settings.log_driver {
            log.insert("logDriver".into(), driver.clone().into());
        }
        if !log.contains_key("logDriver") {
            bail!("log-configuration-options needs log-configuration-log-driver: container {name} has no log driver");
        }
        merge_keys(log, name, "options", &settings.log_options)?;
    }
    if let Some(command) = &settings.command {
        container.insert("command".into(), command.clone().into());
    }
    if let Some(files) = &settings.env_files {
        let files = files
            .iter()
            .map(|arn| serde_json::json!({"value": arn, "type": "s3"}))
            .collect();
        container.insert("environmentFiles".into(), Value::Array(files));
    }
    Ok(())
}

/// Merges `name -> value` pairs into a list of `{name, <value_key>}` objects:
/// an existing name is replaced in place, a new one appended.
fn merge_named(
    container: &mut Map<String, Value>,
    container_name: &str,
    list_key: &str,
    value_key: &str,
    pairs: &[(String, String)],
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let list = container
        .entry(list_key)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = list.as_array_mut() else {
        bail!("{list_key} of container {container_name} is not a list");
    };
    for (name, value) in pairs {
        let entry = serde_json::json!({"name": name, value_key: value});
        match list.iter_mut().find(|item| item["name"] == name.as_str()) {
            Some(existing) => *existing = entry,
            None => list.push(entry),
        }
    }
    Ok(())
}

fn merge_keys(
    object: &mut Map<String, Value>,
    container_name: &str,
    key: &str,
    pairs: &[(String, String)],
) -> Result<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    let map = object
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(map) = map.as_object_mut() else {
        bail!("{key} of container {container_name} is not an object");
    };
    for (k, v) in pairs {
        map.insert(k.clone(), v.clone().into());
    }
    Ok(())
}

fn apply_task_settings(definition: &mut Value, task: &TaskSettings) {
    let fields = [
        ("taskRoleArn", &task.task_role_arn),
        ("executionRoleArn", &task.execution_role_arn),
        ("cpu", &task.cpu),
        ("memory", &task.memory),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            definition[key] = value.clone().into();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "family": "shop",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:3",
            "revision": 3,
            "status": "ACTIVE",
            "requiresAttributes": [{"name": "ecs.capability.execution-role-awslogs"}],
            "compatibilities": ["EC2", "FARGATE"],
            "registeredAt": "2026-01-01T00:00:00Z",
            "registeredBy": "arn:aws:iam::123456789012:role/ci",
            "deregisteredAt": null,
            "cpu": "256",
            "runtimePlatform": {"cpuArchitecture": "ARM64"},
            "someFieldFromTheFuture": {"enabled": true},
            "volumes": [],
            "containerDefinitions": [
                {
                    "name": "web",
                    "image": "shop:old",
                    "essential": true,
                    "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                    "dockerLabels": {"team": "shop"},
                    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/shop"}},
                    "healthCheck": null,
                    "entryPoint": [],
                    "workingDirectory": ""
                },
                {"name": "worker", "image": "shop:old", "command": ["bin/worker"]}
            ]
        })
    }

    fn spec() -> RenderSpec {
        RenderSpec {
            container_names: vec!["web".into()],
            ..RenderSpec::default()
        }
    }

    fn web(definition: &Value) -> &Value {
        &definition["containerDefinitions"][0]
    }

    #[test]
    fn describe_only_keys_and_nulls_go_everything_else_stays() {
        let out = render(template(), &RenderSpec::default()).unwrap();
        for key in DESCRIBE_ONLY_KEYS {
            assert!(out.get(key).is_none(), "{key} kept");
        }
        assert_eq!(out["someFieldFromTheFuture"], json!({"enabled": true}));
        assert_eq!(out["runtimePlatform"], json!({"cpuArchitecture": "ARM64"}));
        assert_eq!(out["volumes"], json!([]));
        assert!(web(&out).get("healthCheck").is_none());
        assert_eq!(web(&out)["entryPoint"], json!([]));
        assert_eq!(web(&out)["workingDirectory"], json!(""));
        assert_eq!(
            out["containerDefinitions"][1],
            template()["containerDefinitions"][1]
        );
    }

    #[test]
    fn keep_null_value_keys_keep_their_nulls_and_only_theirs() {
        let spec = RenderSpec {
            keep_null_keys: vec!["healthCheck".into()],
            ..RenderSpec::default()
        };
        let out = render(template(), &spec).unwrap();
        assert_eq!(web(&out).get("healthCheck"), Some(&Value::Null));
        assert!(
            out.get("deregisteredAt").is_none(),
            "describe-only keys still go"
        );
    }

    #[test]
    fn image_goes_into_each_named_container() {
        let spec = RenderSpec {
            container_names: vec!["web".into(), "worker".into()],
            image: Some("shop:new".into()),
            ..RenderSpec::default()
        };
        let out = render(template(), &spec).unwrap();
        assert_eq!(web(&out)["image"], "shop:new");
        assert_eq!(out["containerDefinitions"][1]["image"], "shop:new");
    }

    #[test]
    fn images_set_each_container_its_own() {
        let spec = RenderSpec {
            images: vec![
                ("worker".into(), "worker:2".into()),
                ("web".into(), "web:2".into()),
            ],
            ..RenderSpec::default()
        };
        let out = render(template(), &spec).unwrap();
        assert_eq!(web(&out)["image"], "web:2");
        assert_eq!(out["containerDefinitions"][1]["image"], "worker:2");
    }

    #[test]
    fn the_only_container_is_the_default_target() {
        let mut single = template();
        single["containerDefinitions"].as_array_mut().unwrap().pop();
        let spec = RenderSpec {
            image: Some("shop:new".into()),
            ..RenderSpec::default()
        };
        assert_eq!(web(&render(single, &spec).unwrap())["image"], "shop:new");
    }

    #[test]
    fn environment_and_secrets_merge_by_name() {
        let mut spec = spec();
        spec.container.environment = vec![("B".into(), "two".into()), ("C".into(), "3".into())];
        spec.container.secrets = vec![("DB".into(), "arn:aws:ssm:us-east-1:1:parameter/db".into())];
        let out = render(template(), &spec).unwrap();
        assert_eq!(
            web(&out)["environment"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(
            web(&out)["secrets"],
            json!([{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}])
        );
    }

    #[test]
    fn labels_and_log_options_merge_by_key() {
        let mut spec = spec();
        spec.container.docker_labels = vec![("version".into(), "a=b".into())];
        spec.container.log_options = vec![("awslogs-stream-prefix".into(), "web".into())];
        let out = render(template(), &spec).unwrap();
        assert_eq!(
            web(&out)["dockerLabels"],
            json!({"team": "shop", "version": "a=b"})
        );
        assert_eq!(
            web(&out)["logConfiguration"],
            json!({"logDriver": "awslogs", "options": {"awslogs-group": "/shop", "awslogs-stream-prefix": "web"}})
        );
    }

    #[test]
    fn log_driver_replaces_the_driver_and_keeps_options() {
        let mut spec = spec();
        spec.container.log_driver = Some("awsfirelens".into());
        let out = render(template(), &spec).unwrap();
        assert_eq!(
            web(&out)["logConfiguration"],
            json!({"logDriver": "awsfirelens", "options": {"awslogs-group": "/shop"}})
        );
    }

    #[test]
    fn command_env_files_and_task_settings_are_set_as_given() {
        let mut spec = spec();
        spec.container.command = Some(vec!["bin/rails".into(), "server".into()]);
        spec.container.env_files = Some(vec!["arn:aws:s3:::cfg/web.env".into()]);
        spec.task = TaskSettings {
            task_role_arn: Some("arn:aws:iam::1:role/task".into()),
            execution_role_arn: Some("arn:aws:iam::1:role/exec".into()),
            cpu: Some("1 vCPU".into()),
            memory: Some("2048".into()),
        };
        let out = render(template(), &spec).unwrap();
        assert_eq!(web(&out)["command"], json!(["bin/rails", "server"]));
        assert_eq!(
            web(&out)["environmentFiles"],
            json!([{"value": "arn:aws:s3:::cfg/web.env", "type": "s3"}])
        );
        assert_eq!(out["taskRoleArn"], "arn:aws:iam::1:role/task");
        assert_eq!(out["executionRoleArn"], "arn:aws:iam::1:role/exec");
        assert_eq!(out["cpu"], "1 vCPU");
        assert_eq!(out["memory"], "2048");
    }

    #[test]
    fn several_definitions_take_the_containers_they_have() {
        let worker =
            json!({"family": "worker", "containerDefinitions": [{"name": "worker", "image": "a"}]});
        let spec = RenderSpec {
            container_names: vec!["web".into()],
            image: Some("shop:2".into()),
            images: vec![("worker".into(), "worker:2".into())],
            container: ContainerSettings {
                environment: vec![("A".into(), "1".into())],
                ..Default::default()
            },
            ..RenderSpec::default()
        };
        let for_worker = restrict_to(&spec, &worker);
        assert_eq!(for_worker.image, None);
        assert!(for_worker.container_names.is_empty() && for_worker.container.is_empty());
        assert_eq!(
            render(worker.clone(), &for_worker).unwrap()["containerDefinitions"][0]["image"],
            "worker:2"
        );
        // The shop definition has a worker container too: it keeps that image.
        let for_shop = restrict_to(&spec, &template());
        assert_eq!(for_shop, spec);
        assert_eq!(
            render(template(), &for_shop).unwrap()["containerDefinitions"][0]["image"],
            "shop:2"
        );

        assert!(unmatched_containers(&spec, &[&worker, &template()]).is_empty());
        let typo = RenderSpec {
            images: vec![("wrker".into(), "x".into())],
            ..RenderSpec::default()
        };
        assert_eq!(
            unmatched_containers(&typo, &[&worker, &template()]),
            ["wrker"]
        );
    }

    #[test]
    fn a_missing_container_named_twice_is_reported_once() {
        let spec = RenderSpec {
            images: vec![("wrker".into(), "x".into())],
            container_names: vec!["web".into(), "wrker".into()],
            ..RenderSpec::default()
        };
        assert_eq!(unmatched_containers(&spec, &[&template()]), ["wrker"]);
    }

    #[test]
    fn redaction_hides_what_may_be_a_secret_only() {
        let mut definition = template();
        definition["containerDefinitions"][0]["secrets"] = json!([{"name": "DB_URL", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}]);
        definition["containerDefinitions"][1]["logConfiguration"] = json!({
            "logDriver": "awsfirelens",
            "options": {"Name": "datadog", "apikey": "dd-key", "Host": "http-intake.logs.datadoghq.com"}
        });
        definition["containerDefinitions"][1]["firelensConfiguration"] =
            json!({"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}});
        definition["containerDefinitions"][0]["logConfiguration"]["options"] = json!({
            "awslogs-group": "/shop",
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "web",
            "awslogs-create-group": "true",
            "mode": "non-blocking",
            "max-buffer-size": "25m",
            "splunk-token": "s3cr3t",
        });
        let shown = redacted(&definition);
        let web = &shown["containerDefinitions"][0];
        assert_eq!(
            web["environment"],
            json!([{"name": "A", "value": "(hidden)"}, {"name": "B", "value": "(hidden)"}])
        );
        assert_eq!(web["image"], "shop:old");
        assert_eq!(
            web["secrets"],
            definition["containerDefinitions"][0]["secrets"]
        );
        // Every setting as it is; only the token hidden.
        let mut options =
            definition["containerDefinitions"][0]["logConfiguration"]["options"].clone();
        options["splunk-token"] = json!("(hidden)");
        assert_eq!(web["logConfiguration"]["options"], options);
        let worker = &shown["containerDefinitions"][1];
        assert_eq!(
            worker["logConfiguration"]["options"],
            json!({"Name": "datadog", "apikey": "(hidden)", "Host": "(hidden)"})
        );
        assert_eq!(
            worker["firelensConfiguration"]["options"],
            json!({"enable-ecs-log-metadata": "true"})
        );
    }

    #[test]
    fn render_errors() {
        let no_driver = {
            let mut t = template();
            t["containerDefinitions"][1]["image"] = json!("x");
            t
        };
        let cases: Vec<(Value, RenderSpec, &str)> = vec![
            (
                template(),
                RenderSpec { container_names: vec!["api".into()], image: Some("x".into()), ..RenderSpec::default() },
                "container \"api\" is not in task definition shop; its containers are: web, worker",
            ),
            (
                template(),
                RenderSpec { images: vec![("db".into(), "x".into())], ..RenderSpec::default() },
                "container \"db\" is not in task definition shop; its containers are: web, worker",
            ),
            (
                template(),
                RenderSpec { image: Some("x".into()), ..RenderSpec::default() },
                "container-name is required: task definition shop has several containers (web, worker)",
            ),
            (
                no_driver,
                RenderSpec {
                    container_names: vec!["worker".into()],
                    container: ContainerSettings { log_options: vec![("a".into(), "b".into())], ..Default::default() },
                    ..RenderSpec::default()
                },
                "log-configuration-options needs log-configuration-log-driver: container worker has no log driver",
            ),
            (json!([]), RenderSpec::default(), "a task definition must be a JSON object"),
            (json!({"containerDefinitions": []}), RenderSpec::default(), "the task definition has no \"family\""),
            (json!({"family": 5}), RenderSpec::default(), "the task definition's \"family\" is 5, not a string"),
            (
                json!({"family": "../shop"}),
                RenderSpec::default(),
                "the task definition's family \"../shop\" is not a valid family name (1 to 255 letters, digits, - and _)",
            ),
            (
                json!({"family": "big", "containerDefinitions": [{"name": "web", "command": ["x".repeat(70_000)]}]}),
                RenderSpec::default(),
                "the rendered task definition big is 70071 bytes; ECS registers at most 65536 (64 KiB)",
            ),
            (json!({"family": "x"}), RenderSpec::default(), "task definition x has no containerDefinitions"),
            (
                json!({"family": "x", "containerDefinitions": [{"image": "a"}]}),
                RenderSpec::default(),
                "every entry of containerDefinitions in task definition x needs a \"name\"",
            ),
        ];
        for (template, spec, message) in cases {
            assert_eq!(render(template, &spec).unwrap_err().to_string(), message);
        }
    }
}
