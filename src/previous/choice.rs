//! Which revision a service ran before its current one, from its service
//! deployments. Pure.

use aws_smithy_types::DateTime;

use crate::scheduled::plan::family_and_revision;

/// One service deployment as far as the choice needs it, with its
/// revisions' task definitions looked up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeploymentRecord {
    pub(crate) created_at: Option<DateTime>,
    pub(crate) successful: bool,
    pub(crate) target: Option<String>,
    /// What ran when it started.
    pub(crate) sources: Vec<String>,
}

/// The task definition the service ran before `current`: the source of the
/// newest successful deployment that brought `current`; where that record
/// has no source (or is gone), the target of the newest successful
/// deployment older than it that ran something else. A newer revision of
/// the family is never the answer: a deployment from a newer revision to
/// `current` was a rollback, and `previous` run twice walks further back
/// instead of returning to what was just rolled back from.
pub(crate) fn previous(current: &str, records: &[DeploymentRecord]) -> Option<String> {
    let mut records: Vec<&DeploymentRecord> = records.iter().filter(|r| r.successful).collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let earlier = |candidate: &String| candidate != current && !newer(candidate, current);
    let mut brought = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.target.as_deref() == Some(current));
    let newest_brought = brought.clone().next().map(|(i, _)| i);
    if let Some(source) = brought.find_map(|(_, r)| r.sources.iter().find(|s| earlier(s))) {
        return Some(source.clone());
    }
    records
        .iter()
        .skip(newest_brought.map_or(0, |i| i + 1))
        .find_map(|r| r.target.clone().filter(earlier))
}

/// Whether `a` is a later revision of the same family than `b`.
fn newer(a: &str, b: &str) -> bool {
    match (family_and_revision(a), family_and_revision(b)) {
        ((family_a, Some(a)), (family_b, Some(b))) => family_a == family_b && a > b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64, successful: bool, target: &str, sources: &[&str]) -> DeploymentRecord {
        DeploymentRecord {
            created_at: Some(DateTime::from_secs(at)),
            successful,
            target: Some(target.to_owned()),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_source_of_the_deployment_that_brought_the_current_revision() {
        let records = [
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
            record(10, true, "shop:1", &[]),
        ];
        assert_eq!(previous("shop:3", &records).as_deref(), Some("shop:2"));
        // Listed in any order.
        let reversed: Vec<_> = records.iter().rev().cloned().collect();
        assert_eq!(previous("shop:3", &reversed).as_deref(), Some("shop:2"));
    }

    #[test]
    fn after_a_rollback_the_revision_before_the_one_rolled_back_to() {
        // shop:3 failed and rolled back: the service runs shop:2 again.
        let records = [
            record(30, false, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(previous("shop:2", &records).as_deref(), Some("shop:1"));
    }

    #[test]
    fn previous_twice_walks_back_instead_of_returning_to_the_bad_revision() {
        // shop:3 was rolled back to shop:2 by `previous`; shop:2 turns out
        // bad too: the one before it is shop:1, not shop:3 again.
        let records = [
            record(40, true, "shop:2", &["shop:3"]),
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
            record(10, true, "shop:1", &[]),
        ];
        assert_eq!(previous("shop:2", &records).as_deref(), Some("shop:1"));
    }

    #[test]
    fn without_a_source_the_newest_older_successful_target() {
        let records = [
            record(30, true, "shop:3", &[]),
            record(25, false, "shop:9", &[]),
            record(20, true, "shop:3", &[]),
            record(10, true, "shop:1", &[]),
        ];
        assert_eq!(previous("shop:3", &records).as_deref(), Some("shop:1"));
        // The record that brought it is gone: the newest other target.
        assert_eq!(previous("shop:4", &records[..2]).as_deref(), Some("shop:3"));
    }

    #[test]
    fn a_service_with_no_earlier_revision_has_none() {
        assert_eq!(previous("shop:1", &[record(10, true, "shop:1", &[])]), None);
        assert_eq!(previous("shop:1", &[]), None);
    }
}
