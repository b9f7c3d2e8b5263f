//! How long a failing source waits before it is polled again.

use std::time::Duration;

/// Exponential back-off with jitter for a source whose fetches fail.
///
/// After `n` consecutive failures the delay is `base * 2^(n-1)`, capped at `max`, then
/// spread by ±`jitter` (a fraction) so that sources failing together do not retry together,
/// and kept within `[base, max]`. A server's `Retry-After` is honoured as asked, but never
/// below `base` nor above `retry_after_cap`.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub retry_after_cap: Duration,
    /// Fraction of the delay by which it may move either way (0.0 to 1.0).
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(6 * 3600),
            retry_after_cap: Duration::from_secs(24 * 3600),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before the next poll after `consecutive_failures` failures in a row
    /// (`Duration::ZERO` when there were none: poll on the normal schedule).
    pub fn next_delay(&self, consecutive_failures: u32, retry_after: Option<Duration>) -> Duration {
        self.next_delay_with(consecutive_failures, retry_after, fastrand::f64())
    }

    /// As [`Backoff::next_delay`], with the random draw given (`unit` in `[0, 1)`; 0.5 is no
    /// jitter), for deterministic callers and tests.
    pub fn next_delay_with(
        &self,
        consecutive_failures: u32,
        retry_after: Option<Duration>,
        unit: f64,
    ) -> Duration {
        if let Some(asked) = retry_after {
            return asked.clamp(self.base, self.retry_after_cap.max(self.base));
        }
        if consecutive_failures == 0 {
            return Duration::ZERO;
        }
        let exp = consecutive_failures.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp).min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = 1.0 + jitter * (unit.clamp(0.0, 1.0) * 2.0 - 1.0);
        let spread = raw.mul_f64(factor);
        spread.clamp(self.base, self.max.max(self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);
    const H: Duration = Duration::from_secs(3600);

    #[test]
    fn no_failures_no_delay() {
        assert_eq!(Backoff::default().next_delay(0, None), Duration::ZERO);
    }

    #[test]
    fn doubles_from_one_minute_to_six_hours() {
        let b = Backoff::default();
        let seq: Vec<u64> = (1..=12)
            .map(|n| b.next_delay_with(n, None, 0.5).as_secs())
            .collect();
        assert_eq!(
            seq,
            vec![60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600, 21600]
        );
        // Far beyond the cap, no overflow.
        assert_eq!(b.next_delay_with(u32::MAX, None, 0.5), 6 * H);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let b = Backoff::default();
        for n in 1..20 {
            for _ in 0..200 {
                let d = b.next_delay(n, None);
                assert!(d >= MIN && d <= 6 * H, "{n}: {d:?}");
                let nominal = b.next_delay_with(n, None, 0.5);
                assert!(d.as_secs_f64() >= nominal.as_secs_f64() * 0.8 - 1e-6);
                assert!(d.as_secs_f64() <= nominal.as_secs_f64() * 1.2 + 1e-6);
            }
        }
        assert_eq!(b.next_delay_with(3, None, 0.0), Duration::from_secs(192));
        assert_eq!(b.next_delay_with(3, None, 1.0), Duration::from_secs(288));
        // Jitter never goes below the base.
        assert_eq!(b.next_delay_with(1, None, 0.0), MIN);
    }

    #[test]
    fn jitter_spreads_delays() {
        let b = Backoff::default();
        let distinct: std::collections::HashSet<Duration> =
            (0..50).map(|_| b.next_delay(4, None)).collect();
        assert!(distinct.len() > 10);
    }

    #[test]
    fn retry_after_honoured_and_capped() {
        let b = Backoff::default();
        let two_min = Duration::from_secs(120);
        assert_eq!(b.next_delay(1, Some(two_min)), two_min);
        assert_eq!(b.next_delay(9, Some(two_min)), two_min);
        assert_eq!(b.next_delay(1, Some(Duration::from_secs(5))), MIN);
        assert_eq!(b.next_delay(1, Some(10 * H)), 10 * H);
        assert_eq!(b.next_delay(1, Some(1000 * H)), 24 * H);
    }
}
