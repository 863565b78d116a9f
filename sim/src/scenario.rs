//! The scenario file: the world's initial state (setup, in AWS's own JSON
//! shapes), how it behaves over time (timelines) and which requests fail
//! (faults). See sim/README.md for the format.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario shows, in one line (`ecs-deploy-sim scenarios`).
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_account")]
    pub account: String,
    /// Cluster names; "default" is always present.
    #[serde(default)]
    pub clusters: Vec<String>,
    /// Pre-registered task definitions, each a RegisterTaskDefinition body.
    #[serde(default)]
    pub task_definitions: Vec<Value>,
    #[serde(default)]
    pub services: Vec<ServiceSetup>,
    /// Tasks RUNNING from the start outside any service.
    #[serde(default)]
    pub tasks: Vec<TaskSetup>,
    #[serde(default)]
    pub s3_objects: Vec<S3ObjectSetup>,
    /// Log groups that exist before any task writes to them.
    #[serde(default)]
    pub log_groups: Vec<String>,
    /// ECR repositories with their images, per registry and region.
    #[serde(default)]
    pub ecr_repositories: Vec<EcrRepositorySetup>,
    /// Secrets Manager secrets: their names, never a value.
    #[serde(default)]
    pub secrets: Vec<SecretSetup>,
    /// Systems Manager Parameter Store parameters.
    #[serde(default)]
    pub ssm_parameters: Vec<SsmParameterSetup>,
    /// EventBridge rules with their targets.
    #[serde(default)]
    pub event_rules: Vec<EventRuleSetup>,
    /// EventBridge Scheduler schedules, each as GetSchedule answers it.
    #[serde(default)]
    pub schedules: Vec<Value>,
    /// Elastic Load Balancing v2 target groups, which services'
    /// `loadBalancers` name.
    #[serde(default)]
    pub target_groups: Vec<TargetGroupSetup>,
    #[serde(default)]
    pub code_deploy: CodeDeploySetup,
    #[serde(default)]
    pub github: GithubSetup,
    #[serde(default)]
    pub timelines: Timelines,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// How `ecs-deploy-sim rehearse` runs ecs-deploy against this scenario.
    #[serde(default)]
    pub rehearsal: Rehearsal,
}

fn default_region() -> String {
    "us-east-1".to_string()
}

fn default_account() -> String {
    "123456789012".to_string()
}

impl Scenario {
    pub fn from_yaml(text: &str) -> anyhow::Result<Scenario> {
        let scenario: Scenario =
            serde_yaml_ng::from_str(text).context("invalid simulator scenario")?;
        Ok(scenario)
    }

    pub fn from_file(path: impl AsRef<Path>) -> anyhow::Result<Scenario> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario {}", path.display()))?;
        Scenario::from_yaml(&text).with_context(|| format!("in {}", path.display()))
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::from_yaml("{}").expect("the empty scenario is valid")
    }
}

/// A service as DescribeServices shows it; fields the simulator does not
/// interpret (loadBalancers, networkConfiguration, ...) are kept as given.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSetup {
    #[serde(default = "default_cluster")]
    pub cluster: String,
    pub service_name: String,
    pub task_definition: String,
    #[serde(default = "one")]
    pub desired_count: i64,
    #[serde(default = "active")]
    pub status: String,
    /// Makes the service an Express Mode service.
    #[serde(default)]
    pub express: Option<ExpressSetup>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// A task running from the start, as RunTask would have started it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskSetup {
    #[serde(default = "default_cluster")]
    pub cluster: String,
    /// family:revision, family, or ARN.
    pub task_definition: String,
    #[serde(default)]
    pub started_by: Option<String>,
    /// Default `family:<family>`, as RunTask's.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub launch_type: Option<String>,
}

/// What Express Mode keeps beside an ECS service: the ingress it
/// provisioned and the settings its configurations show.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpressSetup {
    /// The service's URL; default `https://<serviceName>.ecs.<region>.on.aws`.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub access_type: AccessType,
    /// Default: the account's `ecsInfrastructureRoleForExpressServices` role.
    #[serde(default)]
    pub infrastructure_role_arn: Option<String>,
    #[serde(default = "default_health_check_path")]
    pub health_check_path: String,
    /// ExpressGatewayServiceNetworkConfiguration ({subnets, securityGroups}), kept as given.
    #[serde(default)]
    pub network_configuration: Option<Value>,
    /// ExpressGatewayScalingTarget, kept as given.
    #[serde(default)]
    pub scaling_target: Option<Value>,
}

/// Who can reach an Express service's endpoint, spelled as ECS spells it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AccessType {
    #[default]
    Public,
    Private,
}

impl AccessType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AccessType::Public => "PUBLIC",
            AccessType::Private => "PRIVATE",
        }
    }
}

/// Express Mode's health check path when none is given.
fn default_health_check_path() -> String {
    "/".to_string()
}

pub(crate) fn default_cluster() -> String {
    "default".to_string()
}

fn one() -> i64 {
    1
}

fn active() -> String {
    "ACTIVE".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3ObjectSetup {
    pub bucket: String,
    pub key: String,
    pub body: String,
    #[serde(default)]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EcrRepositorySetup {
    pub name: String,
    /// The registry's account (default: the scenario's).
    #[serde(default)]
    pub registry_id: Option<String>,
    /// Default: the scenario's.
    #[serde(default)]
    pub region: Option<String>,
    /// In the order they were pushed.
    #[serde(default)]
    pub images: Vec<EcrImageSetup>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EcrImageSetup {
    #[serde(default)]
    pub tags: Vec<String>,
    /// `sha256:<64 hex digits>`; default: derived from the repository, the
    /// tags and the image's position.
    #[serde(default)]
    pub digest: Option<String>,
    /// Epoch seconds; default: a minute apart in list order, the last a
    /// minute before the simulator started.
    #[serde(default)]
    pub pushed_at: Option<f64>,
    /// DescribeImages' imageSizeInBytes; default 30 MiB.
    #[serde(default)]
    pub size_bytes: Option<u64>,
}

/// A target group, its members spelled as DescribeTargetGroups spells
/// them; what is not given takes ELBv2's default.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TargetGroupSetup {
    pub target_group_name: String,
    /// Default: `arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex digits derived from the name>`.
    #[serde(default)]
    pub target_group_arn: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub health_check_interval_seconds: Option<i64>,
    #[serde(default)]
    pub health_check_timeout_seconds: Option<i64>,
    #[serde(default)]
    pub healthy_threshold_count: Option<i64>,
    #[serde(default)]
    pub unhealthy_threshold_count: Option<i64>,
    #[serde(default)]
    pub health_check_path: Option<String>,
    #[serde(default)]
    pub load_balancer_arns: Vec<String>,
    /// DescribeTargetGroupAttributes' keys and values, over ELBv2's defaults.
    #[serde(default, rename = "attributes")]
    pub attributes: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSetup {
    pub name: String,
    /// The six characters Secrets Manager appends to the name in the ARN;
    /// default: derived from the name.
    #[serde(default)]
    pub suffix: Option<String>,
    /// Default: the scenario's.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SsmParameterSetup {
    /// A plain name, or a hierarchy path starting with `/`.
    pub name: String,
    #[serde(default, rename = "type")]
    pub parameter_type: SsmParameterType,
    #[serde(default = "default_parameter_value")]
    pub value: String,
    /// Default: the scenario's.
    #[serde(default)]
    pub region: Option<String>,
}

/// Parameter types, spelled as Systems Manager spells them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum SsmParameterType {
    String,
    StringList,
    #[default]
    SecureString,
}

impl SsmParameterType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SsmParameterType::String => "String",
            SsmParameterType::StringList => "StringList",
            SsmParameterType::SecureString => "SecureString",
        }
    }
}

fn default_parameter_value() -> String {
    "value".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventRuleSetup {
    pub name: String,
    #[serde(default = "default_event_bus")]
    pub event_bus: String,
    #[serde(default)]
    pub schedule_expression: Option<String>,
    #[serde(default)]
    pub event_pattern: Option<String>,
    #[serde(default = "enabled")]
    pub state: String,
    /// Each as PutTargets takes it (Id, Arn, RoleArn, EcsParameters, ...).
    #[serde(default)]
    pub targets: Vec<Value>,
}

fn default_event_bus() -> String {
    "default".to_string()
}

fn enabled() -> String {
    "ENABLED".to_string()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeDeploySetup {
    /// Each as GetApplication's `application` (applicationName, computePlatform).
    #[serde(default)]
    pub applications: Vec<Value>,
    /// Each as GetDeploymentGroup's `deploymentGroupInfo`.
    #[serde(default)]
    pub deployment_groups: Vec<Value>,
    /// Deployments already in progress when the simulator starts.
    #[serde(default)]
    pub deployments_in_progress: Vec<InProgressDeployment>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InProgressDeployment {
    pub application_name: String,
    pub deployment_group_name: String,
    #[serde(default = "in_progress")]
    pub status: String,
}

fn in_progress() -> String {
    "InProgress".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GithubSetup {
    /// Prefix of every API path, e.g. "/api/v3" as on GitHub Enterprise Server.
    #[serde(default)]
    pub path_prefix: String,
    #[serde(default = "default_repository")]
    pub repository: String,
}

fn default_repository() -> String {
    "acme/shop".to_string()
}

impl Default for GithubSetup {
    fn default() -> Self {
        GithubSetup {
            path_prefix: String::new(),
            repository: default_repository(),
        }
    }
}

/// How the world moves on its own after a client acts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timelines {
    /// What each ECS service deployment started by UpdateService or
    /// UpdateExpressGatewayService does.
    #[serde(default)]
    pub deployments: Vec<RolloutTimeline>,
    /// What each task started by RunTask does.
    #[serde(default)]
    pub tasks: Vec<TaskTimeline>,
    /// What each CodeDeploy deployment does.
    #[serde(default)]
    pub code_deploy: Vec<CodeDeployTimeline>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutTimeline {
    #[serde(default = "default_cluster")]
    pub cluster: String,
    pub service: String,
    #[serde(default)]
    pub outcome: RolloutOutcome,
    /// complete: time until the deployment completes; tasksFail: time
    /// between two failed tasks; alarm: time until the alarms fire (and,
    /// for both, the rollback's duration).
    #[serde(default = "one_second")]
    pub seconds: f64,
    /// tasksFail: failures that trip the circuit breaker, instead of ECS's
    /// threshold (half the desired count, clamped to 3..200).
    #[serde(default)]
    pub failed_tasks: Option<u32>,
    #[serde(default = "exit_one")]
    pub exit_code: i64,
    /// tasksFail: lines each failing task writes to its awslogs streams before it exits.
    #[serde(default)]
    pub logs: Vec<String>,
    /// A deployment already in progress when the simulator starts, rather
    /// than one UpdateService starts.
    #[serde(default)]
    pub at_start: bool,
    /// at_start: the task definition it rolls out (default: the service's own).
    #[serde(default)]
    pub task_definition: Option<String>,
    /// alarm: the CloudWatch alarms that go into ALARM (default: every
    /// alarm the deployment watches).
    #[serde(default)]
    pub alarm_names: Option<Vec<String>>,
    /// How long a PAUSE lifecycle hook waits before its timeout action,
    /// instead of its timeoutInMinutes (minutes are long for a test).
    #[serde(default)]
    pub hook_timeout_seconds: Option<f64>,
    /// complete: how long the new tasks are provisioned before their images
    /// are pulled (their pullStartedAt after their createdAt).
    #[serde(default)]
    pub pending_seconds: f64,
    /// complete: how long the new tasks pull their images (their startedAt
    /// after their pullStartedAt).
    #[serde(default)]
    pub pull_seconds: f64,
    /// complete, on a rolling service: the last part of `seconds`, in which
    /// every new task runs and the old ones drain (their target group's
    /// deregistration delay); when absent, the new tasks show as running
    /// only when the deployment completes.
    #[serde(default)]
    pub drain_seconds: Option<f64>,
    /// How long each AWS_LAMBDA lifecycle hook runs before it answers
    /// (default: half a second).
    #[serde(default)]
    pub lambda_hook_seconds: Option<f64>,
    /// AWS_LAMBDA lifecycle hooks answer FAILED (the deployment rolls back)
    /// instead of SUCCEEDED.
    #[serde(default)]
    pub lambda_hook_fails: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RolloutOutcome {
    #[default]
    Complete,
    /// Every new task exits; the service's circuit breaker (if enabled)
    /// decides between a failed deployment and an endless crash loop.
    TasksFail,
    /// CloudWatch alarms go into ALARM; the service's deployment alarms
    /// (if they watch one of them) fail the deployment and may roll it
    /// back, else it completes.
    Alarm,
}

fn one_second() -> f64 {
    1.0
}

fn exit_one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskTimeline {
    /// Task definition family the entry applies to.
    pub family: String,
    #[serde(default)]
    pub outcome: TaskOutcome,
    /// exit: how long the task runs; failToStart: how long until it stops.
    #[serde(default = "one_second")]
    pub seconds: f64,
    #[serde(default)]
    pub exit_code: i64,
    /// exit: exit codes of named containers that differ from `exitCode`
    /// (a sidecar that fails while the main container succeeds).
    #[serde(default)]
    pub container_exit_codes: std::collections::BTreeMap<String, i64>,
    /// Lines the essential containers write to their awslogs stream while running.
    #[serde(default)]
    pub logs: Vec<String>,
    /// failToStart: the task's stoppedReason (and its containers' reason).
    #[serde(default)]
    pub stopped_reason: Option<String>,
    /// runFailure: RunTask's `failures[]`, each {arn, reason, detail}.
    #[serde(default)]
    pub failures: Vec<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskOutcome {
    #[default]
    Exit,
    FailToStart,
    RunFailure,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeDeployTimeline {
    pub deployment_group: String,
    #[serde(default)]
    pub outcome: CodeDeployOutcome,
    /// Duration of each lifecycle event.
    #[serde(default = "half_second")]
    pub seconds: f64,
    /// fail: the lifecycle event that fails.
    #[serde(default = "default_failing_event")]
    pub fail_at: String,
    #[serde(default = "default_error_code")]
    pub error_code: String,
    #[serde(default = "default_error_message")]
    pub error_message: String,
    /// waitReady: how long Ready lasts without ContinueDeployment before the
    /// group's deploymentReadyOption.actionOnTimeout applies; forever when absent.
    #[serde(default)]
    pub ready_seconds: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeDeployOutcome {
    #[default]
    Succeed,
    Fail,
    /// Stops in Ready until ContinueDeployment (or StopDeployment).
    WaitReady,
}

fn half_second() -> f64 {
    0.5
}

fn default_failing_event() -> String {
    "AfterAllowTestTraffic".to_string()
}

fn default_error_code() -> String {
    "HOOK_EXECUTION_FAILURE".to_string()
}

fn default_error_message() -> String {
    "The deployment failed because one or more of the lifecycle event validation functions failed."
        .to_string()
}

/// A fault injected into requests matching `service` and `operation`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// As recorded in `Call::service` ("ecs", "s3", "ecr", "github", ...);
    /// any when absent.
    #[serde(default)]
    pub service: Option<String>,
    /// As recorded in `Call::operation`; any when absent.
    #[serde(default)]
    pub operation: Option<String>,
    pub kind: FaultKind,
    /// How many matching requests fail (after `skip`); every one when `always`.
    #[serde(default = "one_u32")]
    pub times: u32,
    #[serde(default)]
    pub always: bool,
    /// Matching requests let through before the fault applies.
    #[serde(default)]
    pub skip: u32,
    /// slow, slowAfter: delay before answering.
    #[serde(default)]
    pub seconds: f64,
    /// serverError: HTTP status (default 500; GitHub 502).
    #[serde(default)]
    pub status: Option<u16>,
}

fn one_u32() -> u32 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    Throttle,
    ServerError,
    Slow,
    /// Closes the connection without answering, before acting on the request.
    Drop,
    /// Acts on the request, then closes the connection without answering,
    /// as when an answer is lost on the way back.
    DropAfter,
    /// Acts on the request, then waits `seconds` before answering: a call
    /// that took effect while its answer is still on the way.
    SlowAfter,
    ExpiredToken,
    AccessDenied,
    /// GitHub: 202 {"message": "Auto-merged ..."} with no deployment.
    AutoMerged,
    /// GitHub: 409 merge conflict.
    Conflict,
    /// GitHub: 422 validation failed.
    Unprocessable,
    /// EventBridge PutTargets: answers that every target failed (in
    /// FailedEntries), changing nothing.
    FailedEntries,
}

/// The action's inputs and workspace files for a rehearsal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rehearsal {
    /// Input name (as in action.yml) -> value.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Workspace-relative path -> content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}
