//! Stage 1, injected faults (`faults.*` settings): latency, a dropped
//! connection, a transient 500/503. They come first because in Azure they
//! happen before, and regardless of, the request's merit.

use crate::emulator::error::ArmError;
use crate::emulator::settings::Faults;
use hyper::StatusCode;
use rand::rngs::StdRng;
use rand::Rng;
use std::time::Duration;

/// What the dice decided for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rolled {
    /// Added before anything else happens.
    pub delay: Duration,
    /// Close the connection without an answer.
    pub drop: bool,
    /// Answer 503 (`Some(true)`) or 500 (`Some(false)`) before any change.
    pub fail: Option<bool>,
}

impl Rolled {
    /// Rolls the dice for a call to `operation` (when a route matched).
    pub fn roll(faults: &Faults, operation: Option<&str>, rng: &mut StdRng) -> Rolled {
        let base = operation
            .and_then(|op| faults.operation_latency_ms.get(op).copied())
            .unwrap_or(faults.latency_ms);
        let jitter = if faults.jitter_ms > 0 {
            rng.gen_range(0..=faults.jitter_ms)
        } else {
            0
        };
        let drop = faults.drop_rate > 0.0 && rng.gen_bool(faults.drop_rate.clamp(0.0, 1.0));
        let fail = (faults.error_rate > 0.0 && rng.gen_bool(faults.error_rate.clamp(0.0, 1.0)))
            .then(|| rng.gen_bool(0.5));
        Rolled {
            delay: Duration::from_millis(base + jitter),
            drop,
            fail,
        }
    }

    /// The transient error to answer instead of processing the call, if any.
    pub fn error(&self) -> Option<ArmError> {
        self.fail.map(|service_unavailable| {
            if service_unavailable {
                ArmError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "The service is temporarily unavailable. Please try again later.",
                )
                .with_header("retry-after", "1")
            } else {
                ArmError::internal("Encountered internal server error. Diagnostic information: timestamp '', subscription id '', tracking id '', request correlation id ''.")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::BTreeMap;

    #[test]
    fn operation_latency_replaces_the_base_and_certain_errors_always_fire() {
        let faults = Faults {
            latency_ms: 5,
            operation_latency_ms: BTreeMap::from([("Vaults_Get".to_string(), 800)]),
            error_rate: 1.0,
            ..Faults::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        let rolled = Rolled::roll(&faults, Some("Vaults_Get"), &mut rng);
        assert_eq!(rolled.delay, Duration::from_millis(800));
        assert!(!rolled.drop);
        let status = rolled
            .error()
            .expect("an error rate of 1 always fails")
            .status;
        assert!(
            status == StatusCode::SERVICE_UNAVAILABLE
                || status == StatusCode::INTERNAL_SERVER_ERROR
        );
        let calm = Rolled::roll(&Faults::default(), None, &mut rng);
        assert_eq!(
            calm,
            Rolled {
                delay: Duration::ZERO,
                drop: false,
                fail: None
            }
        );
    }
}
