//! How the github step's events read.

use super::Presenter;
use crate::github::Event;

impl Presenter {
    pub(super) fn github(&self, event: Event) {
        match event {}
    }
}
