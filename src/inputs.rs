//! The action's inputs: one table that action.yml, `--help`, the `INPUT_*`
//! reader and the flag parser all follow, and the raw values read from either
//! source with @actions/core's semantics (trimmed, empty means unset).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::env::Env;

/// An input's default as action.yml declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputDefault {
    None,
    /// Applies in the workflow and on the command line alike.
    Value(&'static str),
    /// An expression the runner evaluates (`${{ github.token }}`); the binary
    /// itself sees only the result.
    Expression(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    /// true|True|TRUE|false|False|FALSE; as a flag it may stand alone.
    Bool,
    /// One entry per line, blank lines dropped.
    Lines,
}

#[derive(Debug)]
pub struct InputSpec {
    pub name: &'static str,
    pub kind: InputKind,
    pub default: InputDefault,
    pub description: &'static str,
}

const fn input(
    name: &'static str,
    kind: InputKind,
    default: InputDefault,
    description: &'static str,
) -> InputSpec {
    InputSpec {
        name,
        kind,
        default,
        description,
    }
}

use InputDefault::{Expression, None as NoDefault, Value};
use InputKind::{Bool, Lines, Text};

pub const INPUTS: &[InputSpec] = &[
    input("task-definition", Text, NoDefault,
        "Task definition template: a JSON or YAML file (relative to the workspace), an s3://bucket/key object, a task definition ARN, or a family[:revision] (an ECS revision that the other inputs do not change is deployed as is). previous: each service goes back to the revision it ran before its current one. Empty: the service's current task definition."),
    input("task-definition-arn", Text, NoDefault,
        "The template as a task definition ARN (as in amazon-ecs-render-task-definition); the same as giving the ARN in `task-definition`."),
    input("task-definition-family", Text, NoDefault,
        "The template as the latest ACTIVE revision of this family, or of `task-definition-revision`."),
    input("task-definition-revision", Text, NoDefault,
        "With `task-definition-family`: the revision to start from."),
    input("container-name", Text, NoDefault,
        "Container(s) that receive `image` and the container settings below; comma-separated for several. Empty: the only container of the task definition."),
    input("image", Text, NoDefault,
        "Image URI to set in `container-name`."),
    input("images", Lines, NoDefault,
        "One `container=image` per line, for several containers with different images."),
    input("environment-variables", Lines, NoDefault,
        "`NAME=value` per line, merged by name into the container's environment."),
    input("secrets", Lines, NoDefault,
        "`NAME=valueFrom` per line (Secrets Manager or SSM Parameter ARN), merged by name into the container's secrets."),
    input("docker-labels", Lines, NoDefault,
        "`key=value` per line, merged into the container's dockerLabels."),
    input("log-configuration-log-driver", Text, NoDefault,
        "Log driver for the container (awslogs, awsfirelens, ...)."),
    input("log-configuration-options", Lines, NoDefault,
        "`key=value` per line, merged into the container's log configuration options."),
    input("command", Text, NoDefault,
        "The container's command: a JSON array, or shell words with quoting."),
    input("env-files", Lines, NoDefault,
        "S3 object ARNs of environment files, one per line; replaces the container's environmentFiles."),
    input("task-role-arn", Text, NoDefault,
        "IAM role the task's containers assume."),
    input("execution-role-arn", Text, NoDefault,
        "IAM role ECS uses to pull images and read secrets."),
    input("cpu", Text, NoDefault,
        "Task-level CPU (for example 256 or 1 vCPU)."),
    input("memory", Text, NoDefault,
        "Task-level memory (for example 512 or 1 GB)."),
    input("keep-null-value-keys", Text, NoDefault,
        "Comma-separated keys whose null values are kept in the rendered definition; other nulls are dropped."),
    input("cluster", Text, Value("default"),
        "ECS cluster of the service."),
    input("service", Lines, NoDefault,
        "ECS service(s) to deploy, one per line; deployed concurrently. With no `task-definition`, each service's current task definition is the template."),
    input("desired-count", Text, NoDefault,
        "Number of tasks the service(s) should run; empty keeps the current count."),
    input("force-new-deployment", Bool, Value("false"),
        "Start a new deployment even if the task definition did not change."),
    input("wait-for-service-stability", Bool, Value("true"),
        "Wait for the deployment's verdict. false: return once ECS accepted the update."),
    input("wait-for-minutes", Text, Value("30"),
        "How long to wait for the verdict, in minutes (fractions allowed)."),
    input("wait-max-delay-seconds", Text, NoDefault,
        "The longest wait between two status polls, in seconds, backoff while AWS throttles included. Empty: 0.8 to 5 s as the deployment's state says (at most 30 polls a minute on average), backing off up to 16 s while throttled."),
    input("wait-until", Text, Value("done"),
        "done: follow the deployment to its verdict. paused: end the step once a native blue/green, linear or canary deployment waits at a PAUSE lifecycle hook. A lifecycle stage (TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, ...): end once the deployment reaches it or a later one. The step then succeeds with the deployment under way (outputs ecs-service-deployment-arn, paused-hook-id, lifecycle-stage) and the GitHub deployment stays in_progress, for a later job to follow with service-deployment. A service whose strategy never stops there is refused before anything changes."),
    input("service-deployment", Text, NoDefault,
        "Follow an ECS service deployment already started instead of starting one: its ARN (an earlier run's ecs-service-deployment-arn output), or current: the service's in-flight deployment. Nothing is rendered or registered; the deployment is acted on only as hook-action asks, and as one this step started would be (rollback-on-failure, on-cancel). The verdict, log, summary and GitHub statuses are as if this step had started it."),
    input("hook-action", Text, NoDefault,
        "continue or rollback, before following the deployment. With service-deployment: tells the PAUSE lifecycle hook that awaits action to carry on or to roll back (ContinueServiceDeployment); refused, before anything changes, when no hook awaits action. With codedeploy-deployment-id: continue reroutes the traffic of a Ready deployment (ContinueDeployment), rollback stops it with rollback (StopDeployment)."),
    input("on-cancel", Text, Value("leave"),
        "What becomes of an ECS deployment under way when the job is cancelled or wait-for-minutes runs out. leave: ECS goes on with it. rollback: StopServiceDeployment rolls it back to the revision the service ran, when its service deployment is known and, read just before, still in progress; the step says what it did."),
    input("max-failed-tasks", Text, NoDefault,
        "Fail once this many tasks of the new deployment stopped. Default: ECS's circuit-breaker threshold (half the desired count, 3 to 200) when the service has no circuit breaker; the breaker decides otherwise."),
    input("rollback-on-failure", Bool, Value("true"),
        "When `max-failed-tasks` failed the deployment, put the previous task definition back (ECS's own circuit breaker rolls back by itself)."),
    input("enable-ecs-managed-tags", Bool, NoDefault,
        "Turn ECS managed tags on or off for the service's tasks; empty leaves the setting alone."),
    input("propagate-tags", Text, NoDefault,
        "Propagate tags to the service's tasks from TASK_DEFINITION or SERVICE, or NONE; empty leaves the setting alone."),
    input("service-managed-ebs-volume-name", Text, NoDefault,
        "The name of the task definition's configuredAtLaunch volume that the service configures (UpdateService volumeConfigurations)."),
    input("service-managed-ebs-volume", Text, NoDefault,
        "JSON ServiceManagedEBSVolumeConfiguration for `service-managed-ebs-volume-name`, passed as given."),
    input("codedeploy-appspec", Text, NoDefault,
        "AppSpec for CODE_DEPLOY services: a YAML or JSON file or an s3://bucket/key object; its TaskDefinition is set to the new revision. Empty: generated from the service (load balancer container and port, platform version, network, capacity providers)."),
    input("codedeploy-application", Text, NoDefault,
        "CodeDeploy application. Empty: AppECS-<cluster>-<service>, the ECS console's name."),
    input("codedeploy-deployment-group", Text, NoDefault,
        "CodeDeploy deployment group. Empty: DgpECS-<cluster>-<service>, the ECS console's name."),
    input("codedeploy-deployment-config", Text, NoDefault,
        "CodeDeploy deployment configuration (for example CodeDeployDefault.ECSCanary10Percent5Minutes); empty: the group's."),
    input("codedeploy-deployment-description", Text, NoDefault,
        "Description of the CodeDeploy deployment, cut to CodeDeploy's 512 characters."),
    input("codedeploy-auto-rollback-events", Text, NoDefault,
        "Comma-separated events that roll the CodeDeploy deployment back: DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST. Empty: the group's setting."),
    input("codedeploy-wait-until", Text, Value("complete"),
        "complete: wait for CodeDeploy's final state. ready: stop once the new tasks serve the test listener and wait for traffic rerouting."),
    input("codedeploy-deployment-id", Text, NoDefault,
        "Follow a CodeDeploy deployment already created instead of creating one: its id (an earlier run's codedeploy-deployment-id output, for example one that ended at codedeploy-wait-until: ready). Nothing is rendered or registered; the deployment is acted on only as hook-action asks, and as one this step created would be (stopped at the timeout or on cancel). The verdict, log, summary and GitHub statuses are as if this step had created it."),
    input("wait-for-in-progress", Bool, Value("false"),
        "When the deployment group already has a deployment in progress, wait for it to finish instead of failing."),
    input("max-retries", Text, Value("5"),
        "How often an AWS call that failed for a passing reason (throttling, a lost connection, a server error) is retried, with exponential backoff and jitter. A call that changes something is repeated only after checking that it did not take effect."),
    input("dry-run", Bool, Value("false"),
        "Render and show the task definition without changing anything in AWS: the changes against the current one first, then the rendered definition (folded), then each service it would move."),
    input("update-scheduled-tasks", Bool, Value("false"),
        "After a successful deploy, point every EventBridge rule target and EventBridge Scheduler schedule that starts a task of a deployed family in the cluster at the new revision. Targets pinned to a revision newer than the one the service ran are left alone."),
    input("scheduled-task-event-buses", Text, Value("default"),
        "Comma- or line-separated EventBridge event buses whose rules update-scheduled-tasks searches."),
    input("keep-revisions", Text, NoDefault,
        "After a successful deploy, deregister every ACTIVE revision of each deployed family except this many newest ones, any newer than the one deployed, any registered in the last hour, and every revision anything in the region may use: a service or its deployments and task sets in any cluster, a running or pending task, a rule target on any event bus, a schedule, or the revision a service ran before this deploy. When any of that cannot be read, nothing is deregistered. Empty: keep every revision."),
    input("delete-revisions", Bool, Value("false"),
        "With keep-revisions: also delete (DeleteTaskDefinitions, which cannot be undone) each INACTIVE revision of a deployed family that nothing uses once it has been INACTIVE for delete-revisions-after-days."),
    input("delete-revisions-after-days", Text, Value("7"),
        "How many days a revision stays INACTIVE before delete-revisions deletes it; until then it can be registered again from its definition."),
    input("preflight", Bool, Value("true"),
        "Before anything changes, and in the dry run, check that every Amazon ECR image, Secrets Manager secret, SSM parameter, awslogs group and S3 environment file that the task definitions name exists, without reading any value. A check the role may not make is a warning. false: skip the checks."),
    input("summary", Text, NoDefault,
        "Also write the job summary (Markdown: the timeline, the facts, the changes, a failure's evidence) to this file; outside GitHub Actions, where it goes."),
    input("advice", Bool, Value("true"),
        "After a successful deploy, read the target groups' health checks and deregistration delay and the images' sizes, and name each setting that cost the deployment over 30 s or a third of its time, with the setting to change. false: the breakdown only."),
    input("timings", Text, NoDefault,
        "Also write where each deployment's time went (its parts, the strategy's stages, ecs-deploy's own steps, the advice) as JSON to this file, for charting deploy times across runs; the `timings` output has the same JSON."),
    input("github-token", Text, Expression("${{ github.token }}"),
        "Token for the GitHub API; masked in the log."),
    input("environment", Text, NoDefault,
        "GitHub environment to report the deployment to (deployment and statuses); needs `permissions: deployments: write`. Empty: no GitHub deployment."),
    input("environment-url", Text, NoDefault,
        "URL of the deployed environment, shown on the deployment's success status."),
    input("ref", Text, NoDefault,
        "Branch, tag or commit SHA the GitHub deployment is for. Empty: the workflow's commit (GITHUB_SHA)."),
    input("transient-environment", Bool, NoDefault,
        "Mark the GitHub environment as transient (it will be destroyed later, like a preview)."),
    input("production-environment", Bool, NoDefault,
        "Mark the GitHub environment as production. Empty: GitHub's default (true for an environment named production)."),
    input("github-deployment-id", Text, NoDefault,
        "Report to this GitHub deployment (an earlier job's github-deployment-id output) instead of creating one; needs environment."),
    input("run-task", Bool, Value("false"),
        "Runs a one-off task of the registered revision before the service update (as amazon-ecs-deploy-task-definition does), with the engine of `migration-command`: in the service's network, logs streamed, every essential container judged. Not together with `migration-command`."),
    input("run-task-container-overrides", Text, NoDefault,
        "JSON array of RunTask containerOverrides for `run-task`, passed as given. The first overridden container decides unless `migration-container` names another."),
    input("run-task-started-by", Text, NoDefault,
        "The `run-task` task's startedBy. Empty: GitHub-Actions."),
    input("run-task-tags", Text, NoDefault,
        "JSON array of {\"key\", \"value\"} tags for the one-off task, passed as given."),
    input("run-task-managed-ebs-volume-name", Text, NoDefault,
        "The name of the task definition's configuredAtLaunch volume that the one-off task configures (RunTask volumeConfigurations)."),
    input("run-task-managed-ebs-volume", Text, NoDefault,
        "JSON TaskManagedEBSVolumeConfiguration for `run-task-managed-ebs-volume-name`, passed as given."),
    input("wait-for-task-stopped", Bool, Value("false"),
        "With `run-task`: wait for the task's verdict before deploying (a failed task stops the deployment). false starts the task and goes on, as amazon-ecs-deploy-task-definition does."),
    input("migration-command", Text, NoDefault,
        "Runs a migration before the deployment: the command (a JSON array, or shell words with quoting) of a one-off ECS task; the deployment starts only if it succeeds."),
    input("migration-container", Text, NoDefault,
        "Container whose command is overridden and whose exit code decides. Empty: `container-name`, else the only essential container."),
    input("migration-task-definition", Text, NoDefault,
        "A separate template for the migration task (same sources as `task-definition`), rendered with the same images and registered. Empty: the task definition being deployed."),
    input("migration-timeout-minutes", Text, NoDefault,
        "Minutes (fractions allowed, 1 to 360) to wait for the one-off task to stop before stopping it with StopTask and failing. Empty: 30, or `wait-for-minutes` with `run-task`."),
    input("migration-started-by", Text, Value("ecs-deploy"),
        "The migration task's startedBy."),
    input("migration-environment-variables", Lines, NoDefault,
        "`NAME=value` per line, added to the migration container's environment for the migration only."),
    input("run-task-subnets", Text, NoDefault,
        "Subnet IDs (comma-separated) for the migration task. Empty: the service's subnets."),
    input("run-task-security-groups", Text, NoDefault,
        "Security group IDs (comma-separated) for the migration task. Empty: the service's security groups."),
    input("run-task-assign-public-IP", Text, NoDefault,
        "ENABLED or DISABLED: whether the migration task gets a public IP. Empty: as the service."),
    input("run-task-launch-type", Text, NoDefault,
        "FARGATE, EC2, EXTERNAL or MANAGED_INSTANCES for the one-off task. Empty: as the service (FARGATE without one). Ignored, with a warning, when `run-task-capacity-provider-strategy` is given."),
    input("run-task-capacity-provider-strategy", Text, NoDefault,
        "JSON array of {\"capacityProvider\", \"weight\", \"base\"} for the migration task. Empty: as the service."),
];

pub struct OutputSpec {
    pub name: &'static str,
    pub description: &'static str,
}

pub const OUTPUTS: &[OutputSpec] = &[
    OutputSpec {
        name: "task-definition",
        description: "Path of the rendered task definition JSON file (with several services and no template, a JSON object by service).",
    },
    OutputSpec {
        name: "task-definition-arn",
        description: "ARN of the registered task definition revision (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "previous-task-definition-arn",
        description: "Task definition the service ran before (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "ecs-deployment-id",
        description: "ID of the ECS deployment started (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "codedeploy-deployment-id",
        description: "ID of the CodeDeploy deployment started (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "ecs-service-deployment-arn",
        description: "ARN of the ECS service deployment started, where the API gives one (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "paused-hook-id",
        description: "With wait-until: the id of the PAUSE lifecycle hook the deployment waits at, for hook-action in a later job (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "lifecycle-stage",
        description: "With wait-until: the lifecycle stage the deployment was in when the step ended (with several services, a JSON object by service).",
    },
    OutputSpec {
        name: "github-deployment-id",
        description: "ID of the GitHub deployment the run reported to (created, or adopted from the deployment event).",
    },
    OutputSpec {
        name: "migration-task-arn",
        description: "ARN of the migration task, as soon as it is started.",
    },
    OutputSpec {
        name: "migration-exit-code",
        description: "Exit code of the migration container, once it has stopped.",
    },
    OutputSpec {
        name: "run-task-arn",
        description: "JSON array of the ARNs of the one-off tasks started (`run-task` or `migration-command`), as amazon-ecs-deploy-task-definition writes it.",
    },
    OutputSpec {
        name: "express-endpoint",
        description: "The URL of an ECS Express Mode service after its deployment (with several services, a JSON object by service name); also the GitHub deployment's environment_url unless environment-url is given.",
    },
    OutputSpec {
        name: "timings",
        description: "Where each successful deployment's time went, as JSON: per service its parts (provisioning, image pull, container start, health checks, draining), stages and advice, and ecs-deploy's own steps.",
    },
];

/// Input values as given, trimmed; an input given as "" is unset.
#[derive(Debug, Clone, Default)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// `INPUT_*` variables that name no input: a misspelled `with:` key,
    /// whose value would otherwise be ignored without a word.
    unknown: Vec<String>,
}

pub enum Invocation {
    Run(RawInputs),
    Help,
    Version,
}

impl RawInputs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// An empty value leaves the input unset, so its default still applies.
    fn set(&mut self, spec: &InputSpec, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.values.insert(spec.name, value.to_owned());
        }
    }

    /// Each `INPUT_*` variable that names no input is a problem of its own,
    /// with the input it most likely meant.
    pub(crate) fn check_unknown(&self, problems: &mut Problems) {
        for variable in &self.unknown {
            let message = match closest_input(variable) {
                Some(input) => format!("{variable}: {IGNORED}; did you mean {input}?"),
                None => format!("{variable}: {IGNORED}; the inputs are listed in action.yml"),
            };
            problems.add(variable, message);
        }
    }
}

const IGNORED: &str = "names no input of ecs-deploy, so its value would be ignored";

/// The input whose variable is nearest to `variable` in edit distance, when
/// it is near enough to be a misspelling of it (at most one edit in four),
/// whatever the case.
fn closest_input(variable: &str) -> Option<&'static str> {
    INPUTS
        .iter()
        .map(|spec| {
            let distance = edit_distance(&variable.to_uppercase(), &env_var_name(spec.name));
            (distance, spec.name)
        })
        .filter(|(distance, name)| *distance <= (name.len() / 4).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance: the fewest insertions, deletions and substitutions
/// of characters that turn `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The name of the variable the runner sets for an input.
pub fn env_var_name(input: &str) -> String {
    format!("INPUT_{}", input.replace(' ', "_").to_uppercase())
}

/// Reads `INPUT_*` variables, then the flags, which win; defaults fill the
/// rest. An `INPUT_*` variable that names no input is kept to be reported.
pub fn read(env: &Env, args: &[String]) -> Result<Invocation> {
    let mut inputs = RawInputs::default();
    for spec in INPUTS {
        if let InputDefault::Value(default) = spec.default {
            inputs.set(spec, default);
        }
        if let Some(value) = env.get(&env_var_name(spec.name)) {
            inputs.set(spec, value);
        }
    }
    inputs.unknown = env
        .names()
        .filter(|name| name.starts_with("INPUT_"))
        .filter(|name| !INPUTS.iter().any(|spec| env_var_name(spec.name) == *name))
        .map(str::to_owned)
        .collect();
    let mut args = args.iter().peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Invocation::Help),
            "-V" | "--version" => return Ok(Invocation::Version),
            _ => {}
        }
        let Some(flag) = arg.strip_prefix("--") else {
            bail!("unexpected argument {arg:?}: options are given as --name value (see --help)");
        };
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        let Some(spec) = INPUTS.iter().find(|spec| spec.name == name) else {
            bail!("unknown option --{name} (see --help for the options)");
        };
        let value = match (inline_value, spec.kind) {
            (Some(value), _) => value,
            (None, Bool) => match args.peek() {
                Some(next) if parse_bool_literal(next).is_some() => args.next().unwrap().clone(),
                _ => "true".to_owned(),
            },
            (None, _) => match args.next() {
                Some(value) => value.clone(),
                None => bail!("option --{name} needs a value"),
            },
        };
        inputs.set(spec, &value);
    }
    Ok(Invocation::Run(inputs))
}

/// @actions/core's getBooleanInput: exactly these six spellings.
pub fn parse_bool_literal(value: &str) -> Option<bool> {
    match value {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// @actions/core's getMultilineInput: split on newlines, trim, drop blanks.
pub fn split_lines(value: &str) -> Vec<&str> {
    value
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

pub fn help_text() -> String {
    let mut text = String::from(
        "ecs-deploy: render, register and deploy an Amazon ECS task definition.\n\n\
         Usage: ecs-deploy [--<input> <value>]...\n\n\
         Every option is also read from INPUT_<NAME> (GitHub Actions); flags win.\n\n\
         Options:\n",
    );
    for spec in INPUTS {
        let value = match spec.kind {
            Bool => " [true|false]",
            Lines => " <lines>",
            Text => " <value>",
        };
        let default = match spec.default {
            InputDefault::Value(v) => format!(" (default: {v})"),
            _ => String::new(),
        };
        text.push_str(&format!(
            "  --{}{value}{default}\n      {}\n",
            spec.name, spec.description
        ));
    }
    text.push_str("  -h, --help\n  -V, --version\n");
    text
}

/// One problem with the value of one input.
struct Problem {
    input: String,
    /// The whole message, the input's name included.
    message: String,
}

/// Collects every problem instead of stopping at the first.
#[derive(Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn add(&mut self, input: &str, message: impl Into<String>) {
        self.0.push(Problem {
            input: input.to_owned(),
            message: message.into(),
        });
    }

    /// The value, or None with the problem kept.
    pub(crate) fn check<T>(&mut self, input: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(input, message)).ok()
    }

    /// The messages in the order of the input table, which is action.yml's.
    pub(crate) fn into_messages(mut self) -> Vec<String> {
        self.0
            .sort_by_key(|problem| INPUTS.iter().position(|spec| spec.name == problem.input));
        self.0.into_iter().map(|problem| problem.message).collect()
    }
}

/// A boolean input; false, with the problem kept, when it is not one of
/// @actions/core's six spellings. Unset is false: inputs with another default
/// have it filled in by `read`.
pub(crate) fn flag(inputs: &RawInputs, name: &str, problems: &mut Problems) -> bool {
    let value = inputs.get(name).unwrap_or("false");
    parse_bool_literal(value).unwrap_or_else(|| {
        problems.add(
            name,
            format!("{name}: {value:?} is not a boolean; use true or false (also True/TRUE/False/FALSE)"),
        );
        false
    })
}

/// A boolean input that means something only when given.
pub(crate) fn given_flag(inputs: &RawInputs, name: &str, problems: &mut Problems) -> Option<bool> {
    inputs.get(name).map(|_| flag(inputs, name, problems))
}

/// A whole number from `min` to `max`, when given.
pub(crate) fn number(
    inputs: &RawInputs,
    name: &str,
    min: i32,
    max: i32,
    problems: &mut Problems,
) -> Option<i32> {
    let value = inputs.get(name)?;
    problems.check(
        name,
        value
            .parse::<i32>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| format!("{name}: {value:?} is not a whole number from {min} to {max}")),
    )
}

/// Comma-separated names, blanks dropped.
pub(crate) fn names(inputs: &RawInputs, name: &str) -> Vec<String> {
    inputs
        .get(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn text(inputs: &RawInputs, name: &str) -> Option<String> {
    inputs.get(name).map(String::from)
}

pub(crate) fn pairs(
    inputs: &RawInputs,
    name: &str,
    form: &str,
    problems: &mut Problems,
) -> Vec<(String, String)> {
    inputs
        .get(name)
        .and_then(|v| problems.check(name, parse_pairs(name, form, v)))
        .unwrap_or_default()
}

/// Minutes, fractions allowed, up to GitHub's six-hour job limit.
pub(crate) fn parse_minutes(name: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|m| *m > 0.0 && *m <= 360.0)
        .map(|m| Duration::from_secs_f64(m * 60.0))
        .ok_or_else(|| {
            format!("{name}: {value:?} is not a number of minutes above 0 and at most 360")
        })
}

/// `key=value` lines; the value is everything after the first `=`. A bad
/// line is named by its number, never shown: it may hold a secret.
pub(crate) fn parse_pairs(
    input: &str,
    form: &str,
    value: &str,
) -> Result<Vec<(String, String)>, String> {
    value
        .lines()
        .enumerate()
        .map(|(number, line)| (number + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .map(|(number, line)| match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(format!("{input}: line {number} is not of the form {form}")),
        })
        .collect()
}

/// A JSON array of strings, or shell words with quoting.
pub(crate) fn parse_command(input: &str, value: &str) -> Result<Vec<String>, String> {
    if value.starts_with('[') {
        serde_json::from_str::<Vec<String>>(value).map_err(|e| {
            format!("{input}: not a JSON array of strings ({e}); write [\"cmd\", \"arg\"] or shell words")
        })
    } else {
        shlex::split(value)
            .filter(|words| !words.is_empty())
            .ok_or_else(|| format!("{input}: unbalanced quotes in {value:?}"))
    }
}

/// `<prefix>-name` and `<prefix>` (a JSON object) as one `volumeConfigurations`
/// array, as amazon-ecs-deploy-task-definition builds it: a name without a
/// configuration is warned about there and ignored, so it is here too.
pub(crate) fn managed_ebs_volume(
    inputs: &RawInputs,
    prefix: &str,
    problems: &mut Problems,
) -> Option<serde_json::Value> {
    let name_input = format!("{prefix}-name");
    let name = inputs.get(&name_input);
    let configuration = inputs.get(prefix)?;
    let parsed: serde_json::Value = match serde_json::from_str(configuration) {
        Ok(value @ serde_json::Value::Object(_)) => value,
        _ => {
            problems.add(
                prefix,
                format!("{prefix}: not a JSON object of the managed EBS volume's configuration (roleArn, sizeInGiB, ...)"),
            );
            return None;
        }
    };
    let Some(name) = name else {
        problems.add(
            prefix,
            format!("{prefix}: needs {name_input}, the task definition volume it configures"),
        );
        return None;
    };
    if parsed.get("roleArn").is_none() {
        problems.add(
            prefix,
            format!("{prefix}: needs roleArn, the infrastructure role ECS uses for the volume"),
        );
    }
    Some(serde_json::json!([{"name": name, "managedEBSVolume": parsed}]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(env: &[(&str, &str)], args: &[&str]) -> Result<RawInputs> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        match read(&Env::from_pairs(env.iter().copied()), &args)? {
            Invocation::Run(inputs) => Ok(inputs),
            _ => panic!("expected a run"),
        }
    }

    #[test]
    fn env_var_names_follow_the_runner() {
        assert_eq!(env_var_name("task-definition"), "INPUT_TASK-DEFINITION");
        assert_eq!(env_var_name("some input"), "INPUT_SOME_INPUT");
    }

    #[test]
    fn env_values_are_trimmed_and_empty_means_default() {
        let inputs = run(
            &[("INPUT_IMAGE", "  nginx:1 \n"), ("INPUT_CLUSTER", "   ")],
            &[],
        )
        .unwrap();
        assert_eq!(inputs.get("image"), Some("nginx:1"));
        assert_eq!(inputs.get("cluster"), Some("default"));
        assert_eq!(inputs.get("service"), None);
    }

    #[test]
    fn flags_win_over_env() {
        let inputs = run(
            &[("INPUT_CLUSTER", "from-env")],
            &["--cluster", "from-flag", "--image=a=b"],
        )
        .unwrap();
        assert_eq!(inputs.get("cluster"), Some("from-flag"));
        assert_eq!(inputs.get("image"), Some("a=b"));
    }

    #[test]
    fn bool_flags_stand_alone_or_take_a_literal() {
        assert_eq!(
            run(&[], &["--dry-run"]).unwrap().get("dry-run"),
            Some("true")
        );
        assert_eq!(
            run(&[], &["--dry-run", "FALSE", "--cluster", "c"])
                .unwrap()
                .get("dry-run"),
            Some("FALSE")
        );
        assert_eq!(
            run(&[], &["--dry-run", "--cluster", "c"])
                .unwrap()
                .get("dry-run"),
            Some("true")
        );
    }

    #[test]
    fn bad_flags_are_named() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--nope", "x"],
                "unknown option --nope (see --help for the options)",
            ),
            (&["--image"], "option --image needs a value"),
            (
                &["stray"],
                "unexpected argument \"stray\": options are given as --name value (see --help)",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(
                run(&[], args).unwrap_err().to_string(),
                *message,
                "{args:?}"
            );
        }
    }

    #[test]
    fn booleans_accept_only_the_core_spellings() {
        for yes in ["true", "True", "TRUE"] {
            assert_eq!(parse_bool_literal(yes), Some(true));
        }
        for no in ["false", "False", "FALSE"] {
            assert_eq!(parse_bool_literal(no), Some(false));
        }
        for bad in ["yes", "1", "tRue", ""] {
            assert_eq!(parse_bool_literal(bad), None);
        }
    }

    #[test]
    fn multiline_values_drop_blank_lines_and_trim() {
        assert_eq!(split_lines("a=1\n\n  b=2  \r\n \n"), ["a=1", "b=2"]);
    }

    #[test]
    fn an_input_variable_that_names_no_input_is_a_problem_with_the_nearest_input() {
        let inputs = run(
            &[
                ("INPUT_TASK-DEFINTION", "td.json"),
                ("INPUT_IMAGE", "shop:2"),
                ("INPUT_task-definition", "td.json"),
                ("INPUT_CLUSTR", "prod"),
                ("INPUT_NOTHING-LIKE-IT", "x"),
                ("NOT_AN_INPUT", "x"),
            ],
            &[],
        )
        .unwrap();
        let mut problems = Problems::default();
        inputs.check_unknown(&mut problems);
        assert_eq!(
            problems.into_messages(),
            [
                "INPUT_CLUSTR: names no input of ecs-deploy, so its value would be ignored; did you mean cluster?",
                "INPUT_NOTHING-LIKE-IT: names no input of ecs-deploy, so its value would be ignored; the inputs are listed in action.yml",
                "INPUT_TASK-DEFINTION: names no input of ecs-deploy, so its value would be ignored; did you mean task-definition?",
                "INPUT_task-definition: names no input of ecs-deploy, so its value would be ignored; did you mean task-definition?",
            ]
        );
        assert_eq!(inputs.get("task-definition"), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        let cases = [
            ("", "", 0),
            ("abc", "", 3),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("TASK-DEFINTION", "TASK-DEFINITION", 1),
            ("IMAGE", "IMAGE", 0),
        ];
        for (a, b, distance) in cases {
            assert_eq!(edit_distance(a, b), distance, "{a} {b}");
        }
    }

    #[test]
    fn help_lists_every_input() {
        let help = help_text();
        for spec in INPUTS {
            assert!(help.contains(&format!("--{}", spec.name)), "{}", spec.name);
        }
    }
}
