//! The preflight: after rendering and before the first call that changes
//! anything, every image, secret, parameter, log group and environment file
//! that the rendered definitions need is looked up, all at once. What does
//! not exist stops the run with every problem named; a lookup the role may
//! not make is a warning, so that a deploy role without read permissions
//! still deploys. Values are never read: DescribeSecret and GetParameters
//! without decryption say whether a secret exists, not what it holds.

mod event;
pub(crate) mod references;
pub(crate) mod verdict;

pub(crate) use event::Event;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Result};
use futures::{stream, StreamExt};
use serde_json::Value;

use crate::aws::ecr::image_lookup;
use crate::aws::logs::log_group_lookup;
use crate::aws::s3::object_lookup;
use crate::aws::secretsmanager::secret_lookup;
use crate::aws::ssm::{parameters_lookup, PARAMETERS_PER_CALL};
use crate::aws::{Aws, LazyAws, CONCURRENT_CALLS};
use crate::event::Sink;
use references::{Needed, Reference};
use verdict::Lookup;

/// Checks what `definitions` need; an error listing every problem when
/// something does not exist. A dry run without a region or credentials
/// still shows what it would do, with nothing checked.
pub(crate) async fn check(
    aws: &LazyAws,
    sink: &dyn Sink,
    definitions: &[&Value],
    dry_run: bool,
) -> Result<()> {
    let mut all: Vec<Reference> = Vec::new();
    let mut outside_ecr = BTreeSet::new();
    for definition in definitions {
        let (found, others) = references::references(definition);
        all.extend(found);
        outside_ecr.extend(others);
    }
    if !outside_ecr.is_empty() {
        sink.emit(
            Event::OutsideEcr {
                images: outside_ecr.into_iter().collect(),
            }
            .into(),
        );
    }
    if all.is_empty() {
        return Ok(());
    }
    let needed: BTreeSet<Needed> = all.iter().map(|r| r.needed.clone()).collect();
    let lookups = match aws.get().await {
        Ok(aws) => look_up(aws, &needed).await,
        Err(error) if dry_run => {
            sink.emit(
                Event::CheckedNothing {
                    why: format!("{error:#}"),
                }
                .into(),
            );
            HashMap::new()
        }
        Err(error) => return Err(error),
    };
    let findings = verdict::judge(&all, &lookups);
    for warning in findings.warnings {
        sink.emit(Event::Unsure { warning }.into());
    }
    sink.emit(
        Event::Tallied {
            tally: verdict::tally(&needed, &lookups),
        }
        .into(),
    );
    if findings.problems.is_empty() {
        return Ok(());
    }
    bail!(
        "the preflight found {} before anything changed:\n{}",
        verdict::problems_counted(findings.problems.len()),
        findings.problems.join("\n")
    )
}

/// Every needed thing looked up, each kind at most `CONCURRENT_CALLS` calls
/// at once and all kinds at the same time.
async fn look_up(aws: &Aws, needed: &BTreeSet<Needed>) -> HashMap<Needed, Lookup> {
    let mut images = Vec::new();
    let mut secrets = Vec::new();
    let mut parameters: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    let mut log_groups = Vec::new();
    let mut files = Vec::new();
    for thing in needed {
        match thing {
            Needed::Image(image) => images.push(image),
            Needed::Secret { arn, region } => secrets.push((arn, region)),
            Needed::Parameter { name, region } => {
                parameters.entry(region.as_deref()).or_default().push(name)
            }
            Needed::LogGroup { name, region } => log_groups.push((name, region)),
            Needed::EnvironmentFile { bucket, key } => files.push((bucket, key)),
        }
    }
    let batches: Vec<(Option<&str>, &[&str])> = parameters
        .iter()
        .flat_map(|(region, names)| {
            names
                .chunks(PARAMETERS_PER_CALL)
                .map(move |chunk| (*region, chunk))
        })
        .collect();
    let (images, secrets, parameters, log_groups, files) = futures::join!(
        all(images.into_iter().map(|image| async move {
            vec![(Needed::Image(image.clone()), image_lookup(aws, image).await)]
        })),
        all(secrets.into_iter().map(|(arn, region)| async move {
            vec![(
                Needed::Secret {
                    arn: arn.clone(),
                    region: region.clone(),
                },
                secret_lookup(aws, arn, region.as_deref()).await,
            )]
        })),
        all(batches.into_iter().map(|(region, names)| async move {
            parameters_lookup(aws, region, names)
                .await
                .into_iter()
                .map(|(name, lookup)| {
                    let needed = Needed::Parameter {
                        name: name.to_owned(),
                        region: region.map(str::to_owned),
                    };
                    (needed, lookup)
                })
                .collect()
        })),
        all(log_groups.into_iter().map(|(name, region)| async move {
            vec![(
                Needed::LogGroup {
                    name: name.clone(),
                    region: region.clone(),
                },
                log_group_lookup(aws, name, region.as_deref()).await,
            )]
        })),
        all(files.into_iter().map(|(bucket, key)| async move {
            vec![(
                Needed::EnvironmentFile {
                    bucket: bucket.clone(),
                    key: key.clone(),
                },
                object_lookup(&aws.s3, bucket, key).await,
            )]
        })),
    );
    images
        .into_iter()
        .chain(secrets)
        .chain(parameters)
        .chain(log_groups)
        .chain(files)
        .collect()
}

async fn all<F>(lookups: impl Iterator<Item = F>) -> Vec<(Needed, Lookup)>
where
    F: std::future::Future<Output = Vec<(Needed, Lookup)>>,
{
    stream::iter(lookups)
        .buffer_unordered(CONCURRENT_CALLS)
        .flat_map(stream::iter)
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Recorder;
    use ecs_deploy_sim::{Scenario, Sim};
    use serde_json::json;

    /// The repository holds shop:v1 only; the parameter may not be read.
    const SCENARIO: &str = r#"
ecrRepositories:
  - name: shop
    images: [{tags: [v1]}]
ssmParameters:
  - {name: /shop/api-key}
faults:
  - {service: ssm, operation: GetParameters, kind: accessDenied}
"#;

    async fn check_web(image_tag: &str) -> (Result<()>, Vec<Event>) {
        let sim = Sim::start(Scenario::from_yaml(SCENARIO).unwrap()).unwrap();
        let aws = LazyAws::loaded_with(Aws::of_sim(&sim).await);
        let definition = json!({
            "family": "shop",
            "containerDefinitions": [
                {
                    "name": "web",
                    "image": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:{image_tag}"),
                    "secrets": [{"name": "API_KEY", "valueFrom": "/shop/api-key"}]
                },
                {"name": "proxy", "image": "docker.io/library/nginx:1.27"}
            ]
        });
        let recorder = Recorder::default();
        let result = check(&aws, &recorder, &[&definition], false).await;
        (result, recorder.step_events())
    }

    #[tokio::test]
    async fn what_exists_passes_and_a_refused_lookup_is_a_warning() {
        let (result, events) = check_web("v1").await;
        result.unwrap();
        assert_eq!(
            events,
            [
                Event::OutsideEcr {
                    images: vec!["docker.io/library/nginx:1.27".into()]
                },
                Event::Unsure {
                    warning: "preflight skipped 1 check: the role may not call ssm:GetParameters (AccessDenied); allow it to have them checked before anything changes".into()
                },
                Event::Tallied {
                    tally: "Preflight: 1 image present; 1 secret or parameter not checked (see the warnings above)".into()
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_missing_image_stops_the_run_with_the_recent_tags() {
        let (result, events) = check_web("v2").await;
        assert_eq!(
            format!("{:#}", result.unwrap_err()),
            "the preflight found 1 problem before anything changed:\ncontainer web, image: image 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2 does not exist: repository shop has no tag v2; its most recent tags: v1"
        );
        assert!(matches!(events.last(), Some(Event::Tallied { .. })));
    }
}
