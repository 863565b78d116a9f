//! AWS Systems Manager Parameter Store: parameters kept per region, read
//! by name or ARN with GetParameters.

use std::time::Duration;

use serde_json::{json, Value};

use crate::aws::{fnv1a, str_list, AwsError, AwsResult};
use crate::scenario::{Scenario, SsmParameterType};
use crate::world::World;

/// GetParameters reads at most this many names at once.
const MAX_NAMES: usize = 10;

#[derive(Default)]
pub(crate) struct SsmState {
    parameters: Vec<Parameter>,
}

struct Parameter {
    region: String,
    name: String,
    arn: String,
    parameter_type: SsmParameterType,
    value: String,
}

pub(crate) fn setup(world: &mut World, scenario: &Scenario) {
    for setup in &scenario.ssm_parameters {
        let region = setup.region.clone().unwrap_or_else(|| world.region.clone());
        // A hierarchy name keeps its leading slash; a plain one gains one.
        let path = setup.name.strip_prefix('/').unwrap_or(&setup.name);
        let arn = world.arn_in(&region, "ssm", &format!("parameter/{path}"));
        let parameter = Parameter {
            region,
            name: setup.name.clone(),
            arn,
            parameter_type: setup.parameter_type,
            value: setup.value.clone(),
        };
        world.ssm.parameters.push(parameter);
    }
}

pub(crate) fn handle(
    world: &mut World,
    operation: &str,
    body: &Value,
    region: &str,
) -> Option<AwsResult> {
    let result = match operation {
        "GetParameters" => get_parameters(world, body, region),
        _ => return None,
    };
    Some(result)
}

/// The parameters found, and the names (as given) of those that were not.
fn get_parameters(world: &mut World, body: &Value, region: &str) -> AwsResult {
    let names = str_list(body, "Names");
    let length_problem = match names.len() {
        0 => Some("greater than or equal to 1"),
        count if count > MAX_NAMES => Some("less than or equal to 10"),
        _ => None,
    };
    if let Some(constraint) = length_problem {
        return Err(AwsError::client(
            "ValidationException",
            format!(
                "1 validation error detected: Value '[{}]' at 'names' failed to satisfy constraint: Member must have length {constraint}",
                names.join(", ")
            ),
        ));
    }
    let decrypt = body
        .get("WithDecryption")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let modified = world.epoch(Duration::ZERO);
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    for name in &names {
        let parameter = world
            .ssm
            .parameters
            .iter()
            .find(|p| p.region == region && (p.name == *name || p.arn == *name));
        match parameter {
            Some(parameter) => found.push(json!({
                "Name": parameter.name,
                "Type": parameter.parameter_type.as_str(),
                "Value": shown_value(parameter, decrypt),
                "Version": 1,
                "LastModifiedDate": modified,
                "ARN": parameter.arn,
                "DataType": "text",
            })),
            None => invalid.push(name.clone()),
        }
    }
    Ok(json!({ "Parameters": found, "InvalidParameters": invalid }))
}

/// A SecureString read without decryption shows an opaque stand-in for
/// its ciphertext, never the value.
fn shown_value(parameter: &Parameter, decrypt: bool) -> String {
    if parameter.parameter_type == SsmParameterType::SecureString && !decrypt {
        let sealed = fnv1a(parameter.arn.as_bytes());
        format!("AQICAHh{sealed:016x}")
    } else {
        parameter.value.clone()
    }
}
