//! Why Azure Storage refused a key, when waiting cannot help. Storage answers
//! `KeyVaultAuthenticationFailure` alike for a grant that has not reached it
//! yet and for a key it can never use: a vault firewall that shuts out trusted
//! services, a key that is disabled, expired, not yet valid or missing. Apply
//! waits out only the first; for the others the account fails at once, naming
//! the cause, instead of retrying for the whole `--propagation-timeout`.
//!
//! A diagnosis costs one read of the vault and one of the key, and reads are
//! what binds first in a subscription. A grant can take minutes to reach
//! storage (up to 10 for RBAC on Key Vault) while apply retries every few
//! seconds, so an account is diagnosed at its first refusal (a firewall or a
//! bad key is there from the start and fails at once) and again only as the
//! wait goes on, at intervals that double up to a minute ([`Diagnoses`]): a
//! key disabled while apply waits is still named within seconds early on and
//! within a minute late in a long wait, which is short next to the wait.
//! No reads at all when storage accepts the key at the first attempt.

use crate::audit::classify::key_reasons;
use crate::audit::ReasonCode;
use crate::azure::id::ResourceId;
use crate::azure::keyvault::{self, KeyVault, VaultKey};
use crate::azure::Arm;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The wait after the first diagnosis before the next one.
const FIRST_INTERVAL: Duration = Duration::from_secs(5);
/// The longest wait between two diagnoses of one account.
const LONGEST_INTERVAL: Duration = Duration::from_secs(60);

/// When one account's refusals are worth a diagnosis: the first, then one
/// after 5 s, 10 s, 20 s, ... up to one a minute.
#[derive(Debug, Default)]
pub struct Diagnoses {
    /// When the last diagnosis was made, and how long until the next.
    last: Mutex<Option<(Instant, Duration)>>,
}

impl Diagnoses {
    /// Whether a refusal at `now` is to be diagnosed; if so, it counts as made.
    pub fn due(&self, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match *last {
            None => FIRST_INTERVAL,
            Some((at, interval)) if now.saturating_duration_since(at) < interval => return false,
            Some((_, interval)) => (interval * 2).min(LONGEST_INTERVAL),
        };
        *last = Some((now, next));
        true
    }
}

/// The cause of a refusal that waiting cannot cure, from the vault and its
/// key (`None`: the key does not exist) as read after the refusal; `None`
/// when the refusal may still be a grant (or the vault) on its way.
pub fn hopeless(
    vault: &KeyVault,
    key_name: &str,
    key: Option<&VaultKey>,
    now_unix: i64,
) -> Option<String> {
    let vault_id = vault.id.as_str();
    if !vault.provisioned {
        return None;
    }
    if vault.firewall_blocks_trusted_services() {
        return Some(format!(
            "vault firewall: key vault {vault_id} shuts out trusted Microsoft services, so Azure Storage cannot reach the key: set networkAcls.bypass to AzureServices (or open the firewall)"
        ));
    }
    let Some(key) = key else {
        return Some(format!(
            "key missing: key '{key_name}' does not exist in key vault {vault_id} (deleted since it was created?)"
        ));
    };
    // The cause first, in a word or two: the ids that follow are long.
    key_reasons(key, vault_id, now_unix)
        .into_iter()
        .next()
        .map(|r| {
            let cause = match r.code {
                ReasonCode::KeyDisabled => "key disabled",
                ReasonCode::KeyExpired => "key expired",
                ReasonCode::KeyNotYetValid => "key not yet valid",
                _ => "key unusable",
            };
            format!("{cause}: {}", r.message)
        })
}

/// Reads the vault and the key after a refusal and says whether it is
/// hopeless. A read that fails tells nothing: the refusal is waited out.
pub async fn refusal_cause(arm: &Arm, vault_id: &str, key_name: &str) -> Option<String> {
    let rid = ResourceId::parse(vault_id).ok()?;
    let (vault, key) = tokio::join!(
        keyvault::get_vault(arm, &rid),
        keyvault::get_key(arm, &rid, key_name, None)
    );
    let vault = vault
        .map_err(|e| tracing::debug!(error = %e, "vault not read after a refusal"))
        .ok()?;
    let key = match key {
        Ok(key) => Some(key),
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            tracing::debug!(error = %e, "key not read after a refusal");
            return None;
        }
    };
    hopeless(
        &vault,
        key_name,
        key.as_ref(),
        chrono::Utc::now().timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const NOW: i64 = 1_800_000_000;

    fn vault() -> KeyVault {
        KeyVault {
            id: ResourceId::parse(
                "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1",
            )
            .expect("a vault id"),
            tenant_id: "t".into(),
            vault_uri: Some("https://kv1.vault.azure.net/".into()),
            soft_delete: true,
            purge_protection: true,
            rbac_authorization: true,
            network_restricted: false,
            bypass_azure_services: true,
            access_policies: vec![],
            provisioned: true,
            location: "westeurope".into(),
            tags: BTreeMap::new(),
        }
    }

    fn key() -> VaultKey {
        VaultKey {
            name: "cmk".into(),
            key_type: "RSA".into(),
            key_size: Some(3072),
            enabled: true,
            not_before: None,
            expires: Some(NOW + 86_400),
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn diagnoses_thin_out_as_the_wait_grows() {
        let diagnoses = Diagnoses::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert!(diagnoses.due(at(0)), "the first refusal");
        assert!(!diagnoses.due(at(300)));
        assert!(!diagnoses.due(at(4_900)));
        assert!(diagnoses.due(at(5_000)), "5 s later");
        assert!(!diagnoses.due(at(14_000)));
        assert!(diagnoses.due(at(15_000)), "10 s later");
        assert!(diagnoses.due(at(35_000)), "20 s later");
        assert!(!diagnoses.due(at(70_000)));
        assert!(diagnoses.due(at(75_000)), "40 s later");
        assert!(!diagnoses.due(at(134_000)));
        assert!(diagnoses.due(at(135_000)), "a minute later, at most");
        assert!(diagnoses.due(at(195_000)), "and a minute after that");
        // Over a 300 s wait with retries every 20 s: 8 diagnoses, not ~25.
    }

    #[test]
    fn a_healthy_key_behind_an_open_vault_is_waited_for() {
        assert_eq!(hopeless(&vault(), "cmk", Some(&key()), NOW), None);
        // A firewall that lets trusted services through is no cause.
        let mut closed_with_bypass = vault();
        closed_with_bypass.network_restricted = true;
        assert_eq!(
            hopeless(&closed_with_bypass, "cmk", Some(&key()), NOW),
            None
        );
        // Nor is anything about a vault that is still provisioning.
        let mut registering = vault();
        registering.provisioned = false;
        registering.network_restricted = true;
        registering.bypass_azure_services = false;
        assert_eq!(hopeless(&registering, "cmk", None, NOW), None);
    }

    #[test]
    fn firewall_disabled_expired_and_missing_keys_are_named() {
        let mut firewalled = vault();
        firewalled.network_restricted = true;
        firewalled.bypass_azure_services = false;
        let cause = hopeless(&firewalled, "cmk", Some(&key()), NOW).expect("a cause");
        assert!(cause.starts_with("vault firewall: "), "{cause}");
        assert!(cause.contains("AzureServices"), "{cause}");

        let mut disabled = key();
        disabled.enabled = false;
        let cause = hopeless(&vault(), "cmk", Some(&disabled), NOW).expect("a cause");
        assert!(cause.starts_with("key disabled: "), "{cause}");

        let mut expired = key();
        expired.expires = Some(NOW - 1);
        let cause = hopeless(&vault(), "cmk", Some(&expired), NOW).expect("a cause");
        assert!(cause.starts_with("key expired: "), "{cause}");

        let cause = hopeless(&vault(), "cmk", None, NOW).expect("a cause");
        assert!(cause.starts_with("key missing: "), "{cause}");
    }
}
