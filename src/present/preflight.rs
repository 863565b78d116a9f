//! How the preflight step's events read.

use super::Presenter;
use crate::preflight::Event;

impl Presenter {
    pub(super) fn preflight(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::OutsideEcr { images } => runner.info(&format!(
                "Preflight: images outside Amazon ECR are not checked: {}",
                images.join(", ")
            )),
            Event::CheckedNothing { why } => {
                runner.warning(&format!("preflight checked nothing: {why}"))
            }
            Event::Unsure { warning } => runner.warning(&warning),
            Event::Tallied { tally } => runner.info(&tally),
        }
    }
}
