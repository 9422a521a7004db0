//! Key vaults and their keys (management plane, api-version 2023-07-01),
//! reduced to what a customer-managed key depends on. Answers are read
//! tolerantly (`answer.rs`): only what is judged, in any casing, so a rotation
//! policy answered `rotate` (Managed HSM's casing) or a property no spec lists
//! never makes a vault or key unreadable. Requests are azure_mgmt_keyvault's
//! (`package-preview-2022-02`, pinned to 2023-07-01 on the endpoint); its
//! models are used only for the name check, whose answer has no enum to trip on.

use super::answer::{enum_text, flag, number, tags, text, text_is, texts};
use super::id::ResourceId;
use super::{Arm, AzureError};
use azure_mgmt_keyvault::package_preview_2022_02::models;
use serde_json::Value;
use std::collections::BTreeMap;

pub mod requests;

/// The Key Vault control-plane api-version every read and write uses.
pub const API: &str = "2023-07-01";

#[derive(Debug, Clone, PartialEq)]
pub struct AccessPolicy {
    pub tenant_id: String,
    pub object_id: String,
    /// Key permissions as Azure returns them (any casing).
    pub key_permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyVault {
    pub id: ResourceId,
    pub tenant_id: String,
    pub vault_uri: Option<String>,
    /// Absent means on: soft delete is Azure's default and can no longer be turned off.
    pub soft_delete: bool,
    pub purge_protection: bool,
    /// Azure RBAC instead of access policies.
    pub rbac_authorization: bool,
    /// Firewall `defaultAction` is `Deny` or public network access is `Disabled`.
    pub network_restricted: bool,
    /// Firewall `bypass` is `AzureServices` (or no firewall rules at all).
    pub bypass_azure_services: bool,
    pub access_policies: Vec<AccessPolicy>,
    /// `provisioningState` is `Succeeded` (a new vault answers before its DNS is ready).
    pub provisioned: bool,
    pub location: String,
    pub tags: BTreeMap<String, String>,
}

impl KeyVault {
    /// Storage is a trusted service: it gets through only when trusted services may bypass.
    pub fn firewall_blocks_trusted_services(&self) -> bool {
        self.network_restricted && !self.bypass_azure_services
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VaultKey {
    pub name: String,
    /// `RSA`, `RSA-HSM`, `EC`, ...
    pub key_type: String,
    pub key_size: Option<i32>,
    pub enabled: bool,
    /// Not before / expires, Unix seconds.
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub tags: BTreeMap<String, String>,
}

pub async fn get_vault(arm: &Arm, id: &ResourceId) -> Result<KeyVault, AzureError> {
    let client = arm.keyvault()?;
    let sent = client
        .vaults_client()
        .get(&id.resource_group, id.name(), &id.subscription_id)
        .send()
        .await
        .map(|r| r.into_raw_response());
    let answer = arm
        .generated_answer(sent, &format!("key vault {id}"))
        .await?;
    vault_from_json(id, answer)
}

/// A vault as a read or a write answered it. Only an answer that is not a
/// JSON object fails: everything judged has a safe reading when absent.
pub fn vault_from_json(id: &ResourceId, answer: Value) -> Result<KeyVault, AzureError> {
    if !answer.is_object() {
        return Err(not_one(&format!("key vault {id}")));
    }
    let p = |field: &str| format!("/properties/{field}");
    let restricted = text_is(&answer, &p("networkAcls/defaultAction"), "Deny")
        || text_is(&answer, &p("publicNetworkAccess"), "Disabled");
    // `bypass` is `AzureServices` or `None`; absent means Azure's default, AzureServices.
    let bypass = text(&answer, &p("networkAcls/bypass")).is_none_or(|b| {
        b.split(',')
            .any(|part| part.trim().eq_ignore_ascii_case("AzureServices"))
    });
    let access_policies = answer
        .pointer(&p("accessPolicies"))
        .and_then(Value::as_array)
        .map(|policies| {
            policies
                .iter()
                .map(|a| AccessPolicy {
                    tenant_id: text(a, "/tenantId").unwrap_or_default(),
                    object_id: text(a, "/objectId").unwrap_or_default(),
                    key_permissions: texts(a, "/permissions/keys"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(KeyVault {
        id: id.clone(),
        tenant_id: text(&answer, &p("tenantId")).unwrap_or_default(),
        vault_uri: text(&answer, &p("vaultUri")),
        soft_delete: flag(&answer, &p("enableSoftDelete")).unwrap_or(true),
        purge_protection: flag(&answer, &p("enablePurgeProtection")).unwrap_or(false),
        rbac_authorization: flag(&answer, &p("enableRbacAuthorization")).unwrap_or(false),
        network_restricted: restricted,
        bypass_azure_services: bypass,
        access_policies,
        // Absent counts as done; any other state than Succeeded (RegisteringDns,
        // or one no spec lists yet) as not ready.
        provisioned: text(&answer, &p("provisioningState"))
            .is_none_or(|s| s.eq_ignore_ascii_case("Succeeded")),
        location: text(&answer, "/location").unwrap_or_default(),
        tags: tags(answer.get("tags")),
    })
}

fn not_one(resource: &str) -> AzureError {
    AzureError::Unexpected {
        resource: resource.to_string(),
        detail: "the answer does not read as one: it is not a JSON object".to_string(),
    }
}

/// Whether a vault name is free (vault names are global, soft-deleted ones included).
#[derive(Debug, Clone, PartialEq)]
pub struct NameAvailability {
    pub available: bool,
    /// Azure's reason and message when it is not.
    pub reason: String,
}

pub async fn check_name(
    arm: &Arm,
    subscription_id: &str,
    name: &str,
) -> Result<NameAvailability, AzureError> {
    let resource = format!("the key vault name '{name}'");
    let answer = arm
        .keyvault()?
        .vaults_client()
        .check_name_availability(
            models::VaultCheckNameAvailabilityParameters::new(
                name.to_string(),
                models::vault_check_name_availability_parameters::Type::MicrosoftKeyVaultVaults,
            ),
            subscription_id,
        )
        .await
        .map_err(|e| AzureError::from_core(e, &resource, arm.endpoint().as_str()))?;
    Ok(NameAvailability {
        available: answer.name_available.unwrap_or(false),
        reason: [
            answer.reason.as_ref().map(enum_text).unwrap_or_default(),
            answer.message.unwrap_or_default(),
        ]
        .join(": "),
    })
}

/// The key's current version, or `version` when the account pins one.
pub async fn get_key(
    arm: &Arm,
    vault: &ResourceId,
    name: &str,
    version: Option<&str>,
) -> Result<VaultKey, AzureError> {
    let client = arm.keyvault()?.keys_client();
    let (sub, group, vault_name) = (&vault.subscription_id, &vault.resource_group, vault.name());
    let sent = match version {
        Some(v) => client
            .get_version(sub, group, vault_name, name, v)
            .send()
            .await
            .map(|r| r.into_raw_response()),
        None => client
            .get(sub, group, vault_name, name)
            .send()
            .await
            .map(|r| r.into_raw_response()),
    };
    let answer = arm
        .generated_answer(sent, &format!("key {name} in key vault {vault}"))
        .await?;
    key_from_json(name, answer)
}

/// A key as a read or a write answered it. Its rotation policy is not judged
/// and not read: Key Vault answers `Rotate`/`Notify`, Managed HSM
/// `rotate`/`notify`, and the generated model knows only the first.
pub fn key_from_json(name: &str, answer: Value) -> Result<VaultKey, AzureError> {
    if !answer.is_object() {
        return Err(not_one(&format!("key {name}")));
    }
    Ok(VaultKey {
        name: name.to_string(),
        key_type: text(&answer, "/properties/kty").unwrap_or_default(),
        key_size: number(&answer, "/properties/keySize").and_then(|n| i32::try_from(n).ok()),
        enabled: flag(&answer, "/properties/attributes/enabled").unwrap_or(true),
        not_before: number(&answer, "/properties/attributes/nbf"),
        expires: number(&answer, "/properties/attributes/exp"),
        tags: tags(answer.get("tags")),
    })
}

/// The vault's name from a `keyvaulturi` such as `https://kv1.vault.azure.net/`
/// (any cloud's suffix). `None` when the text is not such a URI.
pub fn vault_name_from_uri(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    if url.scheme() != "https" {
        return None;
    }
    let host = url.host_str()?;
    let (name, rest) = host.split_once('.')?;
    let valid = (3..=24).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (valid && rest.starts_with("vault.")).then(|| name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vault_id() -> ResourceId {
        ResourceId::parse("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1").unwrap()
    }

    #[test]
    fn keys_read_whatever_casing_the_rotation_policy_comes_in() {
        for (trigger, action) in [
            ("Rotate", "Notify"),
            ("rotate", "notify"),
            ("ROTATE", "Page"),
        ] {
            let key = key_from_json(
                "cmk",
                json!({"name": "cmk", "tags": {"managed-by": "actlog-cmk"},
                    "properties": {"kty": "RSA", "keySize": 3072, "keyOps": ["wrapKey", "unwrapKey"],
                        "attributes": {"enabled": true, "exp": 1_900_000_000, "exportable": false, "recoveryLevel": "Recoverable+Purgeable+SomethingNew"},
                        "rotationPolicy": {"attributes": {"expiryTime": "P1Y"}, "lifetimeActions": [
                            {"trigger": {"timeAfterCreate": "P30D"}, "action": {"type": trigger}},
                            {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": action}}]},
                        "curveName": "P-999", "release_policy": {}}}),
            )
            .unwrap();
            assert_eq!(key.key_type, "RSA");
            assert_eq!(key.key_size, Some(3072));
            assert!(key.enabled);
            assert_eq!(key.expires, Some(1_900_000_000));
            assert_eq!(key.tags["managed-by"], "actlog-cmk");
        }
        assert!(key_from_json("cmk", json!("not a key")).is_err());
    }

    #[test]
    fn vaults_read_with_values_no_spec_lists() {
        let vault = vault_from_json(
            &vault_id(),
            json!({"location": "westeurope", "properties": {"tenantId": "t", "vaultUri": "https://kv1.vault.azure.net/",
                "sku": {"family": "B", "name": "ultra"}, "enablePurgeProtection": true,
                "enableRbacAuthorization": false, "provisioningState": "Migrating",
                "networkAcls": {"defaultAction": "deny", "bypass": "azureservices", "ipRules": [{"value": "1.2.3.4", "action": "Maybe"}]},
                "publicNetworkAccess": "SecuredByPerimeter", "createMode": "somethingelse",
                "accessPolicies": [{"tenantId": "t", "objectId": "o", "permissions": {"keys": ["Get", "WrapKey", "unwrapkey", "newPermission"]}}]}}),
        )
        .unwrap();
        assert!(vault.purge_protection && vault.soft_delete);
        assert!(vault.network_restricted && vault.bypass_azure_services);
        assert!(!vault.firewall_blocks_trusted_services());
        assert!(
            !vault.provisioned,
            "a state other than Succeeded is not ready"
        );
        assert_eq!(vault.access_policies[0].key_permissions.len(), 4);
        assert_eq!(vault.location, "westeurope");
        let shut = vault_from_json(&vault_id(), json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}, "provisioningState": "Succeeded"}})).unwrap();
        assert!(shut.firewall_blocks_trusted_services() && shut.provisioned);
    }

    #[test]
    fn vault_names_come_from_the_uri_of_any_cloud() {
        assert_eq!(
            vault_name_from_uri("https://kv-Central.vault.azure.net/").as_deref(),
            Some("kv-central")
        );
        assert_eq!(
            vault_name_from_uri("https://kv1.vault.usgovcloudapi.net").as_deref(),
            Some("kv1")
        );
        assert_eq!(
            vault_name_from_uri("https://kv1.vault.azure.cn:443/").as_deref(),
            Some("kv1")
        );
        assert_eq!(vault_name_from_uri("http://kv1.vault.azure.net/"), None);
        assert_eq!(
            vault_name_from_uri("https://kv1.blob.core.windows.net/"),
            None
        );
        assert_eq!(vault_name_from_uri("https://k.vault.azure.net/"), None);
        assert_eq!(vault_name_from_uri("not a uri"), None);
    }
}
