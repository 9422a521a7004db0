//! The diff's attributes, derived from the request a change sends and the
//! state the plan observed: what a reviewer reads is what apply sends.
//! Build fills a change's `attributes` from here, and a saved plan whose
//! stored attributes disagree with its requests is refused ([`check`]).

use super::model::{
    AccountPlan, AttributeChange, Desired, Observed, ResourceChange, StorageSwitch,
    KNOWN_AFTER_APPLY,
};
use super::requests::Resolved;
use crate::azure::authorization::CRYPTO_SERVICE_ENCRYPTION_USER;
use crate::azure::keyvault::KeyVault;
use crate::azure::request::Request;
use crate::azure::storage::StorageAccount;
use serde_json::{json, Value};

/// What an attached identity that is not sent back shows in the diff.
pub const DROPPED_IDENTITY: &str = "(dropped: it no longer exists)";

/// The role a grant's role definition id names, in words.
const CRYPTO_SERVICE_ENCRYPTION_USER_NAME: &str = "Key Vault Crypto Service Encryption User";

/// The values an update changes from: the account's encryption and
/// identities, and the vault's recovery settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Before {
    pub identity_type: String,
    pub user_assigned: Vec<String>,
    pub key_source: String,
    pub key_vault_uri: Option<String>,
    pub key_name: Option<String>,
    pub key_version: Option<String>,
    pub encryption_identity: Option<String>,
    pub vault_soft_delete: bool,
    pub vault_purge_protection: bool,
}

impl Before {
    /// As read: the diff shows Azure's own casing.
    pub fn read(account: &StorageAccount, vault: Option<&KeyVault>) -> Self {
        Before {
            identity_type: account.identity_type.clone(),
            user_assigned: account.user_assigned.iter().map(|u| u.id.clone()).collect(),
            key_source: account.key_source.clone(),
            key_vault_uri: account.key_vault_uri.clone(),
            key_name: account.key_name.clone(),
            key_version: account.key_version.clone(),
            encryption_identity: account.encryption_identity.clone(),
            vault_soft_delete: vault.is_some_and(|v| v.soft_delete),
            vault_purge_protection: vault.is_some_and(|v| v.purge_protection),
        }
    }

    /// As a plan file recorded it (ids in lower case): compared with [`same`].
    pub fn recorded(observed: &Observed) -> Self {
        let a = &observed.account;
        Before {
            identity_type: a.identity_type.clone(),
            user_assigned: a.user_assigned_identities.clone(),
            key_source: a.key_source.clone(),
            key_vault_uri: a.key_vault_uri.clone(),
            key_name: a.key_name.clone(),
            key_version: a.key_version.clone(),
            encryption_identity: a.encryption_identity.clone(),
            vault_soft_delete: observed.vault.as_ref().is_some_and(|v| v.soft_delete),
            vault_purge_protection: observed.vault.as_ref().is_some_and(|v| v.purge_protection),
        }
    }
}

/// The attributes the diff shows for `desired`, read from its request.
pub fn attributes(desired: &Desired, before: &Before) -> Vec<AttributeChange> {
    let request = desired.request(Resolved::at_plan());
    let field = |pointer: &str| request.field(pointer).cloned().unwrap_or(Value::Null);
    match desired {
        Desired::Identity(_) => vec![
            created("name", json!(resource_name(&request))),
            created("location", field("/location")),
            created("principal_id", json!(KNOWN_AFTER_APPLY)),
            created("tags", field("/tags")),
        ],
        Desired::KeyVault(_) => vec![
            created("name", json!(resource_name(&request))),
            created("location", field("/location")),
            created("sku", field("/properties/sku/name")),
            created("enable_soft_delete", field("/properties/enableSoftDelete")),
            created(
                "soft_delete_retention_in_days",
                field("/properties/softDeleteRetentionInDays"),
            ),
            created(
                "enable_purge_protection",
                field("/properties/enablePurgeProtection"),
            ),
            created(
                "enable_rbac_authorization",
                field("/properties/enableRbacAuthorization"),
            ),
            created("tags", field("/tags")),
        ],
        Desired::EnablePurgeProtection(_) => {
            let mut attributes = Vec::new();
            let mut diff = |name: &str, before: bool, pointer: &str| {
                let after = field(pointer);
                if !after.is_null() && json!(before) != after {
                    attributes.push(updated(name, json!(before), after));
                }
            };
            diff(
                "enable_soft_delete",
                before.vault_soft_delete,
                "/properties/enableSoftDelete",
            );
            diff(
                "enable_purge_protection",
                before.vault_purge_protection,
                "/properties/enablePurgeProtection",
            );
            attributes
        }
        Desired::Key(_) => {
            let mut attributes = vec![
                created("name", json!(resource_name(&request))),
                created("kty", field("/properties/kty")),
                created("key_size", field("/properties/keySize")),
                created("key_ops", field("/properties/keyOps")),
            ];
            // Built at the epoch, `exp` is the key's lifetime in seconds.
            if let Some(exp) = request
                .field("/properties/attributes/exp")
                .and_then(Value::as_i64)
            {
                attributes.push(created("expires_in_days", json!(exp / 86_400)));
            }
            if let Some(days) = request
                .field("/properties/rotationPolicy/lifetimeActions/0/trigger/timeAfterCreate")
                .and_then(Value::as_str)
                .and_then(|p| p.strip_prefix('P')?.strip_suffix('D')?.parse::<u32>().ok())
            {
                attributes.push(created("rotate_after_days", json!(days)));
            }
            attributes
        }
        Desired::AccessPolicy(_) => vec![
            created("object_id", field("/properties/accessPolicies/0/objectId")),
            created(
                "key_permissions",
                field("/properties/accessPolicies/0/permissions/keys"),
            ),
        ],
        Desired::RoleAssignment(_) => {
            let path = request.path.split('?').next().unwrap_or_default();
            let scope = path
                .split("/providers/Microsoft.Authorization/")
                .next()
                .unwrap_or_default();
            let role = field("/properties/roleDefinitionId");
            let role = match role.as_str().map(|r| r.rsplit('/').next().unwrap_or(r)) {
                Some(CRYPTO_SERVICE_ENCRYPTION_USER) => json!(CRYPTO_SERVICE_ENCRYPTION_USER_NAME),
                _ => role,
            };
            vec![
                created("scope", json!(scope)),
                created("role", role),
                created("principal_id", field("/properties/principalId")),
                created("principal_type", field("/properties/principalType")),
                created("description", field("/properties/description")),
            ]
        }
        Desired::StorageEncryption(StorageSwitch {
            user_assigned_identities,
            dropped_identities,
            ..
        }) => {
            let mut attributes = Vec::new();
            let mut diff = |name: &str, before: Value, after: Value| {
                if !same(&before, &after) {
                    attributes.push(updated(name, before, after));
                }
            };
            diff(
                "identity.type",
                json!(before.identity_type),
                field("/identity/type"),
            );
            // In the order sent (the body's map is sorted by id).
            diff(
                "identity.user_assigned_identities",
                json!(before.user_assigned),
                json!(user_assigned_identities),
            );
            for id in dropped_identities {
                diff(
                    "identity.dropped_identity",
                    json!(id),
                    json!(DROPPED_IDENTITY),
                );
            }
            let encryption = "/properties/encryption";
            diff(
                "encryption.key_source",
                json!(before.key_source),
                field(&format!("{encryption}/keySource")),
            );
            diff(
                "encryption.key_vault_uri",
                json!(before.key_vault_uri),
                field(&format!("{encryption}/keyvaultproperties/keyvaulturi")),
            );
            diff(
                "encryption.key_name",
                json!(before.key_name),
                field(&format!("{encryption}/keyvaultproperties/keyname")),
            );
            // No version is sent: the account follows the key's rotation.
            diff(
                "encryption.key_version",
                json!(before.key_version),
                field(&format!("{encryption}/keyvaultproperties/keyversion")),
            );
            diff(
                "encryption.identity",
                json!(before.encryption_identity),
                field(&format!("{encryption}/identity/userAssignedIdentity")),
            );
            attributes
        }
    }
}

/// Where a saved account's diff disagrees with its requests: the change and
/// the attribute, in words. `None` when every attribute is what its request
/// sends. A plan file's checksum shows it is whole, not that the diff a
/// reviewer approved matches what apply would send.
pub fn check(account: &AccountPlan) -> Option<String> {
    let before = Before::recorded(&account.observed);
    account
        .changes
        .iter()
        .find_map(|change| disagreement(change, &before))
}

/// [`check`] over a whole plan: the first account whose diff disagrees with
/// its requests, named with where.
pub fn check_plan(plan: &super::model::Plan) -> Result<(), String> {
    match plan
        .accounts
        .iter()
        .find_map(|a| check(a).map(|why| format!("{}: {why}", a.storage_account_id)))
    {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

fn disagreement(change: &ResourceChange, before: &Before) -> Option<String> {
    let derived = attributes(&change.desired, before);
    let shown = &change.attributes;
    let or_null = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
    let what = format!("{} {}", change.address, change.id);
    for i in 0..derived.len().max(shown.len()) {
        match (derived.get(i), shown.get(i)) {
            (Some(d), Some(s))
                if d.name == s.name
                    && same(&d.after, &s.after)
                    && same(&or_null(d.before.as_ref()), &or_null(s.before.as_ref())) => {}
            (Some(d), Some(s)) => {
                return Some(format!(
                    "{what}: its request sends {} = {}, but the diff shows {} = {}",
                    d.name, d.after, s.name, s.after
                ))
            }
            (Some(d), None) => {
                return Some(format!(
                    "{what}: its request sends {} = {}, which the diff does not show",
                    d.name, d.after
                ))
            }
            (None, Some(s)) => {
                return Some(format!(
                    "{what}: the diff shows {} = {}, which its request does not send",
                    s.name, s.after
                ))
            }
            (None, None) => {}
        }
    }
    None
}

/// Equal as ARM compares: strings ignoring ASCII case, lists in any order.
pub fn same(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.to_ascii_lowercase()),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), canonical(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The last segment of the request's path, before the query.
fn resource_name(request: &Request) -> &str {
    let path = request.path.split('?').next().unwrap_or_default();
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

fn created(name: &str, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: None,
        after,
    }
}

fn updated(name: &str, before: Value, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: Some(before),
        after,
    }
}
