//! The two HTTP listeners (AWS and GitHub), request recording and fault
//! injection. The AWS listener tells the services apart by X-Amz-Target
//! (the awsJson services), then by the service the request was signed for
//! (Scheduler, ELBv2), S3 taking the rest. Connections are served by hand rather
//! than by `axum::serve` so that a fault can drop a connection without
//! answering.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use axum::{Extension, Router};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt as _;

use crate::aws::{self, AwsError};
use crate::faults::{self, Faults};
use crate::model::ServiceModels;
use crate::query::{self, QueryRequest};
use crate::reply::Reply;
use crate::s3::{self, S3Request};
use crate::scenario::{Fault, FaultKind};
use crate::scheduler::{self, SchedulerRequest};
use crate::world::{Clock, World};
use crate::Call;

pub(crate) struct Shared {
    pub clock: Clock,
    pub world: Mutex<World>,
    pub calls: Mutex<Vec<Call>>,
    pub faults: Faults,
    pub account: String,
    pub github_prefix: String,
    /// What every AWS JSON request is held to; None: nothing is checked.
    pub models: Option<Arc<ServiceModels>>,
}

impl Shared {
    fn record(&self, service: &str, operation: &str, path: &str, body: Value) {
        let call = Call {
            at: self.clock.elapsed(),
            service: service.to_string(),
            operation: operation.to_string(),
            path: path.to_string(),
            body,
        };
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }

    /// Runs `action` on the world brought up to date.
    pub(crate) fn with_world<T>(&self, action: impl FnOnce(&mut World) -> T) -> T {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        world.advance();
        action(&mut world)
    }
}

/// Lets a handler close its connection without answering.
#[derive(Clone)]
struct ConnectionControl(Arc<Notify>);

pub(crate) fn aws_router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(aws_request).with_state(shared)
}

pub(crate) fn github_router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(github_request).with_state(shared)
}

/// Accepts connections until the runtime stops.
pub(crate) async fn serve(listener: TcpListener, router: Router) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let router = router.clone();
        tokio::spawn(async move {
            let dropper = Arc::new(Notify::new());
            let control = ConnectionControl(dropper.clone());
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(control.clone());
                router.clone().oneshot(request)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = dropper.notified() => {}
            }
        });
    }
}

/// What a fault does to a request that is otherwise answered normally.
enum FaultEffect {
    None,
    Answer(Fault),
    /// Act on the request, then drop the connection instead of answering.
    DropAfter,
    /// Act on the request, then answer after this long.
    SlowAfter(Duration),
}

/// Applies the delay and connection-dropping kinds itself; hands back the
/// fault when it must be answered in the service's own error format.
async fn inject_fault(
    shared: &Shared,
    control: &ConnectionControl,
    service: &str,
    operation: &str,
) -> FaultEffect {
    let Some(fault) = shared.faults.take(service, operation) else {
        return FaultEffect::None;
    };
    match fault.kind {
        FaultKind::Slow => {
            tokio::time::sleep(Duration::from_secs_f64(fault.seconds.max(0.0))).await;
            FaultEffect::None
        }
        FaultKind::Drop => drop_connection(control).await,
        FaultKind::DropAfter => FaultEffect::DropAfter,
        FaultKind::SlowAfter => {
            FaultEffect::SlowAfter(Duration::from_secs_f64(fault.seconds.max(0.0)))
        }
        _ => FaultEffect::Answer(fault),
    }
}

/// Closes the connection; the handler never resumes.
async fn drop_connection<T>(control: &ConnectionControl) -> T {
    control.0.notify_one();
    std::future::pending().await
}

/// The reply, unless the fault says to lose it.
async fn deliver(control: &ConnectionControl, effect: FaultEffect, reply: Reply) -> Reply {
    match effect {
        FaultEffect::DropAfter => drop_connection(control).await,
        FaultEffect::SlowAfter(delay) => {
            tokio::time::sleep(delay).await;
            reply
        }
        _ => reply,
    }
}

fn into_response(reply: Reply) -> Response<Body> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(reply.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn aws_json_reply(service: &str, result: Result<Value, AwsError>) -> Reply {
    let (status, body, error_type) = match result {
        Ok(body) => (200, body, None),
        Err(error) => (error.status, error.body(service), Some(error.code)),
    };
    let reply = Reply::new(status, body.to_string().into_bytes())
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000");
    match error_type {
        Some(code) => reply.header("x-amzn-errortype", &code),
        None => reply,
    }
}

async fn aws_request(
    State(shared): State<Arc<Shared>>,
    Extension(control): Extension<ConnectionControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let scope = header("authorization").and_then(aws::credential_scope);
    let signed_region = scope.as_ref().map(|scope| scope.region.to_string());
    let signed_for = scope.map(|scope| scope.service).unwrap_or_default();
    let reply = match header("x-amz-target") {
        Some(target) => aws_json_request(&shared, &control, target, signed_region, &body).await,
        None if signed_for == "scheduler" => {
            let request = SchedulerRequest::parse(method.as_str(), uri.path(), uri.query(), &body);
            scheduler_request(&shared, &control, uri.path(), request).await
        }
        None if signed_for == "elasticloadbalancing" => {
            let request = QueryRequest::parse(uri.query(), &body);
            elbv2_request(&shared, &control, request).await
        }
        None => {
            let request = S3Request::parse(
                method.as_str(),
                header("host"),
                uri.path(),
                header("content-type"),
                body.to_vec(),
            );
            s3_request(&shared, &control, uri.path(), request).await
        }
    };
    into_response(reply)
}

async fn aws_json_request(
    shared: &Shared,
    control: &ConnectionControl,
    target: &str,
    signed_region: Option<String>,
    body: &[u8],
) -> Reply {
    let parsed: Result<Value, _> = if body.is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice(body)
    };
    let Some((service, operation)) = aws::service_of_target(target) else {
        shared.record("unknown", target, "/", parsed.unwrap_or(Value::Null));
        return aws_json_reply(
            "unknown",
            Err(AwsError::client(
                "UnknownOperationException",
                format!("Unknown X-Amz-Target {target}"),
            )),
        );
    };
    let Ok(request) = parsed else {
        shared.record(service, operation, "/", Value::Null);
        return aws_json_reply(
            service,
            Err(AwsError::client(
                "SerializationException",
                "The request body is not valid JSON.",
            )),
        );
    };
    shared.record(service, operation, "/", request.clone());
    if let Some(models) = &shared.models {
        if let Err(refused) = models.check_json(service, operation, &request) {
            return aws_json_reply(service, Err(refused));
        }
    }
    let effect = inject_fault(shared, control, service, operation).await;
    if let FaultEffect::Answer(fault) = &effect {
        let answer = faults::aws_json_answer(fault, service, operation, &shared.account, &request);
        if let Some(answer) = answer {
            return aws_json_reply(service, answer);
        }
    }
    let result = shared.with_world(|world| {
        let region = signed_region.unwrap_or_else(|| world.region.clone());
        aws::dispatch(world, service, operation, &request, &region)
    });
    deliver(control, effect, aws_json_reply(service, result)).await
}

async fn scheduler_request(
    shared: &Shared,
    control: &ConnectionControl,
    path: &str,
    request: SchedulerRequest,
) -> Reply {
    let operation = request.operation.as_str();
    shared.record("scheduler", operation, path, request.recorded_body());
    if let Some(models) = &shared.models {
        if let Err(refused) = request.check(models) {
            return scheduler::reply(Err(refused));
        }
    }
    let effect = inject_fault(shared, control, "scheduler", operation).await;
    if let FaultEffect::Answer(fault) = &effect {
        if let Some(error) = faults::aws_error(fault, "scheduler", operation, &shared.account) {
            return scheduler::reply(Err(error.into()));
        }
    }
    let result = shared.with_world(|world| scheduler::handle(world, &request));
    deliver(control, effect, scheduler::reply(result)).await
}

/// An ELBv2 request, over awsQuery: its parameters read into the JSON
/// shape of its input (by the model, when there is one) and checked like
/// the awsJson services' bodies.
async fn elbv2_request(
    shared: &Shared,
    control: &ConnectionControl,
    request: QueryRequest,
) -> Reply {
    const SERVICE: &str = "elasticloadbalancing";
    let operation = request.operation.as_str();
    let reply = |result| query::reply(crate::elbv2::NAMESPACE, operation, result);
    let input = shared
        .models
        .as_ref()
        .and_then(|models| models.query_input(SERVICE, operation));
    let body = request.to_json(input);
    shared.record(SERVICE, operation, "/", body.clone());
    if let Some(models) = &shared.models {
        if let Err(refused) = models.check_json(SERVICE, operation, &body) {
            return reply(Err(refused));
        }
    }
    let effect = inject_fault(shared, control, SERVICE, operation).await;
    if let FaultEffect::Answer(fault) = &effect {
        if let Some(error) = faults::aws_error(fault, SERVICE, operation, &shared.account) {
            return reply(Err(error.into()));
        }
    }
    let result = shared.with_world(|world| crate::elbv2::handle(world, operation, &body));
    deliver(control, effect, reply(result)).await
}

async fn s3_request(
    shared: &Shared,
    control: &ConnectionControl,
    path: &str,
    request: S3Request,
) -> Reply {
    let operation = request.operation();
    shared.record("s3", operation, path, Value::Null);
    let effect = inject_fault(shared, control, "s3", operation).await;
    if let FaultEffect::Answer(fault) = &effect {
        if let Some(error) = faults::aws_error(fault, "s3", operation, &shared.account) {
            return s3::error(error.status, error.code, &error.message, &request);
        }
    }
    let reply = shared.with_world(|world| s3::handle(world, &request));
    deliver(control, effect, reply).await
}

async fn github_request(
    State(shared): State<Arc<Shared>>,
    Extension(control): Extension<ConnectionControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri
        .path()
        .strip_prefix(shared.github_prefix.as_str())
        .unwrap_or(uri.path());
    let request = crate::github::GithubRequest::parse(
        method.as_str(),
        path,
        uri.query(),
        headers.get("authorization").is_some(),
        &body,
    );
    shared.record(
        "github",
        &request.operation,
        uri.path(),
        request.recorded_body(),
    );
    if let Some(reply) = crate::github::authentication_error(&request) {
        return into_response(reply);
    }
    let effect = inject_fault(&shared, &control, "github", &request.operation).await;
    if let FaultEffect::Answer(fault) = &effect {
        if let Some(reply) = crate::github::fault_reply(fault) {
            return into_response(reply);
        }
    }
    let reply = shared.with_world(|world| crate::github::handle(world, &request));
    into_response(deliver(&control, effect, reply).await)
}
