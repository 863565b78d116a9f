//! One run of the ecs-deploy binary against a simulator, the way the GitHub
//! runner starts the action, with every moment on the simulator's clock
//! (the clock of `Call::at`): spawn, each stdout line, process exit.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{bail, Context as _};
use ecs_deploy_sim::container_action::input_variable;
use ecs_deploy_sim::{JobDirectory, Sim};

/// A run that takes longer is killed: every benchmark scenario ends within
/// seconds, so this only stops a broken build from hanging the benchmark.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// How often the caller's watch looks at the world, and the process's peak
/// RSS is read; the resolution of every moment the watch records.
const WATCH_INTERVAL: Duration = Duration::from_millis(5);

/// What one run of the binary did, on the simulator's clock.
pub struct Run {
    pub spawned_at: Duration,
    /// Each stdout line with the moment it arrived.
    pub lines: Vec<(Duration, String)>,
    pub exited_at: Duration,
    pub exit_code: i32,
    /// Peak resident set size of the process, in bytes: the largest VmHWM
    /// read while it ran. Not wait4's ru_maxrss, which counts the parent's
    /// peak as the child's: the exec after a vfork records the shared
    /// memory's high-water mark, and the benchmark holds 100,000-line runs.
    pub peak_rss: u64,
    pub stderr: String,
}

impl Run {
    /// The first stdout line that satisfies `is_wanted`, with its arrival time.
    pub fn first_line(&self, is_wanted: impl Fn(&str) -> bool) -> Option<(Duration, &str)> {
        self.lines
            .iter()
            .find(|(_, line)| is_wanted(line))
            .map(|(at, line)| (*at, line.as_str()))
    }

    /// The step's log, for error messages.
    pub fn log(&self) -> String {
        let mut log: Vec<&str> = self.lines.iter().map(|(_, line)| line.as_str()).collect();
        log.push(&self.stderr);
        log.join("\n")
    }
}

/// Runs `binary` with `inputs` as the runner passes them (INPUT_* variables)
/// against `sim`, while a thread calls `watch` every 5 ms, from spawn to
/// exit, to record the world's transitions on the simulator's clock, and
/// reads the process's peak RSS as often. Returns when the process has
/// exited.
pub fn run(
    binary: &Path,
    sim: &Sim,
    inputs: &BTreeMap<String, String>,
    mut watch: impl FnMut(&Sim) + Send,
) -> anyhow::Result<Run> {
    let job = JobDirectory::create("bench")?;
    // The runner fills `github-token` from its default, `${{ github.token }}`.
    let mut inputs = inputs.clone();
    if let Some((_, token)) = sim
        .env()
        .into_iter()
        .find(|(name, _)| name == "GITHUB_TOKEN")
    {
        inputs.entry("github-token".to_owned()).or_insert(token);
    }
    let mut command = Command::new(binary);
    command
        .env_clear()
        .current_dir(job.path("workspace"))
        .envs(sim.env())
        .envs(job.runner_env())
        .envs(
            inputs
                .iter()
                .map(|(name, value)| (input_variable(name), value)),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawned_at = sim.elapsed();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    let pid = child.id();
    let stdout = child.stdout.take().context("stdout is piped")?;
    let mut stderr = child.stderr.take().context("stderr is piped")?;
    // The process whose RSS the watch reads and which it kills when over the
    // limit; 0 once reaped, so that a recycled pid is neither read nor
    // signalled.
    let live_pid = AtomicU32::new(pid);
    let exited = AtomicBool::new(false);

    std::thread::scope(|scope| {
        let lines = scope.spawn(|| {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.push((sim.elapsed(), line));
            }
            lines
        });
        let errors = scope.spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let watcher = scope.spawn(|| {
            let mut peak_rss = 0;
            while !exited.load(Ordering::Acquire) {
                watch(sim);
                let pid = live_pid.load(Ordering::Acquire);
                peak_rss = peak_rss.max(high_water_rss(pid).unwrap_or(0));
                if sim.elapsed() > spawned_at + RUN_LIMIT {
                    kill(pid);
                }
                std::thread::sleep(WATCH_INTERVAL);
            }
            peak_rss
        });

        let waited = child.wait();
        let exited_at = sim.elapsed();
        live_pid.store(0, Ordering::Release);
        exited.store(true, Ordering::Release);
        let peak_rss = watcher.join().expect("watcher thread");
        let lines = lines.join().expect("stdout reader thread");
        let stderr = errors.join().expect("stderr reader thread");
        let status = waited.context("waiting for the ecs-deploy process")?;
        // 128 + the signal when killed, as a shell reports it.
        let exit_code = status
            .code()
            .or_else(|| status.signal().map(|signal| 128 + signal))
            .context("the process neither exited nor was killed")?;
        if exited_at > spawned_at + RUN_LIMIT {
            bail!(
                "{} ran over {}s and was killed",
                binary.display(),
                RUN_LIMIT.as_secs()
            );
        }
        Ok(Run {
            spawned_at,
            lines,
            exited_at,
            exit_code,
            peak_rss,
            stderr,
        })
    })
}

/// The peak resident set size of process `pid` so far, in bytes (VmHWM,
/// which Linux keeps per address space, so it starts afresh at exec); None
/// for a process that has exited, whose address space is gone.
fn high_water_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kilobytes = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kilobytes * 1024)
}

fn kill(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        if pid > 0 {
            // SAFETY: signals our own child, which is not reaped yet (the
            // pid is cleared before it is).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// The step's inputs, by name.
pub fn inputs<'a>(inputs: impl IntoIterator<Item = (&'a str, String)>) -> BTreeMap<String, String> {
    inputs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// The first moment, on the simulator's clock, at which a watched condition
/// held; None until it does.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstHeld(Option<Duration>);

impl FirstHeld {
    /// Records now if `holds` says so and nothing was recorded yet; `holds`
    /// is not asked again once it held.
    pub fn check(&mut self, sim: &Sim, holds: impl FnOnce() -> bool) {
        if self.0.is_none() && holds() {
            self.0 = Some(sim.elapsed());
        }
    }

    pub fn at(self) -> Option<Duration> {
        self.0
    }
}
