//! The migration inputs, checked with the rest of the configuration: every
//! bad value is reported at once, with the input's name and the form it
//! accepts.

use std::path::Path;
use std::time::Duration;

use aws_sdk_ecs::types::{AssignPublicIp, CapacityProviderStrategyItem, LaunchType};
use serde::Deserialize;
use serde_json::Value;

use crate::env::Env;
use crate::inputs::RawInputs;
use crate::inputs::{
    flag, managed_ebs_volume, pairs, parse_command, parse_minutes, text, Problems,
};
use crate::template::{parse_template_input, TemplateSource};

#[derive(Debug, Clone, PartialEq)]
pub struct MigrationConfig {
    /// `migration-command`, set in the decisive container; None for
    /// `run-task`, whose task runs as its definition and
    /// `run-task-container-overrides` say.
    pub command: Option<Vec<String>>,
    /// `run-task-container-overrides`: RunTask's containerOverrides as given.
    pub container_overrides: Option<Value>,
    /// `run-task-tags`: RunTask's tags as given.
    pub tags: Option<Value>,
    /// `run-task-managed-ebs-volume[-name]`: RunTask's volumeConfigurations.
    pub volume_configurations: Option<Value>,
    /// Wait for the verdict before deploying; false only for `run-task`
    /// without `wait-for-task-stopped`, as amazon-ecs-deploy-task-definition
    /// does.
    pub wait: bool,
    /// `migration-container`; resolved against the task definition later.
    pub container: Option<String>,
    /// A separate template; None: the task definition being deployed.
    pub template: Option<TemplateSource>,
    pub timeout: Duration,
    pub started_by: String,
    pub environment: Vec<(String, String)>,
    pub overrides: PlacementOverrides,
    /// The step of the workflow run this is, when run by GitHub Actions.
    pub step: Option<WorkflowStep>,
}

/// Where the migration runs when there is no service to copy it from, or
/// when it must run elsewhere than the service. Empty fields keep the
/// service's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlacementOverrides {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub assign_public_ip: Option<AssignPublicIp>,
    pub launch_type: Option<LaunchType>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
}

/// GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB and GITHUB_ACTION (the
/// step): the same step of the same run attempt must not start the
/// migration twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowStep {
    pub run_id: String,
    pub attempt: String,
    pub job: String,
    pub step: String,
}

/// The shortest wait for a one-off task to stop.
const MIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Inputs that mean nothing without `migration-command` or `run-task`. The
/// other run-task-* inputs are ignored without them, as
/// amazon-ecs-deploy-task-definition ignores them.
const NEEDS_COMMAND: &[&str] = &[
    "migration-container",
    "migration-task-definition",
    "migration-environment-variables",
];

pub(crate) fn from_inputs(
    inputs: &RawInputs,
    env: &Env,
    workspace: Option<&Path>,
    problems: &mut Problems,
) -> Option<MigrationConfig> {
    let run_task = flag(inputs, "run-task", problems);
    let wait_for_task_stopped = flag(inputs, "wait-for-task-stopped", problems);
    let command = inputs.get("migration-command");
    if run_task && command.is_some() {
        problems.add(
            "run-task",
            "run-task and migration-command are the same one-off task under two names: give one of them",
        );
        return None;
    }
    if !run_task && command.is_none() {
        let stray: Vec<&str> = NEEDS_COMMAND
            .iter()
            .copied()
            .filter(|name| inputs.get(name).is_some())
            .collect();
        if let Some(first) = stray.first() {
            problems.add(
                first,
                format!(
                    "{} given without migration-command or run-task: give the one-off task, or remove them",
                    stray.join(", ")
                ),
            );
        }
        return None;
    };
    let command = match command {
        Some(command) => Some(problems.check(
            "migration-command",
            parse_command("migration-command", command),
        )?),
        None => None,
    };
    let container_overrides = json_array(inputs, "run-task-container-overrides", problems);
    let tags = json_array(inputs, "run-task-tags", problems);
    let volume_configurations = managed_ebs_volume(inputs, "run-task-managed-ebs-volume", problems);
    let template = inputs.get("migration-task-definition").and_then(|value| {
        problems.check(
            "migration-task-definition",
            parse_template_input("migration-task-definition", value, workspace),
        )
    });
    let timeout = timeout(inputs, run_task, problems);
    let started_by = started_by(inputs, run_task, problems);
    let environment = pairs(
        inputs,
        "migration-environment-variables",
        "NAME=value",
        problems,
    );
    // Before the `?`s below: every problem is reported at once.
    let overrides = placement_overrides(inputs, problems);
    Some(MigrationConfig {
        command,
        container_overrides,
        tags,
        volume_configurations,
        wait: !run_task || wait_for_task_stopped,
        container: text(inputs, "migration-container"),
        template,
        timeout: timeout?,
        started_by,
        environment,
        overrides,
        step: workflow_step(env),
    })
}

/// `migration-timeout-minutes`; for `run-task`, `wait-for-minutes` as
/// amazon-ecs-deploy-task-definition takes it.
fn timeout(inputs: &RawInputs, run_task: bool, problems: &mut Problems) -> Option<Duration> {
    problems.check(
        "migration-timeout-minutes",
        match (inputs.get("migration-timeout-minutes"), run_task) {
            (Some(minutes), _) => parse_minutes("migration-timeout-minutes", minutes),
            // amazon-ecs-deploy-task-definition waits for its task as long as
            // for the service.
            (None, true) => parse_minutes(
                "wait-for-minutes",
                inputs.get("wait-for-minutes").unwrap_or("30"),
            ),
            (None, false) => parse_minutes("migration-timeout-minutes", "30"),
        },
    )
    .filter(|timeout| {
        // ECS takes longer than that to start a task at all.
        let too_short =
            inputs.get("migration-timeout-minutes").is_some() && *timeout < MIN_TIMEOUT;
        if too_short {
            problems.add(
                "migration-timeout-minutes",
                "migration-timeout-minutes: under 1 minute; a one-off task needs longer than that to start",
            );
        }
        !too_short
    })
}

/// Who ECS says started the task: `run-task-started-by` or
/// `migration-started-by`, with the default of each.
fn started_by(inputs: &RawInputs, run_task: bool, problems: &mut Problems) -> String {
    let (started_by_input, default_started_by) = if run_task {
        // As amazon-ecs-deploy-task-definition names its tasks.
        ("run-task-started-by", "GitHub-Actions")
    } else {
        ("migration-started-by", "ecs-deploy")
    };
    let started_by = text(inputs, started_by_input).unwrap_or_else(|| default_started_by.into());
    problems.check(
        started_by_input,
        validate_started_by(started_by_input, &started_by),
    );
    started_by
}

/// Where the one-off task runs when the service does not say (or the
/// inputs override it).
fn placement_overrides(inputs: &RawInputs, problems: &mut Problems) -> PlacementOverrides {
    PlacementOverrides {
        subnets: ids(inputs, "run-task-subnets", "subnet-", problems),
        security_groups: ids(inputs, "run-task-security-groups", "sg-", problems),
        assign_public_ip: inputs.get("run-task-assign-public-IP").and_then(|value| {
            problems.check("run-task-assign-public-IP", parse_assign_public_ip(value))
        }),
        launch_type: inputs
            .get("run-task-launch-type")
            .and_then(|value| problems.check("run-task-launch-type", parse_launch_type(value))),
        capacity_provider_strategy: inputs
            .get("run-task-capacity-provider-strategy")
            .and_then(|value| {
                problems.check(
                    "run-task-capacity-provider-strategy",
                    parse_capacity_provider_strategy(value),
                )
            })
            .unwrap_or_default(),
    }
}

fn workflow_step(env: &Env) -> Option<WorkflowStep> {
    let get = |name: &str| env.get(name).filter(|v| !v.is_empty()).map(String::from);
    Some(WorkflowStep {
        run_id: get("GITHUB_RUN_ID")?,
        attempt: get("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into()),
        job: get("GITHUB_JOB").unwrap_or_default(),
        step: get("GITHUB_ACTION").unwrap_or_default(),
    })
}

/// ECS's rule for startedBy.
fn validate_started_by(input: &str, value: &str) -> Result<(), String> {
    let valid = value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{input}: {value:?} is not accepted by ECS (up to 128 letters, digits, - _ /)"
        ))
    }
}

/// A JSON array, passed to ECS as given.
fn json_array(inputs: &RawInputs, name: &str, problems: &mut Problems) -> Option<Value> {
    let value = inputs.get(name)?;
    match serde_json::from_str::<Value>(value) {
        Ok(array @ Value::Array(_)) => Some(array),
        _ => {
            problems.add(name, format!("{name}: not a JSON array"));
            None
        }
    }
}

/// Comma- or newline-separated resource IDs that must start with `prefix`.
fn ids(inputs: &RawInputs, name: &str, prefix: &str, problems: &mut Problems) -> Vec<String> {
    let Some(value) = inputs.get(name) else {
        return Vec::new();
    };
    let ids: Vec<String> = value
        .split([',', '\n'])
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(String::from)
        .collect();
    let bad: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| !id.starts_with(prefix))
        .collect();
    if !bad.is_empty() {
        problems.add(
            name,
            format!(
                "{name}: {bad:?} {} not {prefix}… IDs; give IDs separated by commas",
                if bad.len() == 1 { "is" } else { "are" }
            ),
        );
    }
    ids
}

fn parse_assign_public_ip(value: &str) -> Result<AssignPublicIp, String> {
    match value {
        "ENABLED" => Ok(AssignPublicIp::Enabled),
        "DISABLED" => Ok(AssignPublicIp::Disabled),
        _ => Err(format!(
            "run-task-assign-public-IP: {value:?} is neither ENABLED nor DISABLED"
        )),
    }
}

fn parse_launch_type(value: &str) -> Result<LaunchType, String> {
    if LaunchType::values().contains(&value) {
        Ok(LaunchType::from(value))
    } else {
        Err(format!(
            "run-task-launch-type: {value:?} is not one of {}",
            LaunchType::values().join(", ")
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StrategyItem {
    capacity_provider: String,
    #[serde(default)]
    weight: i32,
    #[serde(default)]
    base: i32,
}

/// The JSON form aws-actions/amazon-ecs-deploy-task-definition takes.
fn parse_capacity_provider_strategy(
    value: &str,
) -> Result<Vec<CapacityProviderStrategyItem>, String> {
    let items: Vec<StrategyItem> = serde_json::from_str(value).map_err(|e| {
        format!(
            "run-task-capacity-provider-strategy: not a JSON array of {{\"capacityProvider\", \"weight\", \"base\"}} ({e})"
        )
    })?;
    if items.is_empty() {
        return Err("run-task-capacity-provider-strategy: the array is empty".into());
    }
    items
        .into_iter()
        .map(|item| {
            CapacityProviderStrategyItem::builder()
                .capacity_provider(item.capacity_provider)
                .weight(item.weight)
                .base(item.base)
                .build()
                .map_err(|e| format!("run-task-capacity-provider-strategy: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, InvalidInputs};

    fn config(env: &[(&str, &str)]) -> Result<Config, InvalidInputs> {
        Config::of_env(&Env::from_pairs(env.iter().copied()))
    }

    #[test]
    fn no_command_no_migration() {
        assert_eq!(config(&[("INPUT_SERVICE", "web")]).unwrap().migration, None);
    }

    #[test]
    fn a_full_migration_configuration() {
        let migration = config(&[
            ("INPUT_SERVICE", "web"),
            ("INPUT_MIGRATION-COMMAND", "bin/rails db:migrate"),
            ("INPUT_MIGRATION-CONTAINER", "app"),
            ("INPUT_MIGRATION-TASK-DEFINITION", "migrate.json"),
            ("INPUT_MIGRATION-TIMEOUT-MINUTES", "1.5"),
            ("INPUT_MIGRATION-ENVIRONMENT-VARIABLES", "VERBOSE=1"),
            ("INPUT_RUN-TASK-SUBNETS", "subnet-a, subnet-b"),
            ("INPUT_RUN-TASK-SECURITY-GROUPS", "sg-1"),
            ("INPUT_RUN-TASK-ASSIGN-PUBLIC-IP", "DISABLED"),
            (
                "INPUT_RUN-TASK-CAPACITY-PROVIDER-STRATEGY",
                r#"[{"capacityProvider": "FARGATE_SPOT", "weight": 1}]"#,
            ),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "deploy"),
            ("GITHUB_ACTION", "migrate"),
        ])
        .unwrap()
        .migration
        .unwrap();
        assert_eq!(
            migration.command,
            Some(vec!["bin/rails".to_owned(), "db:migrate".to_owned()])
        );
        assert!(migration.wait);
        assert_eq!(migration.container.as_deref(), Some("app"));
        assert_eq!(
            migration.template,
            Some(TemplateSource::File {
                shown: "migrate.json".into(),
                path: "migrate.json".into()
            })
        );
        assert_eq!(migration.timeout, Duration::from_secs(90));
        assert_eq!(migration.started_by, "ecs-deploy");
        assert_eq!(migration.environment, [("VERBOSE".into(), "1".into())]);
        assert_eq!(migration.overrides.subnets, ["subnet-a", "subnet-b"]);
        assert_eq!(migration.overrides.security_groups, ["sg-1"]);
        assert_eq!(
            migration.overrides.assign_public_ip,
            Some(AssignPublicIp::Disabled)
        );
        assert_eq!(
            migration.overrides.capacity_provider_strategy[0].capacity_provider(),
            "FARGATE_SPOT"
        );
        assert_eq!(
            migration.step,
            Some(WorkflowStep {
                run_id: "42".into(),
                attempt: "2".into(),
                job: "deploy".into(),
                step: "migrate".into()
            })
        );
    }

    #[test]
    fn run_task_is_the_same_one_off_task_with_the_official_defaults() {
        let task = |extra: &[(&'static str, &'static str)]| {
            let mut env = vec![("INPUT_SERVICE", "web"), ("INPUT_RUN-TASK", "true")];
            env.extend_from_slice(extra);
            config(&env).unwrap().migration.unwrap()
        };
        let plain = task(&[("INPUT_WAIT-FOR-MINUTES", "12")]);
        assert_eq!(plain.command, None);
        assert_eq!(plain.started_by, "GitHub-Actions");
        assert!(!plain.wait, "wait-for-task-stopped defaults to false");
        assert_eq!(plain.timeout, Duration::from_secs(12 * 60));
        let full = task(&[
            ("INPUT_WAIT-FOR-TASK-STOPPED", "true"),
            (
                "INPUT_RUN-TASK-CONTAINER-OVERRIDES",
                r#"[{"name": "web", "command": ["bin/rails", "db:migrate"], "futureKey": 1}]"#,
            ),
            (
                "INPUT_RUN-TASK-TAGS",
                r#"[{"key": "team", "value": "shop"}]"#,
            ),
            ("INPUT_RUN-TASK-MANAGED-EBS-VOLUME-NAME", "scratch"),
            (
                "INPUT_RUN-TASK-MANAGED-EBS-VOLUME",
                r#"{"roleArn": "arn:aws:iam::1:role/ebs", "sizeInGiB": 10}"#,
            ),
            ("INPUT_RUN-TASK-STARTED-BY", "deploy-bot"),
        ]);
        assert!(full.wait);
        assert_eq!(full.started_by, "deploy-bot");
        assert_eq!(
            full.container_overrides,
            Some(
                serde_json::json!([{"name": "web", "command": ["bin/rails", "db:migrate"], "futureKey": 1}])
            )
        );
        assert_eq!(
            full.tags,
            Some(serde_json::json!([{"key": "team", "value": "shop"}]))
        );
        assert_eq!(
            full.volume_configurations,
            Some(
                serde_json::json!([{"name": "scratch", "managedEBSVolume": {"roleArn": "arn:aws:iam::1:role/ebs", "sizeInGiB": 10}}])
            )
        );
    }

    /// Every rejected value, with the exact message the user sees.
    #[test]
    fn bad_migration_inputs_are_all_reported_with_their_names() {
        type Inputs<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Inputs, &[&str])] = &[
            (&[("INPUT_MIGRATION-CONTAINER", "app"), ("INPUT_MIGRATION-ENVIRONMENT-VARIABLES", "A=1")], &[
                "migration-container, migration-environment-variables given without migration-command or run-task: give the one-off task, or remove them",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK", "true")], &[
                "run-task and migration-command are the same one-off task under two names: give one of them",
            ]),
            (&[("INPUT_RUN-TASK", "yes")], &[
                "run-task: \"yes\" is not a boolean; use true or false (also True/TRUE/False/FALSE)",
            ]),
            (&[("INPUT_RUN-TASK", "true"), ("INPUT_RUN-TASK-CONTAINER-OVERRIDES", "{\"name\": \"web\"}"), ("INPUT_RUN-TASK-TAGS", "k=v")], &[
                "run-task-container-overrides: not a JSON array",
                "run-task-tags: not a JSON array",
            ]),
            (&[("INPUT_RUN-TASK", "true"), ("INPUT_RUN-TASK-STARTED-BY", "ci run")], &[
                "run-task-started-by: \"ci run\" is not accepted by ECS (up to 128 letters, digits, - _ /)",
            ]),
            (&[("INPUT_RUN-TASK", "true"), ("INPUT_RUN-TASK-MANAGED-EBS-VOLUME", "{\"sizeInGiB\": 10}")], &[
                "run-task-managed-ebs-volume: needs run-task-managed-ebs-volume-name, the task definition volume it configures",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "echo 'open")], &[
                "migration-command: unbalanced quotes in \"echo 'open\"",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-TASK-DEFINITION", "s3://bucket")], &[
                "migration-task-definition: \"s3://bucket\" is not an S3 object; use s3://bucket/key",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-TIMEOUT-MINUTES", "0")], &[
                "migration-timeout-minutes: \"0\" is not a number of minutes above 0 and at most 360",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-TIMEOUT-MINUTES", "0.5")], &[
                "migration-timeout-minutes: under 1 minute; a one-off task needs longer than that to start",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-TIMEOUT-MINUTES", "ten")], &[
                "migration-timeout-minutes: \"ten\" is not a number of minutes above 0 and at most 360",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-STARTED-BY", "ci run")], &[
                "migration-started-by: \"ci run\" is not accepted by ECS (up to 128 letters, digits, - _ /)",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-ENVIRONMENT-VARIABLES", "VERBOSE")], &[
                "migration-environment-variables: line 1 is not of the form NAME=value",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK-SUBNETS", "subnet-a,sg-1"), ("INPUT_RUN-TASK-SECURITY-GROUPS", "default")], &[
                "run-task-subnets: [\"sg-1\"] is not subnet-… IDs; give IDs separated by commas",
                "run-task-security-groups: [\"default\"] is not sg-… IDs; give IDs separated by commas",
            ]),
            // A bad timeout does not hide the placement's problems.
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_MIGRATION-TIMEOUT-MINUTES", "ten"), ("INPUT_RUN-TASK-LAUNCH-TYPE", "fargate")], &[
                "migration-timeout-minutes: \"ten\" is not a number of minutes above 0 and at most 360",
                "run-task-launch-type: \"fargate\" is not one of EC2, EXTERNAL, FARGATE, MANAGED_INSTANCES",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK-ASSIGN-PUBLIC-IP", "true")], &[
                "run-task-assign-public-IP: \"true\" is neither ENABLED nor DISABLED",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK-LAUNCH-TYPE", "fargate")], &[
                "run-task-launch-type: \"fargate\" is not one of EC2, EXTERNAL, FARGATE, MANAGED_INSTANCES",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK-CAPACITY-PROVIDER-STRATEGY", "FARGATE_SPOT")], &[
                "run-task-capacity-provider-strategy: not a JSON array of {\"capacityProvider\", \"weight\", \"base\"} (expected value at line 1 column 1)",
            ]),
            (&[("INPUT_MIGRATION-COMMAND", "migrate"), ("INPUT_RUN-TASK-CAPACITY-PROVIDER-STRATEGY", "[]")], &[
                "run-task-capacity-provider-strategy: the array is empty",
            ]),
        ];
        for (env, expected) in cases {
            let mut env = env.to_vec();
            env.push(("INPUT_SERVICE", "web"));
            let error = config(&env).unwrap_err();
            assert_eq!(error.0, *expected, "{env:?}");
        }
    }
}
