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
mod run_summary;
pub(crate) mod runner;
mod scheduled;
pub(crate) mod summary;
mod timings;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use anyhow::Result;

use crate::config::Config;
use crate::env::Env;
use crate::event::{Event, Output, Sink};
use crate::pipeline::Progress;
use crate::template::ParseError;
use runner::Runner;
use summary::Summary;

pub(crate) struct Presenter {
    runner: Runner,
    /// Filled as the run goes, written once at its end (`finish`).
    summary: Mutex<Summary>,
}

impl Presenter {
    pub(crate) fn from_env(env: &Env) -> Presenter {
        Presenter {
            runner: Runner::from_env(env),
            summary: Mutex::default(),
        }
    }

    pub(crate) fn summary(&self) -> MutexGuard<'_, Summary> {
        // A panic elsewhere while the summary was held leaves it usable.
        self.summary.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The summary's rows for as far as the run got.
    pub(crate) fn describe_run(&self, config: &Config, progress: &Progress) {
        run_summary::describe_run(&mut self.summary(), config, progress);
    }

    /// The end of a run: the job summary written (and to `summary_file`),
    /// the run's error as one annotation (at its place in the template when
    /// it is one); the exit code.
    pub(crate) fn finish(&self, result: &Result<()>, summary_file: Option<&Path>) -> i32 {
        let runner = &self.runner;
        let markdown = self.summary().render(result);
        if let Err(error) = runner.append_summary(&markdown) {
            runner.warning(&format!("{error:#}"));
        }
        if let Some(file) = summary_file {
            if let Err(error) = std::fs::write(file, &markdown) {
                runner.warning(&format!(
                    "the summary could not be written to {}: {error}",
                    file.display()
                ));
            }
        }
        let Err(error) = result else {
            return 0;
        };
        let location = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<ParseError>())
            .map(|parse| parse.location.clone());
        runner.error(&format!("{error:#}"), location.as_ref());
        1
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
            Event::Timings(event) => self.timings(event),
        }
    }

    fn output(&self, output: Output, value: &str) -> Result<()> {
        self.runner.set_output(output.name(), value)
    }
}
