//! The typed configuration of one run, built from the raw inputs and checked
//! whole before any AWS call: every bad value is reported at once, each with
//! the input's name and the form it accepts. Each step's settings are parsed
//! beside the step (`render::settings`, `deploy::settings`,
//! `migration::settings`, `revisions::settings`, `github::settings`); this
//! module puts them together and checks the inputs that only make sense
//! together.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::arn::resource_name;
use crate::deploy::settings::{self as deploy_settings, CodeDeployOptions, DeployOptions};
use crate::env::Env;
use crate::github::settings::{self as github_settings, DeploymentSettings};
use crate::inputs::{flag, split_lines, text, Problems, RawInputs};
use crate::migration::settings::{self as migration_settings, MigrationConfig};
use crate::render::{settings as render_settings, RenderSpec};
use crate::revisions::settings::{self as revisions_settings, OldRevisions};
use crate::template::{self, TemplateSource};

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
    /// `advice`: name the settings that cost a deployment the most.
    pub advice: bool,
    /// `timings`: a file the deploy time breakdown's JSON is written to.
    pub timings_file: Option<PathBuf>,
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
    /// The settings a job with these variables (`INPUT_*` and the rest)
    /// would run with.
    #[cfg(test)]
    pub(crate) fn of_env(env: &Env) -> Result<Config, InvalidInputs> {
        use crate::inputs::{read, Invocation};
        let Invocation::Run(inputs) = read(env, &[]).unwrap() else {
            unreachable!("no flags given")
        };
        Config::from_inputs(&inputs, env)
    }

    pub fn from_inputs(inputs: &RawInputs, env: &Env) -> Result<Config, InvalidInputs> {
        let mut problems = Problems::default();
        inputs.check_unknown(&mut problems);
        let problems = &mut problems;
        let workspace = env
            .get("GITHUB_WORKSPACE")
            .filter(|w| !w.is_empty())
            .map(Path::new);
        let previous_revision = inputs.get("task-definition") == Some("previous");
        let config = Config {
            template: template::from_inputs(inputs, workspace, problems)
                .filter(|_| !previous_revision),
            previous_revision,
            render: render_settings::from_inputs(inputs, problems),
            cluster: text(inputs, "cluster").unwrap_or_else(|| "default".to_owned()),
            services: inputs
                .get("service")
                .map(|v| split_lines(v).into_iter().map(String::from).collect())
                .unwrap_or_default(),
            deploy: deploy_settings::deploy_options(inputs, problems),
            codedeploy: deploy_settings::codedeploy_options(inputs, problems),
            appspec: deploy_settings::appspec(inputs, workspace, problems),
            dry_run: flag(inputs, "dry-run", problems),
            preflight: flag(inputs, "preflight", problems),
            summary_file: inputs
                .get("summary")
                .map(|file| in_workspace(workspace, file)),
            advice: flag(inputs, "advice", problems),
            timings_file: inputs
                .get("timings")
                .map(|file| in_workspace(workspace, file)),
            update_scheduled_tasks: flag(inputs, "update-scheduled-tasks", problems),
            scheduled_task_buses: inputs
                .get("scheduled-task-event-buses")
                .map(|v| {
                    v.split([',', '\n'])
                        .map(str::trim)
                        .filter(|bus| !bus.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_else(|| vec!["default".to_owned()]),
            old_revisions: revisions_settings::from_inputs(inputs, problems),
            github_token: github_settings::token(inputs, problems),
            github: github_settings::deployment_settings(inputs, problems),
            migration: migration_settings::from_inputs(inputs, env, workspace, problems),
        };
        config.check_together(inputs, problems);
        let messages = std::mem::take(problems).into_messages();
        if messages.is_empty() {
            Ok(config)
        } else {
            Err(InvalidInputs(messages))
        }
    }

    /// Inputs valid alone that make no sense with the others.
    fn check_together(&self, inputs: &RawInputs, problems: &mut Problems) {
        if self.previous_revision && !self.render.is_empty() {
            problems.add(
                "task-definition",
                "task-definition: previous deploys the revision each service ran before as it is: it takes no image, container or task settings",
            );
        }
        if self.services.is_empty() {
            if self.previous_revision {
                problems.add(
                    "task-definition",
                    "task-definition: previous needs service: it is the revision each service ran before its current one",
                );
            }
            // Both act on the families of the deployed services.
            for (input, given) in [
                ("update-scheduled-tasks", self.update_scheduled_tasks),
                ("keep-revisions", self.old_revisions.is_some()),
            ] {
                if given {
                    problems.add(
                        input,
                        format!("{input}: needs service: it acts on the families the services run"),
                    );
                }
            }
        }
        self.check_follow(inputs, problems);
        if self.deploy.wait_until != deploy_settings::WaitUntil::Done && !self.deploy.wait {
            problems.add(
                "wait-until",
                "wait-until: needs wait-for-service-stability: true, since it says how far to wait",
            );
        }
        if let Some(problem) = duplicate_service(&self.services) {
            problems.add("service", problem);
        }
        let template_given = [
            "task-definition",
            "task-definition-arn",
            "task-definition-family",
        ]
        .iter()
        .any(|name| inputs.get(name).is_some());
        if self.template.is_none() && self.services.is_empty() && !template_given {
            problems.add(
                "task-definition",
                "task-definition or service is required: give a task definition template, or the service whose current task definition to start from",
            );
        }
    }
}

/// What a step that follows a deployment already started does not do:
/// render, register, run a migration or change the service.
const NOT_WITH_FOLLOW: &[&str] = &[
    "task-definition",
    "task-definition-arn",
    "task-definition-family",
    "task-definition-revision",
    "container-name",
    "image",
    "images",
    "environment-variables",
    "secrets",
    "docker-labels",
    "log-configuration-log-driver",
    "log-configuration-options",
    "command",
    "env-files",
    "task-role-arn",
    "execution-role-arn",
    "cpu",
    "memory",
    "desired-count",
    "force-new-deployment",
    "enable-ecs-managed-tags",
    "propagate-tags",
    "service-managed-ebs-volume",
    "service-managed-ebs-volume-name",
    "keep-null-value-keys",
    "codedeploy-appspec",
    "codedeploy-deployment-config",
    "codedeploy-deployment-description",
    "codedeploy-auto-rollback-events",
    "migration-command",
    "run-task",
    "update-scheduled-tasks",
    "keep-revisions",
    "delete-revisions",
    "dry-run",
];

impl Config {
    /// `service-deployment` or `codedeploy-deployment-id` follows one
    /// service's deployment, started before: what would render, register
    /// or change something is refused.
    fn check_follow(&self, inputs: &RawInputs, problems: &mut Problems) {
        let follows = match self.deploy.follow.as_ref().map(|f| &f.deployment) {
            None => return,
            Some(deploy_settings::Started::Ecs(_)) => "service-deployment",
            Some(deploy_settings::Started::CodeDeploy(_)) => "codedeploy-deployment-id",
        };
        if self.services.len() != 1 {
            problems.add(
                follows,
                format!("{follows}: needs exactly one service, the one the deployment belongs to"),
            );
        }
        // A boolean given as false asks for nothing.
        let given = |name: &str| match inputs.get(name) {
            Some(value) => !matches!(value, "false" | "False" | "FALSE"),
            None => false,
        };
        // A follow waits for the verdict (or where wait-until says).
        let stops_early = [
            ("wait-for-service-stability", !self.deploy.wait),
            ("codedeploy-wait-until", self.codedeploy.wait_until_ready),
        ];
        let names = NOT_WITH_FOLLOW
            .iter()
            .copied()
            .filter(|name| given(name))
            .chain(
                stops_early
                    .into_iter()
                    .filter_map(|(name, set)| set.then_some(name)),
            );
        for name in names {
            problems.add(
                name,
                format!("{name}: not with {follows}, which follows a deployment already started to its verdict: nothing is rendered, registered or changed but what hook-action asks"),
            );
        }
    }
}

/// A file input's path: relative ones are in the workspace.
fn in_workspace(workspace: Option<&Path>, file: &str) -> PathBuf {
    match workspace {
        Some(workspace) if Path::new(file).is_relative() => workspace.join(file),
        _ => PathBuf::from(file),
    }
}

/// The same service named twice (by name or ARN) would register two
/// revisions and race two updates of one service.
fn duplicate_service(services: &[String]) -> Option<String> {
    services.iter().enumerate().find_map(|(i, first)| {
        services[i + 1..]
            .iter()
            .find(|second| resource_name(second) == resource_name(first))
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_sdk_ecs::types::PropagateTags;

    use super::*;
    use crate::inputs::{parse_command, parse_pairs};
    use crate::template::parse_template_source;

    fn config(env: &[(&str, &str)]) -> Result<Config, InvalidInputs> {
        Config::of_env(&Env::from_pairs(env.iter().copied()))
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
                wait_until: deploy_settings::WaitUntil::Done,
                follow: None,
                roll_back_on_cancel: false,
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
