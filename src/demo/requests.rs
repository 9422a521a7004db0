//! The ARM requests that build an estate in the emulator, the way a user's
//! own tooling would: one function per resource, giving its id and the exact
//! request (method, path with api-version, body). The demo's seeder, the
//! integration tests' estate builder (tests/it/support/estate.rs) and the
//! scale bench's template estate all send these, each through its own client
//! (the demo reports errors, the tests assert, the bench times), so an
//! estate's shape is written once.

use reqwest::Method;
use serde_json::{json, Value};

pub const RESOURCE_GROUP_API: &str = "api-version=2024-03-01";
pub const STORAGE_API: &str = "api-version=2023-05-01";
pub const VAULT_API: &str = "api-version=2023-07-01";
pub const MSI_API: &str = "api-version=2023-01-31";
pub const ROLE_API: &str = "api-version=2022-04-01";
pub const DIAGNOSTIC_API: &str = "api-version=2021-05-01-preview";
pub const LOG_PROFILE_API: &str = "api-version=2016-03-01";
pub const MANAGEMENT_GROUP_API: &str = "api-version=2023-04-01";
pub const MANAGEMENT_GROUP_DIAGNOSTIC_API: &str = "api-version=2020-01-01-preview";

/// Key Vault Crypto Service Encryption User.
pub const CRYPTO_SERVICE_ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

/// The key permissions Azure Storage needs on an access-policy vault.
pub const STORAGE_KEY_PERMISSIONS: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

/// One ARM call: `path` is relative to the endpoint and carries the api-version.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

fn put(path: String, body: Value) -> Request {
    Request {
        method: Method::PUT,
        path,
        body: Some(body),
    }
}

pub fn resource_group_id(subscription: &str, group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}")
}

pub fn storage_account_id(subscription: &str, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Storage/storageAccounts/{name}",
        resource_group_id(subscription, group)
    )
}

pub fn identity_id(subscription: &str, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        resource_group_id(subscription, group)
    )
}

pub fn vault_id(subscription: &str, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.KeyVault/vaults/{name}",
        resource_group_id(subscription, group)
    )
}

pub fn resource_group(subscription: &str, group: &str, location: &str) -> Request {
    put(
        format!(
            "{}?{RESOURCE_GROUP_API}",
            resource_group_id(subscription, group)
        ),
        json!({"location": location}),
    )
}

/// A StorageV2 account on Microsoft-managed keys (ARM answers 202 and
/// provisions it); `tags`, when given, are set on it.
pub fn storage_account(account_id: &str, location: &str, tags: Option<Value>) -> Request {
    let mut body =
        json!({"location": location, "kind": "StorageV2", "sku": {"name": "Standard_LRS"}});
    if let Some(tags) = tags {
        body["tags"] = tags;
    }
    put(format!("{account_id}?{STORAGE_API}"), body)
}

/// A user-assigned identity; ARM's answer carries its `principalId`.
pub fn identity(identity_id: &str, location: &str) -> Request {
    put(
        format!("{identity_id}?{MSI_API}"),
        json!({"location": location}),
    )
}

/// A standard vault with soft delete and purge protection (what Azure
/// Storage requires of a CMK vault); `extra` adds or overrides properties,
/// e.g. `{"enableRbacAuthorization": true}`.
pub fn vault(vault_id: &str, location: &str, tenant_id: &str, extra: &Value) -> Request {
    let mut properties = json!({
        "tenantId": tenant_id,
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "enableSoftDelete": true,
        "enablePurgeProtection": true,
    });
    for (name, value) in extra.as_object().into_iter().flatten() {
        properties[name] = value.clone();
    }
    put(
        format!("{vault_id}?{VAULT_API}"),
        json!({"location": location, "properties": properties}),
    )
}

/// A key through the management plane, e.g. `{"kty": "RSA", "keySize": 3072}`.
pub fn key(vault_id: &str, name: &str, properties: Value) -> Request {
    put(
        format!("{vault_id}/keys/{name}?{VAULT_API}"),
        json!({"properties": properties}),
    )
}

/// Adds an access policy giving `principal` these key permissions.
pub fn access_policy(vault_id: &str, tenant_id: &str, principal: &str, keys: &[&str]) -> Request {
    put(
        format!("{vault_id}/accessPolicies/add?{VAULT_API}"),
        json!({"properties": {"accessPolicies": [{
            "tenantId": tenant_id, "objectId": principal,
            "permissions": {"keys": keys}}]}}),
    )
}

/// A role assignment at `scope` with a fresh id: (its id, the request).
/// `role_definition_id` is the full id (tenant- or subscription-scoped).
pub fn role_assignment(
    scope: &str,
    principal: &str,
    role_definition_id: &str,
) -> (String, Request) {
    let id = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let request = put(
        format!("{id}?{ROLE_API}"),
        json!({"properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": principal, "principalType": "ServicePrincipal"}}),
    );
    (id, request)
}

/// Assigns `identity_id` to the account and switches it to the key of the
/// public cloud's vault `vault_name`, spelling the key source `key_source`
/// (Azure accepts any casing).
pub fn switch_to_cmk(
    account_id: &str,
    vault_name: &str,
    key: &str,
    identity_id: &str,
    key_source: &str,
) -> Request {
    let vault_uri = format!("https://{vault_name}.vault.azure.net/");
    switch_to_key_at(account_id, &vault_uri, key, identity_id, key_source)
}

/// [`switch_to_cmk`] for the vault at `vault_uri` (another cloud's suffix).
pub fn switch_to_key_at(
    account_id: &str,
    vault_uri: &str,
    key: &str,
    identity_id: &str,
    key_source: &str,
) -> Request {
    Request {
        method: Method::PATCH,
        path: format!("{account_id}?{STORAGE_API}"),
        body: Some(json!({
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
            "properties": {"encryption": {"keySource": key_source,
                "keyvaultproperties": {"keyvaulturi": vault_uri, "keyname": key},
                "identity": {"userAssignedIdentity": identity_id}}}})),
    }
}

/// A subscription diagnostic setting sending these activity-log categories
/// (each `enabled` or not) to `storage_id`.
pub fn diagnostic_setting(
    subscription: &str,
    name: &str,
    storage_id: &str,
    categories: &[&str],
    enabled: bool,
) -> Request {
    let logs: Vec<Value> = categories
        .iter()
        .map(|c| json!({"category": c, "enabled": enabled}))
        .collect();
    put(
        format!("/subscriptions/{subscription}/providers/Microsoft.Insights/diagnosticSettings/{name}?{DIAGNOSTIC_API}"),
        json!({"properties": {"storageAccountId": storage_id, "logs": logs}}),
    )
}

/// A legacy log profile exporting writes, deletes and actions in these
/// locations to `storage_id`, kept `retention_days` (0: retention off).
pub fn log_profile(
    subscription: &str,
    name: &str,
    storage_id: &str,
    locations: &[&str],
    retention_days: u32,
) -> Request {
    put(
        format!("/subscriptions/{subscription}/providers/Microsoft.Insights/logprofiles/{name}?{LOG_PROFILE_API}"),
        json!({"location": "westeurope", "properties": {
            "storageAccountId": storage_id,
            "locations": locations,
            "categories": ["Write", "Delete", "Action"],
            "retentionPolicy": {"enabled": retention_days > 0, "days": retention_days}}}),
    )
}

pub fn management_group_id(group: &str) -> String {
    format!("/providers/Microsoft.Management/managementGroups/{group}")
}

/// A management group under `parent` (the tenant root group when `None`,
/// which ARM creates with the first group).
pub fn management_group(group: &str, display_name: &str, parent: Option<&str>) -> Request {
    let mut properties = json!({"displayName": display_name});
    if let Some(parent) = parent {
        properties["details"] = json!({"parent": {"id": management_group_id(parent)}});
    }
    put(
        format!("{}?{MANAGEMENT_GROUP_API}", management_group_id(group)),
        json!({"properties": properties}),
    )
}

/// Moves `subscription` under `group` (a PUT without a body, as the spec has it).
pub fn management_group_subscription(group: &str, subscription: &str) -> Request {
    Request {
        method: Method::PUT,
        path: format!(
            "{}/subscriptions/{subscription}?{MANAGEMENT_GROUP_API}",
            management_group_id(group)
        ),
        body: None,
    }
}

/// A management group's diagnostic setting sending these activity-log
/// categories (`Administrative`, `Policy`; each `enabled` or not) to `storage_id`.
pub fn management_group_diagnostic_setting(
    group: &str,
    name: &str,
    storage_id: &str,
    categories: &[&str],
    enabled: bool,
) -> Request {
    let logs: Vec<Value> = categories
        .iter()
        .map(|c| json!({"category": c, "enabled": enabled}))
        .collect();
    put(
        format!(
            "{}/providers/Microsoft.Insights/diagnosticSettings/{name}?{MANAGEMENT_GROUP_DIAGNOSTIC_API}",
            management_group_id(group)
        ),
        json!({"properties": {"storageAccountId": storage_id, "logs": logs}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_keeps_purge_protection_unless_told_otherwise_and_takes_extras() {
        let id = vault_id("s", "rg", "kv1");
        let plain = vault(&id, "westeurope", "t", &Value::Null);
        let props = &plain.body.as_ref().unwrap()["properties"];
        assert_eq!(props["enablePurgeProtection"], true);
        assert!(props.get("enableRbacAuthorization").is_none());
        let rbac = vault(
            &id,
            "westeurope",
            "t",
            &json!({"enableRbacAuthorization": true}),
        );
        assert_eq!(
            rbac.body.unwrap()["properties"]["enableRbacAuthorization"],
            true
        );
        assert_eq!(
            plain.path,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1?api-version=2023-07-01"
        );
    }

    #[test]
    fn tags_and_retention_appear_only_when_asked_for() {
        let id = storage_account_id("s", "rg", "st1");
        assert!(storage_account(&id, "westeurope", None)
            .body
            .unwrap()
            .get("tags")
            .is_none());
        let tagged = storage_account(&id, "westeurope", Some(json!({"env": "prod"})));
        assert_eq!(tagged.body.unwrap()["tags"]["env"], "prod");
        let off = log_profile("s", "default", &id, &["global"], 0)
            .body
            .unwrap();
        assert_eq!(
            off["properties"]["retentionPolicy"],
            json!({"enabled": false, "days": 0})
        );
        let kept = log_profile("s", "default", &id, &["global"], 365)
            .body
            .unwrap();
        assert_eq!(
            kept["properties"]["retentionPolicy"],
            json!({"enabled": true, "days": 365})
        );
    }
}
