//! The simulated world: every service's state, a clock, and the schedule of
//! transitions that timelines put in motion. Transitions are applied lazily:
//! before anything reads or changes the world, `advance` applies every
//! transition due by now, in time order, so that answers are consistent with
//! wall-clock time without a background ticker.

use std::cmp::{Ordering, Reverse};
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::codedeploy::CodeDeployState;
use crate::ecr::EcrState;
use crate::ecs::{EcsState, RolloutStep};
use crate::elbv2::Elbv2State;
use crate::events::EventsState;
use crate::github::GithubState;
use crate::logs::LogsState;
use crate::s3::S3State;
use crate::scenario::{RolloutOutcome, Scenario};
use crate::scheduler::SchedulerState;
use crate::secretsmanager::SecretsState;
use crate::ssm::SsmState;

#[derive(Clone, Copy)]
pub(crate) struct Clock {
    started: Instant,
    started_epoch: f64,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        let started_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs_f64())
            .unwrap_or_default();
        Clock {
            started: Instant::now(),
            started_epoch,
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A transition due at a point in time.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A service deployment's task starts pulling its images.
    TaskPulling {
        task: usize,
    },
    TaskRunning {
        task: usize,
    },
    TaskLogLine {
        task: usize,
        line: String,
    },
    TaskStopped {
        task: usize,
    },
    /// A step of an ECS deployment's rollout, which applies only while that
    /// deployment is its service's PRIMARY and still rolling out.
    Rollout {
        service: usize,
        deployment_id: String,
        step: RolloutStep,
    },
    /// A service deployment's tasks run: ECS registers them with the
    /// service's target groups.
    TargetsRegistered {
        service: usize,
        deployment_id: String,
    },
    CodeDeployReadyTimeout {
        deployment: usize,
    },
    CodeDeployStep {
        deployment: usize,
    },
}

/// An event in the schedule, ordered by when it is due and then by when it
/// was scheduled, so that events due at the same time apply in that order.
struct Scheduled {
    at: Duration,
    sequence: u64,
    event: Event,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

pub(crate) struct World {
    pub region: String,
    pub account: String,
    pub scenario: Scenario,
    clock: Clock,
    /// Simulated time; never behind the clock once advanced.
    pub now: Duration,
    /// Earliest first. A heap: a task that writes 100,000 lines schedules
    /// as many events, which a scan of the schedule per event took almost
    /// two minutes to apply.
    schedule: BinaryHeap<Reverse<Scheduled>>,
    sequence: u64,
    rng: fastrand::Rng,
    /// The generator `with_side_ids` draws from.
    side_rng: fastrand::Rng,
    pub ecs: EcsState,
    pub logs: LogsState,
    pub s3: S3State,
    pub codedeploy: CodeDeployState,
    pub ecr: EcrState,
    pub elbv2: Elbv2State,
    pub secrets: SecretsState,
    pub ssm: SsmState,
    pub events: EventsState,
    pub scheduler: SchedulerState,
    pub github: GithubState,
}

impl World {
    pub(crate) fn new(scenario: Scenario, clock: Clock) -> anyhow::Result<World> {
        let mut world = World {
            region: scenario.region.clone(),
            account: scenario.account.clone(),
            clock,
            now: Duration::ZERO,
            schedule: BinaryHeap::new(),
            sequence: 0,
            // Seeded so that generated ids are the same on every run.
            rng: fastrand::Rng::with_seed(20141113),
            side_rng: fastrand::Rng::with_seed(20151201),
            ecs: EcsState::default(),
            logs: LogsState::default(),
            s3: S3State::default(),
            codedeploy: CodeDeployState::default(),
            ecr: EcrState::default(),
            elbv2: Elbv2State::default(),
            secrets: SecretsState::default(),
            ssm: SsmState::default(),
            events: EventsState::default(),
            scheduler: SchedulerState::default(),
            github: GithubState::default(),
            scenario: scenario.clone(),
        };
        crate::ecs::setup(&mut world, &scenario)?;
        crate::logs::setup(&mut world, &scenario);
        crate::s3::setup(&mut world, &scenario);
        crate::codedeploy::setup(&mut world, &scenario)?;
        crate::ecr::setup(&mut world, &scenario);
        crate::elbv2::setup(&mut world, &scenario)?;
        crate::secretsmanager::setup(&mut world, &scenario)?;
        crate::ssm::setup(&mut world, &scenario);
        crate::events::setup(&mut world, &scenario)?;
        crate::scheduler::setup(&mut world, &scenario)?;
        check_timelines(&scenario)?;
        Ok(world)
    }

    /// Seconds since the Unix epoch, as awsJson timestamps are written.
    pub(crate) fn epoch(&self, at: Duration) -> f64 {
        // Millisecond precision, as AWS answers.
        ((self.clock.started_epoch + at.as_secs_f64()) * 1000.0).round() / 1000.0
    }

    pub(crate) fn epoch_millis(&self, at: Duration) -> i64 {
        (self.epoch(at) * 1000.0).round() as i64
    }

    /// RFC 3339 UTC time, as GitHub writes it.
    pub(crate) fn rfc3339(&self, at: Duration) -> String {
        rfc3339_from_epoch(self.epoch(at) as i64)
    }

    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        self.arn_in(&self.region, service, resource)
    }

    /// The ARN of a resource in another region than the scenario's.
    pub(crate) fn arn_in(&self, region: &str, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{region}:{}:{resource}", self.account)
    }

    pub(crate) fn digits(&mut self, count: usize) -> String {
        let first = self.rng.u8(1..=9);
        let rest: String = (1..count).map(|_| self.rng.digit(10)).collect();
        format!("{first}{rest}")
    }

    pub(crate) fn hex(&mut self, count: usize) -> String {
        (0..count).map(|_| self.rng.digit(16)).collect()
    }

    pub(crate) fn uuid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }

    pub(crate) fn alphanumeric_upper(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| self.rng.digit(36).to_ascii_uppercase())
            .collect()
    }

    /// Runs `action` with the ids it generates drawn from a second seeded
    /// generator: what a service deployment's task records and their
    /// target events add leaves every other generated id as it was
    /// without them.
    pub(crate) fn with_side_ids<T>(&mut self, action: impl FnOnce(&mut World) -> T) -> T {
        std::mem::swap(&mut self.rng, &mut self.side_rng);
        let result = action(self);
        std::mem::swap(&mut self.rng, &mut self.side_rng);
        result
    }

    pub(crate) fn schedule(&mut self, after: Duration, event: Event) {
        self.schedule_at(self.now + after, event);
    }

    pub(crate) fn schedule_at(&mut self, at: Duration, event: Event) {
        self.sequence += 1;
        self.schedule.push(Reverse(Scheduled {
            at,
            sequence: self.sequence,
            event,
        }));
    }

    /// Takes the transitions `matches` picks off the schedule, in the order
    /// they were due, each with the time it had left, so that they can be
    /// scheduled again later (those of a deployment that pauses).
    pub(crate) fn unschedule(
        &mut self,
        matches: impl Fn(&Event) -> bool,
    ) -> Vec<(Duration, Event)> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.schedule)
            .into_iter()
            .partition(|Reverse(scheduled)| matches(&scheduled.event));
        self.schedule = kept.into_iter().collect();
        let mut taken: Vec<Scheduled> = taken.into_iter().map(|Reverse(s)| s).collect();
        taken.sort();
        taken
            .into_iter()
            .map(|s| (s.at.saturating_sub(self.now), s.event))
            .collect()
    }

    /// Applies every transition due by the clock's current time.
    pub(crate) fn advance(&mut self) {
        let target = self.clock.elapsed().max(self.now);
        loop {
            let Reverse(Scheduled { at, event, .. }) = match self.schedule.peek_mut() {
                Some(next) if next.0.at <= target => PeekMut::pop(next),
                _ => break,
            };
            self.now = self.now.max(at);
            self.apply(event);
        }
        self.now = target;
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::TaskPulling { task } => crate::ecs::task_pulling(self, task),
            Event::TaskRunning { task } => crate::ecs::task_running(self, task),
            Event::TaskLogLine { task, line } => crate::ecs::task_log_line(self, task, line),
            Event::TaskStopped { task } => crate::ecs::task_stopped(self, task),
            Event::Rollout {
                service,
                deployment_id,
                step,
            } => crate::ecs::rollout_step(self, service, &deployment_id, step),
            Event::TargetsRegistered {
                service,
                deployment_id,
            } => crate::ecs::targets_registered(self, service, &deployment_id),
            Event::CodeDeployStep { deployment } => crate::codedeploy::step(self, deployment),
            Event::CodeDeployReadyTimeout { deployment } => {
                crate::codedeploy::ready_timed_out(self, deployment)
            }
        }
    }
}

/// Timeline entries that name a service or deployment group the setup
/// lacks would never apply: they are typos, refused at start.
fn check_timelines(scenario: &Scenario) -> anyhow::Result<()> {
    for entry in &scenario.timelines.deployments {
        // Failed tasks repeat every `seconds` until the breaker trips, or forever.
        if entry.outcome == RolloutOutcome::TasksFail && entry.seconds < 0.01 {
            anyhow::bail!(
                "timelines.deployments for service {}: tasksFail needs seconds of at least 0.01",
                entry.service
            );
        }
        // The new tasks start before the moment they all run.
        let running = entry.seconds - entry.drain_seconds.unwrap_or(0.0);
        let starting = entry.pending_seconds + entry.pull_seconds;
        if entry.outcome == RolloutOutcome::Complete && starting > running {
            anyhow::bail!(
                "timelines.deployments for service {}: pendingSeconds + pullSeconds ({starting}) \
                 exceed the {running} seconds until the new tasks run (seconds - drainSeconds)",
                entry.service
            );
        }
        let known = scenario
            .services
            .iter()
            .any(|s| s.cluster == entry.cluster && s.service_name == entry.service);
        if !known {
            anyhow::bail!(
                "timelines.deployments names service {} in cluster {}, which the scenario does not set up",
                entry.service,
                entry.cluster
            );
        }
    }
    for entry in &scenario.timelines.code_deploy {
        let known = scenario.code_deploy.deployment_groups.iter().any(|group| {
            str_field(group, "deploymentGroupName") == Some(entry.deployment_group.as_str())
        });
        if !known {
            anyhow::bail!(
                "timelines.codeDeploy names deployment group {}, which the scenario does not set up",
                entry.deployment_group
            );
        }
    }
    Ok(())
}

/// Picks the timeline entry for the `index`-th occurrence among the entries
/// that match: entries apply in order and the last one repeats.
pub(crate) fn nth_or_last<T: Clone>(matching: Vec<&T>, index: usize) -> Option<T> {
    matching
        .get(index)
        .or_else(|| matching.last())
        .map(|entry| (*entry).clone())
}

pub(crate) fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.max(0.0))
}

/// The string value of `key` in a JSON object, if it is a string.
pub(crate) fn str_field<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

pub(crate) fn rfc3339_from_epoch(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let second_of_day = epoch.rem_euclid(86_400);
    // Civil-from-days, proleptic Gregorian calendar (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_timelines_for_services_it_does_not_have() {
        let scenario = Scenario::from_yaml("timelines: {deployments: [{service: ghost}]}").unwrap();
        let error = World::new(scenario, Clock::new()).err().unwrap();
        assert!(error.to_string().contains("service ghost"), "{error}");
    }

    #[test]
    fn refuses_failing_tasks_with_no_time_between_them() {
        let scenario = Scenario::from_yaml(
            "{taskDefinitions: [{family: a, containerDefinitions: [{name: a, image: a}]}], \
             services: [{serviceName: a, taskDefinition: 'a:1'}], \
             timelines: {deployments: [{service: a, outcome: tasksFail, seconds: 0}]}}",
        )
        .unwrap();
        let error = World::new(scenario, Clock::new()).err().unwrap();
        assert!(error.to_string().contains("at least 0.01"), "{error}");
    }

    #[test]
    fn refuses_services_with_a_status_ecs_does_not_have() {
        let scenario = Scenario::from_yaml(
            "{taskDefinitions: [{family: a, containerDefinitions: [{name: a, image: a}]}], \
             services: [{serviceName: a, taskDefinition: 'a:1', status: PAUSED}]}",
        )
        .unwrap();
        let error = World::new(scenario, Clock::new()).err().unwrap();
        assert_eq!(
            error.to_string(),
            "service a: status PAUSED is not one of ACTIVE, DRAINING, INACTIVE"
        );
    }

    #[test]
    fn refuses_express_services_whose_task_definition_express_mode_cannot_run() {
        let scenario = Scenario::from_yaml(
            "{taskDefinitions: [{family: a, requiresCompatibilities: [FARGATE], \
             containerDefinitions: [{name: web, image: a}]}], \
             services: [{serviceName: a, taskDefinition: 'a:1', express: {}}]}",
        )
        .unwrap();
        let error = World::new(scenario, Clock::new()).err().unwrap();
        assert_eq!(
            error.to_string(),
            "Express service a: The task definition must have a container named Main."
        );
    }

    #[test]
    fn formats_epoch_seconds_as_rfc3339() {
        assert_eq!(rfc3339_from_epoch(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_epoch(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(rfc3339_from_epoch(1_798_761_600), "2027-01-01T00:00:00Z");
    }
}
