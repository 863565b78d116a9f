//! `keep-revisions`, `delete-revisions` and `delete-revisions-after-days`,
//! checked with the rest of the configuration.

use crate::inputs::{flag, Problems, RawInputs};

/// What becomes of the revisions a deploy leaves behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldRevisions {
    /// How many of each deployed family's newest ACTIVE revisions stay.
    pub keep: usize,
    /// Also DeleteTaskDefinitions the INACTIVE revisions nothing uses.
    pub delete: bool,
    /// How long a revision stays INACTIVE before it may be deleted: until
    /// then it can still be registered again from its definition.
    pub delete_after_days: u32,
}

/// None when `keep-revisions` is not given: every revision stays.
pub(crate) fn from_inputs(inputs: &RawInputs, problems: &mut Problems) -> Option<OldRevisions> {
    let delete = flag(inputs, "delete-revisions", problems);
    // Checked whether or not keep-revisions uses it.
    let delete_after_days = problems.check(
        "delete-revisions-after-days",
        inputs
            .get("delete-revisions-after-days")
            .unwrap_or("7")
            .parse::<u32>()
            .ok()
            .filter(|days| (1..=3650).contains(days))
            .ok_or_else(|| {
                "delete-revisions-after-days must be a whole number of days from 1 to 3650"
                    .to_owned()
            }),
    );
    let Some(keep) = inputs.get("keep-revisions") else {
        if delete {
            problems.add(
                "delete-revisions",
                "delete-revisions: true needs keep-revisions, which says what is deregistered and then deleted",
            );
        }
        return None;
    };
    let keep = problems.check(
        "keep-revisions",
        keep.parse::<usize>()
            .ok()
            .filter(|keep| *keep >= 1)
            .ok_or_else(|| format!("keep-revisions: {keep:?} is not a whole number of at least 1")),
    );
    Some(OldRevisions {
        keep: keep?,
        delete,
        delete_after_days: delete_after_days?,
    })
}
