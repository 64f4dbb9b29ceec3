//! How often the machine itself stops a running thread, and for how long: a
//! thread reads the clock in a loop, and every gap between two readings is
//! time it did not run (preempted by another process, or its virtual CPU
//! descheduled by the host). On a shared or virtual machine these stalls,
//! not otto, can set a run's p99; `bench/load.sh` prints them first so that
//! a reader can tell.

use std::time::{Duration, Instant};

use serde::Serialize;

/// What one spinning thread saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stalls {
    pub seconds: f64,
    /// Gaps of 1 ms or more.
    pub over_1ms: usize,
    /// Gaps of 5 ms or more.
    pub over_5ms: usize,
    pub longest_ms: f64,
}

impl Stalls {
    /// Sums up the gaps between consecutive clock readings.
    pub fn from_gaps(seconds: f64, gaps: impl IntoIterator<Item = Duration>) -> Stalls {
        let mut stalls = Stalls {
            seconds,
            over_1ms: 0,
            over_5ms: 0,
            longest_ms: 0.0,
        };
        for gap in gaps {
            let ms = gap.as_secs_f64() * 1e3;
            stalls.over_1ms += usize::from(ms >= 1.0);
            stalls.over_5ms += usize::from(ms >= 5.0);
            stalls.longest_ms = stalls.longest_ms.max(ms);
        }
        stalls
    }
}

impl std::fmt::Display for Stalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a spinning thread was stopped {} times for 1 ms or more ({} for 5 ms or more) in {:.0} s; longest {:.1} ms",
            self.over_1ms, self.over_5ms, self.seconds, self.longest_ms
        )
    }
}

/// Spins on the calling thread for `length`, reading the clock.
pub fn measure(length: Duration) -> Stalls {
    let start = Instant::now();
    let mut last = start;
    let mut gaps = Vec::new();
    loop {
        let now = Instant::now();
        let gap = now - last;
        // Only gaps that could matter are kept: a reading takes ~20 ns.
        if gap >= Duration::from_micros(100) {
            gaps.push(gap);
        }
        last = now;
        if now - start >= length {
            break;
        }
    }
    Stalls::from_gaps(length.as_secs_f64(), gaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_counted_by_length_and_the_longest_kept() {
        let ms = Duration::from_millis;
        let stalls = Stalls::from_gaps(3.0, [ms(0), ms(1), ms(4), ms(5), ms(12), ms(2)]);
        assert_eq!(
            stalls,
            Stalls {
                seconds: 3.0,
                over_1ms: 5,
                over_5ms: 2,
                longest_ms: 12.0
            }
        );
        assert_eq!(
            stalls.to_string(),
            "a spinning thread was stopped 5 times for 1 ms or more (2 for 5 ms or more) in 3 s; longest 12.0 ms"
        );
    }

    #[test]
    fn a_short_measurement_ends_on_time() {
        let started = Instant::now();
        let stalls = measure(Duration::from_millis(50));
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(stalls.longest_ms < started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(stalls.seconds, 0.05);
    }
}
