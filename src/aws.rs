//! AWS clients, built once and only when a step needs AWS (a dry run of a
//! local file makes no AWS call at all), and AWS errors turned into text a
//! person can act on.

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use tokio::sync::OnceCell;

pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Aws {
    /// Reads region, credentials and endpoints (AWS_ENDPOINT_URL and the
    /// per-service AWS_ENDPOINT_URL_ECS, ...) the way every AWS SDK does.
    async fn load() -> Aws {
        let shared = aws_config::load_from_env().await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&shared),
            s3: aws_sdk_s3::Client::new(&shared),
            logs: aws_sdk_cloudwatchlogs::Client::new(&shared),
        }
    }
}

#[derive(Default)]
pub struct LazyAws(OnceCell<Aws>);

impl LazyAws {
    pub async fn get(&self) -> &Aws {
        self.0.get_or_init(Aws::load).await
    }
}

/// `Code: message` for a service error, the whole cause chain otherwise
/// (no credentials, no region, connection refused, ...).
pub fn error_text<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match error.as_service_error() {
        Some(service) => match (service.code(), service.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => cause_chain(error),
        },
        None => cause_chain(error),
    }
}

/// Each cause's own message, outermost first, without repeats: "dispatch
/// failure: io error: tcp connect error: Connection refused (os error 111)".
fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        cause = current.source();
    }
    parts.join(": ")
}

/// The error code AWS answered with, if it answered.
pub fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
}
