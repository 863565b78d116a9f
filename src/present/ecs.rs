//! How the ecs step's events read.

use super::Presenter;
use crate::deploy::ecs::Event;

impl Presenter {
    pub(super) fn ecs(&self, event: Event) {
        match event {}
    }
}
