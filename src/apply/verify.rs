//! The proof: read the account again; it must be on `Microsoft.Keyvault`
//! with the planned vault, key (no pinned version) and identity, and pass the
//! audit's CMK health checks. The vault, key, identity and role assignment
//! are judged as this apply saw them a moment ago (its view of the command's
//! snapshot, which the steps' write answers fed); what it did not see is
//! read. Reading all of them again would cost five reads per account, and
//! with many accounts in one subscription ARM's read budget is what limits
//! the run (docs/benchmarks.md).

use crate::audit::classify::cmk_reasons;
use crate::audit::health;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::vault_name_from_uri;
use crate::azure::{Arm, Snapshot};
use crate::plan::observe::SYSTEM_ASSIGNED;
use crate::plan::Targets;

/// `Ok(())`, or what is wrong, in words.
pub async fn verify(
    arm: &Arm,
    account_id: &StorageAccountId,
    targets: &Targets,
    key_vault_uri: Option<&str>,
    snapshot: &Snapshot,
) -> Result<(), String> {
    let account = snapshot
        .read_account(arm, account_id)
        .await
        .map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if !account.uses_key_vault() {
        problems.push(format!("keySource is {}", account.key_source));
    }
    let same_uri = |a: &str, b: &str| {
        a.trim_end_matches('/')
            .eq_ignore_ascii_case(b.trim_end_matches('/'))
    };
    if let Some(expected) = key_vault_uri {
        if !account
            .key_vault_uri
            .as_deref()
            .is_some_and(|u| same_uri(u, expected))
        {
            problems.push(format!(
                "keyvaulturi is {:?}, not {expected}",
                account.key_vault_uri
            ));
        }
    }
    if !account
        .key_name
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case(&targets.key_name))
    {
        problems.push(format!(
            "keyname is {:?}, not {}",
            account.key_name, targets.key_name
        ));
    }
    if targets.identity_id != SYSTEM_ASSIGNED
        && !account
            .encryption_identity
            .as_deref()
            .is_some_and(|i| i.eq_ignore_ascii_case(&targets.identity_id))
    {
        problems.push(format!(
            "the encryption identity is {:?}, not {}",
            account.encryption_identity, targets.identity_id
        ));
    }
    if problems.is_empty() {
        let vault_id = ResourceId::parse(&targets.vault_id).map_err(|e| e.to_string())?;
        let vault = health::lookup_optional(
            snapshot.vault(arm, &vault_id).await,
            &format!("key vault {vault_id}"),
            "Microsoft.KeyVault/vaults/read",
            vault_id.as_str(),
        );
        let mut index = health::VaultIndex::new();
        if let Some(name) = account
            .key_vault_uri
            .as_deref()
            .and_then(vault_name_from_uri)
        {
            index.insert(name, vault);
        }
        let observation = health::observe(arm, snapshot, &account, &index).await;
        let now = chrono::Utc::now().timestamp();
        problems.extend(
            cmk_reasons(&account, &observation, now)
                .into_iter()
                .map(|r| r.message),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
