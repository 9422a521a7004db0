//! Access policies: parsing entries and Vaults_UpdateAccessPolicy
//! (`add` merges permissions, `replace` replaces the whole list, `remove`
//! takes the named permissions away).

use super::errors::{invalid_value, not_specified};
use super::model::{AccessPolicy, Vault, VAULT_TYPE};
use super::properties::{new_grant, replace_policies, GrantClock};
use super::vaults::{clock, require_vault};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::is_guid;
use crate::emulator::reply::Reply;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const KEY_PERMISSIONS: &[&str] = &[
    "all",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];
const SECRET_PERMISSIONS: &[&str] = &[
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];
const CERTIFICATE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];
const STORAGE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "set",
    "update",
    "regeneratekey",
    "recover",
    "purge",
    "backup",
    "restore",
    "setsas",
    "listsas",
    "getsas",
    "deletesas",
];

/// The permission names Key Vault accepts in one category (matched without case).
fn allowed(category: &str) -> Option<&'static [&'static str]> {
    match category {
        "keys" => Some(KEY_PERMISSIONS),
        "secrets" => Some(SECRET_PERMISSIONS),
        "certificates" => Some(CERTIFICATE_PERMISSIONS),
        "storage" => Some(STORAGE_PERMISSIONS),
        _ => None,
    }
}

/// Parses `accessPolicies`: every entry needs a GUID tenantId equal to the
/// vault's tenant, a GUID objectId and valid permissions. Effective times are
/// placeholders for the caller to set.
pub fn parse_policies(
    list: &Value,
    vault_tenant: &str,
    max: usize,
) -> Result<Vec<AccessPolicy>, ArmError> {
    let Some(items) = list.as_array() else {
        return Err(invalid_value("accessPolicies"));
    };
    if items.len() > max {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("The number of access policies exceeds the limit of {max}."),
        ));
    }
    let mut entries: Vec<AccessPolicy> = Vec::new();
    for item in items {
        let entry = parse_entry(item, vault_tenant)?;
        // Azure keeps one entry per object id.
        if entries
            .iter()
            .any(|e| e.object_id.eq_ignore_ascii_case(&entry.object_id))
        {
            return Err(invalid_value("accessPolicies"));
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn parse_entry(item: &Value, vault_tenant: &str) -> Result<AccessPolicy, ArmError> {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
    let tenant_id = text("tenantId").filter(|t| is_guid(t));
    let object_id = text("objectId").filter(|o| is_guid(o));
    let (Some(tenant_id), Some(object_id)) = (tenant_id, object_id) else {
        return Err(invalid_value("accessPolicies"));
    };
    if !tenant_id.eq_ignore_ascii_case(vault_tenant) {
        return Err(invalid_value("accessPolicies"));
    }
    let application_id = match item.get("applicationId") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if is_guid(a) => Some(a.clone()),
        Some(_) => return Err(invalid_value("accessPolicies")),
    };
    let Some(permissions) = item.get("permissions").and_then(Value::as_object) else {
        return Err(invalid_value("accessPolicies"));
    };
    Ok(AccessPolicy {
        tenant_id,
        object_id,
        application_id,
        permissions: parse_permissions(permissions)?,
    })
}

fn parse_permissions(
    permissions: &Map<String, Value>,
) -> Result<BTreeMap<String, Vec<super::model::Grant>>, ArmError> {
    let placeholder = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let mut out = BTreeMap::new();
    for (category, names) in permissions {
        let Some(allowed) = allowed(category) else {
            return Err(invalid_value("accessPolicies"));
        };
        if names.is_null() {
            continue;
        }
        let Some(names) = names.as_array() else {
            return Err(invalid_value("accessPolicies"));
        };
        let mut grants: Vec<super::model::Grant> = Vec::new();
        for name in names {
            let Some(name) = name
                .as_str()
                .filter(|n| allowed.iter().any(|a| a.eq_ignore_ascii_case(n)))
            else {
                return Err(invalid_value("accessPolicies"));
            };
            if !grants.iter().any(|g| g.name.eq_ignore_ascii_case(name)) {
                grants.push(super::model::Grant {
                    name: name.to_string(),
                    effective_at: placeholder,
                });
            }
        }
        out.insert(category.clone(), grants);
    }
    Ok(out)
}

/// An entry as ARM shows it: without the effective times.
pub fn policy_json(policy: &AccessPolicy) -> Value {
    let permissions: Map<String, Value> = policy
        .permissions
        .iter()
        .map(|(category, grants)| {
            let names: Vec<Value> = grants.iter().map(|g| json!(g.name)).collect();
            (category.clone(), Value::Array(names))
        })
        .collect();
    let mut entry = json!({
        "tenantId": policy.tenant_id,
        "objectId": policy.object_id,
        "permissions": permissions,
    });
    if let Some(app) = &policy.application_id {
        entry["applicationId"] = json!(app);
    }
    entry
}

/// `add`: new objects are appended; for known ones the permissions are merged
/// (the recording shows the union, existing permissions first).
fn add(vault: &mut Vault, entries: Vec<AccessPolicy>, clock: GrantClock) {
    for entry in entries {
        let existing = vault
            .access_policies
            .iter_mut()
            .find(|p| p.object_id.eq_ignore_ascii_case(&entry.object_id));
        match existing {
            Some(policy) => {
                for (category, grants) in entry.permissions {
                    let held = policy.permissions.entry(category).or_default();
                    for grant in grants {
                        if !held
                            .iter()
                            .any(|g| g.name.eq_ignore_ascii_case(&grant.name))
                        {
                            held.push(new_grant(&grant.name, clock));
                        }
                    }
                }
                if entry.application_id.is_some() {
                    policy.application_id = entry.application_id;
                }
            }
            None => {
                let fresh = replace_policies(&[], vec![entry], clock);
                vault.access_policies.extend(fresh);
            }
        }
    }
}

/// `remove`: the named permissions go; an entry left without any goes too.
fn remove(vault: &mut Vault, entries: Vec<AccessPolicy>) {
    for entry in entries {
        if let Some(policy) = vault
            .access_policies
            .iter_mut()
            .find(|p| p.object_id.eq_ignore_ascii_case(&entry.object_id))
        {
            for (category, grants) in entry.permissions {
                if let Some(held) = policy.permissions.get_mut(&category) {
                    held.retain(|h| !grants.iter().any(|g| g.name.eq_ignore_ascii_case(&h.name)));
                }
            }
        }
    }
    vault
        .access_policies
        .retain(|p| p.permissions.values().any(|g| !g.is_empty()));
}

/// PUT `.../vaults/{vaultName}/accessPolicies/{operationKind}`.
pub fn update_access_policy(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let kind = ctx.param("operationKind").to_string();
    if !["add", "replace", "remove"].contains(&kind.as_str()) {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("The operation kind '{kind}' is not valid. Valid values are 'add', 'replace' and 'remove'."),
        ));
    }
    let body = ctx.body()?.clone();
    let clock = clock(ctx);
    let vault = require_vault(ctx)?;
    let Some(list) = body
        .get("properties")
        .and_then(|p| p.get("accessPolicies"))
        .filter(|l| !l.is_null())
    else {
        return Err(not_specified("accessPolicies"));
    };
    let entries = parse_policies(list, &vault.tenant_id, 16)?;
    let mut next = vault.clone();
    match kind.as_str() {
        "add" => add(&mut next, entries, clock),
        "replace" => {
            next.access_policies = replace_policies(&vault.access_policies, entries, clock)
        }
        _ => remove(&mut next, entries),
    }
    if next.access_policies.len() > 1024 {
        return Err(ArmError::bad_request(
            "BadRequest",
            "The number of access policies exceeds the limit of 1024.",
        ));
    }
    next.modified_at = ctx.now;
    next.modified_by = ctx.caller.client_id.clone();
    let policies: Vec<Value> = next.access_policies.iter().map(policy_json).collect();
    let reply = json!({
        "id": format!("{}/accessPolicies/", next.id),
        "type": format!("{VAULT_TYPE}/accessPolicies"),
        "properties": {"accessPolicies": policies},
    });
    ctx.state
        .keyvault
        .vaults
        .insert(next.name.to_ascii_lowercase(), next);
    Ok(Reply::ok(reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
    const OBJECT: &str = "00000000-0000-0000-0000-0000000000bb";

    fn entries(keys: &[&str]) -> Vec<AccessPolicy> {
        let list = json!([{"tenantId": TENANT, "objectId": OBJECT, "permissions": {"keys": keys}}]);
        parse_policies(&list, TENANT, 16).unwrap()
    }

    fn at(secs: i64) -> GrantClock {
        GrantClock {
            now: Utc.timestamp_opt(secs, 0).single().unwrap(),
            propagation: Duration::seconds(10),
        }
    }

    fn effective(vault: &Vault, name: &str) -> i64 {
        vault.access_policies[0].permissions["keys"]
            .iter()
            .find(|g| g.name == name)
            .unwrap()
            .effective_at
            .timestamp()
    }

    fn vault() -> Vault {
        serde_json::from_value(json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            "subscriptionId": "s", "resourceGroup": "rg", "name": "kv", "location": "westeurope",
            "tags": {}, "tenantId": TENANT, "skuName": "standard", "accessPolicies": [],
            "enabledForDeployment": false, "enabledForDiskEncryption": null,
            "enabledForTemplateDeployment": null, "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": null, "enablePurgeProtection": true, "networkAcls": null,
            "publicNetworkAccess": "Enabled", "createdAt": "2026-01-01T00:00:00Z", "createdBy": "c",
            "modifiedAt": "2026-01-01T00:00:00Z", "modifiedBy": "c",
            "provisionedAt": "2026-01-01T00:00:00Z", "keys": {}, "deletedKeys": {}
        }))
        .unwrap()
    }

    #[test]
    fn each_new_permission_propagates_from_its_own_grant() {
        let mut v = vault();
        add(&mut v, entries(&["get"]), at(100));
        assert_eq!(effective(&v, "get"), 110);
        // A later add of more permissions leaves the earlier ones as they were.
        add(&mut v, entries(&["get", "wrapKey"]), at(200));
        assert_eq!(effective(&v, "get"), 110);
        assert_eq!(effective(&v, "wrapKey"), 210);
        // Replace keeps what the object already had, starts the clock for the rest.
        v.access_policies = replace_policies(
            &v.access_policies,
            entries(&["wrapKey", "unwrapKey"]),
            at(300),
        );
        assert_eq!(effective(&v, "wrapKey"), 210);
        assert_eq!(effective(&v, "unwrapKey"), 310);
        assert!(v.access_policies[0].permissions["keys"]
            .iter()
            .all(|g| g.name != "get"));
        remove(&mut v, entries(&["wrapKey", "unwrapKey"]));
        assert!(v.access_policies.is_empty());
    }

    #[test]
    fn entries_must_be_well_formed() {
        let bad = [
            json!([{"tenantId": TENANT, "objectId": "x", "permissions": {}}]),
            json!([{"tenantId": "00000000-0000-0000-0000-0000000000cc", "objectId": OBJECT, "permissions": {}}]),
            json!([{"tenantId": TENANT, "objectId": OBJECT}]),
            json!([{"tenantId": TENANT, "objectId": OBJECT, "permissions": {"keys": ["fly"]}}]),
            json!([{"tenantId": TENANT, "objectId": OBJECT, "permissions": {"vaults": ["get"]}}]),
            json!([{"tenantId": TENANT, "objectId": OBJECT, "permissions": {}},
                   {"tenantId": TENANT, "objectId": OBJECT, "permissions": {}}]),
        ];
        for list in bad {
            assert_eq!(
                parse_policies(&list, TENANT, 16).unwrap_err().code,
                "BadRequest",
                "{list}"
            );
        }
        let many: Vec<Value> = (0..17)
            .map(|i| json!({"tenantId": TENANT, "objectId": format!("00000000-0000-0000-0000-{i:012}"), "permissions": {}}))
            .collect();
        assert!(parse_policies(&Value::Array(many), TENANT, 16).is_err());
        // Permission names are accepted in any case (and echoed as sent).
        assert!(parse_policies(&json!([{"tenantId": TENANT, "objectId": OBJECT, "permissions": {"keys": ["WrapKey"]}}]), TENANT, 16).is_ok());
    }
}
