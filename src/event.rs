//! What the steps tell a person, as typed values. A step emits `Event`s
//! into a `Sink` and never writes a line itself: `present::Presenter`, the
//! one sink of a run, decides every log line, step output and summary row
//! they become, and tests read the events a step emitted instead of its
//! stdout.

use crate::deploy::{codedeploy, ecs};
use crate::{github, migration, pipeline, preflight, revisions, scheduled, timings};

/// Where a step's events go. `Sync`: concurrent deployments emit at once.
pub(crate) trait Sink: Sync {
    fn emit(&self, event: Event);

    /// Writes a step output. Unlike a line, an output a later step needs
    /// and cannot get is the caller's to decide about (a migration task
    /// nobody can follow is stopped), so its failure is returned.
    fn output(&self, output: Output, value: &str) -> anyhow::Result<()>;
}

/// One thing a step has to tell, by the step that tells it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Run(pipeline::Event),
    Preflight(preflight::Event),
    GitHub(github::Event),
    Migration(migration::Event),
    Ecs(ecs::Event),
    CodeDeploy(codedeploy::Event),
    Scheduled(scheduled::Event),
    Revisions(revisions::Event),
    Timings(timings::Event),
}

macro_rules! from_step_events {
    ($($variant:ident($step:ty)),* $(,)?) => {
        $(impl From<$step> for Event {
            fn from(event: $step) -> Event {
                Event::$variant(event)
            }
        }

        #[cfg(test)]
        impl TryFrom<Event> for $step {
            type Error = Event;

            fn try_from(event: Event) -> Result<$step, Event> {
                match event {
                    Event::$variant(event) => Ok(event),
                    other => Err(other),
                }
            }
        })*
    };
}

from_step_events!(
    Run(pipeline::Event),
    Preflight(preflight::Event),
    GitHub(github::Event),
    Migration(migration::Event),
    Ecs(ecs::Event),
    CodeDeploy(codedeploy::Event),
    Scheduled(scheduled::Event),
    Revisions(revisions::Event),
    Timings(timings::Event),
);

/// A step output, by the name action.yml declares it with
/// (`inputs::OUTPUTS`, in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    TaskDefinition,
    TaskDefinitionArn,
    PreviousTaskDefinitionArn,
    EcsDeploymentId,
    CodeDeployDeploymentId,
    EcsServiceDeploymentArn,
    PausedHookId,
    LifecycleStage,
    GitHubDeploymentId,
    MigrationTaskArn,
    MigrationExitCode,
    RunTaskArn,
    ExpressEndpoint,
    Timings,
}

impl Output {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Output::TaskDefinition => "task-definition",
            Output::TaskDefinitionArn => "task-definition-arn",
            Output::PreviousTaskDefinitionArn => "previous-task-definition-arn",
            Output::EcsDeploymentId => "ecs-deployment-id",
            Output::CodeDeployDeploymentId => "codedeploy-deployment-id",
            Output::EcsServiceDeploymentArn => "ecs-service-deployment-arn",
            Output::PausedHookId => "paused-hook-id",
            Output::LifecycleStage => "lifecycle-stage",
            Output::GitHubDeploymentId => "github-deployment-id",
            Output::MigrationTaskArn => "migration-task-arn",
            Output::MigrationExitCode => "migration-exit-code",
            Output::RunTaskArn => "run-task-arn",
            Output::ExpressEndpoint => "express-endpoint",
            Output::Timings => "timings",
        }
    }
}

/// A sink that keeps the events and the outputs, for tests of what a step
/// emits.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Recorder {
    events: std::sync::Mutex<Vec<Event>>,
    outputs: std::sync::Mutex<Vec<(Output, String)>>,
}

#[cfg(test)]
impl Recorder {
    pub(crate) fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// The events of the one step a test ran (`migration::Event`, ...); a
    /// panic on any other step's.
    pub(crate) fn step_events<T: TryFrom<Event, Error = Event>>(&self) -> Vec<T> {
        self.events()
            .into_iter()
            .map(|event| {
                T::try_from(event).unwrap_or_else(|other| panic!("another step's event: {other:?}"))
            })
            .collect()
    }

    pub(crate) fn outputs(&self) -> Vec<(Output, String)> {
        self.outputs.lock().unwrap().clone()
    }
}

#[cfg(test)]
impl Sink for Recorder {
    fn emit(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    fn output(&self, output: Output, value: &str) -> anyhow::Result<()> {
        self.outputs
            .lock()
            .unwrap()
            .push((output, value.to_owned()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Output::*;

    #[test]
    fn every_output_is_declared_in_the_order_of_the_output_table() {
        let all = [
            TaskDefinition,
            TaskDefinitionArn,
            PreviousTaskDefinitionArn,
            EcsDeploymentId,
            CodeDeployDeploymentId,
            EcsServiceDeploymentArn,
            PausedHookId,
            LifecycleStage,
            GitHubDeploymentId,
            MigrationTaskArn,
            MigrationExitCode,
            RunTaskArn,
            ExpressEndpoint,
            Timings,
        ];
        let names: Vec<&str> = all.iter().map(|output| output.name()).collect();
        let declared: Vec<&str> = crate::inputs::OUTPUTS
            .iter()
            .map(|spec| spec.name)
            .collect();
        assert_eq!(names, declared);
    }
}
