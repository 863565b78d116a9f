//! The typed configuration of one run, built from the raw inputs and checked
//! whole before any AWS call: every bad value is reported at once, each with
//! the input's name and the form it accepts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_codedeploy::types::AutoRollbackEvent;
use aws_sdk_ecs::types::PropagateTags;

use anyhow::Result;
use serde_json::Value;

use crate::aws::ecs::resource_id;
use crate::env::Env;
use crate::inputs::{
    managed_ebs_volume, pairs, parse_bool_literal, parse_command, parse_minutes, parse_pairs,
    split_lines, text, Problems, RawInputs,
};
use crate::migration::settings::{self as migration_settings, MigrationConfig};
use crate::render::{ContainerSettings, RenderSpec, TaskSettings};
use crate::template::{
    file_source, parse_s3_object, parse_template_input, parse_template_source, TemplateSource,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub template: Option<TemplateSource>,
    /// `task-definition: previous`: each service goes back to the revision
    /// it ran before its current one, as it is.
    pub previous_revision: bool,
    pub render: RenderSpec,
    pub cluster: String,
    pub services: Vec<String>,
    pub deploy: DeployOptions,
    pub codedeploy: CodeDeployOptions,
    /// Where the AppSpec comes from; None: generated from the service.
    pub appspec: Option<TemplateSource>,
    pub dry_run: bool,
    /// Check what the definitions need before anything changes.
    pub preflight: bool,
    /// `summary`: a file the summary's Markdown is also written to.
    pub summary_file: Option<PathBuf>,
    pub update_scheduled_tasks: bool,
    /// The event buses whose rules are searched for scheduled tasks.
    pub scheduled_task_buses: Vec<String>,
    /// `keep-revisions` and `delete-revisions`; None keeps every revision.
    pub old_revisions: Option<OldRevisions>,
    pub github_token: Option<String>,
    /// The GitHub deployment to report to, when `environment` is given.
    pub github: Option<DeploymentSettings>,
    /// Present when `migration-command` is given.
    pub migration: Option<MigrationConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeployOptions {
    pub desired_count: Option<i32>,
    pub force_new_deployment: bool,
    pub enable_ecs_managed_tags: Option<bool>,
    pub propagate_tags: Option<PropagateTags>,
    pub wait: bool,
    pub timeout: Duration,
    pub max_failed_tasks: Option<i32>,
    pub rollback_on_failure: bool,
    pub max_retries: u32,
    /// `wait-max-delay-seconds`: the longest wait between two polls.
    pub max_poll_delay: Option<Duration>,
    /// UpdateService `volumeConfigurations`, as given.
    pub volume_configurations: Option<Value>,
}

impl DeployOptions {
    /// The inputs given that the update applies besides the task
    /// definition, by name.
    pub(crate) fn service_settings_given(&self) -> Vec<&'static str> {
        [
            ("desired-count", self.desired_count.is_some()),
            ("force-new-deployment", self.force_new_deployment),
            ("propagate-tags", self.propagate_tags.is_some()),
            (
                "enable-ecs-managed-tags",
                self.enable_ecs_managed_tags.is_some(),
            ),
            (
                "service-managed-ebs-volume",
                self.volume_configurations.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(input, given)| given.then_some(input))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeDeployOptions {
    pub application: Option<String>,
    pub deployment_group: Option<String>,
    pub deployment_config: Option<String>,
    pub description: Option<String>,
    pub auto_rollback_events: Vec<AutoRollbackEvent>,
    /// `codedeploy-wait-until: ready`: stop waiting once traffic can be rerouted.
    pub wait_until_ready: bool,
    pub wait_for_in_progress: bool,
}

/// What becomes of the revisions a deploy leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldRevisions {
    /// How many of each deployed family's newest ACTIVE revisions stay.
    pub keep: usize,
    /// Also DeleteTaskDefinitions the INACTIVE revisions nothing uses.
    pub delete: bool,
    /// How long a revision stays INACTIVE before it may be deleted: until
    /// then it can still be registered again from its definition.
    pub delete_after_days: u32,
}

fn old_revisions(inputs: &RawInputs, problems: &mut Problems) -> Option<OldRevisions> {
    let delete = problems
        .check("delete-revisions", parse_bool(inputs, "delete-revisions"))
        .unwrap_or(false);
    // Checked whether or not keep-revisions uses it.
    let delete_after_days = problems.check(
        "delete-revisions-after-days",
        inputs
            .get("delete-revisions-after-days")
            .unwrap_or("7")
            .parse::<u32>()
            .ok()
            .filter(|days| (1..=3650).contains(days))
            .ok_or_else(|| {
                "delete-revisions-after-days must be a whole number of days from 1 to 3650"
                    .to_owned()
            }),
    );
    let Some(keep) = inputs.get("keep-revisions") else {
        if delete {
            problems.add(
                "delete-revisions",
                "delete-revisions: true needs keep-revisions, which says what is deregistered and then deleted",
            );
        }
        return None;
    };
    let keep = problems.check(
        "keep-revisions",
        keep.parse::<usize>()
            .ok()
            .filter(|keep| *keep >= 1)
            .ok_or_else(|| format!("keep-revisions: {keep:?} is not a whole number of at least 1")),
    );
    Some(OldRevisions {
        keep: keep?,
        delete,
        delete_after_days: delete_after_days?,
    })
}

/// The `environment` input and its companions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentSettings {
    pub environment: String,
    pub environment_url: Option<String>,
    /// Input `ref`; GITHUB_SHA when unset.
    pub reference: Option<String>,
    pub transient: Option<bool>,
    pub production: Option<bool>,
}

/// All problems with the inputs, one per line.
#[derive(Debug)]
pub struct InvalidInputs(pub Vec<String>);

impl fmt::Display for InvalidInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.join("\n"))
    }
}

impl std::error::Error for InvalidInputs {}

impl Config {
    pub fn from_inputs(inputs: &RawInputs, env: &Env) -> Result<Config, InvalidInputs> {
        let mut problems = Problems::default();
        inputs.check_unknown(&mut problems);

        let workspace = env.get("GITHUB_WORKSPACE").filter(|w| !w.is_empty());
        let previous_revision = inputs.get("task-definition") == Some("previous");
        let template = template_source(inputs, workspace.map(Path::new), &mut problems)
            .filter(|_| !previous_revision);
        let image = inputs.get("image").and_then(|v| {
            problems.check("image", validate_image("image", v).map(|()| v.to_owned()))
        });
        let images = inputs
            .get("images")
            .and_then(|v| problems.check("images", parse_images(v)))
            .unwrap_or_default();
        let container = ContainerSettings {
            environment: pairs(inputs, "environment-variables", "NAME=value", &mut problems),
            secrets: pairs(inputs, "secrets", "NAME=valueFrom", &mut problems),
            docker_labels: pairs(inputs, "docker-labels", "key=value", &mut problems),
            log_driver: text(inputs, "log-configuration-log-driver"),
            log_options: pairs(
                inputs,
                "log-configuration-options",
                "key=value",
                &mut problems,
            ),
            command: inputs
                .get("command")
                .and_then(|v| problems.check("command", parse_command("command", v))),
            env_files: inputs
                .get("env-files")
                .map(|v| split_lines(v).into_iter().map(String::from).collect()),
        };
        let render = RenderSpec {
            container_names: inputs
                .get("container-name")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            image,
            images,
            container,
            task: TaskSettings {
                task_role_arn: text(inputs, "task-role-arn"),
                execution_role_arn: text(inputs, "execution-role-arn"),
                cpu: text(inputs, "cpu"),
                memory: text(inputs, "memory"),
            },
            keep_null_keys: inputs
                .get("keep-null-value-keys")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let dry_run = problems
            .check("dry-run", parse_bool(inputs, "dry-run"))
            .unwrap_or(false);
        if previous_revision && !render.is_empty() {
            problems.add(
                "task-definition",
                "task-definition: previous deploys the revision each service ran before as it is: it takes no image, container or task settings",
            );
        }
        if previous_revision && inputs.get("service").is_none() {
            problems.add(
                "task-definition",
                "task-definition: previous needs service: it is the revision each service ran before its current one",
            );
        }
        let preflight = problems
            .check("preflight", parse_bool(inputs, "preflight"))
            .unwrap_or(true);
        let summary_file = inputs.get("summary").map(|file| {
            let path = Path::new(file);
            match workspace {
                Some(workspace) if path.is_relative() => Path::new(workspace).join(path),
                _ => path.to_owned(),
            }
        });
        let update_scheduled_tasks = problems
            .check(
                "update-scheduled-tasks",
                parse_bool(inputs, "update-scheduled-tasks"),
            )
            .unwrap_or(false);
        let scheduled_task_buses = inputs
            .get("scheduled-task-event-buses")
            .map(|v| {
                v.split([',', '\n'])
                    .map(str::trim)
                    .filter(|bus| !bus.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_else(|| vec!["default".to_owned()]);
        let old_revisions = old_revisions(inputs, &mut problems);
        // Both act on the families of the deployed services.
        if inputs.get("service").is_none() {
            for (input, given) in [
                ("update-scheduled-tasks", update_scheduled_tasks),
                ("keep-revisions", old_revisions.is_some()),
            ] {
                if given {
                    problems.add(
                        input,
                        format!("{input}: needs service: it acts on the families the services run"),
                    );
                }
            }
        }
        let cluster = text(inputs, "cluster").unwrap_or_else(|| "default".to_owned());
        let services: Vec<String> = inputs
            .get("service")
            .map(|v| split_lines(v).into_iter().map(String::from).collect())
            .unwrap_or_default();
        if let Some(problem) = duplicate_service(&services) {
            problems.add("service", problem);
        }
        let mut number = |name: &str, min: i32, max: i32| {
            inputs
                .get(name)
                .and_then(|v| problems.check(name, parse_number(name, v, min, max)))
        };
        let desired_count = number("desired-count", 0, 100_000);
        let max_failed_tasks = number("max-failed-tasks", 1, 10_000);
        let max_retries = number("max-retries", 0, 20).unwrap_or(5) as u32;
        let deploy = DeployOptions {
            desired_count,
            force_new_deployment: problems
                .check(
                    "force-new-deployment",
                    parse_bool(inputs, "force-new-deployment"),
                )
                .unwrap_or(false),
            enable_ecs_managed_tags: match inputs.get("enable-ecs-managed-tags") {
                Some(_) => problems.check(
                    "enable-ecs-managed-tags",
                    parse_bool(inputs, "enable-ecs-managed-tags"),
                ),
                None => None,
            },
            propagate_tags: inputs
                .get("propagate-tags")
                .and_then(|v| problems.check("propagate-tags", parse_propagate_tags(v))),
            wait: problems
                .check(
                    "wait-for-service-stability",
                    parse_bool(inputs, "wait-for-service-stability"),
                )
                .unwrap_or(true),
            timeout: inputs
                .get("wait-for-minutes")
                .and_then(|v| {
                    problems.check("wait-for-minutes", parse_minutes("wait-for-minutes", v))
                })
                .unwrap_or(Duration::from_secs(30 * 60)),
            max_failed_tasks,
            rollback_on_failure: problems
                .check(
                    "rollback-on-failure",
                    parse_bool(inputs, "rollback-on-failure"),
                )
                .unwrap_or(true),
            max_retries,
            max_poll_delay: inputs
                .get("wait-max-delay-seconds")
                .and_then(|v| {
                    problems.check(
                        "wait-max-delay-seconds",
                        parse_number("wait-max-delay-seconds", v, 1, 3600),
                    )
                })
                .map(|seconds| Duration::from_secs(seconds as u64)),
            volume_configurations: managed_ebs_volume(
                inputs,
                "service-managed-ebs-volume",
                &mut problems,
            ),
        };
        let migration =
            migration_settings::from_inputs(inputs, env, workspace.map(Path::new), &mut problems);
        let codedeploy = CodeDeployOptions {
            application: text(inputs, "codedeploy-application"),
            deployment_group: text(inputs, "codedeploy-deployment-group"),
            deployment_config: text(inputs, "codedeploy-deployment-config"),
            description: text(inputs, "codedeploy-deployment-description"),
            auto_rollback_events: inputs
                .get("codedeploy-auto-rollback-events")
                .and_then(|v| {
                    problems.check("codedeploy-auto-rollback-events", parse_rollback_events(v))
                })
                .unwrap_or_default(),
            wait_until_ready: match inputs.get("codedeploy-wait-until").unwrap_or("complete") {
                "complete" => false,
                "ready" => true,
                other => {
                    problems.add(
                        "codedeploy-wait-until",
                        format!("codedeploy-wait-until: {other:?} is not complete or ready"),
                    );
                    false
                }
            },
            wait_for_in_progress: problems
                .check(
                    "wait-for-in-progress",
                    parse_bool(inputs, "wait-for-in-progress"),
                )
                .unwrap_or(false),
        };
        let appspec = inputs.get("codedeploy-appspec").and_then(|v| {
            problems.check(
                "codedeploy-appspec",
                parse_appspec_source(v, workspace.map(Path::new)),
            )
        });
        let template_given = [
            "task-definition",
            "task-definition-arn",
            "task-definition-family",
        ]
        .iter()
        .any(|name| inputs.get(name).is_some());
        if template.is_none() && services.is_empty() && !template_given {
            problems.add(
                "task-definition",
                "task-definition or service is required: give a task definition template, or the service whose current task definition to start from",
            );
        }
        let github = deployment_settings(inputs, &mut problems);
        let github_token = inputs
            .get("github-token")
            .and_then(|token| problems.check("github-token", check_token(token)));
        let messages = problems.into_messages();
        if messages.is_empty() {
            Ok(Config {
                template,
                previous_revision,
                render,
                cluster,
                services,
                deploy,
                codedeploy,
                appspec,
                dry_run,
                preflight,
                summary_file,
                update_scheduled_tasks,
                scheduled_task_buses,
                old_revisions,
                github_token,
                github,
                migration,
            })
        } else {
            Err(InvalidInputs(messages))
        }
    }
}

/// The template: `task-definition`, or the ECS revision that
/// `task-definition-arn` or `task-definition-family` (with
/// `task-definition-revision`) name, as amazon-ecs-render-task-definition
/// takes it. One source at most.
fn template_source(
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

/// A token goes into an HTTP header: a blank or control character there
/// would be refused deep inside the client. The token itself is never shown.
fn check_token(token: &str) -> Result<String, String> {
    if token.chars().all(|c| c.is_ascii_graphic()) {
        Ok(token.to_owned())
    } else {
        Err("github-token: contains a blank, a line break or a character that is not ASCII; give the token alone".to_owned())
    }
}

/// The same service named twice (by name or ARN) would register two
/// revisions and race two updates of one service.
fn duplicate_service(services: &[String]) -> Option<String> {
    services.iter().enumerate().find_map(|(i, first)| {
        services[i + 1..]
            .iter()
            .find(|second| resource_id(second) == resource_id(first))
            .map(|second| {
                let shown = if first == second {
                    format!("{first:?} is listed twice")
                } else {
                    format!("{first:?} and {second:?} are the same service")
                };
                format!("service: {shown}; list each service once")
            })
    })
}

/// `environment` and its companions, which mean nothing without it.
fn deployment_settings(inputs: &RawInputs, problems: &mut Problems) -> Option<DeploymentSettings> {
    let mut optional_bool = |name: &str| {
        inputs
            .get(name)
            .and_then(|_| problems.check(name, parse_bool(inputs, name)))
    };
    let transient = optional_bool("transient-environment");
    let production = optional_bool("production-environment");
    let environment_url = inputs.get("environment-url").and_then(|url| {
        let is_url = url.starts_with("https://") || url.starts_with("http://");
        problems.check(
            "environment-url",
            if is_url {
                Ok(url.to_owned())
            } else {
                Err(format!(
                    "environment-url: {url:?} is not a URL; give https://..."
                ))
            },
        )
    });
    let Some(environment) = text(inputs, "environment") else {
        for name in [
            "environment-url",
            "ref",
            "transient-environment",
            "production-environment",
        ] {
            if inputs.get(name).is_some() {
                problems.add(
                    name,
                    format!("{name}: needs environment, the GitHub environment to report the deployment to"),
                );
            }
        }
        return None;
    };
    if inputs.get("github-token").is_none() {
        problems.add(
            "github-token",
            "github-token: empty, but environment needs a token that may write deployments (in a workflow the default is the job's token)",
        );
    }
    Some(DeploymentSettings {
        environment,
        environment_url,
        reference: text(inputs, "ref"),
        transient,
        production,
    })
}

fn parse_number(name: &str, value: &str, min: i32, max: i32) -> Result<i32, String> {
    value
        .parse::<i32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{name}: {value:?} is not a whole number from {min} to {max}"))
}

fn parse_rollback_events(value: &str) -> Result<Vec<AutoRollbackEvent>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|event| match event {
            "DEPLOYMENT_FAILURE" => Ok(AutoRollbackEvent::DeploymentFailure),
            "DEPLOYMENT_STOP_ON_ALARM" => Ok(AutoRollbackEvent::DeploymentStopOnAlarm),
            "DEPLOYMENT_STOP_ON_REQUEST" => Ok(AutoRollbackEvent::DeploymentStopOnRequest),
            other => Err(format!(
                "codedeploy-auto-rollback-events: {other:?} is not one of DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST"
            )),
        })
        .collect()
}

/// An AppSpec is a file or an S3 object, never an ECS resource.
fn parse_appspec_source(value: &str, workspace: Option<&Path>) -> Result<TemplateSource, String> {
    match value.strip_prefix("s3://") {
        Some(object) => parse_s3_object("codedeploy-appspec", value, object),
        None => Ok(file_source(value, workspace)),
    }
}

fn parse_propagate_tags(value: &str) -> Result<PropagateTags, String> {
    match value {
        "TASK_DEFINITION" => Ok(PropagateTags::TaskDefinition),
        "SERVICE" => Ok(PropagateTags::Service),
        "NONE" => Ok(PropagateTags::None),
        _ => Err(format!(
            "propagate-tags: {value:?} is not one of TASK_DEFINITION, SERVICE, NONE"
        )),
    }
}

/// Only called for inputs with a default or known to be set.
fn parse_bool(inputs: &RawInputs, name: &str) -> Result<bool, String> {
    let value = inputs.get(name).unwrap_or("false");
    parse_bool_literal(value).ok_or_else(|| {
        format!(
            "{name}: {value:?} is not a boolean; use true or false (also True/TRUE/False/FALSE)"
        )
    })
}

fn parse_images(value: &str) -> Result<Vec<(String, String)>, String> {
    let images = parse_pairs("images", "container=image", value)?;
    for (_, image) in &images {
        validate_image("images", image)?;
    }
    Ok(images)
}

/// Rejects what no registry accepts: blanks, control characters, upper-case
/// repository names, malformed tags or digests.
pub fn validate_image(input: &str, image: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{input}: {image:?} is not a valid image reference ({why})"
        ))
    };
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains blanks");
    }
    if image.len() > 255 {
        return fail("longer than 255 characters");
    }
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let (name, tag) = match name_and_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (name_and_tag, None),
    };
    let repository = name.split_once('/').map_or(name, |(registry, path)| {
        if registry.contains('.') || registry.contains(':') || registry == "localhost" {
            path
        } else {
            name
        }
    });
    if repository.is_empty() || repository.split('/').any(str::is_empty) {
        return fail("empty repository name");
    }
    if !repository
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
    {
        return fail("repository names are lower-case letters, digits and . _ - /");
    }
    if let Some(tag) = tag {
        if tag.is_empty()
            || tag.len() > 128
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return fail("a tag is 1 to 128 letters, digits, . _ -");
        }
    }
    if let Some(digest) = digest {
        let valid = digest.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !valid {
            return fail("a digest is algorithm:hex, like sha256:…");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{read, Invocation};

    fn config(env: &[(&str, &str)]) -> Result<Config, InvalidInputs> {
        let env = Env::from_pairs(env.iter().copied());
        let Invocation::Run(inputs) = read(&env, &[]).unwrap() else {
            unreachable!()
        };
        Config::from_inputs(&inputs, &env)
    }

    #[test]
    fn a_minimal_configuration() {
        let config = config(&[
            ("INPUT_TASK-DEFINITION", "task-def.json"),
            ("INPUT_CONTAINER-NAME", "web, worker"),
            (
                "INPUT_IMAGE",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:abc123",
            ),
            ("GITHUB_WORKSPACE", "/github/workspace"),
        ])
        .unwrap();
        assert_eq!(
            config.template,
            Some(TemplateSource::File {
                shown: "task-def.json".into(),
                path: "/github/workspace/task-def.json".into()
            })
        );
        assert_eq!(config.render.container_names, ["web", "worker"]);
        assert_eq!(config.cluster, "default");
        assert!(!config.dry_run);
        assert!(config.services.is_empty());
        assert_eq!(
            config.deploy,
            DeployOptions {
                desired_count: None,
                force_new_deployment: false,
                enable_ecs_managed_tags: None,
                propagate_tags: None,
                wait: true,
                timeout: Duration::from_secs(30 * 60),
                max_failed_tasks: None,
                rollback_on_failure: true,
                max_retries: 5,
                max_poll_delay: None,
                volume_configurations: None,
            }
        );
    }

    #[test]
    fn services_are_one_per_line() {
        let config = config(&[
            (
                "INPUT_SERVICE",
                "web

 worker 
",
            ),
            ("INPUT_DESIRED-COUNT", "4"),
            ("INPUT_PROPAGATE-TAGS", "SERVICE"),
        ])
        .unwrap();
        assert_eq!(config.services, ["web", "worker"]);
        assert_eq!(config.deploy.desired_count, Some(4));
        assert_eq!(config.deploy.propagate_tags, Some(PropagateTags::Service));
    }

    #[test]
    fn template_sources_are_told_apart() {
        let cases = [
            (
                "s3://infra/ecs/web.json",
                TemplateSource::S3 {
                    bucket: "infra".into(),
                    key: "ecs/web.json".into(),
                },
            ),
            (
                "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
                TemplateSource::Ecs(
                    "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7".into(),
                ),
            ),
            ("web", TemplateSource::Ecs("web".into())),
            ("web-app_2:12", TemplateSource::Ecs("web-app_2:12".into())),
            (
                "web.json",
                TemplateSource::File {
                    shown: "web.json".into(),
                    path: "web.json".into(),
                },
            ),
            (
                "deploy/web",
                TemplateSource::File {
                    shown: "deploy/web".into(),
                    path: "deploy/web".into(),
                },
            ),
            (
                "web:latest",
                TemplateSource::File {
                    shown: "web:latest".into(),
                    path: "web:latest".into(),
                },
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_template_source(value, None), Ok(expected), "{value}");
        }
    }

    #[test]
    fn the_render_actions_template_inputs_name_an_ecs_revision() {
        let template = |env: &[(&str, &str)]| config(env).map(|c| c.template).map_err(|e| e.0);
        let ecs = |id: &str| Ok(Some(TemplateSource::Ecs(id.into())));
        let arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7";
        assert_eq!(template(&[("INPUT_TASK-DEFINITION-ARN", arn)]), ecs(arn));
        assert_eq!(
            template(&[("INPUT_TASK-DEFINITION-FAMILY", "web")]),
            ecs("web")
        );
        assert_eq!(
            template(&[
                ("INPUT_TASK-DEFINITION-FAMILY", "web"),
                ("INPUT_TASK-DEFINITION-REVISION", "7")
            ]),
            ecs("web:7")
        );
        let refused = |env: &[(&str, &str)]| config(env).unwrap_err().0;
        assert_eq!(
            refused(&[
                ("INPUT_TASK-DEFINITION", "web.json"),
                ("INPUT_TASK-DEFINITION-ARN", arn)
            ]),
            ["task-definition and task-definition-arn both name the template: give one of them"]
        );
        assert_eq!(
            refused(&[("INPUT_TASK-DEFINITION-REVISION", "7"), ("INPUT_SERVICE", "web")]),
            ["task-definition-revision: needs task-definition-family, the family of the revision"]
        );
        assert_eq!(
            refused(&[("INPUT_TASK-DEFINITION-ARN", "web.json")]),
            ["task-definition-arn: \"web.json\" is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)"]
        );
    }

    #[test]
    fn key_value_lines_keep_equals_in_values() {
        assert_eq!(
            parse_pairs("docker-labels", "key=value", "a=b=c\n\nurl = https://x?y=1").unwrap(),
            [
                ("a".to_owned(), "b=c".to_owned()),
                ("url".to_owned(), "https://x?y=1".to_owned())
            ]
        );
    }

    #[test]
    fn commands_are_json_arrays_or_shell_words() {
        assert_eq!(
            parse_command("command", r#"["bin/rails", "db:migrate"]"#).unwrap(),
            ["bin/rails", "db:migrate"]
        );
        assert_eq!(
            parse_command("command", r#"sh -c 'echo "hi there"'"#).unwrap(),
            ["sh", "-c", "echo \"hi there\""]
        );
    }

    #[test]
    fn valid_images() {
        for image in [
            "nginx",
            "nginx:1.27-alpine",
            "public.ecr.aws/nginx/nginx:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "localhost:5000/app:dev",
            "ghcr.io/org/app:1",
        ] {
            assert_eq!(validate_image("image", image), Ok(()), "{image}");
        }
    }

    /// Every rejected value, with the exact message the user sees.
    #[test]
    fn bad_inputs_are_all_reported_with_their_names() {
        type Inputs<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Inputs, &[&str])] = &[
            (&[("INPUT_DRY-RUN", "yes"), ("INPUT_SERVICE", "web")], &[
                "dry-run: \"yes\" is not a boolean; use true or false (also True/TRUE/False/FALSE)",
            ]),
            (&[], &[
                "task-definition or service is required: give a task definition template, or the service whose current task definition to start from",
            ]),
            (&[("INPUT_TASK-DEFINITION", "s3://bucket-only")], &[
                "task-definition: \"s3://bucket-only\" is not an S3 object; use s3://bucket/key",
            ]),
            (&[("INPUT_TASK-DEFINITION", "arn:aws:ecs:us-east-1:1:service/x")], &[
                "task-definition: \"arn:aws:ecs:us-east-1:1:service/x\" is not a task definition ARN (arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_IMAGE", "my app:1"), ("INPUT_IMAGES", "web=Web:1\nworker")], &[
                "image: \"my app:1\" is not a valid image reference (it contains blanks)",
                "images: line 2 is not of the form container=image",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_IMAGES", "web=Web/App:1")], &[
                "images: \"Web/App:1\" is not a valid image reference (repository names are lower-case letters, digits and . _ - /)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_IMAGE", "app:bad/tag:")], &[
                "image: \"app:bad/tag:\" is not a valid image reference (a tag is 1 to 128 letters, digits, . _ -)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_IMAGE", "app@sha256:xyz")], &[
                "image: \"app@sha256:xyz\" is not a valid image reference (a digest is algorithm:hex, like sha256:…)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_ENVIRONMENT-VARIABLES", "A=1\n=2"), ("INPUT_SECRETS", "DB")], &[
                "environment-variables: line 2 is not of the form NAME=value",
                "secrets: line 1 is not of the form NAME=valueFrom",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_COMMAND", "[\"a\", 1]")], &[
                "command: not a JSON array of strings (invalid type: integer `1`, expected a string at line 1 column 7); write [\"cmd\", \"arg\"] or shell words",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_COMMAND", "echo 'unclosed")], &[
                "command: unbalanced quotes in \"echo 'unclosed\"",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_ENVIRONMENT-URL", "staging.example"), ("INPUT_REF", "main")], &[
                "environment-url: \"staging.example\" is not a URL; give https://...",
                "environment-url: needs environment, the GitHub environment to report the deployment to",
                "ref: needs environment, the GitHub environment to report the deployment to",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_ENVIRONMENT", "staging"), ("INPUT_TRANSIENT-ENVIRONMENT", "yes")], &[
                "github-token: empty, but environment needs a token that may write deployments (in a workflow the default is the job's token)",
                "transient-environment: \"yes\" is not a boolean; use true or false (also True/TRUE/False/FALSE)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_DESIRED-COUNT", "two"), ("INPUT_WAIT-FOR-MINUTES", "0"), ("INPUT_MAX-FAILED-TASKS", "-1")], &[
                "desired-count: \"two\" is not a whole number from 0 to 100000",
                "wait-for-minutes: \"0\" is not a number of minutes above 0 and at most 360",
                "max-failed-tasks: \"-1\" is not a whole number from 1 to 10000",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_GITHUB-TOKEN", "ghs_abc\nghs_def")], &[
                "github-token: contains a blank, a line break or a character that is not ASCII; give the token alone",
            ]),
            (&[("INPUT_SERVICE", "web\nworker\nweb")], &[
                "service: \"web\" is listed twice; list each service once",
            ]),
            (&[("INPUT_SERVICE", "web\narn:aws:ecs:us-east-1:123456789012:service/prod/web")], &[
                "service: \"web\" and \"arn:aws:ecs:us-east-1:123456789012:service/prod/web\" are the same service; list each service once",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_WAIT-MAX-DELAY-SECONDS", "0"), ("INPUT_SERVICE-MANAGED-EBS-VOLUME-NAME", "data"), ("INPUT_SERVICE-MANAGED-EBS-VOLUME", "{\"sizeInGiB\": 10}")], &[
                "wait-max-delay-seconds: \"0\" is not a whole number from 1 to 3600",
                "service-managed-ebs-volume: needs roleArn, the infrastructure role ECS uses for the volume",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_SERVICE-MANAGED-EBS-VOLUME", "[]")], &[
                "service-managed-ebs-volume: not a JSON object of the managed EBS volume's configuration (roleArn, sizeInGiB, ...)",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_CODEDEPLOY-APPSPEC", "s3://only-bucket"), ("INPUT_CODEDEPLOY-AUTO-ROLLBACK-EVENTS", "DEPLOYMENT_FAILURE, ON_FIRE"), ("INPUT_CODEDEPLOY-WAIT-UNTIL", "done")], &[
                "codedeploy-appspec: \"s3://only-bucket\" is not an S3 object; use s3://bucket/key",
                "codedeploy-auto-rollback-events: \"ON_FIRE\" is not one of DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST",
                "codedeploy-wait-until: \"done\" is not complete or ready",
            ]),
            (&[("INPUT_SERVICE", "web"), ("INPUT_PROPAGATE-TAGS", "service"), ("INPUT_WAIT-FOR-SERVICE-STABILITY", "no"), ("INPUT_ENABLE-ECS-MANAGED-TAGS", "1")], &[
                "wait-for-service-stability: \"no\" is not a boolean; use true or false (also True/TRUE/False/FALSE)",
                "enable-ecs-managed-tags: \"1\" is not a boolean; use true or false (also True/TRUE/False/FALSE)",
                "propagate-tags: \"service\" is not one of TASK_DEFINITION, SERVICE, NONE",
            ]),
        ];
        for (env, expected) in cases {
            let error = config(env).unwrap_err();
            assert_eq!(error.0, *expected, "{env:?}");
        }
    }
}
