//! Storage accounts, read with azure_mgmt_storage (2023-05-01) and reduced to
//! what the audit and the plan need. Key source and identity type are kept as
//! strings: the crate matches enums case-sensitively, Azure does not.

use super::generated::{enum_text, tags};
use super::id::StorageAccountId;
use super::{Arm, AzureError};
use std::collections::BTreeMap;

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
    let account = arm
        .storage()?
        .storage_accounts_client()
        .get_properties(id.resource_group(), id.name(), id.subscription_id())
        .await
        .map_err(|e| AzureError::from_core(e, &resource, arm.endpoint().as_str()))?;
    Ok(from_model(id, &account))
}

/// Reduces the generated model to what the tool needs.
fn from_model(
    id: &StorageAccountId,
    account: &azure_mgmt_storage::models::StorageAccount,
) -> StorageAccount {
    let encryption = account
        .properties
        .as_ref()
        .and_then(|p| p.encryption.clone());
    let vault = encryption
        .as_ref()
        .and_then(|e| e.keyvaultproperties.clone());
    let identity = account.identity.as_ref();
    let user_assigned = identity
        .and_then(|i| i.user_assigned_identities.as_ref())
        .and_then(|v| v.as_object())
        .map(|map| {
            map.iter()
                .map(|(id, entry)| UserAssignedIdentity {
                    id: id.clone(),
                    principal_id: entry
                        .get("principalId")
                        .and_then(|p| p.as_str())
                        .map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    let tags = tags(account.tracked_resource.tags.as_ref());
    StorageAccount {
        id: id.clone(),
        location: account.tracked_resource.location.clone(),
        key_source: encryption
            .as_ref()
            .and_then(|e| e.key_source.as_ref())
            .map(enum_text)
            .unwrap_or_else(|| "Microsoft.Storage".into()),
        key_vault_uri: vault
            .as_ref()
            .and_then(|v| v.keyvaulturi.clone())
            .filter(|s| !s.is_empty()),
        key_name: vault
            .as_ref()
            .and_then(|v| v.keyname.clone())
            .filter(|s| !s.is_empty()),
        key_version: vault
            .as_ref()
            .and_then(|v| v.keyversion.clone())
            .filter(|s| !s.is_empty()),
        encryption_identity: encryption
            .as_ref()
            .and_then(|e| e.identity.as_ref())
            .and_then(|i| i.user_assigned_identity.clone())
            .filter(|s| !s.is_empty()),
        identity_type: identity
            .map(|i| enum_text(&i.type_))
            .unwrap_or_else(|| "None".into()),
        system_principal_id: identity.and_then(|i| i.principal_id.clone()),
        user_assigned,
        tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";

    fn read(body: serde_json::Value) -> StorageAccount {
        let model: azure_mgmt_storage::models::StorageAccount =
            serde_json::from_value(body).unwrap();
        from_model(&StorageAccountId::parse(ID).unwrap(), &model)
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
