//! Faults injected into matching requests, as the scenario lists them.

use std::sync::Mutex;

use crate::scenario::{Fault, FaultKind};

pub(crate) struct Faults {
    /// Each fault with the number of matching requests seen so far.
    entries: Mutex<Vec<(Fault, u32)>>,
}

impl Faults {
    pub(crate) fn new(faults: Vec<Fault>) -> Faults {
        Faults {
            entries: Mutex::new(faults.into_iter().map(|fault| (fault, 0)).collect()),
        }
    }

    /// The fault that applies to this request, counting it against every
    /// fault it matches. The first applicable fault in scenario order wins.
    pub(crate) fn take(&self, service: &str, operation: &str) -> Option<Fault> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut chosen = None;
        for (fault, seen) in entries.iter_mut() {
            let matches = fault.service.as_deref().is_none_or(|s| s == service)
                && fault.operation.as_deref().is_none_or(|o| o == operation);
            if !matches {
                continue;
            }
            *seen += 1;
            let applies = *seen > fault.skip && (fault.always || *seen - fault.skip <= fault.times);
            if applies && chosen.is_none() {
                chosen = Some(fault.clone());
            }
        }
        chosen
    }
}

/// The error a fault answers with, before it is written in the service's
/// own error format.
pub(crate) struct FaultError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

/// The AWS error for a fault (ECS, CodeDeploy, Logs and S3); None for the
/// kinds that are not errors (slow, drop) or are GitHub's only.
pub(crate) fn aws_error(
    fault: &Fault,
    service: &str,
    operation: &str,
    account: &str,
) -> Option<FaultError> {
    let s3 = service == "s3";
    let error = match fault.kind {
        FaultKind::Throttle if s3 => (503, "SlowDown", "Please reduce your request rate.".to_string()),
        FaultKind::Throttle => (400, "ThrottlingException", "Rate exceeded".to_string()),
        FaultKind::ServerError if s3 => (500, "InternalError", "We encountered an internal error. Please try again.".to_string()),
        FaultKind::ServerError if service == "ecs" => (500, "ServerException", "Service Unavailable. Please try again later.".to_string()),
        FaultKind::ServerError if service == "logs" => (500, "ServiceUnavailableException", "The service cannot complete the request.".to_string()),
        FaultKind::ServerError => (500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.".to_string()),
        FaultKind::ExpiredToken if s3 => (400, "ExpiredToken", "The provided token has expired.".to_string()),
        FaultKind::ExpiredToken => (400, "ExpiredTokenException", "The security token included in the request is expired".to_string()),
        FaultKind::AccessDenied if s3 => (403, "AccessDenied", "Access Denied".to_string()),
        FaultKind::AccessDenied => (
            400,
            "AccessDeniedException",
            format!("User: arn:aws:sts::{account}:assumed-role/deploy/ci is not authorized to perform: {service}:{operation} because no identity-based policy allows the {service}:{operation} action"),
        ),
        FaultKind::Slow | FaultKind::Drop | FaultKind::AutoMerged | FaultKind::Conflict | FaultKind::Unprocessable => return None,
    };
    let (status, code, message) = error;
    Some(FaultError {
        status: fault.status.unwrap_or(status),
        code,
        message,
    })
}
