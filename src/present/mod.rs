//! The one `Sink` of a run: everything a person sees is written here, from
//! the steps' events. `runner` says it to the GitHub Actions runner (or a
//! terminal), `summary` collects the job summary; one module per step words
//! that step's events.

mod codedeploy;
mod ecs;
mod github;
mod migration;
mod pipeline;
mod preflight;
mod revisions;
pub(crate) mod runner;
mod scheduled;
pub(crate) mod summary;

use crate::env::Env;
use crate::event::{Event, Sink};
use runner::Runner;

pub(crate) struct Presenter {
    runner: Runner,
}

impl Presenter {
    pub(crate) fn from_env(env: &Env) -> Presenter {
        Presenter {
            runner: Runner::from_env(env),
        }
    }

    /// The runner, for the steps that do not emit events yet.
    pub(crate) fn runner(&self) -> &Runner {
        &self.runner
    }
}

impl Sink for Presenter {
    fn emit(&self, event: Event) {
        match event {
            Event::Run(event) => self.pipeline(event),
            Event::Preflight(event) => self.preflight(event),
            Event::GitHub(event) => self.github(event),
            Event::Migration(event) => self.migration(event),
            Event::Ecs(event) => self.ecs(event),
            Event::CodeDeploy(event) => self.codedeploy(event),
            Event::Scheduled(event) => self.scheduled(event),
            Event::Revisions(event) => self.revisions(event),
        }
    }
}
