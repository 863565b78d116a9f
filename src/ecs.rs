//! ECS calls. Task definitions travel as raw JSON in both directions: the
//! SDK's typed shapes would drop any field ECS added after this binary was
//! built, so the request body of RegisterTaskDefinition is our JSON and the
//! body of DescribeTaskDefinition is read as JSON, while the SDK still does
//! endpoints, signing and retries.

use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_ecs::types::Service;
use aws_sdk_ecs::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

use crate::aws::{error_code, error_text};
use crate::render::family;

/// Keeps the raw body of the last response of one call.
#[derive(Debug, Clone, Default)]
struct ResponseBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for ResponseBody {
    fn name(&self) -> &'static str {
        "ResponseBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        *self.0.lock().expect("not poisoned") =
            context.response().body().bytes().map(<[u8]>::to_vec);
        Ok(())
    }
}

impl ResponseBody {
    fn json(&self) -> Result<Value> {
        let body = self.0.lock().expect("not poisoned").take();
        let body = body.ok_or_else(|| anyhow!("the response had no body"))?;
        serde_json::from_slice(&body).context("the response is not JSON")
    }
}

/// The described definition with its tags, as `aws ecs describe-task-definition` prints it.
pub async fn describe_task_definition(ecs: &Client, id: &str) -> Result<Value> {
    let body = ResponseBody::default();
    ecs.describe_task_definition()
        .task_definition(id)
        .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
        .customize()
        .interceptor(body.clone())
        .send()
        .await
        .map_err(|e| {
            let hint = match error_code(&e) {
                Some("ClientException") => {
                    "check the family or ARN, the revision, and that AWS_REGION is the task definition's region"
                }
                Some("AccessDeniedException") => "allow ecs:DescribeTaskDefinition to the role",
                _ => "check the credentials and region",
            };
            anyhow!("failed to describe task definition {id}: {} ({hint})", error_text(&e))
        })?;
    body.json()
        .with_context(|| format!("failed to read task definition {id}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub arn: String,
    pub family: String,
    pub revision: i32,
}

/// Registers `definition` exactly as given (tags included).
pub async fn register_task_definition(ecs: &Client, definition: &Value) -> Result<Registered> {
    let family = family(definition).to_owned();
    let body = serde_json::to_vec(definition)?;
    let output = ecs
        .register_task_definition()
        .family(&family)
        .customize()
        .mutate_request(move |request| {
            request
                .headers_mut()
                .insert("content-length", body.len().to_string());
            *request.body_mut() = SdkBody::from(body.clone());
        })
        .send()
        .await
        .map_err(|e| {
            let hint = match error_code(&e) {
                Some("AccessDeniedException") => {
                    "allow ecs:RegisterTaskDefinition and ecs:TagResource, and iam:PassRole on the task and execution roles"
                }
                Some("ClientException") | Some("InvalidParameterException") => {
                    "ECS rejected the rendered definition; see the task-definition output for the file sent"
                }
                _ => "check the credentials and region",
            };
            anyhow!("failed to register task definition {family}: {} ({hint})", error_text(&e))
        })?;
    let registered = output
        .task_definition()
        .ok_or_else(|| anyhow!("RegisterTaskDefinition answered without a task definition"))?;
    Ok(Registered {
        arn: registered
            .task_definition_arn()
            .unwrap_or_default()
            .to_owned(),
        family: registered.family().unwrap_or(&family).to_owned(),
        revision: registered.revision(),
    })
}

pub async fn describe_service(ecs: &Client, cluster: &str, service: &str) -> Result<Service> {
    let output = ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| {
            let hint = match error_code(&e) {
                Some("ClusterNotFoundException") => "check the cluster input and the region",
                Some("AccessDeniedException") => "allow ecs:DescribeServices to the role",
                _ => "check the credentials and region",
            };
            anyhow!(
                "failed to describe service {service} in cluster {cluster}: {} ({hint})",
                error_text(&e)
            )
        })?;
    if let Some(failure) = output.failures().first() {
        bail!(
            "service {service} was not found in cluster {cluster} ({}); check the service and cluster inputs",
            failure.reason().unwrap_or("no reason given")
        );
    }
    output
        .services()
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("service {service} was not found in cluster {cluster}"))
}
