//! How the ecs step's events read.

use std::borrow::Cow;

use super::summary::code;
use super::Presenter;
use crate::arn::resource_name;
use crate::deploy::ecs::{Event, PausedHook, TrafficWeights};
use crate::deploy::settings::HookAction;

impl Presenter {
    pub(super) fn ecs(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::Started {
                service,
                deployment_id,
                from,
                to,
            } => runner.info(&format!(
                "Service {service}: deployment {deployment_id} started, {} → {}",
                resource_name(&from),
                resource_name(&to)
            )),
            Event::Attached {
                service,
                service_deployment_arn: arn,
                from,
                to,
            } => runner.info(&attached_line(&service, &arn, &from, &to)),
            Event::HookActed {
                service,
                hook_id,
                action,
            } => runner.info(&hook_acted_line(&service, &hook_id, action)),
            Event::Throttled {
                operation,
                error,
                next_poll,
            } => runner.info(&throttled_line(operation, &error, next_poll)),
            Event::ServiceMessage { service, message } => {
                runner.info(&format!("{service}: {}", event_text(&service, &message)))
            }
            Event::StageChanged {
                service,
                stage,
                traffic,
            } => runner.info(&format!("{service}: {}", stage_line(&stage, traffic))),
            Event::HookPaused {
                service,
                stage,
                hook,
                service_deployment_arn,
            } => runner.warning(&hook_paused(
                &service,
                stage.as_deref(),
                &hook,
                service_deployment_arn.as_deref(),
            )),
            Event::HookRuns {
                service,
                stage,
                function,
            } => runner.info(&hook_runs_line(&service, stage.as_deref(), &function)),
            Event::SucceededEarly { service, draining } => self.succeeded_early(&service, draining),
            Event::CountsChanged {
                service,
                running,
                desired,
                pending,
                failed,
            } => runner.info(&format!(
                "{service}: {running} of {desired} running, {pending} pending, {failed} failed"
            )),
            Event::TasksStopped {
                service,
                count,
                reason,
            } => runner.info(&format!("{service}: {count} task(s) stopped: {reason}")),
            Event::LastLinesUnread {
                service,
                task,
                why,
                link,
            } => runner.notice(&last_lines_unread(&service, &task, &why, &link)),
        }
    }

    /// ECS's early success in the log, and the old tasks that drain after
    /// it in the summary.
    fn succeeded_early(&self, service: &str, draining: i32) {
        self.runner.info(&format!(
            "{service}: ECS declared the deployment successful early (earlySuccessCriteria); {draining} tasks of the old revision drain after the verdict (sourceServiceRevisionCleanup: DEFERRED)"
        ));
        self.summary().add(
            format!("Old revision of {}", code(service)),
            format!("{draining} tasks draining after the verdict (earlySuccessCriteria, DEFERRED clean-up)"),
        );
    }
}

/// A throttled poll, and when the next one comes.
fn throttled_line(operation: &str, error: &str, next_poll: std::time::Duration) -> String {
    format!(
        "ECS is throttling {operation} ({error}); next poll in {:.1}s",
        next_poll.as_secs_f64()
    )
}

/// A Lambda lifecycle hook that runs, at its stage.
fn hook_runs_line(service: &str, stage: Option<&str>, function: &str) -> String {
    let at = stage.map(|s| format!(" at {s}")).unwrap_or_default();
    format!("{service}: lifecycle hook runs Lambda function {function}{at}")
}

/// Why a stopped task's last lines are not shown, and where to see them.
fn last_lines_unread(service: &str, task: &str, why: &str, link: &str) -> String {
    format!(
        "{service}: the last log lines of stopped task {} are not shown: {why}. See the task in the console: {link}",
        resource_name(task)
    )
}

/// An ECS service event as it follows our `service: ` prefix. ECS opens its
/// messages with `(service NAME)`, or `(service NAME, taskSet ID)` for a
/// task set: said again after the prefix, the service would be named twice
/// on every line. Anything else is left as ECS wrote it.
fn event_text<'a>(service: &str, message: &'a str) -> Cow<'a, str> {
    let Some(rest) = message
        .strip_prefix("(service ")
        .and_then(|rest| rest.strip_prefix(service))
    else {
        return Cow::Borrowed(message);
    };
    if let Some(rest) = rest.strip_prefix(") ") {
        Cow::Borrowed(rest)
    } else if let Some(rest) = rest.strip_prefix(", ") {
        Cow::Owned(format!("({rest}"))
    } else {
        Cow::Borrowed(message)
    }
}

/// Where a blue/green, linear or canary deployment stands: its lifecycle
/// stage and the traffic requested for the new revision.
fn stage_line(stage: &str, traffic: Option<TrafficWeights>) -> String {
    match traffic {
        Some(traffic) => format!(
            "stage {stage}; new revision gets {}% of production and {}% of test traffic",
            traffic.production, traffic.test
        ),
        None => format!("stage {stage}"),
    }
}

/// The deployment waits for ContinueServiceDeployment: the command that
/// continues it, and what ECS does on its own when the hook times out.
fn hook_paused(
    service: &str,
    stage: Option<&str>,
    hook: &PausedHook,
    service_deployment_arn: Option<&str>,
) -> String {
    let stage = stage.unwrap_or("a lifecycle stage");
    let timeout = match (&hook.expires_at, &hook.timeout_action) {
        (Some(at), Some(action)) => format!("; at {at} ECS will {action} on its own"),
        _ => String::new(),
    };
    format!(
        "{service}: the deployment is paused at {stage} by lifecycle hook {id} and waits for ContinueServiceDeployment: \
         aws ecs continue-service-deployment --service-deployment-arn {arn} --hook-id {id} --action CONTINUE (or ROLLBACK){timeout}",
        id = hook.id,
        arn = service_deployment_arn.unwrap_or("?"),
    )
}

/// `service-deployment`: what is followed, from and to which revision.
fn attached_line(service: &str, service_deployment_arn: &str, from: &str, to: &str) -> String {
    format!(
        "Service {service}: following service deployment {service_deployment_arn}, {} → {}, started before this step",
        resource_name(from),
        resource_name(to)
    )
}

/// `hook-action`: what the paused hook was told.
fn hook_acted_line(service: &str, hook_id: &str, action: HookAction) -> String {
    let told = match action {
        HookAction::Continue => "carry on",
        HookAction::Rollback => "roll back",
    };
    format!(
        "{service}: lifecycle hook {hook_id} told to {told} (ContinueServiceDeployment {})",
        action.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_the_service_once() {
        let cases = [
            (
                "(service web) has started 2 tasks: (task a1) (task b2).",
                "has started 2 tasks: (task a1) (task b2).",
            ),
            (
                "(service web) (deployment ecs-svc/123) deployment completed.",
                "(deployment ecs-svc/123) deployment completed.",
            ),
            (
                "(service web, taskSet ecs-svc/123) has begun draining connections on 1 tasks.",
                "(taskSet ecs-svc/123) has begun draining connections on 1 tasks.",
            ),
            // Another service, or a name that only begins like ours: as is.
            (
                "(service web-admin) has reached a steady state.",
                "(service web-admin) has reached a steady state.",
            ),
            (
                "(service api) has reached a steady state.",
                "(service api) has reached a steady state.",
            ),
            (
                "Service web is not in a steady state.",
                "Service web is not in a steady state.",
            ),
        ];
        for (message, shown) in cases {
            assert_eq!(event_text("web", message), shown, "{message}");
        }
    }

    #[test]
    fn stage_lines_show_the_new_revisions_traffic() {
        let traffic = |production, test| Some(TrafficWeights { production, test });
        let cases = [
            ("SCALE_UP", None, "stage SCALE_UP"),
            (
                "TEST_TRAFFIC_SHIFT",
                traffic(0.0, 100.0),
                "stage TEST_TRAFFIC_SHIFT; new revision gets 0% of production and 100% of test traffic",
            ),
            (
                "PRODUCTION_TRAFFIC_SHIFT",
                traffic(12.5, 100.0),
                "stage PRODUCTION_TRAFFIC_SHIFT; new revision gets 12.5% of production and 100% of test traffic",
            ),
        ];
        for (stage, traffic, expected) in cases {
            assert_eq!(stage_line(stage, traffic), expected, "{stage}");
        }
    }
}
