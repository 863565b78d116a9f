//! Which revisions of a deployed family to deregister, and which INACTIVE
//! ones to delete, after a successful deploy (`keep-revisions`,
//! `delete-revisions`). Pure: the edge reads what is in use in the whole
//! region and each candidate's dates, and asks here.

use std::collections::BTreeSet;

use crate::arn::resource_name;
use crate::scheduled::plan::family_and_revision;

/// A revision registered this recently is never deregistered: another run
/// may be about to deploy it.
pub(crate) const FRESH_SECONDS: i64 = 3600;

/// `family:revision` of an ARN or `family:revision`, the key revisions in
/// use are compared by (a scheduled task may name either).
pub(crate) fn revision_key(task_definition: &str) -> Option<String> {
    match family_and_revision(task_definition) {
        (family, Some(revision)) => Some(format!("{family}:{revision}")),
        (_, None) => None,
    }
}

/// What decides a revision's fate beyond its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Described {
    pub(crate) arn: String,
    /// Epoch seconds, as DescribeTaskDefinition answers; None when absent.
    pub(crate) registered_at: Option<i64>,
    pub(crate) deregistered_at: Option<i64>,
}

/// The step a candidate is judged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Deregister,
    /// Delete revisions INACTIVE for this many days.
    Delete {
        grace_days: u32,
    },
}

/// What becomes of one candidate: it goes (the step is taken) or it is
/// kept, with why, said in the log since it would otherwise have gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    Go,
    Keep(String),
}

/// The ACTIVE revisions of one family that may be deregistered, oldest
/// first: all but the `keep` newest, none in use (keys by `revision_key`),
/// none newer than `ours` (the revision this deploy put in place: a newer
/// one is someone else's), before their dates are looked at (`fate`).
pub(crate) fn candidates(
    active: &[String],
    keep: usize,
    ours: Option<i64>,
    in_use: &BTreeSet<String>,
) -> Vec<String> {
    let mut by_revision: Vec<(i64, &String)> = active
        .iter()
        .filter_map(|arn| Some((family_and_revision(arn).1?, arn)))
        .collect();
    by_revision.sort_by_key(|(revision, _)| std::cmp::Reverse(*revision));
    let mut chosen: Vec<(i64, String)> = by_revision
        .into_iter()
        .skip(keep)
        .filter(|(revision, _)| ours.is_none_or(|ours| *revision <= ours))
        .filter(|(_, arn)| not_in_use(arn, in_use))
        .map(|(revision, arn)| (revision, arn.clone()))
        .collect();
    chosen.sort();
    chosen.into_iter().map(|(_, arn)| arn).collect()
}

/// The INACTIVE revisions that may be deleted, oldest first: none in use
/// (an INACTIVE revision still runs where it ran).
pub(crate) fn delete_candidates(inactive: &[String], in_use: &BTreeSet<String>) -> Vec<String> {
    let mut chosen: Vec<(i64, &String)> = inactive
        .iter()
        .filter(|arn| not_in_use(arn, in_use))
        .filter_map(|arn| Some((family_and_revision(arn).1?, arn)))
        .collect();
    chosen.sort();
    chosen.into_iter().map(|(_, arn)| arn.clone()).collect()
}

fn not_in_use(arn: &str, in_use: &BTreeSet<String>) -> bool {
    revision_key(arn).is_some_and(|key| !in_use.contains(&key))
}

/// The fate of a candidate for `step` from its dates, `now` in epoch
/// seconds: an ACTIVE one is deregistered unless registered within
/// `FRESH_SECONDS`; an INACTIVE one is deleted only once it has been
/// INACTIVE for the grace period, so that one deregistered by mistake can
/// still be registered again from its definition. A date that is not there,
/// or one that says the revision is not in the state the step needs, keeps
/// it.
pub(crate) fn fate(revision: &Described, step: Step, now: i64) -> Fate {
    let name = resource_name(&revision.arn);
    match (step, revision.registered_at, revision.deregistered_at) {
        (Step::Deregister, _, Some(_)) => {
            Fate::Keep(format!("kept {name}: it is INACTIVE already"))
        }
        (Step::Deregister, Some(registered), None) if now - registered >= FRESH_SECONDS => Fate::Go,
        (Step::Deregister, Some(registered), None) => Fate::Keep(format!(
            "kept {name}: registered {} ago, perhaps for another run",
            age(now - registered)
        )),
        (Step::Deregister, None, None) => {
            Fate::Keep(format!("kept {name}: its registration date is unknown"))
        }
        (Step::Delete { grace_days }, _, Some(deregistered)) => {
            if now - deregistered >= i64::from(grace_days) * 86_400 {
                Fate::Go
            } else {
                Fate::Keep(format!(
                    "kept {name}: INACTIVE for {}, deleted after {grace_days} day(s)",
                    age(now - deregistered)
                ))
            }
        }
        (Step::Delete { .. }, _, None) => {
            Fate::Keep(format!("kept {name}: when it was deregistered is unknown"))
        }
    }
}

/// A duration in words, to the unit that matters.
fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} minutes", s / 60),
        s if s < 172_800 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition";

    fn arns(revisions: &[i64]) -> Vec<String> {
        revisions.iter().map(|r| format!("{TD}/shop:{r}")).collect()
    }

    #[test]
    fn an_arn_and_a_short_name_have_the_same_key() {
        assert_eq!(
            revision_key(&format!("{TD}/shop:3")).as_deref(),
            Some("shop:3")
        );
        assert_eq!(revision_key("shop:3").as_deref(), Some("shop:3"));
        assert_eq!(revision_key(&format!("{TD}/shop")), None);
    }

    #[test]
    fn candidates_leave_the_newest_those_in_use_and_any_newer_than_ours() {
        let active = arns(&[7, 3, 6, 1, 5, 2, 4]);
        let in_use: BTreeSet<String> = ["shop:2".to_owned(), "shop:4".to_owned()].into();
        assert_eq!(candidates(&active, 3, None, &in_use), arns(&[1, 3]));
        assert_eq!(candidates(&active, 10, None, &in_use), arns(&[]));
        assert_eq!(
            candidates(&active, 1, None, &BTreeSet::new()),
            arns(&[1, 2, 3, 4, 5, 6])
        );
        // Ours is shop:5: shop:6 and shop:7 came after it, from elsewhere.
        assert_eq!(
            candidates(&active, 1, Some(5), &BTreeSet::new()),
            arns(&[1, 2, 3, 4, 5])
        );
    }

    #[test]
    fn delete_candidates_are_the_inactive_ones_nothing_runs() {
        let in_use: BTreeSet<String> = ["shop:2".to_owned()].into();
        assert_eq!(delete_candidates(&arns(&[3, 1, 2]), &in_use), arns(&[1, 3]));
    }

    #[test]
    fn dates_decide_the_fate() {
        let now = 1_000_000_000;
        let revision = |registered_at, deregistered_at| Described {
            arn: format!("{TD}/shop:4"),
            registered_at,
            deregistered_at,
        };
        let keep = |why: &str| Fate::Keep(why.to_owned());
        let deregister = Step::Deregister;
        let delete = Step::Delete { grace_days: 7 };
        let cases = [
            (revision(Some(now - 3600), None), deregister, Fate::Go),
            (
                revision(Some(now - 3599), None),
                deregister,
                keep("kept shop:4: registered 59 minutes ago, perhaps for another run"),
            ),
            (
                revision(Some(now - 30), None),
                deregister,
                keep("kept shop:4: registered 30 s ago, perhaps for another run"),
            ),
            (
                revision(None, None),
                deregister,
                keep("kept shop:4: its registration date is unknown"),
            ),
            (
                revision(Some(0), Some(now - 86_400)),
                deregister,
                keep("kept shop:4: it is INACTIVE already"),
            ),
            (revision(Some(0), Some(now - 7 * 86_400)), delete, Fate::Go),
            (
                revision(Some(0), Some(now - 7 * 86_400 + 1)),
                delete,
                keep("kept shop:4: INACTIVE for 6 days, deleted after 7 day(s)"),
            ),
            (
                revision(Some(0), Some(now - 5 * 3600)),
                delete,
                keep("kept shop:4: INACTIVE for 5 hours, deleted after 7 day(s)"),
            ),
            // INACTIVE without the date it was deregistered: never deleted.
            (
                revision(Some(0), None),
                delete,
                keep("kept shop:4: when it was deregistered is unknown"),
            ),
        ];
        for (revision, step, expected) in cases {
            assert_eq!(
                fate(&revision, step, now),
                expected,
                "{revision:?} {step:?}"
            );
        }
    }
}
