//! What the steps tell a person, as typed values. A step emits `Event`s
//! into a `Sink` and never writes a line itself: `present::Presenter`, the
//! one sink of a run, decides every log line, step output and summary row
//! they become, and tests read the events a step emitted instead of its
//! stdout.

use crate::deploy::{codedeploy, ecs};
use crate::{github, migration, pipeline, preflight, revisions, scheduled};

/// Where a step's events go. `Sync`: concurrent deployments emit at once.
pub(crate) trait Sink: Sync {
    fn emit(&self, event: Event);
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
}

/// A sink that keeps the events, for tests of what a step emits.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Recorder(std::sync::Mutex<Vec<Event>>);

#[cfg(test)]
impl Recorder {
    pub(crate) fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

#[cfg(test)]
impl Sink for Recorder {
    fn emit(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}
