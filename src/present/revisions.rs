//! How the revisions step's events read.

use super::Presenter;
use crate::revisions::Event;

impl Presenter {
    pub(super) fn revisions(&self, event: Event) {
        match event {}
    }
}
