//! AWS Secrets Manager: secrets kept per region, described by name, full
//! ARN or partial ARN (DescribeSecret). Their values are never stored.

use std::time::Duration;

use serde_json::{json, Value};

use crate::aws::{fnv1a, object, AwsError, AwsResult};
use crate::scenario::Scenario;
use crate::world::{str_field, World};

/// The characters of the suffix Secrets Manager appends to a secret's name
/// in its ARN.
const SUFFIX_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SUFFIX_LENGTH: usize = 6;

#[derive(Default)]
pub(crate) struct SecretsState {
    secrets: Vec<Secret>,
}

struct Secret {
    region: String,
    name: String,
    arn: String,
    description: Option<String>,
    /// The one version, labelled AWSCURRENT.
    version_id: String,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) -> anyhow::Result<()> {
    for setup in &scenario.secrets {
        let suffix = setup
            .suffix
            .clone()
            .unwrap_or_else(|| suffix_of(&setup.name));
        let well_formed = suffix.len() == SUFFIX_LENGTH
            && suffix.bytes().all(|byte| SUFFIX_ALPHABET.contains(&byte));
        if !well_formed {
            anyhow::bail!(
                "secret {}: suffix {suffix} is not six letters and digits",
                setup.name
            );
        }
        let region = setup.region.clone().unwrap_or_else(|| world.region.clone());
        let arn = world.arn_in(
            &region,
            "secretsmanager",
            &format!("secret:{}-{suffix}", setup.name),
        );
        let secret = Secret {
            region,
            name: setup.name.clone(),
            arn,
            description: setup.description.clone(),
            version_id: world.uuid(),
        };
        world.secrets.secrets.push(secret);
    }
    Ok(())
}

/// A suffix that stays the same from run to run.
fn suffix_of(name: &str) -> String {
    let mut hash = fnv1a(name.as_bytes());
    (0..SUFFIX_LENGTH)
        .map(|_| {
            let letter = SUFFIX_ALPHABET[(hash % SUFFIX_ALPHABET.len() as u64) as usize];
            hash /= SUFFIX_ALPHABET.len() as u64;
            char::from(letter)
        })
        .collect()
}

pub(crate) fn handle(
    world: &mut World,
    operation: &str,
    body: &Value,
    region: &str,
) -> Option<AwsResult> {
    let result = match operation {
        "DescribeSecret" => describe_secret(world, body, region),
        _ => return None,
    };
    Some(result)
}

impl Secret {
    /// Whether `id` names the secret: its name, its ARN, or its ARN
    /// without the suffix (a partial ARN).
    fn is_named_by(&self, id: &str) -> bool {
        let partial_arn = &self.arn[..self.arn.len() - SUFFIX_LENGTH - 1];
        id == self.name || id == self.arn || id == partial_arn
    }
}

fn describe_secret(world: &mut World, body: &Value, region: &str) -> AwsResult {
    let id = str_field(body, "SecretId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            AwsError::client("InvalidParameterException", "You must specify a SecretId.")
        })?;
    let secret = world
        .secrets
        .secrets
        .iter()
        .find(|secret| secret.region == region && secret.is_named_by(id))
        .ok_or_else(|| {
            AwsError::client(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            )
        })?;
    let created = world.epoch(Duration::ZERO);
    Ok(object(vec![
        ("ARN", json!(secret.arn)),
        ("Name", json!(secret.name)),
        ("Description", json!(secret.description)),
        ("LastChangedDate", json!(created)),
        (
            "VersionIdsToStages",
            json!({ &secret.version_id: ["AWSCURRENT"] }),
        ),
        ("CreatedDate", json!(created)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_six_character_suffixes_from_names() {
        let suffix = suffix_of("prod/db");
        assert_eq!(suffix, suffix_of("prod/db"));
        assert_eq!(suffix.len(), SUFFIX_LENGTH);
        assert!(suffix.bytes().all(|byte| SUFFIX_ALPHABET.contains(&byte)));
        assert_ne!(suffix, suffix_of("prod/api"));
    }
}
