//! Faults injected into matching requests, as the scenario lists them.

use std::sync::Mutex;

use serde_json::Value;

use crate::aws::{AwsError, AwsResult};
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

impl From<FaultError> for AwsError {
    fn from(error: FaultError) -> AwsError {
        AwsError::new(error.status, error.code, error.message)
    }
}

const SLOW_DOWN: &str = "Please reduce your request rate.";
const S3_INTERNAL_ERROR: &str = "We encountered an internal error. Please try again.";
const S3_EXPIRED_TOKEN: &str = "The provided token has expired.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";
const INTERNAL_FAILURE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

/// The error each service answers a failure on its side with, as its
/// model names it.
fn server_error(service: &str) -> (&'static str, &'static str) {
    match service {
        "ecs" | "ecr" => (
            "ServerException",
            "Service Unavailable. Please try again later.",
        ),
        "logs" => (
            "ServiceUnavailableException",
            "The service cannot complete the request.",
        ),
        "secretsmanager" => (
            "InternalServiceError",
            "An error occurred on the server side.",
        ),
        "ssm" => (
            "InternalServerError",
            "An error occurred on the server side.",
        ),
        "events" => (
            "InternalException",
            "This exception occurs due to unexpected causes.",
        ),
        "scheduler" => (
            "InternalServerException",
            "Unexpected error encountered while processing the request.",
        ),
        _ => ("InternalFailure", INTERNAL_FAILURE),
    }
}

/// The answer to a faulted awsJson request when the fault changes it: an
/// error, or EventBridge's failed entries; None to answer normally.
pub(crate) fn aws_json_answer(
    fault: &Fault,
    service: &str,
    operation: &str,
    account: &str,
    request: &Value,
) -> Option<AwsResult> {
    if fault.kind == FaultKind::FailedEntries {
        let put_targets = service == "events" && operation == "PutTargets";
        return put_targets.then(|| Ok(crate::events::every_target_failed(request)));
    }
    let error = aws_error(fault, service, operation, account)?;
    Some(Err(error.into()))
}

/// The AWS error for a fault (the awsJson services, Scheduler's REST-JSON,
/// ELBv2's awsQuery and S3); None for the kinds that are not errors (slow,
/// drop) or not this service's.
pub(crate) fn aws_error(
    fault: &Fault,
    service: &str,
    operation: &str,
    account: &str,
) -> Option<FaultError> {
    if service == "elasticloadbalancing" {
        return query_error(fault, service, operation, account);
    }
    let s3 = service == "s3";
    // REST-JSON's statuses, where awsJson answers every client error with 400.
    let rest_json = service == "scheduler";
    let denied_status = if rest_json { 403 } else { 400 };
    let (status, code, message): (u16, &'static str, String) = match fault.kind {
        FaultKind::Throttle if s3 => (503, "SlowDown", SLOW_DOWN.into()),
        FaultKind::Throttle => (
            if rest_json { 429 } else { 400 },
            "ThrottlingException",
            "Rate exceeded".into(),
        ),
        FaultKind::ServerError if s3 => (500, "InternalError", S3_INTERNAL_ERROR.into()),
        FaultKind::ServerError => {
            let (code, message) = server_error(service);
            (500, code, message.into())
        }
        FaultKind::ExpiredToken if s3 => (400, "ExpiredToken", S3_EXPIRED_TOKEN.into()),
        FaultKind::ExpiredToken => (denied_status, "ExpiredTokenException", EXPIRED_TOKEN.into()),
        FaultKind::AccessDenied if s3 => (403, "AccessDenied", "Access Denied".into()),
        FaultKind::AccessDenied => (
            denied_status,
            "AccessDeniedException",
            not_authorized(account, service, operation),
        ),
        FaultKind::Conflict if rest_json => (
            409,
            "ConflictException",
            "Updating or deleting the resource can cause an inconsistent state.".into(),
        ),
        FaultKind::Slow
        | FaultKind::Drop
        | FaultKind::DropAfter
        | FaultKind::SlowAfter
        | FaultKind::AutoMerged
        | FaultKind::Conflict
        | FaultKind::Unprocessable
        | FaultKind::FailedEntries => return None,
    };
    Some(FaultError {
        status: fault.status.unwrap_or(status),
        code,
        message,
    })
}

/// IAM's refusal, naming the action.
fn not_authorized(account: &str, service: &str, operation: &str) -> String {
    format!(
        "User: arn:aws:sts::{account}:assumed-role/deploy/ci is not authorized to perform: \
         {service}:{operation} because no identity-based policy allows the \
         {service}:{operation} action"
    )
}

/// The error an awsQuery service (ELBv2) answers a fault with: the codes
/// the query protocol's common errors have, AccessDenied with a 403.
fn query_error(fault: &Fault, service: &str, operation: &str, account: &str) -> Option<FaultError> {
    let (status, code, message): (u16, &'static str, String) = match fault.kind {
        FaultKind::Throttle => (400, "Throttling", "Rate exceeded".into()),
        FaultKind::ServerError => (500, "InternalFailure", INTERNAL_FAILURE.into()),
        FaultKind::ExpiredToken => (403, "ExpiredToken", EXPIRED_TOKEN.into()),
        FaultKind::AccessDenied => (
            403,
            "AccessDenied",
            not_authorized(account, service, operation),
        ),
        _ => return None,
    };
    Some(FaultError {
        status: fault.status.unwrap_or(status),
        code,
        message,
    })
}
