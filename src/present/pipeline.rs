//! How the pipeline step's events read.

use super::Presenter;
use crate::pipeline::Event;

impl Presenter {
    pub(super) fn pipeline(&self, event: Event) {
        match event {}
    }
}
