//! ARM's token-bucket throttling, one pair of buckets (reads, writes) per
//! subscription and one for tenant-level calls.

use super::settings::{Bucket, Throttling};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Read,
    Write,
}

#[derive(Debug)]
struct Level {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
pub struct Throttle {
    levels: HashMap<(String, Kind), Level>,
}

/// The outcome of asking for one token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Allowed; whole tokens left in the bucket (for `x-ms-ratelimit-remaining-*`).
    Allowed { remaining: u64 },
    /// Throttled; seconds until a token is available (for `Retry-After`).
    Throttled { retry_after_secs: u64 },
}

impl Throttle {
    pub fn take(&mut self, scope: &str, kind: Kind, config: &Throttling, now: Instant) -> Decision {
        let bucket: Bucket = match kind {
            Kind::Read => config.reads,
            Kind::Write => config.writes,
        };
        let level = self
            .levels
            .entry((scope.to_ascii_lowercase(), kind))
            .or_insert(Level {
                tokens: bucket.capacity,
                at: now,
            });
        let elapsed = now.saturating_duration_since(level.at).as_secs_f64();
        level.tokens = (level.tokens + elapsed * bucket.refill_per_sec).min(bucket.capacity);
        level.at = now;
        if !config.enabled {
            return Decision::Allowed {
                remaining: level.tokens.floor() as u64,
            };
        }
        if level.tokens >= 1.0 {
            level.tokens -= 1.0;
            Decision::Allowed {
                remaining: level.tokens.floor() as u64,
            }
        } else {
            let missing = 1.0 - level.tokens;
            let secs = if bucket.refill_per_sec > 0.0 {
                (missing / bucket.refill_per_sec).ceil().max(1.0)
            } else {
                60.0
            };
            Decision::Throttled {
                retry_after_secs: secs as u64,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> Throttling {
        Throttling {
            enabled: true,
            reads: Bucket {
                capacity: 2.0,
                refill_per_sec: 1.0,
            },
            writes: Bucket {
                capacity: 1.0,
                refill_per_sec: 0.5,
            },
        }
    }

    #[test]
    fn buckets_empty_refill_and_are_separate_per_scope_and_kind() {
        let mut t = Throttle::default();
        let c = config();
        let start = Instant::now();
        assert_eq!(
            t.take("s1", Kind::Read, &c, start),
            Decision::Allowed { remaining: 1 }
        );
        assert_eq!(
            t.take("s1", Kind::Read, &c, start),
            Decision::Allowed { remaining: 0 }
        );
        assert_eq!(
            t.take("s1", Kind::Read, &c, start),
            Decision::Throttled {
                retry_after_secs: 1
            }
        );
        assert!(matches!(
            t.take("S2", Kind::Read, &c, start),
            Decision::Allowed { .. }
        ));
        assert!(matches!(
            t.take("s1", Kind::Write, &c, start),
            Decision::Allowed { .. }
        ));
        assert_eq!(
            t.take("s1", Kind::Write, &c, start),
            Decision::Throttled {
                retry_after_secs: 2
            }
        );
        let later = start + Duration::from_secs(1);
        assert_eq!(
            t.take("s1", Kind::Read, &c, later),
            Decision::Allowed { remaining: 0 }
        );
    }
}
