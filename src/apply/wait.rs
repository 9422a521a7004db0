//! Waiting for Azure: a new vault until its DNS is registered, and a write
//! that fails only because a grant or a new identity has not propagated yet
//! (retried with backoff and jitter until the propagation timeout).
//! Throttling (429) and server errors are retried below, by the pipeline.
//!
//! Every poll and every retry costs a request from the subscription's ARM
//! budget (a failed storage update takes a write token), so the waits start
//! short (noticing readiness late lengthens every account's critical path)
//! and grow (a grant that takes minutes should not cost hundreds of calls).
//! Grants in one run reach Azure Storage after much the same time, so the
//! first account to get through tells the others how long to wait before
//! their first attempt ([`Propagation`]).
//!
//! Every wait is shown while it lasts ([`Wait`]): what it waits for, for how
//! long so far and out of how long, on the account's bar or in a line.

use crate::azure::id::ResourceId;
use crate::azure::keyvault::{self, KeyVault};
use crate::azure::{Arm, AzureError};
use crate::logging::Wait;
use rand::Rng;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const LONGEST_WAIT: Duration = Duration::from_secs(20);

/// Retries of a write waiting for a grant: 250 ms, growing by a quarter.
const PROPAGATION_SCHEDULE: Schedule = Schedule {
    first: Duration::from_millis(250),
    growth: 1.25,
};

/// Polls of a new vault: DNS registration takes a second or more.
const VAULT_SCHEDULE: Schedule = Schedule {
    first: Duration::from_millis(500),
    growth: 1.5,
};

#[derive(Clone, Copy)]
struct Schedule {
    first: Duration,
    growth: f64,
}

impl Schedule {
    fn next(&self, wait: Duration) -> Duration {
        wait.mul_f64(self.growth).min(LONGEST_WAIT)
    }
}

/// ±20 % jitter, so parallel accounts do not retry in step.
fn jittered(wait: Duration) -> Duration {
    let factor = rand::thread_rng().gen_range(0.8..1.2);
    wait.mul_f64(factor)
}

/// What a "not yet" error waits for, as the progress display says it.
fn awaited(error: &AzureError) -> &'static str {
    match error.code() {
        Some("PrincipalNotFound") => "the new identity to reach the directory",
        Some("MissingMsiHeaders") => "the identity to reach Azure Storage",
        _ => "the grant to reach Azure Storage",
    }
}

/// Errors that mean "not yet", not "no".
pub fn is_propagation(error: &AzureError) -> bool {
    matches!(
        error.code(),
        Some("KeyVaultAuthenticationFailure" | "PrincipalNotFound" | "MissingMsiHeaders")
    )
}

/// How long new grants take to reach Azure Storage in this run, shared by
/// the accounts of one apply: the shortest time from a grant's creation to a
/// storage update that got through or, until one has, the longest time at
/// which one was still refused.
#[derive(Debug)]
pub struct Propagation {
    shortest_usable_ms: AtomicU64,
    longest_refused_ms: AtomicU64,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            shortest_usable_ms: AtomicU64::new(u64::MAX),
            longest_refused_ms: AtomicU64::new(0),
        }
    }
}

fn age_ms(granted: Instant) -> u64 {
    u64::try_from(granted.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Propagation {
    /// A grant created at `granted` was usable by now.
    pub fn usable(&self, granted: Instant) {
        self.shortest_usable_ms
            .fetch_min(age_ms(granted), Ordering::Relaxed);
    }

    /// A grant created at `granted` was still refused now.
    pub fn refused(&self, granted: Instant) {
        self.longest_refused_ms
            .fetch_max(age_ms(granted), Ordering::Relaxed);
    }

    /// How old a grant should be before a storage update tries it.
    pub fn expected(&self) -> Duration {
        match self.shortest_usable_ms.load(Ordering::Relaxed) {
            u64::MAX => Duration::from_millis(self.longest_refused_ms.load(Ordering::Relaxed)),
            ms => Duration::from_millis(ms),
        }
    }

    /// Waits until a grant created at `granted` is as old as grants have
    /// needed to be in this run.
    pub async fn wait_for(&self, granted: Instant) {
        let until = granted + self.expected();
        Wait::begin("grants in this run to take effect", None)
            .during(tokio::time::sleep_until(until.into()))
            .await;
    }
}

pub enum Waited<T> {
    Done(T),
    /// Still failing when the time was up; the last error.
    TimedOut(AzureError),
    Failed(AzureError),
}

/// Runs `attempt` until it succeeds, fails for another reason, or `timeout` passes.
pub async fn retry_propagation<T, F, Fut>(timeout: Duration, mut attempt: F) -> Waited<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AzureError>>,
{
    let deadline = Instant::now() + timeout;
    let mut wait = PROPAGATION_SCHEDULE.first;
    let mut shown: Option<Wait> = None;
    loop {
        match attempt().await {
            Ok(value) => return Waited::Done(value),
            Err(e) if is_propagation(&e) => {
                if Instant::now() + wait > deadline {
                    return Waited::TimedOut(e);
                }
                tracing::info!(
                    code = e.code().unwrap_or_default(),
                    "waiting for propagation"
                );
                // One wait from the first refusal on, however many retries.
                let shown = shown.get_or_insert_with(|| Wait::begin(awaited(&e), Some(timeout)));
                shown.during(tokio::time::sleep(jittered(wait))).await;
                wait = PROPAGATION_SCHEDULE.next(wait);
            }
            Err(e) => return Waited::Failed(e),
        }
    }
}

/// Polls a vault until `provisioningState` is `Succeeded`, starting from
/// `seen` (the vault as the create answered it, or as last read), else
/// from a read.
pub async fn vault_provisioned(
    arm: &Arm,
    id: &ResourceId,
    seen: Option<KeyVault>,
    timeout: Duration,
) -> Result<KeyVault, AzureError> {
    let deadline = Instant::now() + timeout;
    let mut vault = match seen {
        Some(vault) => vault,
        None => keyvault::get_vault(arm, id).await?,
    };
    let mut wait = VAULT_SCHEDULE.first;
    let shown = Wait::begin(
        format!("key vault {} to be provisioned (DNS)", id.name()),
        Some(timeout),
    );
    while !vault.provisioned && Instant::now() + wait <= deadline {
        shown.during(tokio::time::sleep(jittered(wait))).await;
        vault = keyvault::get_vault(arm, id).await?;
        wait = VAULT_SCHEDULE.next(wait);
    }
    Ok(vault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_learns_from_refusals_until_a_grant_got_through() {
        let p = Propagation::default();
        assert_eq!(p.expected(), Duration::ZERO);
        let now = Instant::now();
        let ago = |s| {
            now.checked_sub(Duration::from_secs(s))
                .expect("a clock past boot")
        };
        p.refused(ago(1));
        p.refused(ago(2));
        let refused = p.expected();
        assert!(
            refused >= Duration::from_secs(2) && refused < Duration::from_secs(3),
            "{refused:?}"
        );
        p.usable(ago(4));
        let four = p.expected();
        assert!(
            four >= Duration::from_secs(4),
            "a success replaces refusals: {four:?}"
        );
        p.usable(ago(3));
        assert!(p.expected() < four, "the shorter time wins");
        p.usable(ago(5));
        assert!(p.expected() < four, "a longer one does not replace it");
    }

    #[test]
    fn waits_grow_to_a_ceiling() {
        let mut wait = PROPAGATION_SCHEDULE.first;
        let mut total = Duration::ZERO;
        for _ in 0..5 {
            total += wait;
            wait = PROPAGATION_SCHEDULE.next(wait);
        }
        assert!(
            total < Duration::from_secs(3),
            "five retries within 3 s: {total:?}"
        );
        for _ in 0..100 {
            wait = PROPAGATION_SCHEDULE.next(wait);
        }
        assert_eq!(wait, LONGEST_WAIT);
    }
}
