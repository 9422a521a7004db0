//! The proof: read the account again. It must be on Microsoft-managed keys,
//! still have every identity it kept (the system-assigned one with the same
//! principal), none of the tool's identities, and the key it used must still
//! exist in its vault, enabled if it was.

use super::model::AccountRollback;
use super::observe;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::{keyvault, storage, Arm};

/// `Ok(())`, or what is wrong, in words.
pub async fn verify(arm: &Arm, plan: &AccountRollback) -> Result<(), String> {
    let id = StorageAccountId::parse(&plan.storage_account_id).map_err(|e| e.to_string())?;
    let account = storage::get(arm, &id).await.map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    if account.uses_key_vault() {
        problems.push(format!("keySource is {}", account.key_source));
    }
    let attached = |wanted: &str| {
        account
            .user_assigned
            .iter()
            .any(|u| u.id.eq_ignore_ascii_case(wanted))
    };
    for kept in &plan.keeps.user_assigned_identities {
        if !attached(kept) {
            problems.push(format!("the identity {kept} is no longer on the account"));
        }
    }
    if let Some(principal) = &plan.keeps.system_principal_id {
        if account.system_principal_id.as_deref() != Some(principal.as_str()) {
            problems.push(format!(
                "the system-assigned identity is {:?}, not {principal}",
                account.system_principal_id
            ));
        }
    }
    for ours in &plan.tool_identities {
        if attached(ours) {
            problems.push(format!(
                "actlog-cmk's identity {ours} is still on the account"
            ));
        }
    }
    if let Some(key) = &plan.keeps.key {
        let vault = ResourceId::parse(&key.vault_id).map_err(|e| e.to_string())?;
        match keyvault::get_vault(arm, &vault).await {
            Ok(_) => {}
            Err(e) => problems.push(format!("the key vault cannot be read: {e}")),
        }
        match observe::key_facts(arm, &key.vault_id, &key.name).await {
            Ok(Some(facts)) if key.enabled && !facts.enabled => problems.push(format!(
                "the key {} in {} is disabled",
                key.name, key.vault_id
            )),
            Ok(Some(_)) => {}
            Ok(None) => problems.push(format!(
                "the key {} is gone from {}",
                key.name, key.vault_id
            )),
            Err(e) => problems.push(format!("the key cannot be read: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
