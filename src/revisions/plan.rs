//! Which ACTIVE revisions of a deployed family to deregister after a
//! successful deploy (`keep-revisions`). Pure.

use std::collections::BTreeSet;

use crate::scheduled::plan::family_and_revision;

/// `family:revision` of an ARN or `family:revision`, the key revisions in
/// use are compared by (a scheduled task may name either).
pub(crate) fn revision_key(task_definition: &str) -> Option<String> {
    match family_and_revision(task_definition) {
        (family, Some(revision)) => Some(format!("{family}:{revision}")),
        (_, None) => None,
    }
}

/// The revisions of one family to deregister: every ACTIVE one except the
/// `keep` newest and those `in_use` (keys by `revision_key`: a service's
/// current and previous revisions, scheduled tasks, running tasks), oldest
/// first.
pub(crate) fn to_deregister(
    active: &[String],
    keep: usize,
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
        .filter(|(_, arn)| revision_key(arn).is_some_and(|key| !in_use.contains(&key)))
        .map(|(revision, arn)| (revision, arn.clone()))
        .collect();
    chosen.sort();
    chosen.into_iter().map(|(_, arn)| arn).collect()
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
    fn keeps_the_newest_and_every_revision_in_use() {
        let active = arns(&[7, 3, 6, 1, 5, 2, 4]);
        let in_use: BTreeSet<String> = ["shop:2".to_owned(), "shop:4".to_owned()].into();
        assert_eq!(to_deregister(&active, 3, &in_use), arns(&[1, 3]));
        assert_eq!(to_deregister(&active, 10, &in_use), arns(&[]));
        assert_eq!(
            to_deregister(&active, 1, &BTreeSet::new()),
            arns(&[1, 2, 3, 4, 5, 6])
        );
    }
}
