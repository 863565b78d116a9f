//! Words `timings::Event`s: each deployment's time in one log line naming
//! its longest part, the advice as notices, a table in the summary with
//! the parts as bars of the service's lane, and the JSON of `timings`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::summary::{seconds, text, Bar, Summary};
use super::Presenter;
use crate::event::Output;
use crate::timings::breakdown::{
    Advice, Piece, Remedy, SUGGESTED_DEREGISTRATION_DELAY, SUGGESTED_HEALTHY_THRESHOLD,
    SUGGESTED_INTERVAL,
};
use crate::timings::{Breakdown, Event, Read};

impl Presenter {
    pub(super) fn timings(&self, event: Event) {
        match event {
            Event::Measured { breakdowns, file } => self.measured(&breakdowns, file.as_deref()),
            Event::Unread { what, reason } => {
                self.runner.notice(&format!("{}: {reason}", unread(what)))
            }
        }
    }

    fn measured(&self, breakdowns: &[Breakdown], file: Option<&std::path::Path>) {
        for breakdown in breakdowns {
            self.runner.info(&time_line(breakdown));
            for advice in &breakdown.advice {
                self.runner.notice(&advice_line(breakdown, advice));
            }
        }
        let json = {
            let mut summary = self.summary();
            describe(&mut summary, breakdowns);
            document(breakdowns, summary.steps())
        };
        if let Err(error) = self
            .runner
            .set_output(Output::Timings.name(), &json.to_string())
        {
            self.runner.warning(&format!("{error:#}"));
        }
        if let Some(file) = file {
            let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
            if let Err(error) = std::fs::write(file, pretty + "\n") {
                self.runner.warning(&format!(
                    "the timings could not be written to {}: {error}",
                    file.display()
                ));
            }
        }
    }
}

fn unread(what: Read) -> &'static str {
    match what {
        Read::Tasks => "The new tasks' timestamps were not read, so the deploy time has no task parts",
        Read::Events => "The services' events were not read, so the deploy time has no health check or draining part",
        Read::TargetGroups => "The target groups were not read, so there is no advice on their health checks or deregistration delay",
        Read::ImageSizes => "The images' sizes were not read, so the image advice names no size",
    }
}

fn piece_name(piece: Piece) -> &'static str {
    match piece {
        Piece::Provisioning => "provisioning the new tasks",
        Piece::ImagePull => "pulling the image",
        Piece::ContainerStart => "starting the containers",
        Piece::HealthChecks => "health checks at the load balancer",
        Piece::Draining => "draining the old tasks",
    }
}

fn between(from: SystemTime, to: SystemTime) -> Duration {
    to.duration_since(from).unwrap_or_default()
}

/// "Deploy time of web: 3.2 s from the update to the verdict; longest
/// measured part: draining the old tasks, 1.5 s."
fn time_line(breakdown: &Breakdown) -> String {
    let total = breakdown.total();
    let longest = breakdown.parts.iter().max_by_key(|p| p.took());
    let mut line = format!(
        "Deploy time of {}: {} from the update to the verdict",
        breakdown.service,
        seconds(total)
    );
    if let Some(part) = longest {
        line.push_str(&format!(
            "; longest measured part: {}, {}",
            piece_name(part.piece),
            seconds(part.took())
        ));
    }
    line + "."
}

fn advice_line(breakdown: &Breakdown, advice: &Advice) -> String {
    let service = &breakdown.service;
    let cost = format!(
        "{} of the {}",
        seconds(advice.cost),
        seconds(breakdown.total())
    );
    match &advice.remedy {
        Remedy::DeregistrationDelay { target_group, seconds: delay } => format!(
            "{service}: draining the old tasks took {cost}. Target group {target_group} has deregistration_delay.timeout_seconds {delay}: the load balancer gives each old task that long to finish its requests. Set it a little above your longest request ({SUGGESTED_DEREGISTRATION_DELAY} s suits most web services)."
        ),
        Remedy::HealthChecks { target_group, interval, healthy_threshold } => format!(
            "{service}: health checks took {cost}. Target group {target_group} calls a target healthy after {healthy_threshold} checks {interval} s apart (about {} s): HealthyThresholdCount {SUGGESTED_HEALTHY_THRESHOLD} with HealthCheckIntervalSeconds {SUGGESTED_INTERVAL} takes {} s.",
            interval * healthy_threshold,
            SUGGESTED_INTERVAL * SUGGESTED_HEALTHY_THRESHOLD
        ),
        Remedy::ImagePull { image, bytes } => format!(
            "{service}: pulling {image}{} took {cost}. A smaller image pulls faster (a slimmer base image, fewer and smaller layers); on Fargate, a SOCI index lets the task start before the pull ends.",
            bytes.map_or(String::new(), |b| format!(" ({})", megabytes(b)))
        ),
        Remedy::ContainerHealthCheck {
            check,
            target_group,
            load_balancer_seconds,
        } => format!(
            "{service}: health checks took {cost}. Container {}'s health check runs every {} s, slower than target group {target_group}, which calls a target healthy in about {load_balancer_seconds} s, and ECS waits for both: lower the container's healthCheck interval to match.",
            check.container, check.interval
        ),
        Remedy::Rounds { rollout } => format!(
            "{service}: the new tasks were started over {cost}, {} at a time: with {} tasks, minimumHealthyPercent {} and maximumPercent {} let ECS start only that many at once. maximumPercent 200 starts them all together, when the cluster has room.",
            rollout.batch(),
            rollout.desired,
            rollout.minimum_healthy_percent,
            rollout.maximum_percent
        ),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1_000_000.0)
}

/// The parts as bars of the service's lane, and a table of every
/// deployment's parts and stages with its advice.
fn describe(summary: &mut Summary, breakdowns: &[Breakdown]) {
    let mut section =
        String::from("#### Where the time went\n\n| Service | Part | Time |\n|---|---|---|\n");
    for b in breakdowns {
        let service = text(&b.service);
        section.push_str(&format!(
            "| {service} | **update to verdict** | {} |\n",
            seconds(b.total())
        ));
        for part in &b.parts {
            summary.add_bar(
                &b.service,
                Bar {
                    name: piece_name(part.piece).to_owned(),
                    start: part.from,
                    end: part.to,
                    failed: false,
                },
            );
            section.push_str(&format!(
                "| {service} | {} | {} |\n",
                piece_name(part.piece),
                seconds(part.took())
            ));
        }
        for (name, from, to) in &b.stages {
            section.push_str(&format!(
                "| {service} | stage: {} | {} |\n",
                text(name),
                seconds(between(*from, *to))
            ));
        }
    }
    let advice: Vec<String> = breakdowns
        .iter()
        .flat_map(|b| {
            b.advice
                .iter()
                .map(move |a| format!("- {}", text(&advice_line(b, a))))
        })
        .collect();
    if !advice.is_empty() {
        section.push_str(&format!("\n{}", advice.join("\n")));
    }
    summary.add_section(section);
}

/// Seconds to the millisecond, as the JSON gives them.
fn secs(took: Duration) -> f64 {
    (took.as_millis() as f64) / 1000.0
}

/// A moment as seconds since the epoch.
fn epoch(at: SystemTime) -> f64 {
    secs(at.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// The JSON of `timings`: each deployment, then ecs-deploy's own steps.
fn document(breakdowns: &[Breakdown], steps: &[(&'static str, Duration)]) -> Value {
    let services: Vec<Value> = breakdowns
        .iter()
        .map(|b| {
            json!({
                "service": b.service,
                "startedAt": epoch(b.started),
                "seconds": secs(b.total()),
                "parts": b.parts.iter().map(|p| json!({
                    "part": piece_key(p.piece),
                    "startedAt": epoch(p.from),
                    "seconds": secs(p.took()),
                })).collect::<Vec<_>>(),
                "stages": b.stages.iter().map(|(name, from, to)| json!({
                    "stage": name,
                    "startedAt": epoch(*from),
                    "seconds": secs(between(*from, *to)),
                })).collect::<Vec<_>>(),
                "advice": b.advice.iter().map(|a| advice_json(&b.service, a)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let steps: Vec<Value> = steps
        .iter()
        .map(|(step, took)| json!({"step": step, "seconds": secs(*took)}))
        .collect();
    json!({"services": services, "steps": steps})
}

fn piece_key(piece: Piece) -> &'static str {
    match piece {
        Piece::Provisioning => "provisioning",
        Piece::ImagePull => "imagePull",
        Piece::ContainerStart => "containerStart",
        Piece::HealthChecks => "healthChecks",
        Piece::Draining => "draining",
    }
}

fn advice_json(service: &str, advice: &Advice) -> Value {
    let (resource, now, suggested) = match &advice.remedy {
        Remedy::DeregistrationDelay {
            target_group,
            seconds,
        } => (
            json!({"targetGroup": target_group}),
            json!({"deregistration_delay.timeout_seconds": seconds}),
            json!({"deregistration_delay.timeout_seconds": SUGGESTED_DEREGISTRATION_DELAY}),
        ),
        Remedy::HealthChecks {
            target_group,
            interval,
            healthy_threshold,
        } => (
            json!({"targetGroup": target_group}),
            json!({"HealthCheckIntervalSeconds": interval, "HealthyThresholdCount": healthy_threshold}),
            json!({"HealthCheckIntervalSeconds": SUGGESTED_INTERVAL, "HealthyThresholdCount": SUGGESTED_HEALTHY_THRESHOLD}),
        ),
        Remedy::ImagePull { image, bytes } => (
            json!({"image": image}),
            json!({"imageSizeInBytes": bytes}),
            Value::Null,
        ),
        Remedy::ContainerHealthCheck {
            check,
            target_group,
            load_balancer_seconds,
        } => (
            json!({"container": check.container, "targetGroup": target_group}),
            json!({"healthCheck.interval": check.interval}),
            json!({"healthCheck.interval": load_balancer_seconds}),
        ),
        Remedy::Rounds { rollout } => (
            json!({"service": service}),
            json!({"desiredCount": rollout.desired, "minimumHealthyPercent": rollout.minimum_healthy_percent, "maximumPercent": rollout.maximum_percent}),
            json!({"maximumPercent": 200}),
        ),
    };
    json!({"costSeconds": secs(advice.cost), "about": resource, "now": now, "suggested": suggested})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timings::breakdown::{ContainerCheck, Rollout};

    #[test]
    fn each_piece_of_advice_names_its_cost_the_setting_and_what_to_change() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let breakdown = Breakdown {
            service: "web".to_owned(),
            started: at(0),
            ended: at(600),
            parts: Vec::new(),
            stages: Vec::new(),
            advice: Vec::new(),
        };
        let line = |remedy| {
            advice_line(
                &breakdown,
                &Advice {
                    cost: Duration::from_secs(150),
                    remedy,
                },
            )
        };
        let cases = [
            (
                Remedy::DeregistrationDelay {
                    target_group: "web-tg".to_owned(),
                    seconds: 300,
                },
                "web: draining the old tasks took 150.0 s of the 600.0 s. Target group web-tg has deregistration_delay.timeout_seconds 300: the load balancer gives each old task that long to finish its requests. Set it a little above your longest request (30 s suits most web services).",
            ),
            (
                Remedy::HealthChecks {
                    target_group: "web-tg".to_owned(),
                    interval: 30,
                    healthy_threshold: 5,
                },
                "web: health checks took 150.0 s of the 600.0 s. Target group web-tg calls a target healthy after 5 checks 30 s apart (about 150 s): HealthyThresholdCount 2 with HealthCheckIntervalSeconds 10 takes 20 s.",
            ),
            (
                Remedy::ImagePull {
                    image: "shop:2".to_owned(),
                    bytes: None,
                },
                "web: pulling shop:2 took 150.0 s of the 600.0 s. A smaller image pulls faster (a slimmer base image, fewer and smaller layers); on Fargate, a SOCI index lets the task start before the pull ends.",
            ),
            (
                Remedy::Rounds {
                    rollout: Rollout {
                        desired: 10,
                        minimum_healthy_percent: 100,
                        maximum_percent: 120,
                    },
                },
                "web: the new tasks were started over 150.0 s of the 600.0 s, 2 at a time: with 10 tasks, minimumHealthyPercent 100 and maximumPercent 120 let ECS start only that many at once. maximumPercent 200 starts them all together, when the cluster has room.",
            ),
        ];
        let cases = cases.into_iter().chain([(
            Remedy::ContainerHealthCheck {
                check: ContainerCheck {
                    container: "app".to_owned(),
                    interval: 60,
                },
                target_group: "web-tg".to_owned(),
                load_balancer_seconds: 20,
            },
            "web: health checks took 150.0 s of the 600.0 s. Container app's health check runs every 60 s, slower than target group web-tg, which calls a target healthy in about 20 s, and ECS waits for both: lower the container's healthCheck interval to match.",
        )]);
        for (remedy, expected) in cases {
            assert_eq!(line(remedy), expected);
        }
    }
}
