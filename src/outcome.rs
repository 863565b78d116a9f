//! How a run ends. A step that ran something in AWS and saw it fail (a
//! migration exited non-zero, a deployment rolled back) returns `Failed`
//! inside its anyhow error: GitHub's deployment state "failure". Any other
//! error means ecs-deploy itself could not finish (bad input, an AWS API
//! error): state "error". Both exit with code 1.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed(pub String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Whether `error` is a verdict of failure rather than ecs-deploy failing.
pub(crate) fn is_failed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<Failed>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_verdict_is_found_under_context() {
        let failed: anyhow::Result<()> = Err(Failed("migration exited with 1".into()).into());
        assert!(is_failed(&failed.context("migration of web").unwrap_err()));
        assert!(!is_failed(&anyhow::anyhow!("AccessDeniedException: ...")));
    }
}
