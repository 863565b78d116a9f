//! Raw JSON across the SDK: where the typed shapes would drop what this
//! build does not know (fields ECS, EventBridge or Scheduler added later, a
//! user's JSON passed through), the request body is set as JSON and the
//! answer read as JSON, while the SDK still does endpoints, signing and
//! retries.

use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::Value;

/// Keeps the raw body of the last response of one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseBody(Arc<Mutex<Option<Vec<u8>>>>);

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
    pub(crate) fn json(&self) -> Result<Value> {
        let body = self.0.lock().expect("not poisoned").take();
        let body = body.ok_or_else(|| anyhow!("the response had no body"))?;
        serde_json::from_slice(&body).context("the response is not JSON")
    }
}

/// A request mutation that sets `fields` in the JSON body as given: values
/// the SDK's typed shapes would drop (keys newer than this build, a user's
/// JSON passed through) reach ECS unchanged.
pub(crate) fn set_body_fields<K: AsRef<str> + Send + Sync + 'static>(
    fields: Vec<(K, Value)>,
) -> impl Fn(&mut aws_smithy_runtime_api::http::Request) + Send + Sync + 'static {
    move |request| {
        let Some(bytes) = request.body().bytes() else {
            return;
        };
        let Ok(mut body) = serde_json::from_slice::<Value>(bytes) else {
            return;
        };
        for (key, value) in &fields {
            body[key.as_ref()] = value.clone();
        }
        replace_body(request, serde_json::to_vec(&body).expect("JSON serializes"));
    }
}

/// Sends `bytes` as the request's body.
pub(crate) fn replace_body(request: &mut aws_smithy_runtime_api::http::Request, bytes: Vec<u8>) {
    request
        .headers_mut()
        .insert("content-length", bytes.len().to_string());
    *request.body_mut() = SdkBody::from(bytes);
}
