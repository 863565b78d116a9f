//! The inputs that say how a service is updated and watched, and how a
//! CodeDeploy deployment is made, checked with the rest of the
//! configuration.

use std::path::Path;
use std::time::Duration;

use aws_sdk_codedeploy::types::AutoRollbackEvent;
use aws_sdk_ecs::types::PropagateTags;
use serde_json::Value;

use crate::arn::Arn;
use crate::inputs::{
    flag, given_flag, managed_ebs_volume, number, parse_minutes, text, Problems, RawInputs,
};
use crate::template::{file_source, parse_s3_object, TemplateSource};

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
    /// `wait-until`: how far a native strategy's deployment is followed.
    pub wait_until: WaitUntil,
    /// `service-deployment`: follow a deployment already started instead
    /// of starting one.
    pub follow: Option<Follow>,
    /// `on-cancel: rollback`: a cancelled or timed-out ECS deployment is
    /// rolled back (StopServiceDeployment) instead of left to ECS.
    pub roll_back_on_cancel: bool,
}

/// The lifecycle stages of an ECS service deployment, in the order a
/// deployment goes through them.
pub(crate) const LIFECYCLE_STAGES: [&str; 10] = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
];

/// Where the step stops following a native strategy's deployment and
/// leaves it to a later job (`wait-until`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitUntil {
    /// Its verdict.
    Done,
    /// A PAUSE lifecycle hook that awaits action.
    Paused,
    /// This lifecycle stage (one of `LIFECYCLE_STAGES`), or a later one.
    Stage(&'static str),
}

/// A deployment started before this step (`service-deployment` or
/// `codedeploy-deployment-id`), and what to do first (`hook-action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub deployment: Started,
    pub hook_action: Option<HookAction>,
}

/// Which deployment a step follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// An ECS service deployment's ARN; None: the service's current one.
    Ecs(Option<String>),
    /// A CodeDeploy deployment's id.
    CodeDeploy(String),
}

/// What to tell a PAUSE hook that awaits action (`hook-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    Continue,
    Rollback,
}

impl HookAction {
    /// ContinueServiceDeployment's `action`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HookAction::Continue => "CONTINUE",
            HookAction::Rollback => "ROLLBACK",
        }
    }
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

/// Options that change nothing but the task definition and wait a minute
/// at most for the verdict, for tests of the edges.
#[cfg(test)]
impl DeployOptions {
    pub(crate) fn waiting() -> DeployOptions {
        DeployOptions {
            desired_count: None,
            force_new_deployment: false,
            enable_ecs_managed_tags: None,
            propagate_tags: None,
            wait: true,
            timeout: Duration::from_secs(60),
            max_failed_tasks: None,
            rollback_on_failure: true,
            max_retries: 0,
            max_poll_delay: None,
            volume_configurations: None,
            wait_until: WaitUntil::Done,
            follow: None,
            roll_back_on_cancel: false,
        }
    }
}

pub(crate) fn deploy_options(inputs: &RawInputs, problems: &mut Problems) -> DeployOptions {
    DeployOptions {
        desired_count: number(inputs, "desired-count", 0, 100_000, problems),
        force_new_deployment: flag(inputs, "force-new-deployment", problems),
        enable_ecs_managed_tags: given_flag(inputs, "enable-ecs-managed-tags", problems),
        propagate_tags: inputs
            .get("propagate-tags")
            .and_then(|v| problems.check("propagate-tags", parse_propagate_tags(v))),
        wait: flag(inputs, "wait-for-service-stability", problems),
        timeout: inputs
            .get("wait-for-minutes")
            .and_then(|v| problems.check("wait-for-minutes", parse_minutes("wait-for-minutes", v)))
            .unwrap_or(Duration::from_secs(30 * 60)),
        max_failed_tasks: number(inputs, "max-failed-tasks", 1, 10_000, problems),
        rollback_on_failure: flag(inputs, "rollback-on-failure", problems),
        max_retries: number(inputs, "max-retries", 0, 20, problems).unwrap_or(5) as u32,
        max_poll_delay: number(inputs, "wait-max-delay-seconds", 1, 3600, problems)
            .map(|seconds| Duration::from_secs(seconds as u64)),
        volume_configurations: managed_ebs_volume(inputs, "service-managed-ebs-volume", problems),
        wait_until: inputs
            .get("wait-until")
            .and_then(|v| problems.check("wait-until", parse_wait_until(v)))
            .unwrap_or(WaitUntil::Done),
        follow: follow(inputs, problems),
        roll_back_on_cancel: match inputs.get("on-cancel").unwrap_or("leave") {
            "leave" => false,
            "rollback" => true,
            other => {
                problems.add(
                    "on-cancel",
                    format!("on-cancel: {other:?} is not leave or rollback"),
                );
                false
            }
        },
    }
}

fn parse_wait_until(value: &str) -> Result<WaitUntil, String> {
    match value {
        "done" => Ok(WaitUntil::Done),
        "paused" => Ok(WaitUntil::Paused),
        stage => LIFECYCLE_STAGES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(stage))
            .map(|known| WaitUntil::Stage(known))
            .ok_or_else(|| {
                format!(
                    "wait-until: {value:?} is not done, paused or a lifecycle stage ({})",
                    LIFECYCLE_STAGES.join(", ")
                )
            }),
    }
}

/// `service-deployment` or `codedeploy-deployment-id`, and `hook-action`,
/// which needs one of them.
fn follow(inputs: &RawInputs, problems: &mut Problems) -> Option<Follow> {
    let hook_action = inputs.get("hook-action").and_then(|value| {
        let action = match value {
            "continue" => Ok(HookAction::Continue),
            "rollback" => Ok(HookAction::Rollback),
            other => Err(format!(
                "hook-action: {other:?} is not continue or rollback"
            )),
        };
        problems.check("hook-action", action)
    });
    let deployment = match (
        inputs.get("service-deployment"),
        inputs.get("codedeploy-deployment-id"),
    ) {
        (Some(_), Some(_)) => {
            problems.add(
                "codedeploy-deployment-id",
                "codedeploy-deployment-id: not with service-deployment: a service is deployed by ECS or by CodeDeploy; give the one its deployment has",
            );
            return None;
        }
        (Some("current"), None) => Started::Ecs(None),
        (Some(arn), None) => {
            let parsed = Arn::parse(arn)
                .filter(|a| a.service == "ecs" && a.resource.starts_with("service-deployment/"));
            if parsed.is_none() {
                problems.add(
                    "service-deployment",
                    format!("service-deployment: {arn:?} is not an ECS service deployment ARN (arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID) or current"),
                );
            }
            Started::Ecs(Some(arn.to_owned()))
        }
        (None, Some(id)) => Started::CodeDeploy(id.to_owned()),
        (None, None) => {
            if inputs.get("hook-action").is_some() {
                problems.add(
                    "hook-action",
                    "hook-action: needs service-deployment or codedeploy-deployment-id, the deployment to act on (an earlier run's ecs-service-deployment-arn or codedeploy-deployment-id output)",
                );
            }
            return None;
        }
    };
    Some(Follow {
        deployment,
        hook_action,
    })
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

pub(crate) fn codedeploy_options(inputs: &RawInputs, problems: &mut Problems) -> CodeDeployOptions {
    CodeDeployOptions {
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
        wait_for_in_progress: flag(inputs, "wait-for-in-progress", problems),
    }
}

/// `codedeploy-appspec`: a file or an S3 object, never an ECS resource.
pub(crate) fn appspec(
    inputs: &RawInputs,
    workspace: Option<&Path>,
    problems: &mut Problems,
) -> Option<TemplateSource> {
    let value = inputs.get("codedeploy-appspec")?;
    problems.check(
        "codedeploy-appspec",
        match value.strip_prefix("s3://") {
            Some(object) => parse_s3_object("codedeploy-appspec", value, object),
            None => Ok(file_source(value, workspace)),
        },
    )
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
