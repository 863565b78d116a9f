//! ecs-deploy-bench: runs the release ecs-deploy binary against the
//! simulator for fixed scenarios and reports start-up, memory, verdict
//! latency, API calls per minute of waiting, log streaming, several
//! services, the preflight's cost and the binary's size, each against its
//! target (BENCHMARKS.md, which `--markdown` rewrites).
//! `scripts/bench` builds and runs it.

mod child;
mod kinds;
mod log_stream;
mod preflight;
mod report;
mod several;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use serde_json::json;

use ecs_deploy_sim::{Call, Scenario, Sim};

use child::FirstHeld;
use kinds::{Kind, KINDS, SUCCESS_MARK};
use report::{median_at_most, worst_at_most, Figure};

const USAGE: &str = "usage: ecs-deploy-bench [--ecs-deploy PATH] [--runs N] [--api-latency-ms MS] [--json PATH] [--markdown PATH] [--commit SHA] [--date YYYY-MM-DD]";

/// 1 MB = 10^6 bytes, for memory and size alike.
const MEGABYTE: f64 = 1e6;

struct Options {
    binary: PathBuf,
    runs: usize,
    /// Added to every answer in the several-services and preflight runs,
    /// where serial calls would otherwise cost nothing against a local
    /// simulator.
    api_latency: Duration,
    json: Option<PathBuf>,
    /// BENCHMARKS.md, whose results this run replaces.
    markdown: Option<PathBuf>,
    commit: Option<String>,
    date: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(|options| bench(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecs-deploy-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        binary: default_binary(),
        runs: 5,
        api_latency: Duration::from_millis(50),
        json: None,
        markdown: None,
        commit: None,
        date: None,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let mut value = || {
            rest.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--ecs-deploy" => options.binary = PathBuf::from(value()?),
            "--runs" => {
                options.runs = value()?.parse().context("--runs needs a number")?;
                ensure!(options.runs > 0, "--runs needs at least 1");
            }
            "--api-latency-ms" => {
                options.api_latency = Duration::from_millis(
                    value()?
                        .parse()
                        .context("--api-latency-ms needs a number")?,
                )
            }
            "--json" => options.json = Some(PathBuf::from(value()?)),
            "--markdown" => options.markdown = Some(PathBuf::from(value()?)),
            "--commit" => options.commit = Some(value()?.clone()),
            "--date" => options.date = Some(value()?.clone()),
            other => bail!("unexpected argument {other}\n{USAGE}"),
        }
    }
    Ok(options)
}

/// The ecs-deploy built next to this binary (the same target directory).
fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("ecs-deploy")))
        .unwrap_or_else(|| PathBuf::from("ecs-deploy"))
}

/// The figures of one deployment kind, a sample per run.
struct KindFigures {
    verdict_line: Figure,
    exit: Figure,
    status_polls: Figure,
    all_calls: Figure,
    /// The AWS calls after the verdict line: the follow-ups and the deploy
    /// time breakdown's reads.
    after_verdict: Figure,
}

impl KindFigures {
    fn new(kind: &Kind) -> KindFigures {
        let latency = [median_at_most(0.5), worst_at_most(2.5)];
        KindFigures {
            verdict_line: Figure::new(
                "verdict latency",
                format!("{}: verdict line", kind.name),
                "s",
            )
            .with_target(&latency),
            exit: Figure::new(
                "verdict latency",
                format!("{}: process exit", kind.name),
                "s",
            )
            .with_target(&latency),
            status_polls: Figure::new(
                "API calls per minute of waiting",
                format!("{}: {}", kind.name, kind.status_calls.join(" + ")),
                "/min",
            )
            .with_target(&[worst_at_most(30.0)]),
            all_calls: Figure::new(
                "API calls per minute of waiting",
                format!("{}: every call", kind.name),
                "/min",
            ),
            after_verdict: Figure::new(
                "API calls after the verdict",
                format!("{}: the time breakdown's and follow-ups' calls", kind.name),
                "calls",
            ),
        }
    }
}

/// The figures of the log streaming runs.
struct LogStreamFigures {
    /// The figure: from the first line written to the last one in
    /// the step log.
    carried: Figure,
    /// The simulator writing them: if this is not far above `carried`, the
    /// simulator limits it.
    written: Figure,
    peak_rss: Figure,
}

/// The figures of the several-services runs.
struct SeveralFigures {
    wall: Vec<Figure>,
    calls_for_most: Figure,
    describe_for_most: Figure,
}

/// The figures of the preflight runs: spawn to exit of the dry run with the
/// preflight and without it, and the preflight's calls.
struct PreflightFigures {
    with: Figure,
    without: Figure,
    calls: Figure,
}

fn bench(options: &Options) -> anyhow::Result<()> {
    // Before the runs: how quiet the machine was when they began.
    let load_at_start = load_average();
    let binary = &options.binary;
    let binary_size = std::fs::metadata(binary)
        .with_context(|| format!("no ecs-deploy binary at {}", binary.display()))?
        .len();
    let mut first_request = Figure::new("start-up", "process spawn → first AWS request", "ms")
        .with_target(&[worst_at_most(20.0)]);
    let mut peak_rss = Figure::new("start-up", "peak RSS, single-service rolling deploy", "MB")
        .with_target(&[worst_at_most(30.0)]);
    let mut by_kind: Vec<KindFigures> = KINDS.iter().map(KindFigures::new).collect();
    let lines = log_stream::LINES;
    let mut log_streaming = LogStreamFigures {
        carried: Figure::new(
            "log streaming",
            format!("{lines} task lines: first written → last in the step log"),
            "lines/s",
        )
        .more_is_better(),
        written: Figure::new(
            "log streaming",
            format!("{lines} task lines: simulator, first → last written"),
            "lines/s",
        )
        .more_is_better(),
        peak_rss: Figure::new(
            "log streaming",
            format!("{lines} task lines: peak RSS"),
            "MB",
        ),
    };
    let most = several::MOST_SERVICES;
    let mut several = SeveralFigures {
        wall: several::SERVICE_COUNTS
            .iter()
            .map(|count| {
                let services = if *count == 1 { "service" } else { "services" };
                Figure::new(
                    "several services",
                    format!("wall time, {count} {services}"),
                    "s",
                )
            })
            .collect(),
        calls_for_most: Figure::new(
            "several services",
            format!("API calls, {most} services"),
            "calls",
        ),
        // DescribeServices takes ten services a call: two calls a poll.
        describe_for_most: Figure::new(
            "several services",
            format!("DescribeServices per minute of waiting, {most} services"),
            "/min",
        )
        .with_target(&[worst_at_most(60.0)]),
    };
    let containers = preflight::CONTAINERS;
    let dry_run = |preflight: &str| {
        Figure::new(
            "preflight",
            format!("wall time, dry run of {containers} containers, {preflight}"),
            "ms",
        )
    };
    let mut preflight = PreflightFigures {
        with: dry_run("preflight"),
        without: dry_run("preflight: false"),
        calls: Figure::new(
            "preflight",
            format!("preflight's AWS calls, {containers} containers"),
            "calls",
        ),
    };

    // Runs interleave the scenarios, so that a slow moment of the machine
    // does not fall on one figure only.
    for round in 1..=options.runs {
        let stretch = stretch_factor(round, options.runs);
        for (index, (kind, figures)) in KINDS.iter().zip(&mut by_kind).enumerate() {
            let run = run_kind(binary, kind, stretch)
                .with_context(|| format!("run {round}, {}", kind.name))?;
            figures.verdict_line.samples.push(run.verdict_line);
            figures.exit.samples.push(run.exit);
            figures
                .status_polls
                .samples
                .push(run.status_polls_per_minute);
            figures.all_calls.samples.push(run.calls_per_minute);
            figures.after_verdict.samples.push(run.calls_after_verdict);
            if index == kinds::START_UP_KIND {
                first_request.samples.push(run.first_request_ms);
                peak_rss.samples.push(run.peak_rss_mb);
            }
            eprintln!(
                "run {round}/{}: {}: verdict {:.3} s after the terminal transition",
                options.runs, kind.name, run.verdict_line
            );
        }
        let run = run_log_stream(binary).with_context(|| format!("run {round}, log streaming"))?;
        log_streaming.carried.samples.push(run.carried);
        log_streaming.written.samples.push(run.written);
        log_streaming.peak_rss.samples.push(run.peak_rss_mb);
        eprintln!(
            "run {round}/{}: log streaming: {lines} lines at {:.0} lines/s, written at {:.0} lines/s",
            options.runs, run.carried, run.written
        );
        for (count, wall) in several::SERVICE_COUNTS.iter().zip(&mut several.wall) {
            let run = run_several(binary, *count, options.api_latency, stretch)
                .with_context(|| format!("run {round}, {count} service(s)"))?;
            wall.samples.push(run.wall);
            if *count == most {
                several.calls_for_most.samples.push(run.calls as f64);
                several
                    .describe_for_most
                    .samples
                    .push(run.describe_per_minute);
            }
            eprintln!(
                "run {round}/{}: {count} service(s): {:.3} s from spawn to exit",
                options.runs, run.wall
            );
        }
        for (checks, wall) in [(true, &mut preflight.with), (false, &mut preflight.without)] {
            let run = run_preflight(binary, checks, options.api_latency)
                .with_context(|| format!("run {round}, preflight: {checks}"))?;
            wall.samples.push(run.wall_ms);
            if checks {
                preflight.calls.samples.push(run.calls as f64);
            }
            eprintln!(
                "run {round}/{}: dry run, preflight: {checks}: {:.1} ms from spawn to exit, {} preflight calls",
                options.runs, run.wall_ms, run.calls
            );
        }
    }

    let mut figures = vec![first_request, peak_rss];
    for kind in &mut by_kind {
        figures.extend([kind.verdict_line.clone(), kind.exit.clone()]);
    }
    figures.push(every_path(&by_kind));
    let mut after_verdict = Vec::new();
    for kind in by_kind {
        figures.extend([kind.status_polls, kind.all_calls]);
        after_verdict.push(kind.after_verdict);
    }
    figures.extend(after_verdict);
    figures.extend([
        log_streaming.carried,
        log_streaming.written,
        log_streaming.peak_rss,
    ]);
    let ratios = ratios(&several.wall);
    figures.extend(several.wall);
    figures.extend(ratios);
    figures.extend([several.calls_for_most, several.describe_for_most]);
    let added = added_by_preflight(&preflight, options.api_latency);
    figures.extend([preflight.with, preflight.without, added, preflight.calls]);
    let mut size = Figure::new(
        "image",
        format!("release binary ({binary_size} bytes)"),
        "MB",
    )
    .with_target(&[worst_at_most(25.0)]);
    size.samples.push(binary_size as f64 / MEGABYTE);
    figures.push(size);

    print!("{}", report::table(&figures));
    if let Some(path) = &options.json {
        let context = json!({
            "commit": options.commit,
            "binary": binary.display().to_string(),
            "runs": options.runs,
            "api_latency_ms": options.api_latency.as_millis() as u64,
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "load_average": load_average(),
        });
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report::json(&figures, context))? + "\n",
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &options.markdown {
        let commit = options.commit.as_deref().unwrap_or("unknown");
        let about = format!(
            "Measured{} at commit `{commit}` with `scripts/bench --runs {} --api-latency-ms {}`, on a machine with {} cores (load average {load_at_start} when the runs began).",
            options.date.as_ref().map(|date| format!(" on {date}")).unwrap_or_default(),
            options.runs,
            options.api_latency.as_millis(),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        );
        let document = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let document =
            report::replace_results(&document, &report::markdown(&figures, commit, &about))
                .with_context(|| format!("cannot place the results in {}", path.display()))?;
        std::fs::write(path, document)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote the results into {}", path.display());
    }
    Ok(())
}

/// The verdict line's latency over every kind and run: the poll issue's
/// target is over all its paths, each with the transition at any phase.
fn every_path(by_kind: &[KindFigures]) -> Figure {
    let figure = Figure::new("verdict latency", "every path: verdict line", "s")
        .with_target(&[median_at_most(0.5), worst_at_most(2.5)]);
    Figure {
        samples: by_kind
            .iter()
            .flat_map(|kind| kind.verdict_line.samples.iter().copied())
            .collect(),
        ..figure
    }
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// How much longer than written the scenarios' timelines last in run
/// `round` (from 1) of `runs`: from 1 to 1 + 2/3 (a 30 s rollout: from 30 s
/// to 50 s). The decisive transition then falls at a different phase of
/// ecs-deploy's polls in each run, so that the median and worst cover the
/// gaps between polls rather than one phase of them.
fn stretch_factor(round: usize, runs: usize) -> f64 {
    1.0 + (2.0 / 3.0) * (round - 1) as f64 / runs as f64
}

/// `op` of two figures' samples, run by run.
fn per_run(a: &Figure, b: &Figure, op: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.samples
        .iter()
        .zip(&b.samples)
        .map(|(a, b)| op(*a, *b))
        .collect()
}

/// The preflight's cost: the dry run's wall time with it less without it,
/// run by run. The preflight looks everything up at once, so it should cost
/// one API round trip plus its own work (building a client for each AWS
/// service it asks, signing, a connection per concurrent call). The target
/// allows two round trips: within it, that work stays under one round trip;
/// a second round of calls, one lookup waiting for another, costs at least
/// two round trips on its own and misses it. Without latency the target
/// would be zero, and is left out.
fn added_by_preflight(preflight: &PreflightFigures, api_latency: Duration) -> Figure {
    let round_trip_ms = api_latency.as_secs_f64() * 1000.0;
    let added = Figure::new(
        "preflight",
        format!(
            "wall time added by the preflight (≤ 2 round trips of {} ms)",
            report::number(round_trip_ms)
        ),
        "ms",
    );
    let added = match api_latency.is_zero() {
        true => added,
        false => added.with_target(&[median_at_most(2.0 * round_trip_ms)]),
    };
    Figure {
        samples: per_run(&preflight.with, &preflight.without, |with, without| {
            with - without
        }),
        ..added
    }
}

/// Wall time of each count over that of one service in the same run (the
/// same stretch of the timelines).
fn ratios(wall: &[Figure]) -> Vec<Figure> {
    let one = &wall[0];
    several::SERVICE_COUNTS
        .iter()
        .zip(wall)
        .skip(1)
        .map(|(count, figure)| {
            let ratio = Figure::new(
                "several services",
                format!("wall time, {count} services ÷ 1 service"),
                "×",
            );
            let ratio = match *count == several::MOST_SERVICES {
                true => ratio.with_target(&[median_at_most(1.2)]),
                false => ratio,
            };
            Figure {
                samples: per_run(figure, one, |wall, one| wall / one),
                ..ratio
            }
        })
        .collect()
}

/// What one run of a deployment kind measured.
struct KindRun {
    first_request_ms: f64,
    peak_rss_mb: f64,
    /// Seconds from the terminal transition to the verdict line.
    verdict_line: f64,
    /// Seconds from the terminal transition to the process exit.
    exit: f64,
    status_polls_per_minute: f64,
    calls_per_minute: f64,
    calls_after_verdict: f64,
}

fn run_kind(binary: &std::path::Path, kind: &Kind, stretch: f64) -> anyhow::Result<KindRun> {
    let mut scenario = Scenario::from_yaml(kind.scenario)?;
    if let Some(adapt) = kind.adapt {
        adapt(&mut scenario);
    }
    kinds::stretch(&mut scenario, kinds::TIMELINE_SCALE * kind.lasts * stretch);
    let inputs = scenario.rehearsal.inputs.clone();
    let sim = Sim::start(scenario)?;
    let existing = kinds::existing_deployments(&sim);
    let mut terminal = FirstHeld::default();
    let run = child::run(binary, &sim, &inputs, |sim| {
        terminal.check(sim, || kind.terminal.holds(sim, &existing))
    })?;
    let expected_code = if kind.succeeds { 0 } else { 1 };
    let verdict = run.first_line(|line| line.starts_with(kind.verdict));
    let Some((verdict_at, _)) = verdict.filter(|_| run.exit_code == expected_code) else {
        bail!(
            "expected a line beginning {:?} and exit {expected_code}, got exit {}:\n{}",
            kind.verdict,
            run.exit_code,
            run.log()
        );
    };
    let terminal_at = terminal
        .at()
        .context("the simulator never reached the deployment's terminal state")?;
    let calls = aws_calls(&sim);
    let first = calls.first().context("ecs-deploy made no AWS call")?;
    let deployed_at = calls
        .iter()
        .find(|call| call.operation == kind.start_operation)
        .with_context(|| format!("ecs-deploy never called {}", kind.start_operation))?
        .at;
    let waiting: Vec<&Call> = calls
        .iter()
        .filter(|call| call.at > deployed_at && call.at <= verdict_at)
        .collect();
    let per_minute = |count: usize| count as f64 / seconds_between(deployed_at, verdict_at) * 60.0;
    Ok(KindRun {
        first_request_ms: (first.at - run.spawned_at).as_secs_f64() * 1000.0,
        peak_rss_mb: run.peak_rss as f64 / MEGABYTE,
        verdict_line: seconds_between(terminal_at, verdict_at),
        exit: seconds_between(terminal_at, run.exited_at),
        status_polls_per_minute: per_minute(
            waiting
                .iter()
                .filter(|call| kind.status_calls.contains(&call.operation.as_str()))
                .count(),
        ),
        calls_per_minute: per_minute(waiting.len()),
        calls_after_verdict: calls.iter().filter(|call| call.at > verdict_at).count() as f64,
    })
}

/// What one log streaming run measured.
struct LogStreamRun {
    /// Lines a second.
    carried: f64,
    /// Lines a second.
    written: f64,
    peak_rss_mb: f64,
}

/// Runs the log streaming scenario; the simulator writes the first line
/// 1/100,001 of its write time after the task is RUNNING, and the last
/// one just before it is STOPPED, so those transitions, watched, bound the
/// writing.
fn run_log_stream(binary: &std::path::Path) -> anyhow::Result<LogStreamRun> {
    let scenario = log_stream::scenario()?;
    let inputs = scenario.rehearsal.inputs.clone();
    let sim = Sim::start(scenario)?;
    let mut running = FirstHeld::default();
    let mut stopped = FirstHeld::default();
    let run = child::run(binary, &sim, &inputs, |sim| {
        running.check(sim, || {
            kinds::any_task(sim, "RUNNING") || kinds::any_task(sim, "STOPPED")
        });
        stopped.check(sim, || kinds::any_task(sim, "STOPPED"));
    })?;
    log_stream::check_relayed(run.lines.iter().map(|(_, line)| line.as_str()))
        .with_context(|| format!("exit {}, stderr:\n{}", run.exit_code, run.stderr))?;
    let (last_relayed, _) = run
        .lines
        .iter()
        .rfind(|(_, line)| *line == log_stream::line(log_stream::LINES))
        .context("checked: the last line is in the step log")?;
    let first_written = running.at().context("the task never ran")?;
    let all_written = stopped.at().context("the task never stopped")?;
    let rate = |to: Duration| log_stream::LINES as f64 / seconds_between(first_written, to);
    Ok(LogStreamRun {
        carried: rate(*last_relayed),
        written: rate(all_written),
        peak_rss_mb: run.peak_rss as f64 / MEGABYTE,
    })
}

/// What one several-services run measured.
struct SeveralRun {
    /// Seconds from spawn to exit.
    wall: f64,
    calls: usize,
    describe_per_minute: f64,
}

fn run_several(
    binary: &std::path::Path,
    count: usize,
    api_latency: Duration,
    stretch: f64,
) -> anyhow::Result<SeveralRun> {
    let mut scenario = several::scenario(count, api_latency)?;
    kinds::stretch(&mut scenario, stretch);
    let sim = Sim::start(scenario)?;
    let run = child::run(binary, &sim, &several::inputs(count), |_| {})?;
    let verdicts = run
        .lines
        .iter()
        .filter(|(_, line)| line.starts_with(SUCCESS_MARK))
        .count();
    ensure!(
        run.exit_code == 0 && verdicts == count,
        "expected {count} successful deployments, got exit {}:\n{}",
        run.exit_code,
        run.log()
    );
    let calls = aws_calls(&sim);
    let last_update = calls
        .iter()
        .rfind(|call| call.operation == "UpdateService")
        .context("ecs-deploy never called UpdateService")?
        .at;
    let (last_verdict, _) = run
        .lines
        .iter()
        .rfind(|(_, line)| line.starts_with(SUCCESS_MARK))
        .context("no verdict line")?;
    let describes = calls
        .iter()
        .filter(|call| {
            call.operation == "DescribeServices"
                && call.at > last_update
                && call.at <= *last_verdict
        })
        .count();
    Ok(SeveralRun {
        wall: seconds_between(run.spawned_at, run.exited_at),
        calls: calls.len(),
        describe_per_minute: describes as f64 / seconds_between(last_update, *last_verdict) * 60.0,
    })
}

/// What one preflight run measured.
struct PreflightRun {
    /// Milliseconds from spawn to exit.
    wall_ms: f64,
    /// The preflight's lookups.
    calls: usize,
}

/// The dry run of the preflight scenario, with the preflight or without;
/// both must end in the dry run's notice, the first with every lookup
/// present.
fn run_preflight(
    binary: &std::path::Path,
    checks: bool,
    api_latency: Duration,
) -> anyhow::Result<PreflightRun> {
    let sim = Sim::start(preflight::scenario(api_latency)?)?;
    let run = child::run(binary, &sim, &preflight::inputs(checks), |_| {})?;
    let (begins, ends) = preflight::ALL_PRESENT;
    let all_present = run
        .first_line(|line| line.starts_with(begins) && line.ends_with(ends))
        .is_some();
    let calls = aws_calls(&sim)
        .iter()
        .filter(|call| preflight::OPERATIONS.contains(&call.operation.as_str()))
        .count();
    ensure!(
        run.exit_code == 0
            && run.first_line(|line| line.contains("Dry run:")).is_some()
            && all_present == checks
            && (calls > 0) == checks,
        "expected a dry run, preflight: {checks}, got exit {} and {calls} preflight calls:\n{}",
        run.exit_code,
        run.log()
    );
    Ok(PreflightRun {
        wall_ms: seconds_between(run.spawned_at, run.exited_at) * 1000.0,
        calls,
    })
}

/// The calls to AWS, leaving out GitHub's API.
fn aws_calls(sim: &Sim) -> Vec<Call> {
    sim.calls()
        .into_iter()
        .filter(|call| call.service != "github")
        .collect()
}

/// Signed, so that a verdict before the transition it reports would show.
fn seconds_between(from: Duration, to: Duration) -> f64 {
    to.as_secs_f64() - from.as_secs_f64()
}
