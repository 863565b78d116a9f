//! Pure: where one service's deployment spent its time, measured from what
//! ECS reports (its new tasks' timestamps and the service's events), and
//! the settings that cost the most of it (`advice`).

use std::time::{Duration, SystemTime};

/// One new task's moments, as DescribeTasks gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TaskMoments {
    pub(crate) created: Option<SystemTime>,
    pub(crate) pull_started: Option<SystemTime>,
    pub(crate) pull_stopped: Option<SystemTime>,
    pub(crate) started: Option<SystemTime>,
    /// The image of each container, for its size.
    pub(crate) images: Vec<String>,
}

/// What the service's events say about the deployment, each the moment of
/// the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServiceMoments {
    /// Each "registered N targets in (target-group …)".
    pub(crate) registered: Vec<SystemTime>,
    /// The first "has begun draining connections on N tasks.".
    pub(crate) drain_began: Option<SystemTime>,
    /// How many such events there were: one a round of the rollout.
    pub(crate) drains: u32,
    /// "(deployment ID) deployment completed.".
    pub(crate) completed: Option<SystemTime>,
}

/// The service's events (newest first, as DescribeServices answers them)
/// since `since` that time a deployment, read into its moments.
pub(crate) fn service_moments(
    events: &[(SystemTime, String)],
    since: SystemTime,
    deployment_id: &str,
) -> ServiceMoments {
    let mut moments = ServiceMoments::default();
    let completed = format!("(deployment {deployment_id}) deployment completed.");
    for (at, message) in events.iter().rev().filter(|(at, _)| *at >= since) {
        if message.contains(") registered ") && message.contains(" targets in (target-group ") {
            moments.registered.push(*at);
        } else if message.contains(" has begun draining connections on ") {
            moments.drain_began.get_or_insert(*at);
            moments.drains += 1;
        } else if message.ends_with(&completed) {
            moments.completed.get_or_insert(*at);
        }
    }
    moments
}

/// A part of a deployment's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// From the deployment's start until the last new task began to pull
    /// its image: placement, the network interface, the task's own start.
    Provisioning,
    ImagePull,
    /// From the image pulled until the containers started.
    ContainerStart,
    /// From the new tasks' registration with the load balancer until ECS
    /// began to drain the old ones: the health checks the targets passed.
    HealthChecks,
    /// The old tasks' connections drained (the deregistration delay) until
    /// the deployment completed.
    Draining,
}

/// One stretch of the deployment's wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) piece: Piece,
    pub(crate) from: SystemTime,
    pub(crate) to: SystemTime,
}

impl Part {
    pub(crate) fn took(&self) -> Duration {
        self.to.duration_since(self.from).unwrap_or_default()
    }
}

/// The parts of a deployment that started at `started` and was judged
/// successful at `ended`, from its new tasks and the service's events; a
/// part nothing measured is left out.
pub(crate) fn parts(
    started: SystemTime,
    ended: SystemTime,
    tasks: &[TaskMoments],
    events: &ServiceMoments,
) -> Vec<Part> {
    let latest = |at: fn(&TaskMoments) -> Option<SystemTime>| tasks.iter().filter_map(at).max();
    let earliest = |at: fn(&TaskMoments) -> Option<SystemTime>| tasks.iter().filter_map(at).min();
    let last_pull_start = latest(|t| t.pull_started.or(t.started));
    let last_start = latest(|t| t.started);
    let mut parts = vec![
        last_pull_start.map(|to| (Piece::Provisioning, started, to)),
        earliest(|t| t.pull_started)
            .zip(latest(|t| t.pull_stopped))
            .map(|(from, to)| (Piece::ImagePull, from, to)),
        latest(|t| t.pull_stopped)
            .zip(last_start)
            .map(|(from, to)| (Piece::ContainerStart, from, to)),
    ];
    if let Some(drain) = events.drain_began {
        let registered = events.registered.iter().filter(|at| **at <= drain).max();
        if let Some(from) = registered.copied() {
            parts.push(Some((Piece::HealthChecks, from.max(started), drain)));
        }
        parts.push(Some((
            Piece::Draining,
            drain,
            events.completed.unwrap_or(ended).min(ended),
        )));
    }
    parts
        .into_iter()
        .flatten()
        .filter(|(_, from, to)| to > from)
        .map(|(piece, from, to)| Part { piece, from, to })
        .collect()
}

/// The longest single pull of any new task.
fn longest_pull(tasks: &[TaskMoments]) -> Duration {
    tasks
        .iter()
        .filter_map(|t| t.pull_stopped?.duration_since(t.pull_started?).ok())
        .max()
        .unwrap_or_default()
}

/// How long after the first new task the last one was created: the time
/// spent waiting for earlier rounds of a rollout that could not start every
/// task at once.
fn rounds_waited(tasks: &[TaskMoments]) -> Duration {
    let created = tasks.iter().filter_map(|t| t.created);
    match (created.clone().min(), created.max()) {
        (Some(first), Some(last)) => last.duration_since(first).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// A target group of the service, as ELBv2 describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetGroup {
    pub(crate) name: String,
    /// `deregistration_delay.timeout_seconds`; None when unread.
    pub(crate) deregistration_delay: Option<u32>,
    pub(crate) interval: u32,
    pub(crate) healthy_threshold: u32,
}

impl TargetGroup {
    /// About how long the group takes to call a new target healthy.
    pub(crate) fn seconds_to_healthy(&self) -> u32 {
        self.interval * self.healthy_threshold
    }
}

/// The service's rollout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rollout {
    pub(crate) desired: u32,
    pub(crate) minimum_healthy_percent: u32,
    pub(crate) maximum_percent: u32,
}

impl Rollout {
    /// How many new tasks ECS may start in a round: the tasks
    /// `maximumPercent` allows running or pending (rounded down) less those
    /// `minimumHealthyPercent` keeps running (rounded up), at least one.
    pub(crate) fn batch(&self) -> u32 {
        let most = self.desired * self.maximum_percent / 100;
        let kept = (self.desired * self.minimum_healthy_percent).div_ceil(100);
        most.saturating_sub(kept).clamp(1, self.desired.max(1))
    }
}

/// The settings the advice is about, as far as they could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) target_groups: Vec<TargetGroup>,
    /// Each image's size in bytes, where ECR has it.
    pub(crate) image_sizes: Vec<(String, u64)>,
    pub(crate) rollout: Option<Rollout>,
    /// The deployed definition's slowest essential container health check.
    pub(crate) container_check: Option<ContainerCheck>,
}

/// A container's health check: ECS counts a task healthy only once it
/// passes, and its first check runs `interval` seconds after the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerCheck {
    pub(crate) container: String,
    pub(crate) interval: u32,
}

/// The slowest health check of an essential container of `definition`
/// (a task definition's JSON), with Docker's default interval of 30 s.
pub(crate) fn container_check(definition: &serde_json::Value) -> Option<ContainerCheck> {
    definition["containerDefinitions"]
        .as_array()?
        .iter()
        .filter(|c| c["essential"].as_bool() != Some(false))
        .filter_map(|c| {
            let check = c.get("healthCheck")?;
            Some(ContainerCheck {
                container: c["name"].as_str().unwrap_or_default().to_owned(),
                interval: check["interval"]
                    .as_u64()
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(30),
            })
        })
        .max_by_key(|check| check.interval)
}

/// A setting to change, with what it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remedy {
    DeregistrationDelay {
        target_group: String,
        seconds: u32,
    },
    HealthChecks {
        target_group: String,
        interval: u32,
        healthy_threshold: u32,
    },
    ImagePull {
        image: String,
        bytes: Option<u64>,
    },
    Rounds {
        rollout: Rollout,
    },
    /// A container health check slower than the load balancer's.
    ContainerHealthCheck {
        check: ContainerCheck,
        target_group: String,
        /// What the target group takes to call a target healthy.
        load_balancer_seconds: u32,
    },
}

/// A setting that cost this deployment `cost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Advice {
    pub(crate) cost: Duration,
    pub(crate) remedy: Remedy,
}

/// What a deregistration delay is lowered to: about the longest request a
/// web service serves.
pub(crate) const SUGGESTED_DEREGISTRATION_DELAY: u32 = 30;
/// Health checks that call a target healthy in 20 s (10 s apart, 2 in a
/// row): what a faster health check is measured against.
pub(crate) const SUGGESTED_INTERVAL: u32 = 10;
pub(crate) const SUGGESTED_HEALTHY_THRESHOLD: u32 = 2;

/// Whether `cost` matters in a deployment that took `total`: over 30 s, or
/// a third of it.
fn material(cost: Duration, total: Duration) -> bool {
    !cost.is_zero() && (cost >= Duration::from_secs(30) || cost * 3 >= total)
}

/// The settings that cost a deployment of `total` a material part of it,
/// most costly first; a setting already at what the advice would say, or
/// unread, gives none. `drains`: the rounds that drained old tasks, each
/// of which the deregistration delay can cost at most once.
pub(crate) fn advice(
    total: Duration,
    parts: &[Part],
    tasks: &[TaskMoments],
    drains: u32,
    settings: &Settings,
) -> Vec<Advice> {
    let time_in = |piece| {
        parts
            .iter()
            .filter(|p| p.piece == piece)
            .map(Part::took)
            .sum::<Duration>()
    };
    let mut advice = Vec::new();
    let mut give = |cost: Duration, remedy: Option<Remedy>| {
        if let Some(remedy) = remedy.filter(|_| material(cost, total)) {
            advice.push(Advice { cost, remedy });
        }
    };
    let groups = &settings.target_groups;
    let longest_delay = groups
        .iter()
        .filter_map(|g| Some((g, g.deregistration_delay?)))
        .filter(|(_, delay)| *delay > SUGGESTED_DEREGISTRATION_DELAY)
        .max_by_key(|(_, delay)| *delay);
    if let Some((group, delay)) = longest_delay {
        let most = Duration::from_secs(u64::from(delay) * u64::from(drains.max(1)));
        give(
            time_in(Piece::Draining).min(most),
            Some(Remedy::DeregistrationDelay {
                target_group: group.name.clone(),
                seconds: delay,
            }),
        );
    }
    give(
        time_in(Piece::HealthChecks),
        groups
            .iter()
            .filter(|g| g.seconds_to_healthy() > SUGGESTED_INTERVAL * SUGGESTED_HEALTHY_THRESHOLD)
            .max_by_key(|g| g.seconds_to_healthy())
            .map(|g| Remedy::HealthChecks {
                target_group: g.name.clone(),
                interval: g.interval,
                healthy_threshold: g.healthy_threshold,
            }),
    );
    give(
        time_in(Piece::HealthChecks),
        slower_container_check(settings),
    );
    give(longest_pull(tasks), largest_image(tasks, settings));
    give(
        rounds_waited(tasks),
        settings
            .rollout
            .filter(|r| r.batch() < r.desired)
            .map(|rollout| Remedy::Rounds { rollout }),
    );
    advice.sort_by_key(|a| std::cmp::Reverse(a.cost));
    advice
}

/// The container health check, when it calls a task healthy later than
/// the quickest of its target groups does.
fn slower_container_check(settings: &Settings) -> Option<Remedy> {
    let check = settings.container_check.clone()?;
    let quickest = settings
        .target_groups
        .iter()
        .min_by_key(|g| g.seconds_to_healthy())?;
    let load_balancer_seconds = quickest.seconds_to_healthy();
    (check.interval > load_balancer_seconds).then(|| Remedy::ContainerHealthCheck {
        check,
        target_group: quickest.name.clone(),
        load_balancer_seconds,
    })
}

/// The new tasks' largest image by the size ECR gives (the last by name
/// when no size is known).
fn largest_image(tasks: &[TaskMoments], settings: &Settings) -> Option<Remedy> {
    let size = |image: &str| {
        settings
            .image_sizes
            .iter()
            .find(|(i, _)| i == image)
            .map(|(_, bytes)| *bytes)
    };
    let images: std::collections::BTreeSet<&String> =
        tasks.iter().flat_map(|t| &t.images).collect();
    let image = images.iter().max_by_key(|image| size(image))?;
    Some(Remedy::ImagePull {
        image: (*image).clone(),
        bytes: size(image),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
    }

    fn task(created: u64, pull: (u64, u64), started: u64) -> TaskMoments {
        TaskMoments {
            created: Some(at(created)),
            pull_started: Some(at(pull.0)),
            pull_stopped: Some(at(pull.1)),
            started: Some(at(started)),
            images: vec!["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1".to_owned()],
        }
    }

    fn durations(parts: &[Part]) -> Vec<(Piece, u64)> {
        parts
            .iter()
            .map(|p| (p.piece, p.took().as_secs()))
            .collect()
    }

    #[test]
    fn events_since_the_start_give_registration_the_first_drain_and_completion() {
        let events = vec![
            (at(100), "(service web) has reached a steady state.".to_owned()),
            (at(100), "(service web) (deployment ecs-svc/2) deployment completed.".to_owned()),
            (at(60), "(service web) has begun draining connections on 2 tasks.".to_owned()),
            (at(55), "(service web) has begun draining connections on 1 tasks.".to_owned()),
            (at(40), "(service web) registered 2 targets in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1)".to_owned()),
            (at(5), "(service web) registered 2 targets in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1)".to_owned()),
            (at(1), "(service web) (deployment ecs-svc/1) deployment completed.".to_owned()),
        ];
        assert_eq!(
            service_moments(&events, at(10), "ecs-svc/2"),
            ServiceMoments {
                registered: vec![at(40)],
                drain_began: Some(at(55)),
                drains: 2,
                completed: Some(at(100)),
            }
        );
    }

    #[test]
    fn parts_come_from_the_tasks_moments_and_the_services_events() {
        let tasks = [task(2, (10, 40), 45), task(3, (12, 50), 52)];
        let events = ServiceMoments {
            registered: vec![at(53)],
            drain_began: Some(at(100)),
            drains: 1,
            completed: Some(at(400)),
        };
        assert_eq!(
            durations(&parts(at(0), at(401), &tasks, &events)),
            [
                (Piece::Provisioning, 12),
                (Piece::ImagePull, 40),
                (Piece::ContainerStart, 2),
                (Piece::HealthChecks, 47),
                (Piece::Draining, 300),
            ]
        );
    }

    #[test]
    fn without_a_load_balancer_or_task_timestamps_those_parts_are_left_out() {
        let no_drain = ServiceMoments::default();
        assert_eq!(
            durations(&parts(at(0), at(30), &[task(1, (2, 2), 2)], &no_drain)),
            [(Piece::Provisioning, 2)]
        );
        // A drain without registration (no target group) is still timed,
        // until the verdict when no completion event was read.
        let drain_only = ServiceMoments {
            drain_began: Some(at(20)),
            drains: 1,
            ..ServiceMoments::default()
        };
        assert_eq!(
            durations(&parts(at(0), at(30), &[], &drain_only)),
            [(Piece::Draining, 10)]
        );
    }

    fn settings(delay: Option<u32>, interval: u32, threshold: u32) -> Settings {
        Settings {
            target_groups: vec![TargetGroup {
                name: "web".to_owned(),
                deregistration_delay: delay,
                interval,
                healthy_threshold: threshold,
            }],
            image_sizes: Vec::new(),
            rollout: None,
            container_check: None,
        }
    }

    fn part(piece: Piece, from: u64, to: u64) -> Part {
        Part {
            piece,
            from: at(from),
            to: at(to),
        }
    }

    #[test]
    fn advice_names_the_settings_that_cost_a_material_part_most_costly_first() {
        let parts = [
            part(Piece::HealthChecks, 10, 160),
            part(Piece::Draining, 160, 460),
        ];
        let advice = advice(
            Duration::from_secs(470),
            &parts,
            &[],
            1,
            &settings(Some(300), 30, 5),
        );
        assert_eq!(
            advice,
            [
                Advice {
                    cost: Duration::from_secs(300),
                    remedy: Remedy::DeregistrationDelay {
                        target_group: "web".to_owned(),
                        seconds: 300
                    },
                },
                Advice {
                    cost: Duration::from_secs(150),
                    remedy: Remedy::HealthChecks {
                        target_group: "web".to_owned(),
                        interval: 30,
                        healthy_threshold: 5
                    },
                },
            ]
        );
    }

    #[test]
    fn no_advice_where_the_cost_is_small_the_setting_is_already_low_or_unread() {
        let parts = [
            part(Piece::HealthChecks, 0, 20),
            part(Piece::Draining, 20, 40),
        ];
        let total = Duration::from_secs(200);
        // 20 s each: under 30 s and under a third of 200 s.
        assert_eq!(
            advice(total, &parts, &[], 1, &settings(Some(300), 30, 5)),
            []
        );
        let slow = [part(Piece::Draining, 0, 100)];
        // Already at the advice, or not read.
        assert_eq!(advice(total, &slow, &[], 1, &settings(Some(30), 10, 2)), []);
        assert_eq!(advice(total, &slow, &[], 1, &settings(None, 10, 2)), []);
        assert_eq!(advice(total, &slow, &[], 1, &Settings::default()), []);
    }

    #[test]
    fn a_container_health_check_slower_than_the_load_balancer_is_named() {
        let parts = [part(Piece::HealthChecks, 0, 60)];
        let definition = serde_json::json!({"containerDefinitions": [
            {"name": "web", "healthCheck": {"command": ["CMD", "true"], "interval": 60}},
            {"name": "log", "essential": false, "healthCheck": {"command": ["CMD", "true"], "interval": 120}},
        ]});
        let check = container_check(&definition);
        assert_eq!(
            check,
            Some(ContainerCheck {
                container: "web".to_owned(),
                interval: 60
            })
        );
        let slow_container = Settings {
            container_check: check.clone(),
            ..settings(Some(30), 10, 2)
        };
        assert_eq!(
            advice(Duration::from_secs(100), &parts, &[], 1, &slow_container),
            [Advice {
                cost: Duration::from_secs(60),
                remedy: Remedy::ContainerHealthCheck {
                    check: check.unwrap(),
                    target_group: "web".to_owned(),
                    load_balancer_seconds: 20,
                },
            }]
        );
        // Docker's default, 30 s, is quicker than the target group's default 150 s.
        let default = serde_json::json!({"containerDefinitions": [{"name": "web", "healthCheck": {"command": ["CMD", "true"]}}]});
        let default_container = Settings {
            container_check: container_check(&default),
            ..settings(Some(30), 30, 5)
        };
        assert!(
            advice(Duration::from_secs(200), &parts, &[], 1, &default_container)
                .iter()
                .all(|a| !matches!(a.remedy, Remedy::ContainerHealthCheck { .. }))
        );
    }

    #[test]
    fn a_drain_costs_the_delay_at_most_once_a_round() {
        // Three rounds drained over 400 s; a 60 s delay cost at most 180 s.
        let parts = [part(Piece::Draining, 0, 400)];
        let advice = advice(
            Duration::from_secs(500),
            &parts,
            &[],
            3,
            &settings(Some(60), 10, 2),
        );
        assert_eq!(advice[0].cost, Duration::from_secs(180));
    }

    #[test]
    fn a_third_of_a_short_deployment_is_material_too() {
        let parts = [part(Piece::Draining, 0, 2)];
        let advice = advice(
            Duration::from_secs(6),
            &parts,
            &[],
            1,
            &settings(Some(300), 30, 5),
        );
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].cost, Duration::from_secs(2));
    }

    #[test]
    fn a_slow_pull_names_the_largest_image_and_rounds_name_the_rollout() {
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1";
        let tasks = [task(0, (1, 61), 62), task(90, (91, 151), 152)];
        let rollout = Rollout {
            desired: 10,
            minimum_healthy_percent: 100,
            maximum_percent: 110,
        };
        let settings = Settings {
            image_sizes: vec![(image.to_owned(), 1_200_000_000)],
            rollout: Some(rollout),
            ..Settings::default()
        };
        let advice = advice(Duration::from_secs(200), &[], &tasks, 0, &settings);
        assert_eq!(
            advice,
            [
                Advice {
                    cost: Duration::from_secs(90),
                    remedy: Remedy::Rounds { rollout },
                },
                Advice {
                    cost: Duration::from_secs(60),
                    remedy: Remedy::ImagePull {
                        image: image.to_owned(),
                        bytes: Some(1_200_000_000)
                    },
                },
            ]
        );
    }

    #[test]
    fn a_rollout_starts_what_maximum_percent_or_minimum_healthy_percent_allow() {
        let batch = |desired, minimum_healthy_percent, maximum_percent| {
            Rollout {
                desired,
                minimum_healthy_percent,
                maximum_percent,
            }
            .batch()
        };
        assert_eq!(batch(10, 100, 200), 10);
        assert_eq!(batch(10, 100, 120), 2);
        assert_eq!(batch(10, 50, 100), 5);
        assert_eq!(batch(3, 100, 110), 1);
        assert_eq!(batch(4, 75, 125), 2);
        assert_eq!(batch(4, 50, 200), 4);
    }
}
