//! A circuit breaker per adapter: after `failures` consecutive failed calls the circuit opens and
//! calls fail at once for `open_for` (the TPP gets 503 with Retry-After without waiting on a dead
//! adapter); then one call is let through, and its outcome closes the circuit or opens it again.
//! A trial that never reports (its request was cancelled) gives way to another after `open_for`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    open_for: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is in flight since then; the others fail fast until it ends (or, if it
    /// never reports, until `open_for` has passed).
    HalfOpen {
        since: Instant,
    },
}

/// Whether a call may go to the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Call,
    /// The circuit is open for this long still.
    Refused(Duration),
}

impl Breaker {
    pub fn new(failures: u32, open_for: Duration) -> Breaker {
        Breaker { failures: failures.max(1), open_for, state: Mutex::new(State::Closed { consecutive_failures: 0 }) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave a half-written state: recover the value.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn permit(&self, now: Instant) -> Permit {
        let mut state = self.state();
        match *state {
            State::Closed { .. } => Permit::Call,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { since: now };
                Permit::Call
            }
            State::Open { until } => Permit::Refused(until - now),
            State::HalfOpen { since } if now >= since + self.open_for => {
                *state = State::HalfOpen { since: now };
                Permit::Call
            }
            State::HalfOpen { since } => Permit::Refused(since + self.open_for - now),
        }
    }

    pub fn succeeded(&self) {
        *self.state() = State::Closed { consecutive_failures: 0 };
    }

    /// Records a failure; true when it opened a closed circuit (a failed trial reopens it quietly).
    pub fn failed(&self, now: Instant) -> bool {
        let mut state = self.state();
        let next = match *state {
            State::Closed { consecutive_failures } if consecutive_failures + 1 < self.failures => {
                State::Closed { consecutive_failures: consecutive_failures + 1 }
            }
            _ => State::Open { until: now + self.open_for },
        };
        let opened = matches!(*state, State::Closed { .. }) && matches!(next, State::Open { .. });
        *state = next;
        opened
    }

    pub fn is_open(&self) -> bool {
        !matches!(*self.state(), State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_tries_one_call_after_the_pause() {
        let t0 = Instant::now();
        let b = Breaker::new(3, Duration::from_secs(30));
        assert!(!b.failed(t0) && !b.failed(t0), "two failures keep it closed");
        b.succeeded();
        assert!(!b.failed(t0) && !b.failed(t0), "a success in between resets the count");
        assert!(b.failed(t0), "the third consecutive failure opens it");
        assert_eq!(b.permit(t0 + Duration::from_secs(10)), Permit::Refused(Duration::from_secs(20)));
        assert_eq!(b.permit(t0 + Duration::from_secs(30)), Permit::Call, "one trial after the pause");
        assert!(matches!(b.permit(t0 + Duration::from_secs(30)), Permit::Refused(_)), "only one");
        // That trial never reports (its request was cancelled): another one after the pause.
        assert_eq!(b.permit(t0 + Duration::from_secs(60)), Permit::Call, "a lost trial does not stick");
        assert!(!b.failed(t0 + Duration::from_secs(61)), "a failed trial reopens (already counted as open)");
        assert!(matches!(b.permit(t0 + Duration::from_secs(70)), Permit::Refused(_)));
        assert_eq!(b.permit(t0 + Duration::from_secs(91)), Permit::Call);
        b.succeeded();
        assert_eq!(b.permit(t0 + Duration::from_secs(91)), Permit::Call);
        assert!(!b.is_open());
    }
}
