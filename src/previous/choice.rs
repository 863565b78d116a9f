//! Which revision a service ran before its current one, from its
//! deployments and what their revisions contain. Pure.

use std::collections::HashMap;

use aws_smithy_types::DateTime;
use serde_json::Value;

use crate::diff;

/// One deployment as far as the choice needs it, with its revisions' task
/// definitions looked up.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeploymentRecord {
    pub(crate) created_at: Option<DateTime>,
    pub(crate) successful: bool,
    pub(crate) target: Option<String>,
    /// What ran when it started.
    pub(crate) sources: Vec<String>,
}

/// The task definitions (ARNs) that the successful deployments in
/// `records` name, the ones the choice may want to compare.
pub(crate) fn named(records: &[DeploymentRecord]) -> Vec<String> {
    let mut arns: Vec<String> = records
        .iter()
        .filter(|r| r.successful)
        .flat_map(|r| r.target.iter().chain(&r.sources))
        .cloned()
        .collect();
    arns.sort();
    arns.dedup();
    arns
}

/// The task definition the service ran before `current`, judged by what
/// the revisions contain (`contents`: normalized definitions by ARN; a
/// revision missing there is only itself). The successful deployments,
/// oldest first, build the line of what the service ran: a deployment to
/// something already in the line goes back to it, and what came after it
/// leaves the line (it was rolled back from); anything else is added. The
/// answer is the one before the last, so a copy of a revision counts as
/// that revision, a revision identical to the current one is never the
/// answer, and `previous` run again walks further back instead of
/// returning to what it just left. Where several revisions hold the same
/// content, the newest is named.
pub(crate) fn previous(
    current: &str,
    records: &[DeploymentRecord],
    contents: &HashMap<String, Value>,
) -> Option<String> {
    let identical = |a: &str, b: &str| {
        a == b
            || matches!((contents.get(a), contents.get(b)),
                (Some(a), Some(b)) if diff::diff(a, b).is_empty())
    };
    let mut successful: Vec<&DeploymentRecord> = records.iter().filter(|r| r.successful).collect();
    successful.sort_by_key(|r| r.created_at);
    // What ran before the oldest deployment known, then each target.
    let first_sources = successful.first().map_or(&[][..], |r| &r.sources[..]);
    let ran = first_sources
        .iter()
        .map(String::as_str)
        .chain(successful.iter().filter_map(|r| r.target.as_deref()))
        .chain([current]);
    let mut line: Vec<&str> = Vec::new();
    for arn in ran {
        if let Some(at) = line.iter().position(|seen| identical(seen, arn)) {
            line.truncate(at);
        }
        line.push(arn);
    }
    let before = line.len().checked_sub(2)?;
    Some(line[before].to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(at: i64, successful: bool, target: &str, sources: &[&str]) -> DeploymentRecord {
        DeploymentRecord {
            created_at: Some(DateTime::from_secs(at)),
            successful,
            target: Some(target.to_owned()),
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Each revision named with the image it runs.
    fn contents(images: &[(&str, &str)]) -> HashMap<String, Value> {
        images
            .iter()
            .map(|(arn, image)| {
                let definition = json!({
                    "family": "shop",
                    "containerDefinitions": [{"name": "web", "image": image}],
                });
                ((*arn).to_owned(), definition)
            })
            .collect()
    }

    fn by_arn(current: &str, records: &[DeploymentRecord]) -> Option<String> {
        previous(current, records, &HashMap::new())
    }

    #[test]
    fn the_source_of_the_deployment_that_brought_the_current_revision() {
        let records = [
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
            record(10, true, "shop:1", &[]),
        ];
        assert_eq!(by_arn("shop:3", &records).as_deref(), Some("shop:2"));
        // Listed in any order.
        let reversed: Vec<_> = records.iter().rev().cloned().collect();
        assert_eq!(by_arn("shop:3", &reversed).as_deref(), Some("shop:2"));
        // Only the newest deployment is known: its source.
        assert_eq!(by_arn("shop:3", &records[..1]).as_deref(), Some("shop:2"));
    }

    #[test]
    fn after_a_rollback_the_revision_before_the_one_rolled_back_to() {
        // shop:3 failed and rolled back: the service runs shop:2 again.
        let records = [
            record(30, false, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(by_arn("shop:2", &records).as_deref(), Some("shop:1"));
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
        assert_eq!(by_arn("shop:2", &records).as_deref(), Some("shop:1"));
    }

    #[test]
    fn a_copy_counts_as_its_source() {
        // 1 → 2 → 3 → 4; shop:3 was deregistered, so going back to it
        // registered shop:5, a copy: the next step back is shop:2, never
        // shop:4, which is newer only by number.
        let contents = contents(&[
            ("shop:1", "a"),
            ("shop:2", "b"),
            ("shop:3", "c"),
            ("shop:4", "d"),
            ("shop:5", "c"),
        ]);
        let mut records = vec![
            record(50, true, "shop:5", &["shop:4"]),
            record(40, true, "shop:4", &["shop:3"]),
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(
            previous("shop:5", &records, &contents).as_deref(),
            Some("shop:2")
        );
        records.insert(0, record(60, true, "shop:2", &["shop:5"]));
        assert_eq!(
            previous("shop:2", &records, &contents).as_deref(),
            Some("shop:1")
        );
    }

    #[test]
    fn a_revision_identical_to_the_current_one_is_passed_over() {
        // The same job ran twice: shop:3 holds what shop:2 holds.
        let contents = contents(&[("shop:1", "a"), ("shop:2", "b"), ("shop:3", "b")]);
        let records = [
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(
            previous("shop:3", &records, &contents).as_deref(),
            Some("shop:1")
        );
        // With shop:1 gone from the records too, there is nothing before.
        assert_eq!(previous("shop:3", &records[..1], &contents), None);
    }

    #[test]
    fn a_revision_deployed_again_after_a_rollback_is_back_in_the_line() {
        // shop:3 was rolled back from, then deployed again on purpose.
        let records = [
            record(50, true, "shop:3", &["shop:2"]),
            record(40, true, "shop:2", &["shop:3"]),
            record(30, true, "shop:3", &["shop:2"]),
            record(20, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(by_arn("shop:3", &records).as_deref(), Some("shop:2"));
    }

    #[test]
    fn without_a_source_the_newest_older_successful_target() {
        let records = [
            record(30, true, "shop:3", &[]),
            record(25, false, "shop:9", &[]),
            record(20, true, "shop:3", &[]),
            record(10, true, "shop:1", &[]),
        ];
        assert_eq!(by_arn("shop:3", &records).as_deref(), Some("shop:1"));
        // The record that brought it is gone: the newest other target.
        assert_eq!(by_arn("shop:4", &records[..2]).as_deref(), Some("shop:3"));
    }

    #[test]
    fn a_service_with_no_earlier_revision_has_none() {
        assert_eq!(by_arn("shop:1", &[record(10, true, "shop:1", &[])]), None);
        assert_eq!(by_arn("shop:1", &[]), None);
    }

    #[test]
    fn the_revisions_to_compare_are_those_of_successful_deployments() {
        let records = [
            record(30, false, "shop:9", &["shop:3"]),
            record(20, true, "shop:3", &["shop:2", "shop:1"]),
            record(10, true, "shop:2", &["shop:1"]),
        ];
        assert_eq!(named(&records), ["shop:1", "shop:2", "shop:3"]);
    }
}
