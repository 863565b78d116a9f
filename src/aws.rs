//! AWS clients, built once and only when a step needs AWS (a dry run of a
//! local file makes no AWS call at all), and AWS errors turned into text a
//! person can act on.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use tokio::sync::OnceCell;

/// How many calls of one kind (one per service or per release) are in flight
/// at once: several services' calls overlap instead of queueing, and a burst
/// stays small against ECS's per-account rate limits (a throttled call is
/// retried with backoff like any other).
pub const CONCURRENT_CALLS: usize = 10;

pub struct Aws {
    pub ecs: aws_sdk_ecs::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
}

impl Aws {
    /// Reads region, credentials and endpoints (AWS_ENDPOINT_URL and the
    /// per-service AWS_ENDPOINT_URL_ECS, ...) the way every AWS SDK does.
    /// Throttling and transient errors are retried with exponential backoff
    /// and jitter, `max_retries` times.
    async fn load(max_retries: u32) -> Aws {
        let shared = aws_config::from_env()
            .retry_config(RetryConfig::standard().with_max_attempts(max_retries + 1))
            .load()
            .await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&shared),
            s3: aws_sdk_s3::Client::new(&shared),
            logs: aws_sdk_cloudwatchlogs::Client::new(&shared),
            codedeploy: aws_sdk_codedeploy::Client::new(&shared),
        }
    }
}

pub struct LazyAws {
    clients: OnceCell<Aws>,
    pub max_retries: u32,
}

impl LazyAws {
    pub fn new(max_retries: u32) -> LazyAws {
        LazyAws {
            clients: OnceCell::new(),
            max_retries,
        }
    }

    pub async fn get(&self) -> &Aws {
        self.clients
            .get_or_init(|| Aws::load(self.max_retries))
            .await
    }

    /// The clients if a step has needed them; None means nothing reached AWS.
    pub fn loaded(&self) -> Option<&Aws> {
        self.clients.get()
    }
}

/// Retries off, for calls that change something: whether to repeat one is
/// decided by `call_once`, which checks first.
pub fn no_retries() -> RetryConfig {
    RetryConfig::disabled()
}

/// Runs a call that changes something, at most once in effect. Throttling
/// means it did not happen, so it is repeated; after an ambiguous failure
/// (connection lost, timeout, server error) `took_effect` looks whether it
/// happened anyway before it is repeated.
pub async fn call_once<T, E>(
    max_retries: u32,
    call: impl AsyncFn() -> Result<T, SdkError<E, HttpResponse>>,
    took_effect: impl AsyncFn() -> Option<T>,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if attempt < max_retries && is_throttling(&e) => {}
            Err(e) if attempt < max_retries && is_ambiguous(&e) => {
                if let Some(value) = took_effect().await {
                    return Ok(value);
                }
            }
            Err(e) => return Err(e),
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}

fn is_throttling<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    matches!(
        error_code(error),
        Some(
            "ThrottlingException"
                | "Throttling"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
        )
    )
}

/// The request may have been carried out although no answer says so.
fn is_ambiguous<E>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => service.raw().status().is_server_error(),
        _ => false,
    }
}

/// Exponential from 200 ms, capped at 5 s, with full jitter.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (200u64 << attempt.min(5)).min(5_000);
    Duration::from_millis(fastrand::u64(ceiling / 2..=ceiling))
}

/// `Code: message` for a service error, the whole cause chain otherwise
/// (no credentials, no region, connection refused, ...). Expired
/// credentials, which every call can meet, get their remedy here.
pub fn error_text<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let text = match error.as_service_error() {
        Some(service) => match (service.code(), service.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => cause_chain(error),
        },
        None => cause_chain(error),
    };
    match error_code(error) {
        Some("ExpiredTokenException" | "ExpiredToken" | "RequestExpired") => format!(
            "{text} [the AWS credentials expired during the run: give the role a longer session, e.g. role-duration-seconds of aws-actions/configure-aws-credentials, within the role's maximum session duration]"
        ),
        _ => text,
    }
}

/// Each cause's own message, outermost first, without repeats: "dispatch
/// failure: io error: tcp connect error: Connection refused (os error 111)".
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..10 {
            let wait = backoff(attempt);
            let ceiling = (200u64 << attempt.min(5)).min(5_000);
            assert!(
                wait >= Duration::from_millis(ceiling / 2)
                    && wait <= Duration::from_millis(ceiling),
                "{attempt}: {wait:?}"
            );
        }
    }
}
