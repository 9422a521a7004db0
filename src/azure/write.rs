//! Every write the tool makes to ARM, one function each, with the request
//! body built deliberately (the generated models send read-only fields as
//! `null` and loop on vault creation: AZURE_NOTES §4). Each returns the
//! resource as Azure answered, or the error with ARM's code.

use super::connection::KEYVAULT_API as VAULT_API;
use super::{Arm, AzureError};
use azure_core::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const STORAGE_API: &str = "2023-05-01";
pub const MSI_API: &str = "2023-01-31";
pub const ROLE_ASSIGNMENTS_API: &str = super::authorization::ROLE_ASSIGNMENTS_API;

/// Sends a write and returns the JSON body; an ARM error status becomes
/// `AzureError::Arm` (the pipeline already retried 429/5xx).
async fn write(
    arm: &Arm,
    method: Method,
    path: &str,
    body: &Value,
    resource: &str,
) -> Result<Value, AzureError> {
    Ok(write_with_status(arm, method, path, body, resource)
        .await?
        .1)
}

/// [`write`], with the HTTP status (201 Created tells a new resource from an
/// existing one that was written again).
async fn write_with_status(
    arm: &Arm,
    method: Method,
    path: &str,
    body: &Value,
    resource: &str,
) -> Result<(u16, Value), AzureError> {
    let (status, _, bytes) = arm.send(method, path, Some(body), resource).await?;
    if bytes.is_empty() {
        return Ok((status, Value::Null));
    }
    let value = serde_json::from_slice(&bytes).map_err(|e| AzureError::Unexpected {
        resource: resource.to_string(),
        detail: format!("the answer is not JSON: {e}"),
    })?;
    Ok((status, value))
}

/// PUT a user-assigned identity (200/201 with its principal id).
pub async fn create_identity(
    arm: &Arm,
    id: &str,
    location: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Put,
        &format!("{id}?api-version={MSI_API}"),
        &json!({"location": location, "tags": tags}),
        &format!("managed identity {id}"),
    )
    .await
}

/// PUT a vault with soft delete and purge protection (answers while DNS is
/// still registering: poll with `keyvault::get_vault` until provisioned).
pub async fn create_vault(
    arm: &Arm,
    id: &str,
    location: &str,
    tenant_id: &str,
    rbac: bool,
    tags: &BTreeMap<String, String>,
) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Put,
        &format!("{id}?api-version={VAULT_API}"),
        &json!({
            "location": location,
            "tags": tags,
            "properties": {
                "tenantId": tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "accessPolicies": [],
                "enableSoftDelete": true,
                "softDeleteRetentionInDays": 90,
                "enablePurgeProtection": true,
                "enableRbacAuthorization": rbac,
            }
        }),
        &format!("key vault {id}"),
    )
    .await
}

/// PATCH a vault to soft delete and purge protection (cannot be undone).
pub async fn enable_purge_protection(arm: &Arm, id: &str) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Patch,
        &format!("{id}?api-version={VAULT_API}"),
        &json!({"properties": {"enableSoftDelete": true, "enablePurgeProtection": true}}),
        &format!("key vault {id}"),
    )
    .await
}

/// PUT a key if it does not exist (Azure returns an existing key unchanged).
pub async fn create_key(
    arm: &Arm,
    vault_id: &str,
    name: &str,
    key_size: u32,
    expiry_days: Option<u32>,
    rotation_days: Option<u32>,
    tags: &BTreeMap<String, String>,
) -> Result<Value, AzureError> {
    let mut properties = json!({
        "kty": "RSA",
        "keySize": key_size,
        "keyOps": ["wrapKey", "unwrapKey"],
        "attributes": {"enabled": true},
    });
    if let Some(days) = expiry_days {
        let exp = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
        properties["attributes"]["exp"] = json!(exp.timestamp());
    }
    if let Some(days) = rotation_days {
        let mut policy = json!({
            "lifetimeActions": [{
                "trigger": {"timeAfterCreate": format!("P{days}D")},
                "action": {"type": "rotate"}
            }]
        });
        if let Some(expiry) = expiry_days {
            policy["attributes"] = json!({"expiryTime": format!("P{expiry}D")});
        }
        properties["rotationPolicy"] = policy;
    }
    write(
        arm,
        Method::Put,
        &format!("{vault_id}/keys/{name}?api-version={VAULT_API}"),
        &json!({"tags": tags, "properties": properties}),
        &format!("key {name} in key vault {vault_id}"),
    )
    .await
}

/// Adds get/wrapKey/unwrapKey for `object_id` to the vault's access policies
/// (`add` merges with what is there; it never removes anything).
pub async fn add_key_access_policy(
    arm: &Arm,
    vault_id: &str,
    tenant_id: &str,
    object_id: &str,
) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Put,
        &format!("{vault_id}/accessPolicies/add?api-version={VAULT_API}"),
        &json!({"properties": {"accessPolicies": [{
            "tenantId": tenant_id,
            "objectId": object_id,
            "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}
        }]}}),
        &format!("the access policies of key vault {vault_id}"),
    )
    .await
}

/// PUT a role assignment for a service principal (`principalType` skips
/// the directory lookup that fails for a just-created identity). `true` when
/// Azure created it (201); `false` when it was there under this name (200:
/// ARM writes the same assignment again, as a redeployed template does).
pub async fn create_role_assignment(
    arm: &Arm,
    id: &str,
    role_definition_id: &str,
    principal_id: &str,
) -> Result<bool, AzureError> {
    let (status, _) = write_with_status(
        arm,
        Method::Put,
        &format!("{id}?api-version={ROLE_ASSIGNMENTS_API}"),
        &json!({"properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": principal_id,
            "principalType": "ServicePrincipal"
        }}),
        &format!("role assignment {id}"),
    )
    .await?;
    Ok(status == 201)
}

/// PATCH the account onto its customer-managed key: the identities it will
/// have (all it had, plus ours), `Microsoft.Keyvault`, the vault and key
/// without a version (so rotation is followed), and the encryption identity.
pub async fn switch_storage_to_key(
    arm: &Arm,
    account_id: &str,
    identity_type: &str,
    user_assigned: &[String],
    identity_id: &str,
    key_vault_uri: &str,
    key_name: &str,
) -> Result<Value, AzureError> {
    let identities: serde_json::Map<String, Value> = user_assigned
        .iter()
        .map(|id| (id.clone(), json!({})))
        .collect();
    write(
        arm,
        Method::Patch,
        &format!("{account_id}?api-version={STORAGE_API}"),
        &json!({
            "identity": {"type": identity_type, "userAssignedIdentities": identities},
            "properties": {"encryption": {
                "keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": key_vault_uri, "keyname": key_name},
                "identity": {"userAssignedIdentity": identity_id}
            }}
        }),
        &format!("storage account {account_id}"),
    )
    .await
}

/// PATCH the account back to Microsoft-managed keys (`keySource`
/// `Microsoft.Storage`) and clear the encryption identity, as azure-cli
/// sends it (recording `storage_patch_cmk_to_microsoft_storage_empty_uai_200`):
/// Azure drops `keyvaultproperties`. Identities are left as they are.
pub async fn switch_storage_to_microsoft_keys(
    arm: &Arm,
    account_id: &str,
) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Patch,
        &format!("{account_id}?api-version={STORAGE_API}"),
        &json!({"properties": {"encryption": {
            "keySource": "Microsoft.Storage",
            "identity": {"userAssignedIdentity": ""}
        }}}),
        &format!("storage account {account_id}"),
    )
    .await
}

/// PATCH user-assigned identities off the account, keeping every other one.
/// `identity_type` is the type the account has afterwards: while it still
/// includes `UserAssigned`, each removed identity is sent as `null` (ARM's
/// way to take one off); otherwise the type alone (`SystemAssigned` or
/// `None`) drops them (recording
/// `storage_patch_identity_systemassigned_drops_uai_still_referenced_200`).
pub async fn detach_user_assigned_identities(
    arm: &Arm,
    account_id: &str,
    identity_type: &str,
    remove: &[String],
) -> Result<Value, AzureError> {
    let identity = if identity_type.to_ascii_lowercase().contains("userassigned") {
        let removed: serde_json::Map<String, Value> =
            remove.iter().map(|id| (id.clone(), Value::Null)).collect();
        json!({"type": identity_type, "userAssignedIdentities": removed})
    } else {
        json!({"type": identity_type})
    };
    write(
        arm,
        Method::Patch,
        &format!("{account_id}?api-version={STORAGE_API}"),
        &json!({ "identity": identity }),
        &format!("storage account {account_id}"),
    )
    .await
}

/// Takes get/wrapKey/unwrapKey away from `object_id` in the vault's access
/// policies (`remove`; other permissions of the entry, and other entries, stay).
pub async fn remove_key_access_policy(
    arm: &Arm,
    vault_id: &str,
    tenant_id: &str,
    object_id: &str,
) -> Result<Value, AzureError> {
    write(
        arm,
        Method::Put,
        &format!("{vault_id}/accessPolicies/remove?api-version={VAULT_API}"),
        &json!({"properties": {"accessPolicies": [{
            "tenantId": tenant_id,
            "objectId": object_id,
            "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}
        }]}}),
        &format!("the access policies of key vault {vault_id}"),
    )
    .await
}

/// DELETE one role assignment (200 with it, or 204 when it was already gone).
pub async fn delete_role_assignment(arm: &Arm, id: &str) -> Result<(), AzureError> {
    arm.send(
        Method::Delete,
        &format!("{id}?api-version={ROLE_ASSIGNMENTS_API}"),
        None,
        &format!("role assignment {id}"),
    )
    .await
    .map(|_| ())
}
