//! The one retry policy: how long to wait before trying again, and when a
//! failed attempt may be repeated. AWS calls that change something, the poll
//! loop while ECS throttles it, and GitHub's API all follow it.

use std::future::Future;
use std::time::Duration;

/// Exponential backoff with equal jitter: the wait before attempt `n + 1`
/// is drawn between half and all of `first · 2ⁿ` (capped at `cap`), so that
/// clients throttled together do not all come back at the same moment, and
/// none comes back at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) first: Duration,
    pub(crate) cap: Duration,
}

impl Backoff {
    /// Between attempts of one AWS call.
    pub(crate) const AWS_CALL: Backoff = Backoff {
        first: Duration::from_millis(200),
        cap: Duration::from_secs(5),
    };

    /// The wait after `failures` failed attempts in a row (1 or more).
    pub(crate) fn wait(&self, failures: u32) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.cap);
        ceiling.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// What a failed attempt means for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// The request was refused as it is: repeating it would fail again.
    Never,
    /// It certainly did not take effect (throttled): repeat it.
    Repeat,
    /// It may have taken effect although no answer says so (connection
    /// lost, timeout, server error): look before repeating it.
    AfterCheck,
}

/// Runs `call` at most `retries + 1` times, at most once in effect: after a
/// failure that `judge` calls ambiguous, `took_effect` looks whether it
/// happened anyway, and its finding is the result.
pub(crate) async fn call_once<T, E, C, F, K, G>(
    backoff: Backoff,
    retries: u32,
    mut call: C,
    judge: impl Fn(&E) -> Retry,
    mut took_effect: K,
) -> Result<T, E>
where
    C: FnMut() -> F,
    F: Future<Output = Result<T, E>>,
    K: FnMut() -> G,
    G: Future<Output = Result<Option<T>, E>>,
{
    let mut failures = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let retry = judge(&error);
        if failures >= retries || retry == Retry::Never {
            return Err(error);
        }
        failures += 1;
        // Before the check too: what took effect may take a moment to show.
        tokio::time::sleep(backoff.wait(failures)).await;
        if retry == Retry::AfterCheck {
            if let Some(value) = took_effect().await? {
                return Ok(value);
            }
        }
    }
}

/// Runs a request that is safe to repeat, repeating it while `judge` allows.
pub(crate) async fn repeat<T, E, C, F>(
    backoff: Backoff,
    retries: u32,
    call: C,
    judge: impl Fn(&E) -> Retry,
) -> Result<T, E>
where
    C: FnMut() -> F,
    F: Future<Output = Result<T, E>>,
{
    call_once(backoff, retries, call, judge, || async { Ok(None) }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn waits_double_within_their_jitter_and_stop_at_the_cap() {
        let backoff = Backoff {
            first: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        };
        // (failures in a row, shortest and longest wait)
        let bounds = [
            (1, 100, 200),
            (2, 200, 400),
            (3, 400, 800),
            (5, 1_600, 3_200),
            (6, 2_500, 5_000),
            (40, 2_500, 5_000),
        ];
        for (failures, shortest, longest) in bounds {
            for _ in 0..200 {
                let wait = backoff.wait(failures).as_millis();
                assert!(
                    (shortest..=longest).contains(&wait),
                    "after {failures} failures: {wait} ms"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_ambiguous_failure_is_looked_up_before_it_is_repeated() {
        let calls = Cell::new(0);
        let checks = Cell::new(0);
        let result: Result<&str, &str> = call_once(
            Backoff::AWS_CALL,
            3,
            || async {
                calls.set(calls.get() + 1);
                Err("connection reset")
            },
            |_| Retry::AfterCheck,
            || async {
                checks.set(checks.get() + 1);
                Ok(Some("found"))
            },
        )
        .await;
        assert_eq!(result, Ok("found"));
        assert_eq!((calls.get(), checks.get()), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_stop_after_the_retries_and_refusals_at_once() {
        let calls = Cell::new(0);
        let throttled: Result<(), &str> = repeat(
            Backoff::AWS_CALL,
            2,
            || async {
                calls.set(calls.get() + 1);
                Err("throttled")
            },
            |_| Retry::Repeat,
        )
        .await;
        assert_eq!((throttled, calls.get()), (Err("throttled"), 3));
        calls.set(0);
        let refused: Result<(), &str> = repeat(
            Backoff::AWS_CALL,
            2,
            || async {
                calls.set(calls.get() + 1);
                Err("invalid")
            },
            |_| Retry::Never,
        )
        .await;
        assert_eq!((refused, calls.get()), (Err("invalid"), 1));
    }
}
