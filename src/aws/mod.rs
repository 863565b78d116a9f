//! Everything that reaches AWS: the clients, built once and only when a step
//! needs AWS (a dry run of a local file with nothing to preflight makes no
//! AWS call at all), the retry policy, errors as text a person can act on,
//! raw JSON across the SDK (`raw`), and one typed layer per service: task
//! definitions, services and tasks (`ecs`), objects (`s3`), log streams
//! and groups (`logs`), deployments (`codedeploy`), rules (`events`),
//! schedules (`scheduler`), target groups (`elbv2`), and the preflight's existence lookups of
//! images (`ecr`), secrets (`secretsmanager`) and parameters (`ssm`).

pub(crate) mod codedeploy;
pub(crate) mod ecr;
pub(crate) mod ecs;
pub(crate) mod elbv2;
pub(crate) mod errors;
pub(crate) mod events;
pub(crate) mod logs;
pub(crate) mod raw;
pub(crate) mod retry;
pub(crate) mod s3;
pub(crate) mod scheduler;
pub(crate) mod secretsmanager;
pub(crate) mod ssm;

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use tokio::sync::OnceCell;

pub(crate) use errors::{error_code, error_text, explain};
use retry::Backoff;

/// How many calls of one kind (one per service or per release) are in flight
/// at once: several services' calls overlap instead of queueing, and a burst
/// stays small against ECS's per-account rate limits (a throttled call is
/// retried with backoff like any other).
pub(crate) const CONCURRENT_CALLS: usize = 10;

/// Between two looks at something no verdict waits on: a deployment that
/// blocks ours, a migration task stopping after StopTask. The watches
/// that give a verdict poll when `poll::Schedule` says.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) struct Aws {
    /// Region, credentials and retries, for clients of other services and
    /// regions (`config_in`).
    shared: SdkConfig,
    pub(crate) ecs: aws_sdk_ecs::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) codedeploy: aws_sdk_codedeploy::Client,
}

impl Aws {
    /// Reads region, credentials and endpoints (AWS_ENDPOINT_URL and the
    /// per-service AWS_ENDPOINT_URL_ECS, ...) the way every AWS SDK does.
    /// Throttling and transient errors are retried with exponential backoff
    /// and jitter, `max_retries` times.
    ///
    /// The region and the credentials are resolved here, before the first
    /// call: without them every call would fail with the SDK's own words
    /// ("dispatch failure", "no credentials found in chain"), which do not
    /// say what to set.
    async fn load(max_retries: u32) -> Result<Aws> {
        let shared = aws_config::from_env()
            .retry_config(RetryConfig::standard().with_max_attempts(max_retries + 1))
            .load()
            .await;
        if shared.region().is_none() {
            bail!("{NO_REGION}");
        }
        let credentials = shared
            .credentials_provider()
            .context("the AWS SDK has no credential provider")?;
        if let Err(error) = credentials.provide_credentials().await {
            bail!("{}", credentials_problem(&error));
        }
        Ok(Aws {
            shared: shared.clone(),
            ecs: aws_sdk_ecs::Client::new(&shared),
            s3: aws_sdk_s3::Client::new(&shared),
            codedeploy: aws_sdk_codedeploy::Client::new(&shared),
        })
    }
}

const NO_REGION: &str = "No AWS region is set: set AWS_REGION (aws-actions/configure-aws-credentials sets it from its aws-region input) or AWS_DEFAULT_REGION before this step.";

/// What to do when the credential chain gave nothing usable. A chain that
/// found no source at all is the usual case in a workflow (no
/// configure-aws-credentials step before this one); a source that was found
/// but failed (an expired SSO session, a refused web identity token) is
/// named with the SDK's reason.
fn credentials_problem(error: &CredentialsError) -> String {
    const USUAL_FIX: &str = "run aws-actions/configure-aws-credentials before this step (role-to-assume with OIDC needs `permissions: id-token: write`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    match error {
        CredentialsError::CredentialsNotLoaded(_) => format!(
            "No AWS credentials were found: {USUAL_FIX}. The SDK looked in the environment, the profile files, a web identity token, and the ECS and EC2 metadata endpoints."
        ),
        other => format!(
            "AWS credentials could not be loaded: {}. Check the source named there, or {USUAL_FIX}.",
            DisplayErrorContext(other)
        ),
    }
}

impl Aws {
    /// The shared configuration in `region`, or as it is when None.
    pub(crate) fn config_in(&self, region: Option<&str>) -> SdkConfig {
        match region {
            Some(region) if self.shared.region().map(Region::as_ref) != Some(region) => self
                .shared
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
            _ => self.shared.clone(),
        }
    }
}

/// Clients of the simulator, for tests of what an edge emits.
#[cfg(test)]
impl Aws {
    pub(crate) async fn of_sim(sim: &ecs_deploy_sim::Sim) -> Aws {
        let env: std::collections::HashMap<String, String> = sim.env().into_iter().collect();
        let credentials = aws_credential_types::Credentials::new(
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
            None,
            None,
            "simulator",
        );
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new(env["AWS_REGION"].clone()))
            .endpoint_url(sim.aws_endpoint())
            .credentials_provider(credentials)
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .load()
            .await;
        Aws {
            ecs: aws_sdk_ecs::Client::new(&shared),
            s3: aws_sdk_s3::Client::new(&shared),
            codedeploy: aws_sdk_codedeploy::Client::new(&shared),
            shared,
        }
    }
}

pub(crate) struct LazyAws {
    clients: OnceCell<Aws>,
    pub(crate) max_retries: u32,
}

impl LazyAws {
    pub(crate) fn new(max_retries: u32) -> LazyAws {
        LazyAws {
            clients: OnceCell::new(),
            max_retries,
        }
    }

    /// The clients, loaded on the first use; an error a person can act on
    /// when there is no region or no credentials.
    pub(crate) async fn get(&self) -> Result<&Aws> {
        self.clients
            .get_or_try_init(|| Aws::load(self.max_retries))
            .await
    }

    /// Clients already loaded, as a run holds them once a step needed AWS.
    #[cfg(test)]
    pub(crate) fn loaded_with(aws: Aws) -> LazyAws {
        LazyAws {
            clients: OnceCell::new_with(Some(aws)),
            max_retries: 0,
        }
    }

    /// The clients if a step has needed them; None means nothing reached AWS.
    pub(crate) fn loaded(&self) -> Option<&Aws> {
        self.clients.get()
    }
}

/// Runs a call that changes something, at most once in effect, with the
/// SDK's own retries turned off by the caller (`no_retries`): throttling
/// means it did not happen, so it is repeated; after an ambiguous failure
/// `took_effect` looks whether it happened anyway before it is repeated.
pub(crate) async fn call_once<T, E>(
    max_retries: u32,
    call: impl AsyncFn() -> Result<T, SdkError<E, HttpResponse>>,
    took_effect: impl AsyncFn() -> Option<T>,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata,
{
    retry::call_once(
        Backoff::AWS_CALL,
        max_retries,
        || call(),
        errors::judge,
        || async { Ok(took_effect().await) },
    )
    .await
}

/// Retries off, for calls that `call_once` repeats after checking.
pub(crate) fn no_retries() -> RetryConfig {
    RetryConfig::disabled()
}

/// Every item of a listing the SDK has no paginator for: `page` is asked
/// for the first page (None), then for each next token its answer carries,
/// until one carries none.
pub(crate) async fn every_page<T, E>(
    page: impl AsyncFn(Option<String>) -> Result<(Vec<T>, Option<String>), E>,
) -> Result<Vec<T>, E> {
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let (found, next) = page(token).await?;
        items.extend(found);
        match next {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_page_follows_the_tokens_until_there_is_none() {
        let asked = std::sync::Mutex::new(Vec::new());
        let items = every_page(async |token: Option<String>| {
            asked.lock().unwrap().push(token.clone());
            let answer = match token.as_deref() {
                None => (vec![1, 2], Some("b".to_owned())),
                Some("b") => (vec![], Some("c".to_owned())),
                _ => (vec![3], None),
            };
            Ok::<_, String>(answer)
        })
        .await;
        assert_eq!(items, Ok(vec![1, 2, 3]));
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("b".to_owned()), Some("c".to_owned())]
        );
    }
}
