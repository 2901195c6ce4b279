//! An even publishing rate (`mqttspec bench --rate`): message `seq` of a publisher is due
//! `seq / per_second` after it starts. Below saturation, latency measures the broker's path, not
//! the queues a flood builds up.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    start: Instant,
    per_second: f64,
}

impl Pace {
    /// `None` for no pace (as fast as the broker accepts) or a rate that is not positive.
    pub(crate) fn new(start: Instant, per_second: Option<f64>) -> Option<Self> {
        per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|per_second| Self { start, per_second })
    }

    /// When message `seq` (counted from 0) is due.
    pub(crate) fn due_at(&self, seq: u64) -> Instant {
        self.start + Duration::from_secs_f64(seq as f64 / self.per_second)
    }

    /// How many messages from `seq` on are due at `now`, at most `max`: a publisher that fell
    /// behind catches up in batches rather than losing the messages.
    pub(crate) fn due(&self, now: Instant, seq: u64, max: usize) -> usize {
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        let due_total = (elapsed * self.per_second).floor() as u64 + 1;
        due_total.saturating_sub(seq).min(max as u64) as usize
    }
}

/// How many messages to send now: `max` without a pace.
pub(crate) fn due_now(pace: Option<&Pace>, seq: u64, max: usize) -> usize {
    pace.map_or(max, |p| p.due(Instant::now(), seq, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_fall_due_evenly_and_a_late_publisher_catches_up_in_batches() {
        let start = Instant::now();
        let pace = Pace::new(start, Some(1000.0)).expect("a pace");
        assert_eq!(pace.due(start, 0, 32), 1);
        assert_eq!(pace.due(start, 1, 32), 0);
        assert_eq!(pace.due_at(1), start + Duration::from_millis(1));
        let later = start + Duration::from_millis(10);
        assert_eq!(pace.due(later, 1, 32), 10);
        assert_eq!(pace.due(later, 11, 32), 0);
        assert_eq!(pace.due(start + Duration::from_secs(1), 0, 32), 32);
    }

    #[test]
    fn no_rate_or_a_rate_that_is_not_positive_means_no_pace() {
        let now = Instant::now();
        assert!(Pace::new(now, None).is_none());
        assert!(Pace::new(now, Some(0.0)).is_none());
        assert!(Pace::new(now, Some(-5.0)).is_none());
        assert_eq!(due_now(None, 123, 32), 32);
    }
}
