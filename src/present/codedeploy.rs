//! How the codedeploy step's events read.

use super::Presenter;
use crate::deploy::codedeploy::Event;

impl Presenter {
    pub(super) fn codedeploy(&self, event: Event) {
        match event {}
    }
}
