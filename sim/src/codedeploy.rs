//! AWS CodeDeploy for the ECS compute platform.

use serde_json::Value;

use crate::aws::AwsResult;
use crate::scenario::Scenario;
use crate::world::World;

#[derive(Default)]
pub(crate) struct CodeDeployState {}

pub(crate) fn setup(_world: &mut World, _scenario: &Scenario) -> anyhow::Result<()> {
    Ok(())
}

pub(crate) fn handle(_world: &mut World, _operation: &str, _body: &Value) -> Option<AwsResult> {
    None
}

pub(crate) fn step(_world: &mut World, _deployment: usize) {}
