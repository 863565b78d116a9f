//! The deployments API of one repository: each request bounded in time,
//! retried only where repeating it is safe, and a create whose answer was
//! lost found again instead of repeated.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use octocrab::Octocrab;
use serde_json::Value;

use super::request::REQUEST_ID_KEY;
use crate::aws::errors::cause_chain;
use crate::aws::retry::{self, Backoff, Retry};

/// One request never waits longer than this for GitHub.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries of a request that failed transiently.
const RETRIES: u32 = 2;
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    cap: Duration::from_secs(2),
};
/// What POST /deployments answered.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Created {
    Deployment(u64),
    /// 202: GitHub merged the default branch into the ref and created nothing.
    AutoMerged(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ApiError {
    /// GitHub answered with an error status.
    Answered { status: u16, message: String },
    /// No usable answer: connection refused or dropped, a timeout, a body
    /// that is not what the API returns.
    Transport(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Answered { status, message } => {
                write!(f, "GitHub answered {status}: {message}")
            }
            ApiError::Transport(text) => write!(f, "no answer from GitHub: {text}"),
        }
    }
}

impl ApiError {
    pub(super) fn from_octocrab(error: octocrab::Error) -> ApiError {
        match error {
            octocrab::Error::GitHub { source, .. } => {
                let mut message = source.message.clone();
                if let Some(errors) = source.errors.as_ref().filter(|e| !e.is_empty()) {
                    message.push_str(&format!(" {}", Value::from(errors.clone())));
                }
                ApiError::Answered {
                    status: source.status_code.as_u16(),
                    message,
                }
            }
            other => ApiError::Transport(cause_chain(&other)),
        }
    }

    pub(super) fn is_missing_permission(&self) -> bool {
        matches!(self, ApiError::Answered { status: 403, message } if message.starts_with("Resource not accessible"))
    }

    /// A failed request may have been carried out when GitHub's answer was
    /// lost; a refusal is final.
    fn retry(&self) -> Retry {
        if self.is_transient() {
            Retry::AfterCheck
        } else {
            Retry::Never
        }
    }

    /// Worth another try soon: the request may succeed as it is.
    fn is_transient(&self) -> bool {
        match self {
            ApiError::Answered { status, .. } => *status >= 500 || *status == 429,
            ApiError::Transport(_) => true,
        }
    }

    /// GitHub cannot be used for this run (down, rate-limited, the token
    /// refused), as opposed to a request GitHub says is wrong.
    pub(super) fn is_unavailable(&self) -> bool {
        self.is_transient()
            || matches!(
                self,
                ApiError::Answered {
                    status: 401 | 403,
                    ..
                }
            )
    }
}

/// Retries `request` while it fails transiently, a bounded number of times;
/// only for requests that are safe to repeat.
pub(super) async fn with_retries<T, F, R>(request: F) -> Result<T, ApiError>
where
    F: FnMut() -> R,
    R: Future<Output = Result<T, ApiError>>,
{
    retry::repeat(BACKOFF, RETRIES, request, ApiError::retry).await
}

/// The deployments API of one repository.
pub(super) struct Api {
    client: Octocrab,
    repository: String,
}

impl Api {
    pub(super) fn new(api_url: &str, repository: &str, token: &str) -> Result<Api> {
        // Built without octocrab's retry layer, which repeats every method:
        // a repeated create can make a second deployment. Retries happen
        // here, per request, where it is known whether one is safe.
        // octocrab itself sends `X-GitHub-Api-Version: 2022-11-28` on every
        // request; adding it again would send the header twice.
        let client = Octocrab::builder()
            .base_uri(api_url)
            .with_context(|| format!("GITHUB_API_URL {api_url:?} is not a URL"))?
            .personal_token(token.to_owned())
            .build()
            .context("failed to set up the GitHub API client")?;
        Ok(Api {
            client,
            repository: repository.to_owned(),
        })
    }

    fn deployments_route(&self) -> String {
        format!("/repos/{}/deployments", self.repository)
    }

    async fn bounded<T>(request: impl Future<Output = octocrab::Result<T>>) -> Result<T, ApiError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
            Ok(answer) => answer.map_err(ApiError::from_octocrab),
            Err(_) => Err(ApiError::Transport(format!(
                "no answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn create(&self, request: &Value) -> Result<Created, ApiError> {
        let answer: Value =
            Api::bounded(self.client.post(self.deployments_route(), Some(request))).await?;
        match answer["id"].as_u64() {
            Some(id) => Ok(Created::Deployment(id)),
            None => Ok(Created::AutoMerged(
                answer["message"]
                    .as_str()
                    .unwrap_or("no message")
                    .to_owned(),
            )),
        }
    }

    /// Creates the deployment; when a create gets no usable answer, looks
    /// for it (by this run's request id) before trying again, so that a lost
    /// answer never makes a second deployment.
    pub(super) async fn create_checked(
        &self,
        request: &Value,
        reference: &str,
        environment: &str,
        request_id: &str,
    ) -> Result<Created, ApiError> {
        retry::call_once(
            BACKOFF,
            RETRIES,
            || self.create(request),
            ApiError::retry,
            || async {
                let found = with_retries(|| self.find(reference, environment, request_id)).await?;
                Ok(found.map(Created::Deployment))
            },
        )
        .await
    }

    /// The deployment of `reference` to `environment` made by this run.
    pub(super) async fn find(
        &self,
        reference: &str,
        environment: &str,
        request_id: &str,
    ) -> Result<Option<u64>, ApiError> {
        let query = [
            ("ref", reference),
            ("environment", environment),
            ("per_page", "100"),
        ];
        let listed: Vec<Value> =
            Api::bounded(self.client.get(self.deployments_route(), Some(&query))).await?;
        Ok(listed
            .iter()
            .find(|deployment| deployment["payload"][REQUEST_ID_KEY] == request_id)
            .and_then(|deployment| deployment["id"].as_u64()))
    }

    pub(super) async fn post_status(&self, id: u64, status: &Value) -> Result<(), ApiError> {
        let route = format!("{}/{id}/statuses", self.deployments_route());
        let _: Value = Api::bounded(self.client.post(route, Some(status))).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_told_apart() {
        let answered = |status: u16, message: &str| ApiError::Answered {
            status,
            message: message.into(),
        };
        let denied = answered(403, "Resource not accessible by integration");
        assert!(denied.is_missing_permission() && !denied.is_transient());
        let limited = answered(403, "API rate limit exceeded for installation.");
        assert!(!limited.is_missing_permission() && limited.is_unavailable());
        for transient in [answered(502, "Server Error"), answered(429, "slow down")] {
            assert!(transient.is_transient() && transient.is_unavailable());
        }
        assert!(ApiError::Transport("connection refused".into()).is_transient());
        for wrong in [
            answered(409, "Conflict"),
            answered(422, "Validation Failed"),
            answered(404, "Not Found"),
        ] {
            assert!(!wrong.is_unavailable(), "{wrong}");
        }
    }
}
