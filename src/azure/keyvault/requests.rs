//! The writes the tool makes to Key Vault's control plane (api-version
//! [`API`](super::API)), each built once here: a vault with soft delete and
//! purge protection, purge protection turned on, a key, and a key access
//! policy added or taken away. Values such as the soft-delete retention are
//! written only here; the plan's diff reads them back from the request.

use crate::azure::request::{Method, Request};
use serde_json::json;
use std::collections::BTreeMap;

use super::API;

/// Days a deleted vault or key stays recoverable (the most Azure allows):
/// the longest window to undo a mistake.
pub const SOFT_DELETE_RETENTION_DAYS: u32 = 90;

/// The key permissions a storage account's identity needs on its key.
pub const KEY_PERMISSIONS: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

/// PUT a vault with soft delete and purge protection (Azure answers while
/// DNS is still registering: poll with `keyvault::get_vault` until provisioned).
pub fn create_vault(
    id: &str,
    location: &str,
    tenant_id: &str,
    rbac: bool,
    tags: &BTreeMap<String, String>,
) -> Request {
    Request::new(
        Method::Put,
        format!("{id}?api-version={API}"),
        Some(json!({
            "location": location,
            "tags": tags,
            "properties": {
                "tenantId": tenant_id,
                "sku": {"family": "A", "name": "standard"},
                "accessPolicies": [],
                "enableSoftDelete": true,
                "softDeleteRetentionInDays": SOFT_DELETE_RETENTION_DAYS,
                "enablePurgeProtection": true,
                "enableRbacAuthorization": rbac,
            }
        })),
        format!("key vault {id}"),
    )
}

/// PATCH a vault to soft delete and purge protection (cannot be undone).
pub fn enable_purge_protection(id: &str) -> Request {
    Request::new(
        Method::Patch,
        format!("{id}?api-version={API}"),
        Some(json!({"properties": {"enableSoftDelete": true, "enablePurgeProtection": true}})),
        format!("key vault {id}"),
    )
}

/// What a new key is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey<'a> {
    pub vault_id: &'a str,
    pub name: &'a str,
    pub key_size: u32,
    pub expiry_days: Option<u32>,
    pub rotation_days: Option<u32>,
    pub tags: &'a BTreeMap<String, String>,
}

/// PUT an RSA key for wrap/unwrap if it does not exist (Azure returns an
/// existing key unchanged). Its expiry, `expiry_days` after `now`, is an
/// absolute time: `now` is the moment apply sends it.
pub fn create_key(key: &NewKey, now: chrono::DateTime<chrono::Utc>) -> Request {
    let mut properties = json!({
        "kty": "RSA",
        "keySize": key.key_size,
        "keyOps": ["wrapKey", "unwrapKey"],
        "attributes": {"enabled": true},
    });
    if let Some(days) = key.expiry_days {
        let exp = now + chrono::Duration::days(i64::from(days));
        properties["attributes"]["exp"] = json!(exp.timestamp());
    }
    if let Some(days) = key.rotation_days {
        let mut policy = json!({
            "lifetimeActions": [{
                "trigger": {"timeAfterCreate": format!("P{days}D")},
                "action": {"type": "rotate"}
            }]
        });
        if let Some(expiry) = key.expiry_days {
            policy["attributes"] = json!({"expiryTime": format!("P{expiry}D")});
        }
        properties["rotationPolicy"] = policy;
    }
    let (vault_id, name) = (key.vault_id, key.name);
    Request::new(
        Method::Put,
        format!("{vault_id}/keys/{name}?api-version={API}"),
        Some(json!({"tags": key.tags, "properties": properties})),
        format!("key {name} in key vault {vault_id}"),
    )
}

/// Adds get/wrapKey/unwrapKey for `object_id` to the vault's access policies
/// (`add` merges with what is there; it never removes anything).
pub fn add_key_access_policy(vault_id: &str, tenant_id: &str, object_id: &str) -> Request {
    access_policy(vault_id, "add", tenant_id, object_id)
}

/// Takes get/wrapKey/unwrapKey away from `object_id` (`remove`; other
/// permissions of the entry, and other entries, stay).
pub fn remove_key_access_policy(vault_id: &str, tenant_id: &str, object_id: &str) -> Request {
    access_policy(vault_id, "remove", tenant_id, object_id)
}

fn access_policy(vault_id: &str, operation: &str, tenant_id: &str, object_id: &str) -> Request {
    Request::new(
        Method::Put,
        format!("{vault_id}/accessPolicies/{operation}?api-version={API}"),
        Some(json!({"properties": {"accessPolicies": [{
            "tenantId": tenant_id,
            "objectId": object_id,
            "permissions": {"keys": KEY_PERMISSIONS}
        }]}})),
        format!("the access policies of key vault {vault_id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_expires_relative_to_when_it_is_sent_and_rotates_before() {
        let tags = BTreeMap::new();
        let key = NewKey {
            vault_id: "/v",
            name: "k",
            key_size: 3072,
            expiry_days: Some(10),
            rotation_days: Some(7),
            tags: &tags,
        };
        let now = chrono::DateTime::from_timestamp(1_000_000, 0).expect("a time");
        let r = create_key(&key, now);
        assert_eq!(r.line(), format!("PUT /v/keys/k?api-version={API}"));
        assert_eq!(
            r.field("/properties/attributes/exp"),
            Some(&json!(1_000_000 + 10 * 86_400))
        );
        assert_eq!(
            r.field("/properties/rotationPolicy/attributes/expiryTime"),
            Some(&json!("P10D"))
        );
        assert_eq!(r.field("/properties/keySize"), Some(&json!(3072)));
    }
}
