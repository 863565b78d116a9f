//! `environment`, its companions and `github-token`, checked with the rest
//! of the configuration.

use crate::inputs::{given_flag, text, Problems, RawInputs};

/// The `environment` input and its companions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentSettings {
    pub environment: String,
    pub environment_url: Option<String>,
    /// Input `ref`; GITHUB_SHA when unset.
    pub reference: Option<String>,
    pub transient: Option<bool>,
    pub production: Option<bool>,
    /// `github-deployment-id`: an earlier job's deployment, reported to
    /// instead of creating one.
    pub deployment_id: Option<u64>,
}

/// `environment` and its companions, which mean nothing without it.
pub(crate) fn deployment_settings(
    inputs: &RawInputs,
    problems: &mut Problems,
) -> Option<DeploymentSettings> {
    let transient = given_flag(inputs, "transient-environment", problems);
    let production = given_flag(inputs, "production-environment", problems);
    let environment_url = inputs.get("environment-url").and_then(|url| {
        let is_url = url.starts_with("https://") || url.starts_with("http://");
        problems.check(
            "environment-url",
            if is_url {
                Ok(url.to_owned())
            } else {
                Err(format!(
                    "environment-url: {url:?} is not a URL; give https://..."
                ))
            },
        )
    });
    let Some(environment) = text(inputs, "environment") else {
        for name in [
            "environment-url",
            "ref",
            "transient-environment",
            "production-environment",
            "github-deployment-id",
        ] {
            if inputs.get(name).is_some() {
                problems.add(
                    name,
                    format!("{name}: needs environment, the GitHub environment to report the deployment to"),
                );
            }
        }
        return None;
    };
    if inputs.get("github-token").is_none() {
        problems.add(
            "github-token",
            "github-token: empty, but environment needs a token that may write deployments (in a workflow the default is the job's token)",
        );
    }
    Some(DeploymentSettings {
        environment,
        environment_url,
        reference: text(inputs, "ref"),
        transient,
        production,
        deployment_id: inputs.get("github-deployment-id").and_then(|id| {
            let parsed = id.parse::<u64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                format!("github-deployment-id: {id:?} is not a GitHub deployment id (a number, an earlier run's github-deployment-id output)")
            });
            problems.check("github-deployment-id", parsed)
        }),
    })
}

/// `github-token`. It goes into an HTTP header: a blank or control
/// character there would be refused deep inside the client. The token
/// itself is never shown.
pub(crate) fn token(inputs: &RawInputs, problems: &mut Problems) -> Option<String> {
    let token = inputs.get("github-token")?;
    problems.check(
        "github-token",
        if token.chars().all(|c| c.is_ascii_graphic()) {
            Ok(token.to_owned())
        } else {
            Err("github-token: contains a blank, a line break or a character that is not ASCII; give the token alone".to_owned())
        },
    )
}
