//! A local simulator of the AWS services (ECS, S3, CloudWatch Logs,
//! CodeDeploy, ECR, Secrets Manager, Systems Manager, EventBridge and its
//! Scheduler) and the GitHub deployments API that ecs-deploy talks to,
//! driven by a scenario file. See sim/README.md.

mod aws;
mod codedeploy;
pub mod container_action;
mod ecr;
mod ecs;
mod elbv2;
mod events;
mod faults;
mod github;
mod job;
mod logs;
mod model;
mod query;
mod reply;
mod s3;
mod scenario;
mod scheduler;
mod secretsmanager;
mod server;
mod ssm;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

pub use job::JobDirectory;
pub use model::{ServiceModels, MODELS_DIRECTORY_VARIABLE};
pub use scenario::{
    CodeDeployOutcome, CodeDeploySetup, CodeDeployTimeline, EcrImageSetup, EcrRepositorySetup,
    EventRuleSetup, Fault, FaultKind, GithubSetup, InProgressDeployment, Rehearsal, RolloutOutcome,
    RolloutTimeline, S3ObjectSetup, Scenario, SecretSetup, ServiceSetup, SsmParameterSetup,
    SsmParameterType, TargetGroupSetup, TaskOutcome, TaskSetup, TaskTimeline, Timelines,
};

use server::Shared;
use world::{Clock, World};

/// The access key clients are given; the simulator does not check signatures.
const ACCESS_KEY_ID: &str = "AKIASIMULATOR0000000";
const SECRET_ACCESS_KEY: &str = "simulator-secret-access-key";
const GITHUB_TOKEN: &str = "ghs_simulator";
/// The commit GITHUB_SHA names.
const GITHUB_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Since the simulator started.
    pub at: Duration,
    /// "ecs" | "s3" | "logs" | "codedeploy" | "ecr" | "secretsmanager" |
    /// "ssm" | "events" | "scheduler" | "github".
    pub service: String,
    /// e.g. "RegisterTaskDefinition", "GetObject", "UpdateSchedule",
    /// "POST /repos/{owner}/{repo}/deployments".
    pub operation: String,
    /// The request's path, which names the object or schedule of the REST
    /// services (`/infra/taskdef.json`, `/schedules/nightly`); `/` for the
    /// awsJson services.
    pub path: String,
    /// The parsed JSON body (GitHub and Scheduler reads: the query
    /// parameters), or Null.
    pub body: Value,
}

/// A running simulator; dropping it stops the servers.
pub struct Sim {
    shared: Arc<Shared>,
    aws_address: SocketAddr,
    github_address: SocketAddr,
    github_prefix: String,
    repository: String,
    region: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sim {
    /// Starts the servers on 127.0.0.1 with ephemeral ports, on a runtime of
    /// its own (a background thread), so that plain #[test] functions can
    /// use it.
    pub fn start(scenario: Scenario) -> anyhow::Result<Sim> {
        Sim::start_on(scenario, 0, 0)
    }

    /// Starts the servers on the given ports (0 = ephemeral), holding every
    /// request to the AWS service models, which must be found.
    pub fn start_on(scenario: Scenario, aws_port: u16, github_port: u16) -> anyhow::Result<Sim> {
        let models = ServiceModels::load()?;
        Sim::start_with(scenario, aws_port, github_port, Some(models))
    }

    /// Starts the servers on the given ports (0 = ephemeral); without
    /// models, requests are not checked against them.
    pub fn start_with(
        scenario: Scenario,
        aws_port: u16,
        github_port: u16,
        models: Option<std::sync::Arc<ServiceModels>>,
    ) -> anyhow::Result<Sim> {
        let bind = |port: u16| -> anyhow::Result<std::net::TcpListener> {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))
                .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        };
        let aws_listener = bind(aws_port)?;
        let github_listener = bind(github_port)?;
        let aws_address = aws_listener.local_addr()?;
        let github_address = github_listener.local_addr()?;
        let github_prefix = scenario
            .github
            .path_prefix
            .trim_end_matches('/')
            .to_string();
        let repository = scenario.github.repository.clone();
        let region = scenario.region.clone();
        let faults = faults::Faults::new(scenario.faults.clone());
        let account = scenario.account.clone();
        let clock = Clock::new();
        let mut world = World::new(scenario, clock)?;
        world.github.api_url = format!("http://{github_address}{github_prefix}");
        world.github.repository = repository.clone();
        let shared = Arc::new(Shared {
            clock,
            world: Mutex::new(world),
            calls: Mutex::new(Vec::new()),
            faults,
            account,
            github_prefix: github_prefix.clone(),
            models,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ecs-deploy-sim")
            .enable_all()
            .build()
            .context("cannot start the simulator's runtime")?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let aws_router = server::aws_router(shared.clone());
        let github_router = server::github_router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("ecs-deploy-sim".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    match (
                        tokio::net::TcpListener::from_std(aws_listener),
                        tokio::net::TcpListener::from_std(github_listener),
                    ) {
                        (Ok(aws), Ok(github)) => {
                            tokio::spawn(server::serve(aws, aws_router));
                            tokio::spawn(server::serve(github, github_router));
                            let _ = stopped.await;
                        }
                        (aws, github) => {
                            eprintln!(
                                "ecs-deploy-sim: cannot serve: {:?} {:?}",
                                aws.err(),
                                github.err()
                            );
                        }
                    }
                });
                // Dropping the runtime here, off any async context, ends
                // every connection and closes the listeners.
                drop(runtime);
            })
            .context("cannot start the simulator's thread")?;
        Ok(Sim {
            shared,
            aws_address,
            github_address,
            github_prefix,
            repository,
            region,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// e.g. "http://127.0.0.1:40123": every AWS service.
    pub fn aws_endpoint(&self) -> String {
        format!("http://{}", self.aws_address)
    }

    /// The GitHub API root, including the scenario's path prefix.
    pub fn github_api_url(&self) -> String {
        format!("http://{}{}", self.github_address, self.github_prefix)
    }

    /// The environment a client needs to talk to the simulator.
    pub fn env(&self) -> Vec<(String, String)> {
        let pairs = [
            ("AWS_ENDPOINT_URL", self.aws_endpoint()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("GITHUB_API_URL", self.github_api_url()),
            (
                "GITHUB_SERVER_URL",
                format!("http://{}", self.github_address),
            ),
            ("GITHUB_REPOSITORY", self.repository.clone()),
            ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
            ("GITHUB_SHA", GITHUB_SHA.to_string()),
            ("GITHUB_REF", "refs/heads/main".to_string()),
            ("GITHUB_RUN_ID", "1".to_string()),
            ("GITHUB_RUN_ATTEMPT", "1".to_string()),
        ];
        pairs
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect()
    }

    /// Time since the simulator started, on the clock of `Call::at`, so that
    /// a test can tell which calls came before or after a moment.
    pub fn elapsed(&self) -> Duration {
        self.shared.clock.elapsed()
    }

    /// Every request received, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The requests to one operation (as in `Call::operation`), in order.
    pub fn calls_to(&self, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|call| call.operation == operation)
            .collect()
    }

    /// Every RegisterTaskDefinition body exactly as received, in order
    /// (not the scenario's pre-registered ones).
    pub fn task_definitions(&self) -> Vec<Value> {
        self.shared.with_world(|world| world.ecs.registered.clone())
    }

    /// Every service as DescribeServices shows it now.
    pub fn services(&self) -> Vec<Value> {
        self.shared.with_world(|world| ecs::all_services(world))
    }

    /// Every task RunTask started and every failed service task, as
    /// DescribeTasks shows it now.
    pub fn tasks(&self) -> Vec<Value> {
        self.shared.with_world(|world| ecs::all_tasks(world, false))
    }

    /// The tasks of completing service deployments, as DescribeTasks shows
    /// them now.
    pub fn deployment_tasks(&self) -> Vec<Value> {
        self.shared.with_world(|world| ecs::all_tasks(world, true))
    }

    /// The messages of one CloudWatch Logs stream, in order.
    pub fn log_messages(&self, group: &str, stream: &str) -> Vec<String> {
        self.shared
            .with_world(|world| logs::messages(world, group, stream))
    }

    /// Every GitHub deployment as the API shows it, each with its statuses
    /// (newest first) under "statuses".
    pub fn github_deployments(&self) -> Vec<Value> {
        self.shared
            .with_world(|world| github::all_deployments(world))
    }

    /// Every EventBridge rule as DescribeRule shows it, with its targets
    /// under "Targets".
    pub fn event_rules(&self) -> Vec<Value> {
        self.shared.with_world(|world| events::all_rules(world))
    }

    /// Every Scheduler schedule as GetSchedule shows it.
    pub fn schedules(&self) -> Vec<Value> {
        self.shared
            .with_world(|world| scheduler::all_schedules(world))
    }

    /// Every CodeDeploy deployment as GetDeployment's deploymentInfo shows it now.
    pub fn codedeploy_deployments(&self) -> Vec<Value> {
        self.shared
            .with_world(|world| codedeploy::all_deployments(world))
    }

    /// Waits until `condition` holds on the world's state, checking every
    /// 20 ms, up to `timeout`; says whether it held.
    pub fn wait_until(&self, timeout: Duration, condition: impl Fn(&Sim) -> bool) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if condition(self) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
