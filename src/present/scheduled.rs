//! How the scheduled step's events read.

use super::Presenter;
use crate::scheduled::Event;

impl Presenter {
    pub(super) fn scheduled(&self, event: Event) {
        match event {}
    }
}
