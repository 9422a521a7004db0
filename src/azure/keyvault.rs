//! Key vaults and their keys (management plane), read with azure_mgmt_keyvault's
//! `package-preview-2022-02` models pinned to api-version 2023-07-01 (see
//! `Arm::keyvault`), reduced to what a customer-managed key depends on.

use super::generated::{enum_text as text, tags};
use super::id::ResourceId;
use super::{Arm, AzureError};
use azure_mgmt_keyvault::package_preview_2022_02::models;
use std::collections::BTreeMap;

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
    let resource = format!("key vault {id}");
    let vault = arm
        .keyvault()?
        .vaults_client()
        .get(&id.resource_group, id.name(), &id.subscription_id)
        .await
        .map_err(|e| AzureError::from_core(e, &resource, arm.endpoint().as_str()))?;
    Ok(vault_from_model(id, vault))
}

/// A vault as a write answered it (the same shape as a read's).
pub fn vault_from_json(id: &ResourceId, body: serde_json::Value) -> Result<KeyVault, AzureError> {
    let vault: models::Vault = from_json(body, &format!("key vault {id}"))?;
    Ok(vault_from_model(id, vault))
}

fn from_json<T: serde::de::DeserializeOwned>(
    body: serde_json::Value,
    resource: &str,
) -> Result<T, AzureError> {
    serde_json::from_value(body).map_err(|e| AzureError::Unexpected {
        resource: resource.to_string(),
        detail: format!("the answer does not read as one: {e}"),
    })
}

fn vault_from_model(id: &ResourceId, vault: models::Vault) -> KeyVault {
    let tags = tags(vault.tags.as_ref());
    let location = vault.location.clone().unwrap_or_default();
    let p = vault.properties;
    let acls = p.network_acls.as_ref();
    let restricted = acls
        .and_then(|a| a.default_action.as_ref())
        .is_some_and(|a| text(a).eq_ignore_ascii_case("Deny"))
        || p.public_network_access
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("Disabled"));
    let bypass = acls
        .and_then(|a| a.bypass.as_ref())
        .is_none_or(|b| text(b).eq_ignore_ascii_case("AzureServices"));
    KeyVault {
        id: id.clone(),
        tenant_id: p.tenant_id,
        vault_uri: p.vault_uri,
        soft_delete: p.enable_soft_delete.unwrap_or(true),
        purge_protection: p.enable_purge_protection.unwrap_or(false),
        rbac_authorization: p.enable_rbac_authorization.unwrap_or(false),
        network_restricted: restricted,
        bypass_azure_services: bypass,
        access_policies: p
            .access_policies
            .into_iter()
            .map(|a| AccessPolicy {
                tenant_id: a.tenant_id,
                object_id: a.object_id,
                key_permissions: a.permissions.keys,
            })
            .collect(),
        provisioned: p
            .provisioning_state
            .as_ref()
            .is_none_or(|s| text(s).eq_ignore_ascii_case("Succeeded")),
        location,
        tags,
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
            answer.reason.as_ref().map(text).unwrap_or_default(),
            answer.message.unwrap_or_default(),
        ]
        .join(": "),
    })
}

/// The DNS suffix of vaults in the cloud of this ARM endpoint.
pub fn vault_dns_suffix(arm_endpoint: &url::Url) -> &'static str {
    match arm_endpoint.host_str() {
        Some("management.usgovcloudapi.net") => "vault.usgovcloudapi.net",
        Some("management.chinacloudapi.cn") => "vault.azure.cn",
        _ => "vault.azure.net",
    }
}

/// The key's current version, or `version` when the account pins one.
pub async fn get_key(
    arm: &Arm,
    vault: &ResourceId,
    name: &str,
    version: Option<&str>,
) -> Result<VaultKey, AzureError> {
    let resource = format!("key {name} in key vault {vault}");
    let client = arm.keyvault()?.keys_client();
    let (rg, vault_name, sub) = (&vault.resource_group, vault.name(), &vault.subscription_id);
    let key = match version {
        // The generated keys client takes the subscription first (vaults' takes it last).
        Some(v) => client.get_version(sub, rg, vault_name, name, v).await,
        None => client.get(sub, rg, vault_name, name).await,
    }
    .map_err(|e| AzureError::from_core(e, &resource, arm.endpoint().as_str()))?;
    Ok(key_from_model(name, key))
}

/// A key as a write answered it (the same shape as a read's).
pub fn key_from_json(name: &str, body: serde_json::Value) -> Result<VaultKey, AzureError> {
    let key: models::Key = from_json(body, &format!("key {name}"))?;
    Ok(key_from_model(name, key))
}

fn key_from_model(name: &str, key: models::Key) -> VaultKey {
    let tags = tags(key.resource.tags.as_ref());
    let p = key.properties;
    let attributes = p.attributes.unwrap_or_default();
    VaultKey {
        name: name.to_string(),
        key_type: p.kty.as_ref().map(text).unwrap_or_default(),
        key_size: p.key_size,
        enabled: attributes.enabled.unwrap_or(true),
        not_before: attributes.nbf,
        expires: attributes.exp,
        tags,
    }
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
