//! How the preflight step's events read.

use super::Presenter;
use crate::preflight::Event;

impl Presenter {
    pub(super) fn preflight(&self, event: Event) {
        match event {}
    }
}
