//! Storage accounts (2023-05-01), reduced to what the audit and the plan need.
//! Sent by azure_mgmt_storage, read tolerantly (`answer.rs`): storage answers
//! values its spec does not list (an accessTier `Smart`, provisioning states
//! and properties added later), which made the crate's model reject the
//! whole account.
//! Key source and identity type are kept as strings, compared ignoring case.

use super::answer::{tags, text};
use super::id::StorageAccountId;
use super::request::{Method, Request};
use super::{Arm, AzureError};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const API: &str = "2023-05-01";

#[derive(Debug, Clone, PartialEq)]
pub struct UserAssignedIdentity {
    pub id: String,
    pub principal_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StorageAccount {
    pub id: StorageAccountId,
    pub location: String,
    /// As Azure returns it, e.g. `Microsoft.Storage` or `Microsoft.Keyvault`.
    pub key_source: String,
    pub key_vault_uri: Option<String>,
    pub key_name: Option<String>,
    pub key_version: Option<String>,
    /// `encryption.identity.userAssignedIdentity`, when set and not empty.
    pub encryption_identity: Option<String>,
    /// `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned,UserAssigned`.
    pub identity_type: String,
    pub system_principal_id: Option<String>,
    pub user_assigned: Vec<UserAssignedIdentity>,
    pub tags: BTreeMap<String, String>,
}

impl StorageAccount {
    /// `Microsoft.Keyvault` in any casing.
    pub fn uses_key_vault(&self) -> bool {
        self.key_source.eq_ignore_ascii_case("Microsoft.Keyvault")
    }
}

pub async fn get(arm: &Arm, id: &StorageAccountId) -> Result<StorageAccount, AzureError> {
    let resource = format!("storage account {id}");
    let client = arm.storage()?;
    let sent = client
        .storage_accounts_client()
        .get_properties(id.resource_group(), id.name(), id.subscription_id())
        .send()
        .await
        .map(|r| r.into_raw_response());
    let answer = arm.generated_answer(sent, &resource).await?;
    from_json(id, &answer).ok_or_else(|| AzureError::Unexpected {
        resource,
        detail: "the answer does not read as one: it is not a JSON object".to_string(),
    })
}

/// Reduces the answer to what the tool needs; `None` only when it is not an object.
fn from_json(id: &StorageAccountId, answer: &Value) -> Option<StorageAccount> {
    answer.as_object()?;
    const VAULT: &str = "/properties/encryption/keyvaultproperties";
    let user_assigned = answer
        .pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(id, entry)| UserAssignedIdentity {
                    id: id.clone(),
                    principal_id: text(entry, "/principalId"),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(StorageAccount {
        id: id.clone(),
        location: text(answer, "/location").unwrap_or_default(),
        key_source: text(answer, "/properties/encryption/keySource")
            .unwrap_or_else(|| "Microsoft.Storage".into()),
        key_vault_uri: text(answer, &format!("{VAULT}/keyvaulturi")),
        key_name: text(answer, &format!("{VAULT}/keyname")),
        key_version: text(answer, &format!("{VAULT}/keyversion")),
        encryption_identity: text(
            answer,
            "/properties/encryption/identity/userAssignedIdentity",
        ),
        identity_type: text(answer, "/identity/type").unwrap_or_else(|| "None".into()),
        system_principal_id: text(answer, "/identity/principalId"),
        user_assigned,
        tags: tags(answer.get("tags")),
    })
}

/// What the storage update of a remediation sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySwitch<'a> {
    /// `UserAssigned` or `SystemAssigned,UserAssigned`.
    pub identity_type: &'a str,
    /// Every user-assigned identity the account keeps, plus the tool's.
    pub user_assigned: &'a [String],
    /// The identity that reads the key.
    pub identity_id: &'a str,
    pub key_vault_uri: &'a str,
    pub key_name: &'a str,
}

/// PATCH the account onto its customer-managed key: the identities it will
/// have (all it had, plus ours), `Microsoft.Keyvault`, the vault and key
/// without a version (so rotation is followed), and the encryption identity.
pub fn switch_to_key(account_id: &str, switch: &KeySwitch) -> Request {
    let identities: serde_json::Map<String, Value> = switch
        .user_assigned
        .iter()
        .map(|id| (id.clone(), json!({})))
        .collect();
    Request::new(
        Method::Patch,
        format!("{account_id}?api-version={API}"),
        Some(json!({
            "identity": {"type": switch.identity_type, "userAssignedIdentities": identities},
            "properties": {"encryption": {
                "keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": switch.key_vault_uri, "keyname": switch.key_name},
                "identity": {"userAssignedIdentity": switch.identity_id}
            }}
        })),
        format!("storage account {account_id}"),
    )
}

/// PATCH the account back to Microsoft-managed keys (`keySource`
/// `Microsoft.Storage`) and clear the encryption identity, as azure-cli
/// sends it (recording `storage_patch_cmk_to_microsoft_storage_empty_uai_200`):
/// Azure drops `keyvaultproperties`. Identities are left as they are.
pub fn switch_to_microsoft_keys(account_id: &str) -> Request {
    Request::new(
        Method::Patch,
        format!("{account_id}?api-version={API}"),
        Some(json!({"properties": {"encryption": {
            "keySource": "Microsoft.Storage",
            "identity": {"userAssignedIdentity": ""}
        }}})),
        format!("storage account {account_id}"),
    )
}

/// PATCH user-assigned identities off the account, keeping every other one.
/// `identity_type` is the type the account has afterwards: while it still
/// includes `UserAssigned`, each removed identity is sent as `null` (ARM's
/// way to take one off); otherwise the type alone (`SystemAssigned` or
/// `None`) drops them (recording
/// `storage_patch_identity_systemassigned_drops_uai_still_referenced_200`).
pub fn detach_user_assigned_identities(
    account_id: &str,
    identity_type: &str,
    remove: &[String],
) -> Request {
    let identity = if identity_type.to_ascii_lowercase().contains("userassigned") {
        let removed: serde_json::Map<String, Value> =
            remove.iter().map(|id| (id.clone(), Value::Null)).collect();
        json!({"type": identity_type, "userAssignedIdentities": removed})
    } else {
        json!({"type": identity_type})
    };
    Request::new(
        Method::Patch,
        format!("{account_id}?api-version={API}"),
        Some(json!({ "identity": identity })),
        format!("storage account {account_id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";

    fn read(body: serde_json::Value) -> StorageAccount {
        from_json(&StorageAccountId::parse(ID).unwrap(), &body).unwrap()
    }

    #[test]
    fn values_the_spec_does_not_list_leave_the_account_readable() {
        let account = read(
            json!({"location": "westeurope", "kind": "StorageV3", "sku": {"name": "Premium_XRS", "tier": "Ultra"},
            "identity": {"type": "SystemAssigned,UserAssigned,Delegated", "principalId": "p"},
            "properties": {"accessTier": "Smart", "provisioningState": "Upgrading", "brandNewProperty": {"x": 1},
                "minimumTlsVersion": "TLS1_3", "largeFileSharesState": "Maybe",
                "encryption": {"keySource": "Microsoft.Keyvault", "requireInfrastructureEncryption": "yes",
                    "services": {"blob": {"keyType": "Tenant", "enabled": true}},
                    "keyvaultproperties": {"keyvaulturi": "https://kv.vault.azure.net/", "keyname": "k", "keyversion": ""}}}}),
        );
        assert!(account.uses_key_vault());
        assert_eq!(
            account.key_vault_uri.as_deref(),
            Some("https://kv.vault.azure.net/")
        );
        assert_eq!(account.key_version, None);
        assert_eq!(account.system_principal_id.as_deref(), Some("p"));
        assert!(from_json(&StorageAccountId::parse(ID).unwrap(), &json!([])).is_none());
    }

    #[test]
    fn key_vault_counts_in_any_casing() {
        for spelling in [
            "Microsoft.Keyvault",
            "Microsoft.KeyVault",
            "microsoft.keyvault",
        ] {
            let account = read(json!({
                "location": "westeurope",
                "properties": {"encryption": {"keySource": spelling,
                    "keyvaultproperties": {"keyvaulturi": "https://kv.vault.azure.net/", "keyname": "k"}}}
            }));
            assert!(account.uses_key_vault(), "{spelling}");
            assert_eq!(account.key_source, spelling);
            assert_eq!(account.key_name.as_deref(), Some("k"));
        }
        let plain = read(json!({"location": "westeurope",
            "properties": {"encryption": {"keySource": "Microsoft.Storage"}}}));
        assert!(!plain.uses_key_vault());
    }

    #[test]
    fn identities_and_the_recorded_orphan_are_read() {
        // As recorded: CMK left on after its system-assigned identity was removed.
        let orphan = read(
            json!({"location": "eastus2euap", "identity": {"type": "None"},
            "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": "https://clitest000002.vault.azure.net/", "keyname": "testkey"}}}}),
        );
        assert_eq!(orphan.identity_type, "None");
        assert_eq!(orphan.encryption_identity, None);
        let both = read(json!({"location": "westeurope",
            "identity": {"type": "SystemAssigned,UserAssigned", "principalId": "p",
                "userAssignedIdentities": {"/subscriptions/x/id1": {"principalId": "p1"}}}}));
        assert_eq!(both.identity_type, "SystemAssigned,UserAssigned");
        assert_eq!(both.system_principal_id.as_deref(), Some("p"));
        assert_eq!(both.user_assigned[0].principal_id.as_deref(), Some("p1"));
    }
}
