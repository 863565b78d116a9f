//! The awsJson1.1 protocol shared by ECS, CodeDeploy and CloudWatch Logs:
//! operations are named by the X-Amz-Target header and errors carry
//! `__type` and `message`.

use serde_json::{Map, Value};

use crate::world::World;

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

    /// A 400 error, the status of every ECS, CodeDeploy and Logs client error.
    pub(crate) fn client(code: &str, message: impl Into<String>) -> AwsError {
        AwsError::new(400, code, message)
    }

    pub(crate) fn body(&self) -> Value {
        serde_json::json!({ "__type": self.code, "message": self.message })
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
        _ => return None,
    };
    Some((service, operation))
}

pub(crate) fn dispatch(
    world: &mut World,
    service: &str,
    operation: &str,
    body: &Value,
) -> AwsResult {
    let handled = match service {
        "ecs" => crate::ecs::handle(world, operation, body),
        "codedeploy" => crate::codedeploy::handle(world, operation, body),
        "logs" => crate::logs::handle(world, operation, body),
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
