//! The awsJson1.1 protocol shared by ECS, CodeDeploy, CloudWatch Logs, ECR,
//! Secrets Manager, Systems Manager and EventBridge: operations are named
//! by the X-Amz-Target header and errors carry `__type` and a message.
//! Also what every AWS request carries (its SigV4 credential scope) and
//! list pages.

use serde_json::{Map, Value};

use crate::world::{str_field, World};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A 400 error, the status of every awsJson client error.
    pub(crate) fn client(code: &str, message: impl Into<String>) -> AwsError {
        AwsError::new(400, code, message)
    }

    /// The error document, its message under the member name the service's
    /// model gives its errors.
    pub(crate) fn body(&self, service: &str) -> Value {
        let message_member = if capitalizes_message(service, &self.code) {
            "Message"
        } else {
            "message"
        };
        serde_json::json!({ "__type": self.code, message_member: self.message })
    }
}

/// Secrets Manager models every error's message as `Message`; Systems
/// Manager those of its errors shared with other services.
fn capitalizes_message(service: &str, code: &str) -> bool {
    match service {
        "secretsmanager" => true,
        "ssm" => matches!(
            code,
            "AccessDeniedException"
                | "ResourceNotFoundException"
                | "ThrottlingException"
                | "ValidationException"
        ),
        _ => false,
    }
}

pub(crate) type AwsResult = Result<Value, AwsError>;

/// The service owning an X-Amz-Target prefix, as named in `Call::service`.
pub(crate) fn service_of_target(target: &str) -> Option<(&'static str, &str)> {
    let (prefix, operation) = target.split_once('.')?;
    let service = match prefix {
        "AmazonEC2ContainerServiceV20141113" => "ecs",
        "CodeDeploy_20141006" => "codedeploy",
        "Logs_20140328" => "logs",
        "AmazonEC2ContainerRegistry_V20150921" => "ecr",
        "secretsmanager" => "secretsmanager",
        "AmazonSSM" => "ssm",
        "AWSEvents" => "events",
        _ => return None,
    };
    Some((service, operation))
}

/// What a request's SigV4 credential scope names, from its Authorization
/// header (`Credential=AKID/20261129/<region>/<service>/aws4_request`).
#[derive(Debug, PartialEq)]
pub(crate) struct CredentialScope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

pub(crate) fn credential_scope(authorization: &str) -> Option<CredentialScope<'_>> {
    let credential = authorization.split_once("Credential=")?.1;
    let credential = credential.split([',', ' ']).next()?;
    let mut parts = credential.split('/').skip(2);
    let (region, service) = (parts.next()?, parts.next()?);
    (!region.is_empty() && !service.is_empty()).then_some(CredentialScope { region, service })
}

/// Answers an awsJson request. `region` is the one the request was signed
/// for, which the services that keep resources per region (ECR, Secrets
/// Manager, Systems Manager) look in.
pub(crate) fn dispatch(
    world: &mut World,
    service: &str,
    operation: &str,
    body: &Value,
    region: &str,
) -> AwsResult {
    let handled = match service {
        "ecs" => crate::ecs::handle(world, operation, body),
        "codedeploy" => crate::codedeploy::handle(world, operation, body),
        "logs" => crate::logs::handle(world, operation, body),
        "ecr" => crate::ecr::handle(world, operation, body, region),
        "secretsmanager" => crate::secretsmanager::handle(world, operation, body, region),
        "ssm" => crate::ssm::handle(world, operation, body, region),
        "events" => crate::events::handle(world, operation, body),
        _ => None,
    };
    handled.unwrap_or_else(|| {
        Err(AwsError::client(
            "UnknownOperationException",
            format!("The simulator does not implement {service} {operation}."),
        ))
    })
}

/// A required string member of a request.
pub(crate) fn required_str<'a>(body: &'a Value, key: &str) -> Result<&'a str, AwsError> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            AwsError::client(
                "InvalidParameterException",
                format!("{key} must be specified."),
            )
        })
}

/// A list-of-strings member of a request; absent is empty.
pub(crate) fn str_list(body: &Value, key: &str) -> Vec<String> {
    body.get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Builds a JSON object, leaving out members whose value is null, as AWS
/// omits unset members.
pub(crate) fn object(members: Vec<(&str, Value)>) -> Value {
    let map: Map<String, Value> = members
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    Value::Object(map)
}

/// How a list operation pages: the request members naming the page size
/// and the token, the sizes it allows, and the error a bad one is.
pub(crate) struct Paging {
    pub size_member: &'static str,
    pub token_member: &'static str,
    pub default_size: usize,
    pub max_size: usize,
    pub error_code: &'static str,
}

impl Paging {
    /// The page of `items` the request asks for, from where its token
    /// says, and the token of the next page when more follow. Tokens are
    /// the position of the next item: AWS's are opaque too.
    pub(crate) fn page<'a, T>(
        &self,
        body: &Value,
        items: &'a [T],
    ) -> Result<(&'a [T], Option<String>), AwsError> {
        let size = match body.get(self.size_member) {
            None | Some(Value::Null) => self.default_size,
            Some(requested) => requested
                .as_u64()
                .and_then(|size| usize::try_from(size).ok())
                .filter(|size| (1..=self.max_size).contains(size))
                .ok_or_else(|| {
                    AwsError::client(
                        self.error_code,
                        format!(
                            "{} must be between 1 and {}.",
                            self.size_member, self.max_size
                        ),
                    )
                })?,
        };
        let start = match str_field(body, self.token_member) {
            Some(token) => usize::from_str_radix(token, 16)
                .map_err(|_| {
                    AwsError::client(
                        self.error_code,
                        format!("The specified {} is invalid.", self.token_member),
                    )
                })?
                .min(items.len()),
            None => 0,
        };
        let end = start.saturating_add(size).min(items.len());
        let next_token = (end < items.len()).then(|| format!("{end:016x}"));
        Ok((&items[start..end], next_token))
    }
}

/// 64-bit FNV-1a: the seed of the simulator's deterministic digests,
/// suffixes and tags, which clients only compare.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_region_and_service_of_the_credential_scope() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000000/20261129/eu-west-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            credential_scope(header),
            Some(CredentialScope {
                region: "eu-west-1",
                service: "ecr"
            })
        );
        assert_eq!(credential_scope("Bearer token"), None);
        assert_eq!(
            credential_scope("AWS4-HMAC-SHA256 Credential=AKID/20261129"),
            None
        );
    }

    #[test]
    fn names_the_message_as_each_service_models_it() {
        let error = AwsError::client("ResourceNotFoundException", "gone");
        assert_eq!(error.body("secretsmanager")["Message"], "gone");
        assert_eq!(error.body("ecs")["message"], "gone");
        assert_eq!(error.body("ssm")["Message"], "gone");
        let ssm_own = AwsError::client("InvalidKeyId", "bad key");
        assert_eq!(ssm_own.body("ssm")["message"], "bad key");
    }
}
