//! Computing the rollback plan from fresh reads; writes nothing.
//!
//! An account counts as remediated by the tool when its key carries the
//! tool's tags for it (`managed-by: actlog-cmk`, `actlog-cmk-account: <id>`),
//! or, once it is back on Microsoft-managed keys, when an identity or vault
//! the tool created for it still exists in its resource group (a rollback
//! that stopped half-way, or one already finished). Anything else is refused
//! when named with `--account` (unless `--force`) and skipped otherwise.
//!
//! Per account, in order: switch the key source back (only while the
//! account is on Key Vault or still names the tool's identity for
//! encryption), take the tool's user-assigned identities off (every other
//! identity stays), and with `--remove-grants` remove the access policy
//! permissions or the Crypto Service Encryption User role assignments of the
//! tool's identities on the tool's vaults. Keys and vaults are never touched.

use super::model::*;
use super::observe::{self, is_within, made_for, ToolResources};
use crate::audit::classify::Lookup;
use crate::audit::health;
use crate::azure::authorization::{
    self, RoleAssignment, CRYPTO_SERVICE_ENCRYPTION_USER, KEY_WRAP_ROLES,
};
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{self, vault_name_from_uri};
use crate::azure::storage::{self, StorageAccount};
use crate::azure::{msi, Arm, AzureError};
use crate::plan::{Action, Address, AttributeChange, ObservedAccount, PlanMode};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The key permissions the tool grants (and `--remove-grants` takes away).
pub const GRANTED_KEY_PERMISSIONS: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The accounts were named with `--account`: one the tool did not
    /// remediate is refused rather than skipped.
    pub named: bool,
    /// Roll back named accounts the tool did not remediate (key source only).
    pub force: bool,
    pub remove_grants: bool,
    pub parallelism: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot plan the rollback of {account}: {reason}")]
pub struct BuildError {
    pub account: String,
    pub reason: String,
}

enum Outcome {
    Planned(Box<AccountRollback>),
    Refused(Refusal),
    Skipped(Skip),
}

/// Plans the rollback of `accounts` (duplicates are planned once). Fails
/// when an account or what it depends on cannot be read.
pub async fn build(
    arm: &Arm,
    accounts: &[StorageAccountId],
    options: &BuildOptions,
) -> Result<RollbackPlan, BuildError> {
    let mut unique: BTreeMap<String, &StorageAccountId> = BTreeMap::new();
    for id in accounts {
        unique.entry(id.id().key()).or_insert(id);
    }
    let outcomes: Vec<Result<Outcome, BuildError>> = stream::iter(unique.into_values())
        .map(|id| async move {
            plan_account(arm, id, options)
                .await
                .map_err(|reason| BuildError {
                    account: id.to_string(),
                    reason,
                })
        })
        .buffered(options.parallelism.max(1))
        .collect()
        .await;
    let (mut planned, mut refused, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome? {
            Outcome::Planned(p) => planned.push(*p),
            Outcome::Refused(r) => refused.push(r),
            Outcome::Skipped(s) => skipped.push(s),
        }
    }
    Ok(RollbackPlan {
        mode: PlanMode::Rollback,
        schema_version: crate::plan::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        tenant_id: String::new(),
        arm_endpoint: arm.endpoint().to_string(),
        remove_grants: options.remove_grants,
        summary: RollbackSummary::of(&planned, &refused, &skipped),
        accounts: planned,
        refused,
        skipped,
    })
}

fn explain(e: AzureError) -> String {
    e.to_string()
}

/// The account's key: where it is, whether the tool made it, and if not, why.
struct KeyFinding {
    key: Option<KeptKey>,
    ours: bool,
    /// Why the key is not known to be the tool's.
    why_not: Option<String>,
}

async fn find_key(
    arm: &Arm,
    account: &StorageAccount,
    tool: &ToolResources,
) -> Result<KeyFinding, String> {
    let id = &account.id;
    let not = |why: String| {
        Ok(KeyFinding {
            key: None,
            ours: false,
            why_not: Some(why),
        })
    };
    let (Some(uri), Some(name)) = (&account.key_vault_uri, &account.key_name) else {
        return not("it is on Key Vault but names no vault or key".into());
    };
    let Some(vault_name) = vault_name_from_uri(uri) else {
        return not(format!("its keyvaulturi {uri} does not name a key vault"));
    };
    let known = tool
        .vaults
        .iter()
        .find(|v| ResourceId::parse(v).is_ok_and(|v| v.name().eq_ignore_ascii_case(&vault_name)));
    let vault_id = match known {
        Some(v) => v.clone(),
        None => {
            let sub = id.subscription_id().to_string();
            // With the account, a vault the index does not list yet is read in its group.
            let names = BTreeMap::from([(vault_name.clone(), vec![id.clone()])]);
            let index =
                health::read_vaults(arm, &crate::azure::Snapshot::new(), names, &[sub], false, 1)
                    .await;
            match index.get(&vault_name) {
                Some(Lookup::Found(v)) => v.id.to_string(),
                Some(Lookup::Denied(m)) | Some(Lookup::Failed(m)) => return Err(m.clone()),
                _ => {
                    return not(format!(
                        "its key vault {vault_name} was not found in any subscription the credential can see"
                    ))
                }
            }
        }
    };
    match observe::key_facts(arm, &vault_id, name)
        .await
        .map_err(explain)?
    {
        None => not(format!("its key {name} does not exist in {vault_id}")),
        Some(facts) => {
            let ours = made_for(&facts.tags, id);
            Ok(KeyFinding {
                key: Some(KeptKey {
                    vault_id: vault_id.clone(),
                    name: name.clone(),
                    enabled: facts.enabled,
                }),
                ours,
                why_not: (!ours).then(|| format!(
                    "its key {name} in {vault_id} does not carry the tags managed-by=actlog-cmk and actlog-cmk-account={}: the tool did not create it",
                    id.id().key()
                )),
            })
        }
    }
}

async fn plan_account(
    arm: &Arm,
    id: &StorageAccountId,
    options: &BuildOptions,
) -> Result<Outcome, String> {
    let account = storage::get(arm, id).await.map_err(explain)?;
    let tool = observe::tool_resources(arm, &account)
        .await
        .map_err(explain)?;
    let key = if account.uses_key_vault() {
        Some(find_key(arm, &account, &tool).await?)
    } else {
        None
    };
    let remediated = match &key {
        Some(k) => k.ours,
        None => !tool.is_empty(),
    };
    let account_id = id.to_string();
    // `--force` lets a named account through; a discovered one never.
    let forced = options.force && options.named;
    if !(remediated || forced) {
        let why = match &key {
            Some(k) => k.why_not.clone().unwrap_or_default(),
            None => "it is on Microsoft-managed keys and no identity or key vault actlog-cmk creates for it exists in its resource group".into(),
        };
        let on_key_vault = key.is_some();
        if options.named {
            return Ok(Outcome::Refused(Refusal {
                storage_account_id: account_id.clone(),
                reason: format!("{account_id} was not remediated by actlog-cmk: {why}"),
                next_step: if on_key_vault {
                    "leave it as it is, or name it with --account and pass --force to switch it back to Microsoft-managed keys anyway (identities and grants the tool did not create are never touched)".into()
                } else {
                    "check the account id: there is nothing of actlog-cmk's to roll back".into()
                },
            }));
        }
        return Ok(Outcome::Skipped(Skip {
            storage_account_id: account_id,
            reason: format!("not remediated by actlog-cmk: {why}"),
        }));
    }
    let observed = ObservedAccount::of(&account);
    let mut plan = AccountRollback {
        storage_account_id: account_id.clone(),
        fingerprint: observed.fingerprint(),
        observed,
        remediated_by_tool: remediated,
        keeps: Keeps {
            system_principal_id: account.system_principal_id.clone(),
            user_assigned_identities: account
                .user_assigned
                .iter()
                .filter(|u| !tool.has_identity(&u.id))
                .map(|u| u.id.clone())
                .collect(),
            key: key.as_ref().and_then(|k| k.key.clone()),
        },
        tool_identities: tool.identities.clone(),
        notes: Vec::new(),
        changes: Vec::new(),
    };
    if let Some(why) = key.as_ref().and_then(|k| k.why_not.as_ref()) {
        plan.notes.push(format!("--force: {why}"));
    }
    plan.changes.extend(key_source_change(&account, &tool));
    plan.changes.extend(identity_change(&account, &tool));
    for kept in &plan.keeps.user_assigned_identities {
        let used = account
            .encryption_identity
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(kept));
        if used {
            plan.notes.push(format!(
                "the encryption identity {kept} stays on the account: actlog-cmk did not create it"
            ));
        }
    }
    if options.remove_grants {
        let mut vaults = tool.vaults.clone();
        if let Some(k) = key.as_ref().filter(|k| k.ours).and_then(|k| k.key.as_ref()) {
            if !vaults.iter().any(|v| v.eq_ignore_ascii_case(&k.vault_id)) {
                vaults.push(k.vault_id.clone());
            }
        }
        let grants = grant_changes(arm, &tool.identities, &vaults).await?;
        // A forced account's key is someone else's, but a repair may have
        // granted on its vault: only what the tool marked goes.
        if let Some(k) = key.as_ref().and_then(|k| k.key.as_ref()) {
            if !vaults.iter().any(|v| v.eq_ignore_ascii_case(&k.vault_id)) {
                vaults.push(k.vault_id.clone());
            }
        }
        let marked = marked_grant_changes(arm, &account, &vaults, &grants).await?;
        plan.changes.extend(grants);
        plan.changes.extend(marked);
    } else if !tool.identities.is_empty() {
        plan.notes.push(
            "any grant of actlog-cmk's identity on the key stays; --remove-grants removes it"
                .into(),
        );
    }
    if plan.changes.is_empty() {
        return Ok(Outcome::Skipped(Skip {
            storage_account_id: account_id,
            reason: "nothing to roll back: on Microsoft-managed keys, without actlog-cmk's identity"
                .to_string() + if options.remove_grants {
                " or its grants"
            } else {
                ""
            },
        }));
    }
    Ok(Outcome::Planned(Box::new(plan)))
}

fn updated(name: &str, before: Value, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: Some(before),
        after,
    }
}

/// Back to `Microsoft.Storage`, while the account is on Key Vault or still
/// names the tool's identity for encryption.
fn key_source_change(account: &StorageAccount, tool: &ToolResources) -> Option<RollbackChange> {
    let names_ours = account
        .encryption_identity
        .as_deref()
        .is_some_and(|e| tool.has_identity(e));
    if !account.uses_key_vault() && !names_ours {
        return None;
    }
    let mut attributes = Vec::new();
    if !account.key_source.eq_ignore_ascii_case("Microsoft.Storage") {
        attributes.push(updated(
            "encryption.key_source",
            json!(account.key_source),
            json!("Microsoft.Storage"),
        ));
    }
    for (name, value) in [
        ("encryption.key_vault_uri", &account.key_vault_uri),
        ("encryption.key_name", &account.key_name),
        ("encryption.key_version", &account.key_version),
        ("encryption.identity", &account.encryption_identity),
    ] {
        if let Some(value) = value {
            attributes.push(updated(name, json!(value), Value::Null));
        }
    }
    Some(RollbackChange {
        action: Action::Update,
        address: Address::StorageAccount,
        id: account.id.to_string(),
        attributes,
        undo: Undo::MicrosoftManagedKeys {
            account_id: account.id.to_string(),
        },
    })
}

/// The identity type once user-assigned identities are taken off: the
/// system-assigned identity stays, `UserAssigned` only while some remain.
pub fn identity_type_after(current: &str, user_assigned_remain: bool) -> String {
    let system = current.to_ascii_lowercase().contains("systemassigned");
    match (system, user_assigned_remain) {
        (true, true) => "SystemAssigned,UserAssigned",
        (true, false) => "SystemAssigned",
        (false, true) => "UserAssigned",
        (false, false) => "None",
    }
    .to_string()
}

/// The tool's identities off the account; every other identity stays.
fn identity_change(account: &StorageAccount, tool: &ToolResources) -> Option<RollbackChange> {
    let (ours, theirs): (Vec<&str>, Vec<&str>) = account
        .user_assigned
        .iter()
        .map(|u| u.id.as_str())
        .partition(|id| tool.has_identity(id));
    if ours.is_empty() {
        return None;
    }
    let after_type = identity_type_after(&account.identity_type, !theirs.is_empty());
    let mut attributes = Vec::new();
    if after_type != account.identity_type {
        attributes.push(updated(
            "identity.type",
            json!(account.identity_type),
            json!(after_type),
        ));
    }
    let all: Vec<&str> = account
        .user_assigned
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    attributes.push(updated(
        "identity.user_assigned_identities",
        json!(all),
        json!(theirs),
    ));
    Some(RollbackChange {
        action: Action::Update,
        address: Address::StorageAccountIdentity,
        id: account.id.to_string(),
        attributes,
        undo: Undo::DetachIdentities {
            account_id: account.id.to_string(),
            identity_ids: ours.into_iter().map(str::to_string).collect(),
        },
    })
}

/// Deleting a role assignment, with what goes in the diff.
fn role_assignment_removal(a: RoleAssignment) -> RollbackChange {
    let role = KEY_WRAP_ROLES
        .iter()
        .find(|(guid, _)| *guid == a.role_guid())
        .map_or_else(|| json!(a.role_definition_id), |(_, name)| json!(name));
    RollbackChange {
        action: Action::Delete,
        address: Address::RoleAssignment,
        id: a.id.clone(),
        attributes: vec![
            removed("scope", json!(a.scope)),
            removed("role", role),
            removed("principal_id", json!(a.principal_id)),
        ],
        undo: Undo::DeleteRoleAssignment { id: a.id },
    }
}

/// With `--remove-grants`, the role assignments marked as the tool's for the
/// account (a repair's grant among them) on the vault of its key and on the
/// tool's vaults, that the tool's identities' grants did not already name.
async fn marked_grant_changes(
    arm: &Arm,
    account: &StorageAccount,
    vaults: &[String],
    planned: &[RollbackChange],
) -> Result<Vec<RollbackChange>, String> {
    let marked = observe::marked_role_assignments(arm, account, vaults)
        .await
        .map_err(explain)?;
    Ok(marked
        .into_iter()
        .filter(|a| !planned.iter().any(|c| c.id.eq_ignore_ascii_case(&a.id)))
        .map(role_assignment_removal)
        .collect())
}

fn removed(name: &str, before: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: Some(before),
        after: Value::Null,
    }
}

/// The key permissions among those the tool grants that `principal` holds.
pub fn granted_permissions(permissions: &[String]) -> Vec<String> {
    permissions
        .iter()
        .filter(|p| {
            GRANTED_KEY_PERMISSIONS
                .iter()
                .any(|g| g.eq_ignore_ascii_case(p))
        })
        .cloned()
        .collect()
}

/// What the tool's identities were granted on the tool's vaults (and on the
/// vault of the tool's key): access policy permissions, or Crypto Service
/// Encryption User role assignments at the vault or below.
async fn grant_changes(
    arm: &Arm,
    identities: &[String],
    vaults: &[String],
) -> Result<Vec<RollbackChange>, String> {
    let mut changes = Vec::new();
    for identity in identities {
        let rid = ResourceId::parse(identity).map_err(|e| e.to_string())?;
        let principal = match msi::get_identity(arm, &rid).await {
            Ok(i) => i.principal_id,
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(explain(e)),
        };
        let Some(principal) = principal else { continue };
        for vault_id in vaults {
            let vid = ResourceId::parse(vault_id).map_err(|e| e.to_string())?;
            let vault = match keyvault::get_vault(arm, &vid).await {
                Ok(v) => v,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(explain(e)),
            };
            if vault.rbac_authorization {
                let assignments =
                    authorization::assignments_for_principal(arm, vault_id, &principal)
                        .await
                        .map_err(explain)?;
                for a in assignments.into_iter().filter(|a| {
                    a.role_guid() == CRYPTO_SERVICE_ENCRYPTION_USER
                        && a.principal_id.eq_ignore_ascii_case(&principal)
                        && is_within(&a.scope, vault_id)
                }) {
                    changes.push(role_assignment_removal(RoleAssignment {
                        principal_id: principal.clone(),
                        ..a
                    }));
                }
            } else {
                for entry in vault
                    .access_policies
                    .iter()
                    .filter(|p| p.object_id.eq_ignore_ascii_case(&principal))
                {
                    let granted = granted_permissions(&entry.key_permissions);
                    if granted.is_empty() {
                        continue;
                    }
                    changes.push(RollbackChange {
                        action: Action::Delete,
                        address: Address::AccessPolicy,
                        id: format!("{vault_id}/accessPolicies/{principal}"),
                        attributes: vec![
                            removed("object_id", json!(principal)),
                            removed("key_permissions", json!(granted)),
                        ],
                        undo: Undo::RemoveAccessPolicy {
                            vault_id: vault_id.clone(),
                            tenant_id: entry.tenant_id.clone(),
                            principal_id: principal.clone(),
                        },
                    });
                }
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taking_user_assigned_identities_off_keeps_the_system_assigned_one() {
        assert_eq!(
            identity_type_after("SystemAssigned,UserAssigned", true),
            "SystemAssigned,UserAssigned"
        );
        assert_eq!(
            identity_type_after("SystemAssigned,UserAssigned", false),
            "SystemAssigned"
        );
        assert_eq!(identity_type_after("UserAssigned", true), "UserAssigned");
        assert_eq!(identity_type_after("UserAssigned", false), "None");
        assert_eq!(identity_type_after("userassigned", false), "None");
    }

    #[test]
    fn only_the_permissions_the_tool_grants_are_taken_away() {
        let held: Vec<String> = ["Get", "list", "wrapKey", "UNWRAPKEY", "sign"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(granted_permissions(&held), ["Get", "wrapKey", "UNWRAPKEY"]);
        assert!(granted_permissions(&["list".to_string()]).is_empty());
    }

    #[test]
    fn scopes_below_a_vault_are_within_it_and_siblings_are_not() {
        let vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1";
        assert!(is_within(vault, vault));
        assert!(is_within(&format!("{vault}/keys/k"), &vault.to_uppercase()));
        assert!(!is_within(&format!("{vault}0/keys/k"), vault));
        assert!(!is_within("/subscriptions/s/resourceGroups/rg", vault));
    }
}
