//! AWS errors as text a person can act on: `Code: message`, then what to do
//! about it. The remedies live in one table, by IAM action and error code.

use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::retry::Retry;
use crate::preflight::verdict::Lookup;

/// What to do about an error code that one action met: (IAM action, error
/// code, remedy). An action of "" is the remedy for that code met by any
/// other action; a code of "" is the action's remedy for any other code.
const REMEDIES: &[(&str, &str, &str)] = &[
    ("", "ValidationException", INVALID_REQUEST),
    ("", "ValidationError", INVALID_REQUEST),
    ("", "InvalidParameterException", INVALID_REQUEST),
    ("", "InvalidParameterValueException", INVALID_REQUEST),
    ("", "InvalidParameterCombination", INVALID_REQUEST),
    ("", "InvalidRequestException", INVALID_REQUEST),
    ("", "MissingParameter", INVALID_REQUEST),
    ("", "ResourceNotFoundException", "the resource does not exist in this account and region; check its name or ARN and the region"),
    ("", "UnrecognizedClientException", CREDENTIALS),
    ("", "InvalidClientTokenId", CREDENTIALS),
    ("", "InvalidSignatureException", CREDENTIALS),
    ("", "SignatureDoesNotMatch", CREDENTIALS),
    ("", "IncompleteSignature", CREDENTIALS),
    ("", "MissingAuthenticationToken", CREDENTIALS),
    ("", "AuthFailure", CREDENTIALS),
    ("", "ServerException", AWS_FAILED),
    ("", "InternalFailure", AWS_FAILED),
    ("", "InternalServerError", AWS_FAILED),
    ("", "InternalServerException", AWS_FAILED),
    ("", "InternalError", AWS_FAILED),
    ("", "ServiceUnavailable", AWS_FAILED),
    ("", "ServiceUnavailableException", AWS_FAILED),
    ("codedeploy:CreateDeployment", "InvalidRevisionException", "CodeDeploy rejected the AppSpec"),
    ("codedeploy:CreateDeployment", "RevisionRequiredException", "CodeDeploy rejected the AppSpec"),
    ("codedeploy:CreateDeployment", "", "check the application, group and region"),
    (
        "codedeploy:GetDeploymentGroup",
        "ApplicationDoesNotExistException",
        "the CodeDeploy application does not exist; set codedeploy-application to the service's application",
    ),
    (
        "codedeploy:GetDeploymentGroup",
        "DeploymentGroupDoesNotExistException",
        "the deployment group does not exist in the application; set codedeploy-deployment-group",
    ),
    (
        "ecs:DescribeServices",
        "ClusterNotFoundException",
        "check the cluster input and the region",
    ),
    (
        "ecs:DescribeTaskDefinition",
        "ClientException",
        "check the family or ARN, the revision, and that AWS_REGION is the task definition's region",
    ),
    (
        "ecs:RegisterTaskDefinition",
        "ClientException",
        "ECS rejected the rendered definition; see the task-definition output for the file sent",
    ),
    (
        "ecs:RegisterTaskDefinition",
        "InvalidParameterException",
        "ECS rejected the rendered definition; see the task-definition output for the file sent",
    ),
    (
        "ecs:RunTask",
        "ClientException",
        "check the migration's network and compute: run-task-subnets, run-task-security-groups, run-task-assign-public-IP, run-task-launch-type",
    ),
    (
        "ecs:RunTask",
        "InvalidParameterException",
        "check the migration's network and compute: run-task-subnets, run-task-security-groups, run-task-assign-public-IP, run-task-launch-type",
    ),
    (
        "ecs:UpdateService",
        "ClientException",
        "ECS rejected the update; check the service's configuration",
    ),
    (
        "ecs:UpdateService",
        "InvalidParameterException",
        "ECS rejected the update; check the service's configuration",
    ),
    ("s3:GetObject", "NoSuchKey", "the object does not exist; check the key"),
    ("s3:GetObject", "NoSuchBucket", "the bucket does not exist; check its name and region"),
    ("s3:GetObject", "", "check the bucket, key and region"),
];

/// A request AWS refused as invalid: nothing is wrong with the credentials.
const INVALID_REQUEST: &str =
    "AWS refused the request as invalid; the message names the value to correct in the inputs or the template";
/// Credentials AWS does not accept.
const CREDENTIALS: &str =
    "AWS does not accept the credentials; check the role the job assumes and that the keys are current and complete";
/// AWS's own failure, after the SDK's retries.
const AWS_FAILED: &str =
    "AWS failed on its side through every retry; run the job again, and raise max-retries if it happens often";
/// AWS did not answer: no credentials, no region or no connection.
const NO_ANSWER: &str = "check the credentials, the region and the network";
/// A code with no entry: AWS's message is all there is.
const UNLISTED: &str = "AWS's message says what to correct";

/// What an action needs allowed beyond itself: (IAM action, permissions).
const PERMISSIONS: &[(&str, &str)] = &[
    (
        "codedeploy:CreateDeployment",
        "codedeploy:CreateDeployment, codedeploy:GetDeploymentConfig and codedeploy:RegisterApplicationRevision",
    ),
    (
        "ecs:RegisterTaskDefinition",
        "ecs:RegisterTaskDefinition and ecs:TagResource, and iam:PassRole on the task and execution roles",
    ),
    (
        "ecs:RunTask",
        "ecs:RunTask on the task definition, and iam:PassRole on its task and execution roles",
    ),
    ("ecs:UpdateService", "ecs:UpdateService and iam:PassRole on the task roles"),
    ("events:PutTargets", "events:PutTargets on the rule, and iam:PassRole on the target's role"),
    ("logs:GetLogEvents", "logs:GetLogEvents on the log group's streams"),
    (
        "scheduler:UpdateSchedule",
        "scheduler:UpdateSchedule, and iam:PassRole on the schedule's role",
    ),
    ("s3:GetObject", "s3:GetObject on the object"),
];

const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

/// `Code: message (remedy)` for an error of the call that needs `action`.
pub(crate) fn explain<E, R>(action: &str, error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    format!(
        "{} ({})",
        error_text(error),
        remedy(action, error_code(error))
    )
}

/// What to do about `code` (None: AWS did not answer) met by `action`:
/// the action's entry for the code, then the code's for any action, then
/// the action's for any code.
fn remedy(action: &str, code: Option<&str>) -> String {
    let listed = |action: &str, wanted: &str| {
        REMEDIES
            .iter()
            .find(|(a, c, _)| *a == action && *c == wanted)
            .map(|(_, _, remedy)| (*remedy).to_owned())
    };
    if let Some(code) = code {
        if let Some(remedy) = listed(action, code) {
            return remedy;
        }
        if is_access_denied(code) {
            let permissions = PERMISSIONS
                .iter()
                .find(|(a, _)| *a == action)
                .map_or(action, |(_, permissions)| permissions);
            return format!("the role needs {permissions}");
        }
        if is_throttling_code(code) {
            return "AWS kept throttling through every retry: raise max-retries or deploy fewer services at once".to_owned();
        }
        if let Some(remedy) = listed("", code) {
            return remedy;
        }
    }
    listed(action, "").unwrap_or_else(|| {
        match code {
            Some(_) => UNLISTED,
            None => NO_ANSWER,
        }
        .to_owned()
    })
}

/// A preflight lookup that AWS refused or could not answer: missing when
/// the code (or, for S3's bodiless HEAD answers, the status 404) says so,
/// denied on AccessDenied or 403, otherwise failed with the error.
pub(crate) fn lookup_refused<E>(
    error: &SdkError<E, HttpResponse>,
    permission: &'static str,
    missing: &[&str],
) -> Lookup
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|raw| raw.status().as_u16());
    match error_code(error) {
        Some(code) if missing.contains(&code) => Lookup::Missing,
        Some(code) if is_access_denied(code) => Lookup::Denied { permission },
        None | Some("NotFound" | "Forbidden") if status == Some(404) => Lookup::Missing,
        None | Some("NotFound" | "Forbidden") if status == Some(403) => {
            Lookup::Denied { permission }
        }
        _ => Lookup::Failed(error_text(error)),
    }
}

/// Whether `code` says the role may not make the call.
pub(crate) fn is_access_denied(code: &str) -> bool {
    matches!(code, "AccessDeniedException" | "AccessDenied")
}

fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Whether AWS refused the call for its rate: it did not happen.
pub(crate) fn is_throttling<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    error_code(error).is_some_and(is_throttling_code)
}

/// What a failed call that changes something means for the next attempt.
pub(crate) fn judge<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Retry {
    if is_throttling(error) {
        return Retry::Repeat;
    }
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            Retry::AfterCheck
        }
        SdkError::ServiceError(service) if service.raw().status().is_server_error() => {
            Retry::AfterCheck
        }
        _ => Retry::Never,
    }
}

/// `Code: message` for a service error, the whole cause chain otherwise
/// (no credentials, no region, connection refused, ...). Expired
/// credentials, which every call can meet, get their remedy here.
pub(crate) fn error_text<E, R>(error: &SdkError<E, R>) -> String
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
pub(crate) fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
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
    fn every_throttling_code_is_retried_and_nothing_else_is() {
        for code in THROTTLING_CODES {
            assert!(is_throttling_code(code), "{code}");
        }
        for code in ["AccessDeniedException", "ClientException", "Throttled"] {
            assert!(!is_throttling_code(code), "{code}");
        }
    }

    #[test]
    fn remedies_come_from_the_table_then_the_code_then_the_action() {
        let cases = [
            (
                "ecs:RunTask",
                Some("AccessDeniedException"),
                "the role needs ecs:RunTask on the task definition, and iam:PassRole on its task and execution roles",
            ),
            (
                "ecs:DescribeTasks",
                Some("AccessDeniedException"),
                "the role needs ecs:DescribeTasks",
            ),
            (
                "s3:GetObject",
                Some("AccessDenied"),
                "the role needs s3:GetObject on the object",
            ),
            (
                "s3:GetObject",
                Some("NoSuchKey"),
                "the object does not exist; check the key",
            ),
            ("s3:GetObject", None, "check the bucket, key and region"),
            (
                "ecs:UpdateService",
                Some("TooManyRequestsException"),
                "AWS kept throttling through every retry: raise max-retries or deploy fewer services at once",
            ),
            (
                "ecs:DescribeServices",
                Some("ClusterNotFoundException"),
                "check the cluster input and the region",
            ),
            ("ssm:GetParameters", Some("ValidationException"), INVALID_REQUEST),
            ("scheduler:UpdateSchedule", Some("ValidationException"), INVALID_REQUEST),
            ("sts:AssumeRoleWithWebIdentity", Some("ValidationError"), INVALID_REQUEST),
            ("ecs:DescribeTasks", Some("InvalidParameterException"), INVALID_REQUEST),
            (
                "ecs:UpdateService",
                Some("InvalidParameterException"),
                "ECS rejected the update; check the service's configuration",
            ),
            ("ecs:DescribeServices", Some("ServerException"), AWS_FAILED),
            ("ecs:DescribeServices", Some("ServiceUnavailableException"), AWS_FAILED),
            ("ecs:DescribeServices", Some("UnrecognizedClientException"), CREDENTIALS),
            ("ecr:DescribeImages", Some("InvalidSignatureException"), CREDENTIALS),
            (
                "secretsmanager:DescribeSecret",
                Some("ResourceNotFoundException"),
                "the resource does not exist in this account and region; check its name or ARN and the region",
            ),
            // The action's own remedy beats a guess from the code alone.
            ("s3:GetObject", Some("InvalidObjectState"), "check the bucket, key and region"),
            ("ecs:DescribeServices", Some("SomethingNew"), UNLISTED),
            ("ecs:DescribeServices", None, NO_ANSWER),
        ];
        for (action, code, expected) in cases {
            assert_eq!(remedy(action, code), expected, "{action} {code:?}");
        }
    }
}
