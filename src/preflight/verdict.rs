//! The preflight's verdict: from what each lookup found to the problems that
//! stop the run and the warnings that do not. Pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::references::{ImageId, Needed, Reference};

/// What AWS said about one needed thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found,
    Missing,
    /// An ECR image missing from a repository that exists, with the
    /// repository's most recent tags, newest first.
    ImageMissing {
        recent_tags: Vec<String>,
    },
    RepositoryMissing,
    /// The role may not look: the check is skipped, never failed.
    Denied {
        permission: &'static str,
    },
    /// The lookup itself failed (after retries): the check is skipped.
    Failed(String),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Findings {
    /// What does not exist, each naming its container: the run stops.
    pub(crate) problems: Vec<String>,
    pub(crate) warnings: Vec<String>,
}

/// Tags listed when an image is missing.
pub(crate) const RECENT_TAGS: usize = 5;

pub(crate) fn judge(references: &[Reference], lookups: &HashMap<Needed, Lookup>) -> Findings {
    let mut findings = Findings::default();
    let mut denied: BTreeMap<&str, usize> = BTreeMap::new();
    for reference in references {
        let Some(lookup) = lookups.get(&reference.needed) else {
            continue;
        };
        let container = &reference.container;
        let role = &reference.role;
        let what = describe(&reference.needed);
        let problem = match lookup {
            Lookup::Found => None,
            Lookup::Denied { permission } => {
                *denied.entry(permission).or_default() += 1;
                None
            }
            Lookup::Failed(error) => {
                findings.warnings.push(format!(
                    "preflight could not check the {role} of container {container} ({what}): {error}"
                ));
                None
            }
            Lookup::Missing => Some(format!("{what} does not exist")),
            Lookup::RepositoryMissing => match &reference.needed {
                Needed::Image(image) => Some(format!(
                    "{what}: repository {} does not exist in registry {} ({})",
                    image.repository, image.registry, image.region
                )),
                _ => Some(format!("{what} does not exist")),
            },
            Lookup::ImageMissing { recent_tags } => {
                let missing = match &reference.needed {
                    Needed::Image(image) => match &image.id {
                        ImageId::Tag(tag) => {
                            format!("repository {} has no tag {tag}", image.repository)
                        }
                        ImageId::Digest(digest) => {
                            format!("repository {} has no image {digest}", image.repository)
                        }
                    },
                    _ => String::new(),
                };
                let recent = if recent_tags.is_empty() {
                    "it has no tagged images".to_owned()
                } else {
                    format!("its most recent tags: {}", recent_tags.join(", "))
                };
                Some(format!("{what} does not exist: {missing}; {recent}"))
            }
        };
        if let Some(problem) = problem {
            findings
                .problems
                .push(format!("container {container}, {role}: {problem}"));
        }
    }
    for (permission, count) in denied {
        let checks = if count == 1 { "check" } else { "checks" };
        findings.warnings.push(format!(
            "preflight skipped {count} {checks}: the role may not call {permission} (AccessDenied); allow it to have them checked before anything changes"
        ));
    }
    findings
}

/// The preflight's line: what was found, what is missing and what could not
/// be checked, each counted by kind; "all present" only when every check
/// was made and found what it looked for.
pub(crate) fn tally(needed: &BTreeSet<Needed>, lookups: &HashMap<Needed, Lookup>) -> String {
    let (mut present, mut missing, mut unchecked) = (Vec::new(), Vec::new(), Vec::new());
    for thing in needed {
        match lookups.get(thing) {
            Some(Lookup::Found) => present.push(thing),
            Some(Lookup::Missing | Lookup::ImageMissing { .. } | Lookup::RepositoryMissing) => {
                missing.push(thing)
            }
            Some(Lookup::Denied { .. } | Lookup::Failed(_)) | None => unchecked.push(thing),
        }
    }
    if missing.is_empty() && unchecked.is_empty() {
        return format!("Preflight: {} checked, all present", counted(present));
    }
    let parts: Vec<String> = [
        (present, "present"),
        (missing, "missing"),
        (unchecked, "not checked (see the warnings above)"),
    ]
    .into_iter()
    .filter(|(things, _)| !things.is_empty())
    .map(|(things, state)| format!("{} {state}", counted(things)))
    .collect();
    format!("Preflight: {}", parts.join("; "))
}

/// `2 images, 1 secret or parameter, 1 log group`: what was checked.
fn counted<'a>(needed: impl IntoIterator<Item = &'a Needed>) -> String {
    let mut counts = [0usize; 4];
    for thing in needed {
        counts[match thing {
            Needed::Image(_) => 0,
            Needed::Secret { .. } | Needed::Parameter { .. } => 1,
            Needed::LogGroup { .. } => 2,
            Needed::EnvironmentFile { .. } => 3,
        }] += 1;
    }
    let names = [
        ("image", "images"),
        ("secret or parameter", "secrets and parameters"),
        ("log group", "log groups"),
        ("environment file", "environment files"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .zip(names)
        .filter(|(count, _)| **count > 0)
        .map(|(count, (one, many))| format!("{count} {}", if *count == 1 { one } else { many }))
        .collect();
    parts.join(", ")
}

pub(crate) fn problems_counted(count: usize) -> String {
    match count {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

/// The needed thing as the problem names it.
fn describe(needed: &Needed) -> String {
    let in_region = |region: &Option<String>| match region {
        Some(region) => format!(" in {region}"),
        None => String::new(),
    };
    match needed {
        Needed::Image(image) => format!("image {}", image.uri),
        Needed::Secret { arn, .. } => format!("Secrets Manager secret {arn}"),
        Needed::Parameter { name, region } => {
            format!("SSM parameter {name}{}", in_region(region))
        }
        Needed::LogGroup { name, region } => {
            format!("log group {name}{}", in_region(region))
        }
        Needed::EnvironmentFile { bucket, key } => format!("S3 object s3://{bucket}/{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::references::ecr_image;

    fn reference(container: &str, role: &str, needed: Needed) -> Reference {
        Reference {
            container: container.to_owned(),
            role: role.to_owned(),
            needed,
        }
    }

    #[test]
    fn each_missing_thing_is_a_problem_naming_its_container() {
        let image = Needed::Image(
            ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v9").unwrap(),
        );
        let other = Needed::Image(
            ecr_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/gone:v1").unwrap(),
        );
        let parameter = Needed::Parameter {
            name: "/shop/db".into(),
            region: None,
        };
        let group = Needed::LogGroup {
            name: "/ecs/shop".into(),
            region: Some("eu-west-1".into()),
        };
        let present = Needed::EnvironmentFile {
            bucket: "config".into(),
            key: "shop.env".into(),
        };
        let references = [
            reference("web", "image", image.clone()),
            reference("worker", "image", image.clone()),
            reference("sidecar", "image", other.clone()),
            reference("web", "secret DB_URL", parameter.clone()),
            reference("web", "log group", group.clone()),
            reference("web", "environment file", present.clone()),
        ];
        let lookups = HashMap::from([
            (
                image,
                Lookup::ImageMissing {
                    recent_tags: vec!["v8".into(), "v7".into()],
                },
            ),
            (other, Lookup::RepositoryMissing),
            (parameter, Lookup::Missing),
            (group, Lookup::Missing),
            (present, Lookup::Found),
        ]);
        assert_eq!(
            judge(&references, &lookups),
            Findings {
                problems: vec![
                    "container web, image: image 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v9 does not exist: repository shop has no tag v9; its most recent tags: v8, v7".into(),
                    "container worker, image: image 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v9 does not exist: repository shop has no tag v9; its most recent tags: v8, v7".into(),
                    "container sidecar, image: image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/gone:v1: repository gone does not exist in registry 123456789012 (eu-west-1)".into(),
                    "container web, secret DB_URL: SSM parameter /shop/db does not exist".into(),
                    "container web, log group: log group /ecs/shop in eu-west-1 does not exist".into(),
                ],
                warnings: vec![],
            }
        );
    }

    #[test]
    fn what_was_checked_is_counted_by_kind() {
        let group = |name: &str| Needed::LogGroup {
            name: name.to_owned(),
            region: None,
        };
        let parameter = Needed::Parameter {
            name: "p".into(),
            region: None,
        };
        let image =
            Needed::Image(ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/a").unwrap());
        assert_eq!(
            counted(&[image, parameter, group("a"), group("b")]),
            "1 image, 1 secret or parameter, 2 log groups"
        );
    }

    #[test]
    fn the_line_counts_what_was_found_missing_and_not_checked_apart() {
        let group = |name: &str| Needed::LogGroup {
            name: name.to_owned(),
            region: None,
        };
        let parameter = |name: &str| Needed::Parameter {
            name: name.to_owned(),
            region: None,
        };
        let image =
            Needed::Image(ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/a").unwrap());
        let needed = BTreeSet::from([image.clone(), parameter("p"), parameter("q"), group("g")]);
        let denied = Lookup::Denied {
            permission: "logs:DescribeLogGroups",
        };
        let failed = Lookup::Failed("dispatch failure".into());
        let cases = [
            (
                vec![Lookup::Found, Lookup::Found, Lookup::Found, Lookup::Found],
                "Preflight: 1 image, 2 secrets and parameters, 1 log group checked, all present",
            ),
            (
                vec![Lookup::Found, Lookup::Found, Lookup::Found, denied.clone()],
                "Preflight: 1 image, 2 secrets and parameters present; 1 log group not checked (see the warnings above)",
            ),
            (
                vec![failed.clone(), failed.clone(), failed.clone(), failed],
                "Preflight: 1 image, 2 secrets and parameters, 1 log group not checked (see the warnings above)",
            ),
            (
                vec![Lookup::RepositoryMissing, Lookup::Found, Lookup::Missing, denied],
                "Preflight: 1 secret or parameter present; 1 image, 1 secret or parameter missing; 1 log group not checked (see the warnings above)",
            ),
        ];
        for (found, line) in cases {
            let lookups: HashMap<Needed, Lookup> =
                [image.clone(), parameter("p"), parameter("q"), group("g")]
                    .into_iter()
                    .zip(found)
                    .collect();
            assert_eq!(tally(&needed, &lookups), line);
        }
        assert_eq!(
            tally(&needed, &HashMap::new()),
            "Preflight: 1 image, 2 secrets and parameters, 1 log group not checked (see the warnings above)"
        );
    }

    #[test]
    fn a_check_that_could_not_look_is_a_warning_never_a_problem() {
        let secret = |arn: &str| Needed::Secret {
            arn: arn.to_owned(),
            region: None,
        };
        let references = [
            reference("web", "secret A", secret("a")),
            reference("web", "secret B", secret("b")),
            reference("web", "secret C", secret("c")),
        ];
        let denied = Lookup::Denied {
            permission: "secretsmanager:DescribeSecret",
        };
        let lookups = HashMap::from([
            (secret("a"), denied.clone()),
            (secret("b"), denied),
            (secret("c"), Lookup::Failed("dispatch failure".into())),
        ]);
        assert_eq!(
            judge(&references, &lookups),
            Findings {
                problems: vec![],
                warnings: vec![
                    "preflight could not check the secret C of container web (Secrets Manager secret c): dispatch failure".into(),
                    "preflight skipped 2 checks: the role may not call secretsmanager:DescribeSecret (AccessDenied); allow it to have them checked before anything changes".into(),
                ],
            }
        );
    }
}
