//! GitHub's REST deployments API: deployments and deployment statuses.

use serde_json::{json, Map, Value};

use crate::reply::{query_parameters, Reply};
use crate::scenario::{Fault, FaultKind};
use crate::world::{str_field, World};

const DOCUMENTATION_URL: &str = "https://docs.github.com/rest/deployments";
const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

#[derive(Default)]
pub(crate) struct GithubState {
    /// The API root clients were given, for the URLs inside answers.
    pub api_url: String,
    pub repository: String,
    deployments: Vec<Deployment>,
    next_status_id: u64,
}

struct Deployment {
    body: Map<String, Value>,
    /// Newest last.
    statuses: Vec<Value>,
}

impl Deployment {
    fn id(&self) -> u64 {
        self.body
            .get("id")
            .and_then(Value::as_u64)
            .unwrap_or_default()
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

enum Route {
    Deployments,
    Deployment(u64),
    Statuses(u64),
    Unknown,
}

pub(crate) struct GithubRequest {
    method: String,
    repository: String,
    route: Route,
    /// As recorded in `Call::operation`, e.g. "POST /repos/{owner}/{repo}/deployments".
    pub operation: String,
    query: Map<String, Value>,
    authorized: bool,
    body: Option<Value>,
}

impl GithubRequest {
    pub(crate) fn parse(
        method: &str,
        path: &str,
        query: Option<&str>,
        authorized: bool,
        body: &[u8],
    ) -> GithubRequest {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (repository, route, template) = match segments.as_slice() {
            ["repos", owner, repo, "deployments"] => (
                format!("{owner}/{repo}"),
                Route::Deployments,
                "/deployments",
            ),
            ["repos", owner, repo, "deployments", id] => (
                format!("{owner}/{repo}"),
                id.parse().map_or(Route::Unknown, Route::Deployment),
                "/deployments/{deployment_id}",
            ),
            ["repos", owner, repo, "deployments", id, "statuses"] => (
                format!("{owner}/{repo}"),
                id.parse().map_or(Route::Unknown, Route::Statuses),
                "/deployments/{deployment_id}/statuses",
            ),
            _ => (String::new(), Route::Unknown, ""),
        };
        let operation = match route {
            Route::Unknown => format!("{method} {path}"),
            _ => format!("{method} /repos/{{owner}}/{{repo}}{template}"),
        };
        let query = query_parameters(query);
        GithubRequest {
            method: method.to_string(),
            repository,
            route,
            operation,
            query,
            authorized,
            body: serde_json::from_slice(body).ok(),
        }
    }

    /// The JSON body of a write, or the query parameters of a read.
    pub(crate) fn recorded_body(&self) -> Value {
        match &self.body {
            Some(body) => body.clone(),
            None if self.query.is_empty() => Value::Null,
            None => Value::Object(self.query.clone()),
        }
    }
}

fn message(status: u16, text: &str) -> Reply {
    Reply::json(
        status,
        &json!({ "message": text, "documentation_url": DOCUMENTATION_URL }),
    )
}

fn not_found() -> Reply {
    message(404, "Not Found")
}

fn validation_failed(detail: &str) -> Reply {
    message(422, &format!("Invalid request.\n\n{detail}"))
}

/// GitHub's answer for a fault kind.
/// The answer to a faulted request; None for the kinds GitHub does not
/// have, which are answered normally.
pub(crate) fn fault_reply(fault: &Fault) -> Option<Reply> {
    let reply = match fault.kind {
        FaultKind::Throttle => message(403, "API rate limit exceeded for installation.")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-limit", "5000"),
        FaultKind::ServerError => message(fault.status.unwrap_or(502), "Server Error"),
        FaultKind::ExpiredToken => message(401, "Bad credentials"),
        FaultKind::AccessDenied => message(403, "Resource not accessible by integration"),
        FaultKind::AutoMerged => Reply::json(
            202,
            &json!({"message": "Auto-merged main into the deployed ref on deployment."}),
        ),
        FaultKind::Conflict => message(409, "Conflict: Commit status checks failed for main."),
        FaultKind::Unprocessable => message(422, "Validation Failed"),
        FaultKind::Slow | FaultKind::Drop | FaultKind::DropAfter | FaultKind::SlowAfter => {
            message(500, "Server Error")
        }
        FaultKind::FailedEntries => return None,
    };
    Some(reply)
}

/// GitHub checks credentials before anything else, faults included.
pub(crate) fn authentication_error(request: &GithubRequest) -> Option<Reply> {
    (!request.authorized).then(|| message(401, "Requires authentication"))
}

pub(crate) fn handle(world: &mut World, request: &GithubRequest) -> Reply {
    if request.repository != world.github.repository {
        return not_found();
    }
    match (&request.route, request.method.as_str()) {
        (Route::Deployments, "POST") => create_deployment(world, request),
        (Route::Deployments, "GET") => list_deployments(world, request),
        (Route::Deployment(id), "GET") => match find(world, *id) {
            Some(index) => Reply::json(
                200,
                &Value::Object(world.github.deployments[index].body.clone()),
            ),
            None => not_found(),
        },
        (Route::Statuses(id), "POST") => create_status(world, *id, request),
        (Route::Statuses(id), "GET") => match find(world, *id) {
            Some(index) => {
                let statuses: Vec<Value> = world.github.deployments[index]
                    .statuses
                    .iter()
                    .rev()
                    .cloned()
                    .collect();
                Reply::json(200, &Value::Array(statuses))
            }
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn find(world: &World, id: u64) -> Option<usize> {
    world.github.deployments.iter().position(|d| d.id() == id)
}

fn repository_url(world: &World) -> String {
    format!("{}/repos/{}", world.github.api_url, world.github.repository)
}

fn creator() -> Value {
    json!({"login": "github-actions[bot]", "id": 41898282, "type": "Bot"})
}

fn create_deployment(world: &mut World, request: &GithubRequest) -> Reply {
    let Some(body) = request.body.as_ref().filter(|body| body.is_object()) else {
        return message(400, "Problems parsing JSON");
    };
    let Some(reference) = str_field(body, "ref") else {
        return validation_failed("\"ref\" wasn't supplied.");
    };
    if body
        .get("required_contexts")
        .is_some_and(|contexts| !contexts.is_array())
    {
        return validation_failed("For 'properties/required_contexts', it is not an array.");
    }
    let environment = str_field(body, "environment")
        .unwrap_or("production")
        .to_string();
    let id = 1000 + world.github.deployments.len() as u64 + 1;
    let sha = if reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit()) {
        reference.to_string()
    } else {
        world.hex(40)
    };
    let url = format!("{}/deployments/{id}", repository_url(world));
    let now = world.rfc3339(world.now);
    let deployment = json!({
        "url": url,
        "id": id,
        "node_id": format!("DE_sim{id}"),
        "sha": sha,
        "ref": reference,
        "task": str_field(body, "task").unwrap_or("deploy"),
        "payload": body.get("payload").cloned().unwrap_or_else(|| json!({})),
        "original_environment": environment,
        "environment": environment,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "creator": creator(),
        "created_at": now,
        "updated_at": now,
        "statuses_url": format!("{url}/statuses"),
        "repository_url": repository_url(world),
        "transient_environment": body.get("transient_environment").and_then(Value::as_bool).unwrap_or(false),
        "production_environment": body
            .get("production_environment")
            .and_then(Value::as_bool)
            .unwrap_or(environment == "production"),
    });
    let Value::Object(body) = deployment else {
        unreachable!("json! of an object literal is an object");
    };
    world.github.deployments.push(Deployment {
        body: body.clone(),
        statuses: Vec::new(),
    });
    Reply::json(201, &Value::Object(body))
}

fn list_deployments(world: &World, request: &GithubRequest) -> Reply {
    let filter = |key: &str, deployment: &Deployment| {
        request
            .query
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(|wanted| deployment.field(key) == Some(wanted))
    };
    let listed: Vec<Value> = world
        .github
        .deployments
        .iter()
        .rev()
        .filter(|d| {
            ["sha", "ref", "task", "environment"]
                .iter()
                .all(|key| filter(key, d))
        })
        .map(|d| Value::Object(d.body.clone()))
        .collect();
    Reply::json(200, &Value::Array(listed))
}

fn new_status(world: &mut World, deployment: usize, state: &str, body: &Value) -> Value {
    world.github.next_status_id += 1;
    let id = 5000 + world.github.next_status_id;
    let target = &world.github.deployments[deployment];
    let deployment_url = target.field("url").unwrap_or_default().to_string();
    let environment = str_field(body, "environment")
        .or(target.field("environment"))
        .unwrap_or_default()
        .to_string();
    let log_url = str_field(body, "log_url")
        .or_else(|| str_field(body, "target_url"))
        .unwrap_or_default();
    let now = world.rfc3339(world.now);
    json!({
        "url": format!("{deployment_url}/statuses/{id}"),
        "id": id,
        "node_id": format!("DES_sim{id}"),
        "state": state,
        "creator": creator(),
        "description": str_field(body, "description").unwrap_or_default(),
        "environment": environment,
        "target_url": log_url,
        "log_url": log_url,
        "environment_url": str_field(body, "environment_url").unwrap_or_default(),
        "created_at": now,
        "updated_at": now,
        "deployment_url": deployment_url,
        "repository_url": repository_url(world),
    })
}

fn create_status(world: &mut World, id: u64, request: &GithubRequest) -> Reply {
    let Some(index) = find(world, id) else {
        return not_found();
    };
    let Some(body) = request.body.as_ref().filter(|body| body.is_object()) else {
        return message(400, "Problems parsing JSON");
    };
    let Some(state) = str_field(body, "state").filter(|state| STATES.contains(state)) else {
        return validation_failed("\"state\" must be one of error, failure, inactive, in_progress, queued, pending, success.");
    };
    if str_field(body, "description").is_some_and(|d| d.chars().count() > 140) {
        return validation_failed("description is too long (maximum is 140 characters)");
    }
    let status = new_status(world, index, state, body);
    world.github.deployments[index]
        .statuses
        .push(status.clone());
    let auto_inactive = body
        .get("auto_inactive")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if state == "success" && auto_inactive {
        deactivate_previous(world, index);
    }
    Reply::json(201, &status)
}

/// Marks earlier non-transient deployments to the same environment inactive,
/// as GitHub does after a success status unless auto_inactive is false.
fn deactivate_previous(world: &mut World, current: usize) {
    let environment = world.github.deployments[current]
        .field("environment")
        .map(str::to_string);
    let previous: Vec<usize> = (0..current)
        .filter(|index| {
            let deployment = &world.github.deployments[*index];
            deployment.field("environment").map(str::to_string) == environment
                && deployment.body.get("transient_environment") != Some(&json!(true))
                && deployment
                    .statuses
                    .last()
                    .is_some_and(|status| status.get("state") != Some(&json!("inactive")))
        })
        .collect();
    for index in previous {
        let status = new_status(world, index, "inactive", &json!({}));
        world.github.deployments[index].statuses.push(status);
    }
}

/// Every deployment with its statuses (newest first) under "statuses".
pub(crate) fn all_deployments(world: &World) -> Vec<Value> {
    world
        .github
        .deployments
        .iter()
        .map(|deployment| {
            let mut body = deployment.body.clone();
            let statuses: Vec<Value> = deployment.statuses.iter().rev().cloned().collect();
            body.insert("statuses".to_string(), Value::Array(statuses));
            Value::Object(body)
        })
        .collect()
}
