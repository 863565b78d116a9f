//! How the revisions step's events read.

use super::Presenter;
use crate::arn::resource_name;
use crate::revisions::{short_names, Event};

impl Presenter {
    pub(super) fn revisions(&self, event: Event) {
        let runner = &self.runner;
        match event {
            Event::Began => runner.group("Old revisions"),
            Event::NothingLeftBehind => runner.info(
                "no deployment was started, so none left a revision behind; every revision stays",
            ),
            Event::InUseUnknown { error } => runner.warning(&format!(
                "Old revisions were kept: which are in use could not be told: {error}"
            )),
            Event::FamilyKept { family, error } => {
                runner.warning(&format!("old revisions of {family} were kept: {error}"))
            }
            Event::Kept { why } => runner.info(&why),
            Event::Unreadable { arn, error } => {
                runner.warning(&format!("kept {}: {error}", resource_name(&arn)))
            }
            Event::NoneToDeregister { family } => runner.info(&format!(
                "no revision of {family} to deregister: every ACTIVE one is among the newest, in use, or kept as said above"
            )),
            Event::WouldDeregister { arns } => self.revisions_did("would deregister", &arns),
            Event::Deregistered { arns } => self.revisions_did("deregistered", &arns),
            Event::DeregisterFailed { arn, error } => {
                runner.warning(&format!("failed to deregister {arn}: {error}"))
            }
            Event::WouldDelete { arns } => self.revisions_did("would delete", &arns),
            Event::Deleted { arns } => self.revisions_did("deleted", &arns),
            Event::DeleteRefused { arn, reason } => {
                runner.warning(&format!("{arn} was not deleted: {reason}"))
            }
            Event::DeleteFailed { arns, error } => {
                runner.warning(&format!("failed to delete {}: {error}", arns.join(", ")))
            }
            Event::Ended => runner.end_group(),
        }
    }

    fn revisions_did(&self, done: &str, arns: &[String]) {
        self.runner.info(&format!("{done} {}", short_names(arns)));
    }
}
