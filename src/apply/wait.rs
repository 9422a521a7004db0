//! Waiting for Azure: a new vault until its DNS is registered, and a write
//! that fails only because a grant or a new identity has not propagated yet
//! (retried with backoff and jitter until the propagation timeout).
//! Throttling (429) and server errors are retried below, by the pipeline.

use crate::azure::id::ResourceId;
use crate::azure::keyvault::{self, KeyVault};
use crate::azure::{Arm, AzureError};
use rand::Rng;
use std::future::Future;
use std::time::{Duration, Instant};

const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(20);

/// Backoff with ±25 % jitter, so parallel accounts do not retry in step.
fn jittered(wait: Duration) -> Duration {
    let factor = rand::thread_rng().gen_range(0.75..1.25);
    wait.mul_f64(factor)
}

/// Errors that mean "not yet", not "no".
pub fn is_propagation(error: &AzureError) -> bool {
    matches!(
        error.code(),
        Some("KeyVaultAuthenticationFailure" | "PrincipalNotFound" | "MissingMsiHeaders")
    )
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
    let mut wait = FIRST_WAIT;
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
                tokio::time::sleep(jittered(wait)).await;
                wait = (wait * 2).min(LONGEST_WAIT);
            }
            Err(e) => return Waited::Failed(e),
        }
    }
}

/// Polls a vault until `provisioningState` is `Succeeded`.
pub async fn vault_provisioned(
    arm: &Arm,
    id: &ResourceId,
    timeout: Duration,
) -> Result<KeyVault, AzureError> {
    let deadline = Instant::now() + timeout;
    let mut wait = FIRST_WAIT;
    loop {
        let vault = keyvault::get_vault(arm, id).await?;
        if vault.provisioned || Instant::now() + wait > deadline {
            return Ok(vault);
        }
        tokio::time::sleep(jittered(wait)).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}
