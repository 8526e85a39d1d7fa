//! Time as an input. `Clock` is the only place stetgate reads the system time; tests hand the
//! server a [`ManualClock`] and move it to cross a day, an expiry or a quota reset without sleeping.
//! Calendar days (quotas, transaction history windows, the sandbox's "today") are Paris days.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: for tests, and for a sandbox pinned to a date.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    pub fn set(&self, to: Timestamp) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The bank's calendar: which civil day an instant falls on, in Europe/Paris.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
}

impl Calendar {
    /// Europe/Paris, from the time zone database compiled into the binary (so the answer does not
    /// depend on the host's tzdata).
    pub fn paris() -> Result<Self, jiff::Error> {
        Ok(Calendar { tz: TimeZone::get("Europe/Paris")? })
    }

    pub fn date_of(&self, instant: Timestamp) -> Date {
        instant.to_zoned(self.tz.clone()).date()
    }

    pub fn today(&self, clock: &dyn Clock) -> Date {
        self.date_of(clock.now())
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_days_follow_daylight_saving() {
        let cal = Calendar::paris().unwrap();
        // 2026-03-28 23:30 UTC is already 2026-03-29 00:30 in Paris (UTC+1 before the switch).
        let t: Timestamp = "2026-03-28T23:30:00Z".parse().unwrap();
        assert_eq!(cal.date_of(t).to_string(), "2026-03-29");
        // 2026-07-01 22:30 UTC is 2026-07-02 00:30 in Paris (UTC+2 in summer).
        let t: Timestamp = "2026-07-01T22:30:00Z".parse().unwrap();
        assert_eq!(cal.date_of(t).to_string(), "2026-07-02");
        let t: Timestamp = "2026-07-01T21:30:00Z".parse().unwrap();
        assert_eq!(cal.date_of(t).to_string(), "2026-07-01");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_hours(25));
        assert_eq!(clock.now().to_string(), "2026-01-02T01:00:00Z");
    }
}
