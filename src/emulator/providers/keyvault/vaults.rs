//! Vault handlers: create or update, get, patch, delete (soft delete),
//! name availability, deleted vaults and purge.

use super::errors::{
    deleted_not_found, invalid_value, not_specified, vault_already_exists, vault_name_not_valid,
    vault_not_found,
};
use super::model::{valid_vault_name, DeletedVault, PurgeOperation, Vault, VAULT_TYPE};
use super::policies::policy_json;
use super::properties::{apply, GrantClock, Mode};
use crate::emulator::context::{format_timestamp, Ctx};
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{required_location, resource_id, tags};
use crate::emulator::reply::Reply;
use chrono::{DateTime, Duration, Utc};
use hyper::StatusCode;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub fn clock(ctx: &Ctx) -> GrantClock {
    GrantClock {
        now: ctx.now,
        propagation: Duration::milliseconds(
            i64::try_from(ctx.settings.grant_propagation_ms).unwrap_or(i64::MAX / 2),
        ),
    }
}

/// The live vault the route names, or ARM's 404.
pub fn require_vault<'a>(ctx: &'a Ctx) -> Result<&'a Vault, ArmError> {
    ctx.state
        .keyvault
        .vault(
            ctx.param("subscriptionId"),
            ctx.param("resourceGroupName"),
            ctx.param("vaultName"),
        )
        .ok_or_else(|| vault_not_found(ctx))
}

fn system_data(vault: &Vault) -> Value {
    json!({
        "createdBy": vault.created_by,
        "createdByType": "Application",
        "createdAt": format_timestamp(vault.created_at),
        "lastModifiedBy": vault.modified_by,
        "lastModifiedByType": "Application",
        "lastModifiedAt": format_timestamp(vault.modified_at),
    })
}

/// The vault as ARM returns it (spec `Vault`; optional flags only when set).
pub fn vault_json(vault: &Vault, now: DateTime<Utc>) -> Value {
    let policies: Vec<Value> = vault.access_policies.iter().map(policy_json).collect();
    let mut props = json!({
        "sku": {"family": "A", "name": vault.sku_name},
        "tenantId": vault.tenant_id,
        "accessPolicies": policies,
        "enabledForDeployment": vault.enabled_for_deployment,
        "enableSoftDelete": vault.enable_soft_delete,
        "softDeleteRetentionInDays": vault.soft_delete_retention_in_days,
        "vaultUri": vault.vault_uri(now),
        "provisioningState": vault.provisioning_state(now),
        "publicNetworkAccess": vault.public_network_access,
    });
    let optional = [
        (
            "enabledForDiskEncryption",
            vault.enabled_for_disk_encryption,
        ),
        (
            "enabledForTemplateDeployment",
            vault.enabled_for_template_deployment,
        ),
        ("enableRbacAuthorization", vault.enable_rbac_authorization),
        (
            "enablePurgeProtection",
            vault.enable_purge_protection.then_some(true),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            props[name] = json!(value);
        }
    }
    if let Some(acls) = &vault.network_acls {
        props["networkAcls"] = serde_json::to_value(acls).unwrap_or_default();
    }
    json!({
        "id": vault.id,
        "name": vault.name,
        "type": VAULT_TYPE,
        "location": vault.location,
        "tags": vault.tags,
        "systemData": system_data(vault),
        "properties": props,
    })
}

fn new_vault(ctx: &Ctx, location: String) -> Vault {
    let subscription = ctx.param("subscriptionId").to_string();
    let group = ctx.param("resourceGroupName").to_string();
    let name = ctx.param("vaultName").to_string();
    let provisioning = Duration::milliseconds(
        i64::try_from(ctx.settings.vault_provisioning_ms).unwrap_or(i64::MAX / 2),
    );
    Vault {
        id: resource_id(&subscription, &group, VAULT_TYPE, &name),
        subscription_id: subscription,
        resource_group: group,
        name,
        dns_suffix: ctx.state.cloud.key_vault_dns().to_string(),
        location,
        tags: Map::new(),
        tenant_id: String::new(),
        sku_name: String::new(),
        access_policies: Vec::new(),
        enabled_for_deployment: false,
        enabled_for_disk_encryption: None,
        enabled_for_template_deployment: None,
        soft_delete_retention_in_days: 90,
        enable_soft_delete: true,
        enable_rbac_authorization: None,
        enable_purge_protection: false,
        network_acls: None,
        public_network_access: "Enabled".into(),
        created_at: ctx.now,
        created_by: ctx.caller.client_id.clone(),
        modified_at: ctx.now,
        modified_by: ctx.caller.client_id.clone(),
        provisioned_at: ctx.now + provisioning,
        indexed_at: Some(ctx.settings.indexed_at(ctx.now)),
        keys: BTreeMap::new(),
        deleted_keys: BTreeMap::new(),
    }
}

fn properties_of(body: &Map<String, Value>) -> Result<Map<String, Value>, ArmError> {
    match body.get("properties") {
        Some(Value::Object(p)) => Ok(p.clone()),
        None | Some(Value::Null) => Err(not_specified("properties")),
        Some(_) => Err(ArmError::invalid_request_content(
            "properties must be an object",
        )),
    }
}

/// PUT: creates (200 + `RegisteringDns`, as recorded) or replaces a vault.
pub fn create_or_update(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("vaultName").to_string();
    if !valid_vault_name(&name) {
        return Err(vault_name_not_valid(&name));
    }
    let body = ctx.body()?.clone();
    let location = required_location(&body, VAULT_TYPE)?;
    let new_tags = tags(&body)?;
    let props = properties_of(&body)?;
    if props
        .get("createMode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("recover"))
    {
        return recover(ctx, &location);
    }
    let model = &ctx.state.keyvault;
    let existing = model
        .vault(
            ctx.param("subscriptionId"),
            ctx.param("resourceGroupName"),
            &name,
        )
        .cloned();
    if existing.is_none() && model.name_taken(&name) {
        return Err(vault_already_exists(&name));
    }
    let (mut vault, mode) = match existing {
        Some(v) if v.location != location => {
            return Err(ArmError::conflict(
                "InvalidResourceLocation",
                format!("The resource '{name}' already exists in location '{}' in resource group '{}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.", v.location, v.resource_group),
            ))
        }
        Some(v) => (v, Mode::Replace),
        None => (new_vault(ctx, location), Mode::Create),
    };
    let tenant = ctx.state.tenant_id.clone();
    apply(&mut vault, &props, mode, &tenant, clock(ctx))?;
    if let Some(t) = new_tags {
        vault.tags = t;
    }
    vault.modified_at = ctx.now;
    vault.modified_by = ctx.caller.client_id.clone();
    // A create always answers `RegisteringDns` (recorded), however short the delay.
    let as_of = match mode {
        Mode::Create => vault
            .created_at
            .min(vault.provisioned_at - Duration::nanoseconds(1)),
        _ => ctx.now,
    };
    let reply = vault_json(&vault, as_of);
    ctx.state
        .keyvault
        .vaults
        .insert(vault.name.to_ascii_lowercase(), vault);
    Ok(Reply::ok(reply))
}

/// `createMode: recover` brings a soft-deleted vault back where it was.
fn recover(ctx: &mut Ctx, location: &str) -> Result<Reply, ArmError> {
    let key = ctx.param("vaultName").to_ascii_lowercase();
    let deleted = ctx.state.keyvault.deleted.get(&key).filter(|d| {
        d.vault
            .is_at(ctx.param("subscriptionId"), ctx.param("resourceGroupName"))
            && d.vault.location == location
    });
    let Some(deleted) = deleted.cloned() else {
        return Err(ArmError::not_found(
            "DeletedVaultNotFound",
            format!(
                "A deleted vault named '{}' was not found in location '{location}' to recover.",
                ctx.param("vaultName")
            ),
        ));
    };
    let mut vault = deleted.vault;
    // Back in ARM's index only after the index has caught up, like a create.
    vault.indexed_at = Some(ctx.settings.indexed_at(ctx.now));
    vault.modified_at = ctx.now;
    vault.modified_by = ctx.caller.client_id.clone();
    let reply = vault_json(&vault, ctx.now);
    ctx.state.keyvault.deleted.remove(&key);
    ctx.state.keyvault.vaults.insert(key, vault);
    Ok(Reply::ok(reply))
}

pub fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let vault = require_vault(ctx)?;
    Ok(Reply::ok(vault_json(vault, ctx.now)))
}

/// PATCH: every property optional, synchronous 200 (an empty body is accepted).
pub fn update(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let body = ctx.body()?.clone();
    let mut vault = require_vault(ctx)?.clone();
    let new_tags = tags(&body)?;
    let props = match body.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Err(ArmError::invalid_request_content(
                "properties must be an object",
            ))
        }
    };
    let tenant = ctx.state.tenant_id.clone();
    apply(&mut vault, &props, Mode::Patch, &tenant, clock(ctx))?;
    if let Some(t) = new_tags {
        vault.tags = t;
    }
    vault.modified_at = ctx.now;
    vault.modified_by = ctx.caller.client_id.clone();
    let reply = vault_json(&vault, ctx.now);
    ctx.state
        .keyvault
        .vaults
        .insert(vault.name.to_ascii_lowercase(), vault);
    Ok(Reply::ok(reply))
}

/// DELETE: the vault (with its keys) goes to the soft-deleted state; 200 with
/// no body as recorded, 204 when there was nothing to delete.
pub fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let Ok(vault) = require_vault(ctx) else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let vault = vault.clone();
    let key = vault.name.to_ascii_lowercase();
    let retention = Duration::days(vault.soft_delete_retention_in_days);
    ctx.state.keyvault.vaults.remove(&key);
    ctx.state.keyvault.deleted.insert(
        key,
        DeletedVault {
            vault,
            deletion_date: ctx.now,
            scheduled_purge_date: ctx.now + retention,
        },
    );
    Ok(Reply::empty(StatusCode::OK))
}

/// POST checkNameAvailability: live and soft-deleted names are taken.
pub fn check_name_availability(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let body = ctx.body()?;
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return Err(not_specified("name"));
    };
    if body.get("type").and_then(Value::as_str) != Some(VAULT_TYPE) {
        return Err(invalid_value("type"));
    }
    let answer = if !valid_vault_name(name) {
        json!({
            "nameAvailable": false,
            "reason": "AccountNameInvalid",
            "message": vault_name_not_valid(name).message,
        })
    } else if ctx.state.keyvault.name_taken(name) {
        json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": format!("The name '{name}' is already in use."),
        })
    } else {
        json!({"nameAvailable": true})
    };
    Ok(Reply::ok(answer))
}

/// The soft-deleted vault the route names (subscription and location must match).
fn require_deleted<'a>(ctx: &'a Ctx) -> Result<&'a DeletedVault, ArmError> {
    ctx.state
        .keyvault
        .deleted
        .get(&ctx.param("vaultName").to_ascii_lowercase())
        .filter(|d| {
            d.vault
                .subscription_id
                .eq_ignore_ascii_case(ctx.param("subscriptionId"))
                && d.vault
                    .location
                    .eq_ignore_ascii_case(&ctx.param("location").replace(' ', ""))
        })
        .ok_or_else(|| deleted_not_found(ctx))
}

fn seconds(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn get_deleted(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let deleted = require_deleted(ctx)?;
    let v = &deleted.vault;
    Ok(Reply::ok(json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}", v.subscription_id, v.location, v.name),
        "name": v.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": v.id,
            "location": v.location,
            "tags": v.tags,
            "deletionDate": seconds(deleted.deletion_date),
            "scheduledPurgeDate": seconds(deleted.scheduled_purge_date),
            "purgeProtectionEnabled": v.enable_purge_protection,
        },
    })))
}

/// POST purge: refused while purge protection is on (code `MethodNotAllowed`
/// as Azure CLI prints it; status 405 to match the code, the spec only lists
/// `default` for errors). Otherwise the name is freed and, as recorded, the
/// answer is 202 with a `Location` to poll.
pub fn purge(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let deleted = require_deleted(ctx)?;
    if deleted.vault.enable_purge_protection {
        return Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Operation 'DeletedVaultPurge' is not allowed.",
        ));
    }
    let key = deleted.vault.name.to_ascii_lowercase();
    let location = deleted.vault.location.clone();
    let subscription = deleted.vault.subscription_id.clone();
    let operation = ctx.new_guid().replace('-', "");
    ctx.state.keyvault.deleted.remove(&key);
    ctx.state.keyvault.purges.insert(
        operation.clone(),
        PurgeOperation {
            subscription_id: subscription.clone(),
            created_at: ctx.now,
        },
    );
    let poll = ctx.url(&format!(
        "/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{location}/operationResults/{operation}?api-version={}",
        ctx.api_version
    ));
    Ok(Reply::empty(StatusCode::ACCEPTED).header("location", poll))
}

/// GET of a purge's `Location`: the purge is already done.
pub fn purge_result(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let op = ctx
        .state
        .keyvault
        .purges
        .get(ctx.param("operationId"))
        .filter(|op| {
            op.subscription_id
                .eq_ignore_ascii_case(ctx.param("subscriptionId"))
        })
        .ok_or_else(|| {
            ArmError::not_found(
                "NotFound",
                format!(
                    "The operation '{}' was not found.",
                    ctx.param("operationId")
                ),
            )
        })?;
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%SZ").to_string();
    Ok(Reply::ok(json!({
        "createdDateTime": at(op.created_at),
        "lastActionDateTime": at(op.created_at),
        "status": "Succeeded",
    })))
}
