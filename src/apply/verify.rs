//! The proof: read the account again; it must be on `Microsoft.Keyvault`
//! with the planned vault, key (no pinned version) and identity, and pass the
//! audit's CMK health checks. The vault, key, identity and role assignment
//! are judged as Azure answered the steps a moment ago ([`Known`]); what the
//! steps did not see is read. Reading all of them again would cost five reads
//! per account, and with many accounts in one subscription ARM's read budget
//! is what limits the run (docs/benchmarks.md).

use crate::audit::classify::{cmk_reasons, Lookup};
use crate::audit::health;
use crate::azure::authorization::RoleAssignment;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{self, vault_name_from_uri, KeyVault, VaultKey};
use crate::azure::msi::Identity;
use crate::azure::{storage, Arm};
use crate::plan::observe::SYSTEM_ASSIGNED;
use crate::plan::Targets;

/// The resources as the steps saw them (answers to their writes, or their
/// reads), each only when nothing the steps did since could have changed it.
#[derive(Debug, Default)]
pub struct Known {
    pub vault: Option<KeyVault>,
    pub key: Option<VaultKey>,
    pub identity: Option<Identity>,
    /// The role assignment the grant step wrote.
    pub role_assignment: Option<RoleAssignment>,
}

/// `Ok(())`, or what is wrong, in words.
pub async fn verify(
    arm: &Arm,
    account_id: &StorageAccountId,
    targets: &Targets,
    key_vault_uri: Option<&str>,
    known: Known,
) -> Result<(), String> {
    let account = storage::get(arm, account_id)
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
        let vault = match known.vault.filter(|v| v.id.key() == vault_id.key()) {
            Some(vault) => Lookup::Found(vault),
            None => health::lookup(
                keyvault::get_vault(arm, &vault_id).await,
                &format!("key vault {vault_id}"),
                "Microsoft.KeyVault/vaults/read",
                vault_id.as_str(),
            ),
        };
        let mut index = health::VaultIndex::new();
        if let Some(name) = account
            .key_vault_uri
            .as_deref()
            .and_then(vault_name_from_uri)
        {
            index.insert(name, vault);
        }
        let known = health::Known {
            key: known.key,
            identity: known.identity,
            role_assignments: known.role_assignment.map(|a| vec![a]),
        };
        let observation = health::observe_with(arm, &account, &index, known).await;
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
