//! What a rendered definition needs to exist before a task can start: its
//! containers' images in Amazon ECR, the secrets and parameters they read,
//! their awslogs groups and their S3 environment files. Pure: read from the
//! definition's JSON.

use serde_json::Value;

/// Something outside the definition that must exist, with the region it is
/// in when its reference names one (None: the run's own region).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Needed {
    Image(EcrImage),
    /// A Secrets Manager secret, by its ARN without the JSON key, version
    /// stage and version id that a `valueFrom` may add.
    Secret {
        arn: String,
        region: Option<String>,
    },
    /// An SSM parameter, by name or ARN as the definition gives it.
    Parameter {
        name: String,
        region: Option<String>,
    },
    LogGroup {
        name: String,
        region: Option<String>,
    },
    EnvironmentFile {
        bucket: String,
        key: String,
    },
}

/// An image in a private ECR registry:
/// `<registry>.dkr.ecr.<region>.amazonaws.com/<repository>[:<tag>|@<digest>]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EcrImage {
    pub(crate) uri: String,
    pub(crate) registry: String,
    pub(crate) region: String,
    pub(crate) repository: String,
    pub(crate) id: ImageId,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ImageId {
    Tag(String),
    Digest(String),
}

/// One reference of one container: what it needs, and how the container
/// refers to it (`secret DB_URL`, `image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) container: String,
    pub(crate) role: String,
    pub(crate) needed: Needed,
}

/// Every reference of every container of `definition`, and the images that
/// are not in a private ECR registry (not checked).
pub(crate) fn references(definition: &Value) -> (Vec<Reference>, Vec<String>) {
    let mut found = Vec::new();
    let mut outside_ecr = Vec::new();
    let containers = definition["containerDefinitions"].as_array();
    for container in containers.into_iter().flatten() {
        let name = container["name"].as_str().unwrap_or("(unnamed)");
        let mut add = |role: String, needed: Needed| {
            found.push(Reference {
                container: name.to_owned(),
                role,
                needed,
            });
        };
        if let Some(image) = container["image"].as_str() {
            match ecr_image(image) {
                Some(image) => add("image".to_owned(), Needed::Image(image)),
                None => outside_ecr.push(image.to_owned()),
            }
        }
        if let Some(arn) = container["repositoryCredentials"]["credentialsParameter"].as_str() {
            add("repository credentials".to_owned(), secret_reference(arn));
        }
        let log = &container["logConfiguration"];
        let secrets = container["secrets"].as_array().into_iter().flatten();
        let log_secrets = log["secretOptions"].as_array().into_iter().flatten();
        for (kind, secret) in secrets
            .map(|s| ("secret", s))
            .chain(log_secrets.map(|s| ("log secret option", s)))
        {
            if let Some(value_from) = secret["valueFrom"].as_str() {
                let name = secret["name"].as_str().unwrap_or("");
                add(format!("{kind} {name}"), secret_reference(value_from));
            }
        }
        let options = &log["options"];
        let option = |key: &str| options[key].as_str();
        if log["logDriver"] == "awslogs" && option("awslogs-create-group") != Some("true") {
            if let Some(group) = option("awslogs-group") {
                add(
                    "log group".to_owned(),
                    Needed::LogGroup {
                        name: group.to_owned(),
                        region: option("awslogs-region").map(str::to_owned),
                    },
                );
            }
        }
        for file in container["environmentFiles"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some((bucket, key)) = file["value"].as_str().and_then(s3_object) {
                add(
                    "environment file".to_owned(),
                    Needed::EnvironmentFile { bucket, key },
                );
            }
        }
    }
    (found, outside_ecr)
}

/// `valueFrom` as ECS reads it: a Secrets Manager ARN, an SSM parameter ARN,
/// or an SSM parameter name in the task's region.
fn secret_reference(reference: &str) -> Needed {
    let parts: Vec<&str> = reference.split(':').collect();
    let region = parts
        .get(3)
        .filter(|r| !r.is_empty())
        .map(|r| (*r).to_owned());
    match parts.as_slice() {
        ["arn", _, "secretsmanager", ..] if parts.len() >= 7 => Needed::Secret {
            arn: parts[..7].join(":"),
            region,
        },
        ["arn", _, "ssm", ..] => Needed::Parameter {
            name: reference.to_owned(),
            region,
        },
        _ => Needed::Parameter {
            name: reference.to_owned(),
            region: None,
        },
    }
}

/// `arn:aws:s3:::bucket/key` as bucket and key.
fn s3_object(arn: &str) -> Option<(String, String)> {
    let path = arn.strip_prefix("arn:")?.split_once(":s3:::")?.1;
    let (bucket, key) = path.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

/// The parts of a private ECR image URI; None for any other registry
/// (Docker Hub, GHCR, ECR Public).
pub(crate) fn ecr_image(uri: &str) -> Option<EcrImage> {
    let (host, path) = uri.split_once('/')?;
    let (registry, rest) = host.split_once(".dkr.")?;
    let rest = rest
        .strip_prefix("ecr.")
        .or_else(|| rest.strip_prefix("ecr-fips."))?;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    let valid = |text: &str| {
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if registry.len() != 12 || !registry.chars().all(|c| c.is_ascii_digit()) || !valid(region) {
        return None;
    }
    let (repository, id) = match path.split_once('@') {
        Some((name, digest)) => {
            // A tag before the digest does not matter: ECS pulls the digest.
            let name = name.rsplit_once(':').map_or(name, |(name, _)| name);
            (name, ImageId::Digest(digest.to_owned()))
        }
        None => match path.rsplit_once(':') {
            Some((name, tag)) => (name, ImageId::Tag(tag.to_owned())),
            None => (path, ImageId::Tag("latest".to_owned())),
        },
    };
    if repository.is_empty() {
        return None;
    }
    Some(EcrImage {
        uri: uri.to_owned(),
        registry: registry.to_owned(),
        region: region.to_owned(),
        repository: repository.to_owned(),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ecr_uris_parse_and_others_are_not_ecr() {
        let image = |uri| ecr_image(uri).map(|i| (i.registry, i.region, i.repository, i.id));
        let tag = |t: &str| ImageId::Tag(t.to_owned());
        let owned = |r: &str, g: &str, n: &str| (r.to_owned(), g.to_owned(), n.to_owned());
        let with = |(r, g, n): (String, String, String), id| Some((r, g, n, id));
        assert_eq!(
            image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop:v2"),
            with(owned("123456789012", "eu-west-1", "team/shop"), tag("v2"))
        );
        assert_eq!(
            image("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop"),
            with(owned("123456789012", "us-east-1", "shop"), tag("latest"))
        );
        assert_eq!(
            image("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1@sha256:abc"),
            with(
                owned("123456789012", "us-east-1", "shop"),
                ImageId::Digest("sha256:abc".to_owned())
            )
        );
        assert_eq!(
            image("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/shop:1"),
            with(owned("123456789012", "us-gov-west-1", "shop"), tag("1"))
        );
        assert_eq!(
            image("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/shop:1"),
            with(owned("123456789012", "cn-north-1", "shop"), tag("1"))
        );
        for other in [
            "shop:1",
            "ghcr.io/acme/shop:1",
            "public.ecr.aws/nginx/nginx:1",
            "localhost:5000/shop:1",
            "12345.dkr.ecr.us-east-1.amazonaws.com/shop:1",
            "123456789012.dkr.ecr.us-east-1.example.com/shop:1",
        ] {
            assert_eq!(ecr_image(other), None, "{other}");
        }
    }

    #[test]
    fn every_reference_of_every_container() {
        let definition = json!({"containerDefinitions": [
            {
                "name": "web",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2",
                "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf"},
                "secrets": [
                    {"name": "DB_URL", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:url::"},
                    {"name": "API_KEY", "valueFrom": "/shop/api-key"},
                    {"name": "TOKEN", "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/token"}
                ],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/shop", "awslogs-region": "eu-west-1"}},
                "environmentFiles": [{"type": "s3", "value": "arn:aws:s3:::config/shop.env"}]
            },
            {
                "name": "router",
                "image": "ghcr.io/acme/router:1",
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/router", "awslogs-create-group": "true"},
                    "secretOptions": [{"name": "token", "valueFrom": "router-token"}]
                }
            }
        ]});
        let (found, outside_ecr) = references(&definition);
        let shown: Vec<(String, String, Needed)> = found
            .into_iter()
            .map(|r| (r.container, r.role, r.needed))
            .collect();
        let web = |role: &str, needed| ("web".to_owned(), role.to_owned(), needed);
        let region = |r: &str| Some(r.to_owned());
        assert_eq!(
            shown,
            [
                web(
                    "image",
                    Needed::Image(
                        ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v2").unwrap()
                    )
                ),
                web(
                    "repository credentials",
                    Needed::Secret {
                        arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf"
                            .into(),
                        region: region("us-east-1")
                    }
                ),
                web(
                    "secret DB_URL",
                    Needed::Secret {
                        arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
                            .into(),
                        region: region("eu-west-1")
                    }
                ),
                web(
                    "secret API_KEY",
                    Needed::Parameter {
                        name: "/shop/api-key".into(),
                        region: None
                    }
                ),
                web(
                    "secret TOKEN",
                    Needed::Parameter {
                        name: "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/token".into(),
                        region: region("eu-west-1")
                    }
                ),
                web(
                    "log group",
                    Needed::LogGroup {
                        name: "/ecs/shop".into(),
                        region: region("eu-west-1")
                    }
                ),
                web(
                    "environment file",
                    Needed::EnvironmentFile {
                        bucket: "config".into(),
                        key: "shop.env".into()
                    }
                ),
                (
                    "router".to_owned(),
                    "log secret option token".to_owned(),
                    Needed::Parameter {
                        name: "router-token".into(),
                        region: None
                    }
                ),
            ]
        );
        assert_eq!(outside_ecr, ["ghcr.io/acme/router:1"]);
    }
}
