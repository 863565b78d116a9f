//! When a watch makes its next status call: soon while what it last saw
//! says the deciding transition is due, slowly while a sign must come
//! first, and never more than `CALLS_PER_MINUTE` on average. Pure: the
//! watches (`deploy::ecs`, `deploy::codedeploy`, `migration`) pass the time
//! since they began and what they saw, and sleep for the answer.
//!
//! The budget is a bucket that fills at `CALLS_PER_MINUTE` from empty when
//! the watch begins, holds at most `MOST_SAVED` calls, and loses one for
//! each round of status calls. A poll waits for one saved call, so a watch
//! of `t` seconds makes at most `t · CALLS_PER_MINUTE / 60` rounds, plus
//! the rounds beyond the first of its last poll (a native strategy's
//! record, then its service). Slow polls between due windows save calls,
//! which polls in a window spend.

use std::time::Duration;

/// The budget: status calls a minute of waiting, per batch of services.
const CALLS_PER_MINUTE: f64 = 30.0;
/// Between two polls while the transition is due: the verdict comes
/// 0.4 s after it on average, and twenty saved calls last sixteen seconds
/// of a window (with what the budget's pace adds, 27 s).
const DUE_INTERVAL: Duration = Duration::from_millis(800);
/// Between two polls while the transition may come with no sign first:
/// slower than the budget's pace, to save calls for the next window, and
/// still soon enough for it to be seen within 2.5 s.
const ANYTIME_INTERVAL: Duration = Duration::from_millis(2400);
/// Between two polls while a sign must come first: it is seen within 5 s,
/// and the transition it announces is then due; each such poll saves 1.5
/// calls for the window.
const LATER_INTERVAL: Duration = Duration::from_secs(5);
/// The most calls saved for a due window. Any one minute then holds at
/// most 30 + 20 polls; the whole wait, at most 30 a minute.
const MOST_SAVED: f64 = 20.0;

/// What the last look says about the transition that decides the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outlook {
    /// Something visible comes first: new tasks run before the old ones
    /// drain, a failed task before the one that trips the threshold, a
    /// person continues a paused hook.
    Later,
    /// It may come with no sign first: an alarm fires, a task fails to
    /// start, a CodeDeploy deployment fails its health checks.
    Anytime,
    /// It comes next: every new task runs (the drain ends next), one more
    /// failed task trips the threshold, a native strategy cleans up, a
    /// lifecycle hook runs, the migration task runs.
    Due,
}

impl Outlook {
    /// The outlook of several watched things: the soonest of theirs.
    pub(crate) fn soonest(outlooks: impl IntoIterator<Item = Outlook>) -> Outlook {
        outlooks
            .into_iter()
            .min_by_key(|o| o.interval())
            .unwrap_or(Outlook::Later)
    }

    fn interval(self) -> Duration {
        match self {
            Outlook::Later => LATER_INTERVAL,
            Outlook::Anytime => ANYTIME_INTERVAL,
            Outlook::Due => DUE_INTERVAL,
        }
    }
}

/// One watch's polls: when the last was made and the calls saved.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// Saved calls as of `updated` (negative after a round of more calls
    /// than were saved).
    saved: f64,
    updated: Duration,
    last_poll: Duration,
    /// `wait-max-delay-seconds`: the user's longest wait, above the budget.
    max_delay: Duration,
}

impl Schedule {
    /// A watch that begins now (time zero), with nothing saved.
    pub(crate) fn new(max_delay: Option<Duration>) -> Schedule {
        Schedule {
            saved: 0.0,
            updated: Duration::ZERO,
            last_poll: Duration::ZERO,
            max_delay: max_delay.unwrap_or(Duration::MAX),
        }
    }

    /// Records a poll made at `now`, of `rounds` rounds of status calls
    /// (one round calls each batch of services once).
    pub(crate) fn polled(&mut self, now: Duration, rounds: u32) {
        self.saved = self.saved_at(now) - f64::from(rounds);
        self.updated = now;
        self.last_poll = now;
    }

    /// How long after `now` the next poll is made, given `outlook`: its
    /// interval after the last poll, or later when nothing is saved, but
    /// never later than `wait-max-delay-seconds` after the last poll.
    pub(crate) fn wait(&self, now: Duration, outlook: Outlook) -> Duration {
        let by_interval = self.last_poll + outlook.interval();
        let shortfall = (1.0 - self.saved_at(now)).max(0.0);
        let by_budget = now + Duration::from_secs_f64(shortfall * 60.0 / CALLS_PER_MINUTE);
        let at = by_interval
            .max(by_budget)
            .min(self.last_poll.saturating_add(self.max_delay));
        at.saturating_sub(now)
    }

    fn saved_at(&self, now: Duration) -> f64 {
        let earned = now.saturating_sub(self.updated).as_secs_f64() * CALLS_PER_MINUTE / 60.0;
        (self.saved + earned).min(MOST_SAVED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outlook::{Anytime, Due, Later};

    fn s(seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds)
    }

    /// Polls as a watch does, each as soon as `wait` allows, the first
    /// with `Anytime` (nothing seen yet) and each next with the outlook
    /// `outlook_at` the time of the poll before; returns the polls' times.
    fn polls_until(
        end: f64,
        max_delay: Option<f64>,
        outlook_at: impl Fn(f64) -> Outlook,
    ) -> Vec<f64> {
        let mut schedule = Schedule::new(max_delay.map(s));
        let (mut now, mut times) = (Duration::ZERO, Vec::new());
        let mut outlook = Anytime;
        loop {
            now += schedule.wait(now, outlook);
            if now > s(end) {
                return times;
            }
            schedule.polled(now, 1);
            times.push((now.as_secs_f64() * 1000.0).round() / 1000.0);
            outlook = outlook_at(now.as_secs_f64());
        }
    }

    fn after(times: Vec<f64>, start: f64) -> Vec<f64> {
        times.into_iter().filter(|t| *t > start).collect()
    }

    #[test]
    fn each_outlook_has_its_interval_where_the_budget_allows() {
        assert_eq!(
            polls_until(12.0, None, |_| Anytime),
            [2.4, 4.8, 7.2, 9.6, 12.0]
        );
        assert_eq!(polls_until(14.0, None, |_| Later), [2.4, 7.4, 12.4]);
        // Nothing is saved at the start: one call every 2 s, the budget's pace.
        assert_eq!(polls_until(8.0, None, |_| Due), [2.4, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn slow_polls_save_calls_that_a_due_window_spends_then_the_pace_is_the_budgets() {
        // 2.4, then every 5 s: the poll at 42.4 sees the window, with 21.2
        // earned and 9 spent, 12.2 saved. Each poll 0.8 s later earns 0.4
        // and spends 1: twenty of them, 0.2 left, then one every 2 s as it
        // is earned.
        let window = |t: f64| if t < 38.0 { Later } else { Due };
        assert_eq!(
            after(polls_until(64.0, None, window), 42.4),
            [
                43.2, 44.0, 44.8, 45.6, 46.4, 47.2, 48.0, 48.8, 49.6, 50.4, 51.2, 52.0, 52.8, 53.6,
                54.4, 55.2, 56.0, 56.8, 57.6, 58.4, 60.0, 62.0, 64.0
            ]
        );
    }

    #[test]
    fn what_is_saved_has_a_ceiling() {
        let window = |t: f64| if t < 600.0 { Later } else { Due };
        let times = polls_until(660.0, None, window);
        let fast = times
            .windows(2)
            .filter(|pair| pair[0] >= 600.0 && pair[1] - pair[0] < 0.9)
            .count();
        // 20 saved when the poll at 602.4 sees the window, which spends
        // one; 19 and the 0.4 each 0.8 s earns last 31 polls.
        assert_eq!(fast, 31);
    }

    #[test]
    fn no_watch_polls_more_than_its_budget_has_earned() {
        type OutlookAt = fn(f64) -> Outlook;
        let outlooks: [(&str, OutlookAt); 4] = [
            ("due", |_| Due),
            ("anytime", |_| Anytime),
            ("later", |_| Later),
            ("later and due in turn every 7 s", |t| {
                if ((t / 7.0) as u64).is_multiple_of(2) {
                    Later
                } else {
                    Due
                }
            }),
        ];
        for (name, outlook) in outlooks {
            let times = polls_until(600.0, None, outlook);
            for end in [10.0, 30.0, 60.0, 120.0, 600.0] {
                let made = times.iter().filter(|t| **t <= end).count() as f64;
                assert!(made <= end / 2.0, "{name}: {made} polls in {end} s");
            }
        }
    }

    #[test]
    fn the_users_longest_wait_comes_before_the_budget() {
        assert_eq!(polls_until(4.0, Some(1.0), |_| Later), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_poll_of_several_rounds_costs_them_all() {
        let mut schedule = Schedule::new(None);
        schedule.polled(s(30.0), 2); // 15 earned, 2 spent
        assert_eq!(schedule.wait(s(30.0), Due), s(0.8));
        schedule.polled(s(31.0), 16); // 13.5 saved before, -2.5 after
        assert_eq!(schedule.wait(s(31.0), Due), s(7.0));
    }

    #[test]
    fn several_watched_things_poll_for_the_soonest_outlook() {
        assert_eq!(Outlook::soonest([Later, Due, Anytime]), Due);
        assert_eq!(Outlook::soonest([Later, Anytime]), Anytime);
        assert_eq!(Outlook::soonest([Later, Later]), Later);
        assert_eq!(Outlook::soonest([]), Later);
    }
}
