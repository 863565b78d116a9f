//! How the migration step's events read.

use super::Presenter;
use crate::migration::Event;

impl Presenter {
    pub(super) fn migration(&self, event: Event) {
        match event {}
    }
}
