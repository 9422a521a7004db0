//! Keys through ARM (create if not exist, get, list, versions) and the admin
//! operations that stand in for the data plane (disable, expire, rotate, delete).

use super::errors::{invalid_value, key_not_found, not_specified, too_many_tags};
use super::model::{new_version_id, valid_key_name, Key, KeyVersion, Vault, KEY_TYPE};
use super::rotation::{answered_policy, parse_rotation_policy};
use super::vaults::require_vault;
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::tags;
use crate::emulator::reply::Reply;
use crate::emulator::settings::RotationActionCasing;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

const KEY_OPS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "wrapKey",
    "unwrapKey",
    "import",
    "release",
];
const CURVES: &[&str] = &["P-256", "P-384", "P-521", "P-256K"];
/// Key Vault allows 15 tags on a key (Microsoft Learn, "About keys, secrets
/// and certificates"; issue 14), where ARM resources allow 50.
pub(super) const MAX_KEY_TAGS: usize = 15;

/// The vault for a key operation: it must exist and have finished provisioning
/// (its data plane has no DNS name before that).
fn ready_vault<'a>(ctx: &'a Ctx) -> Result<&'a Vault, ArmError> {
    let vault = require_vault(ctx)?;
    if !vault.is_provisioned(ctx.now) {
        return Err(ArmError::conflict(
            "Conflict",
            format!(
                "The vault '{}' is still being provisioned (provisioningState 'RegisteringDns'). Retry once it is 'Succeeded'.",
                vault.name
            ),
        ));
    }
    Ok(vault)
}

fn key_properties(
    vault: &Vault,
    key: &Key,
    version: &KeyVersion,
    full: bool,
    casing: RotationActionCasing,
) -> Value {
    let mut attributes = json!({
        "enabled": version.enabled,
        "created": version.created,
        "updated": version.updated,
        "recoveryLevel": vault.recovery_level(),
    });
    if let Some(nbf) = version.nbf {
        attributes["nbf"] = json!(nbf);
    }
    if let Some(exp) = version.exp {
        attributes["exp"] = json!(exp);
    }
    let uri = format!("{}/{}", vault.key_uri_base(), key.name);
    let mut props = json!({
        "attributes": attributes,
        "keyUri": uri,
        "keyUriWithVersion": format!("{uri}/{}", version.version),
    });
    if full {
        props["kty"] = json!(key.kty);
        props["keyOps"] = json!(key.key_ops);
        if let Some(size) = key.key_size {
            props["keySize"] = json!(size);
        }
        if let Some(curve) = &key.curve_name {
            props["curveName"] = json!(curve);
        }
        if let Some(policy) = &key.rotation_policy {
            props["rotationPolicy"] = answered_policy(policy, casing);
        }
    }
    props
}

/// A key resource; `full` = false gives the short form the list examples show.
fn key_json(vault: &Vault, key: &Key, full: bool, casing: RotationActionCasing) -> Value {
    let Some(current) = key.current() else {
        return Value::Null;
    };
    let mut props = key_properties(vault, key, current, full, casing);
    if !full {
        if let Some(map) = props.as_object_mut() {
            map.remove("keyUriWithVersion");
        }
    }
    let mut body = json!({
        "id": format!("{}/keys/{}", vault.id, key.name),
        "name": key.name,
        "type": KEY_TYPE,
        "location": vault.location,
        "properties": props,
    });
    if let Some(t) = &key.tags {
        body["tags"] = Value::Object(t.clone());
    }
    body
}

fn version_json(
    vault: &Vault,
    key: &Key,
    version: &KeyVersion,
    full: bool,
    casing: RotationActionCasing,
) -> Value {
    json!({
        "id": format!("{}/keys/{}/versions/{}", vault.id, key.name, version.version),
        "name": version.version,
        "type": format!("{KEY_TYPE}/versions"),
        "location": vault.location,
        "properties": key_properties(vault, key, version, full, casing),
    })
}

fn optional_int(map: &Map<String, Value>, name: &str) -> Result<Option<i64>, ArmError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| invalid_value(name)),
    }
}

/// Builds a key from Keys_CreateIfNotExist's body, with Key Vault's defaults
/// (RSA 2048, the six usual operations, enabled).
fn parse_key(
    name: &str,
    body: &Map<String, Value>,
    vault: &Vault,
    now: i64,
) -> Result<Key, ArmError> {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Err(not_specified("properties"));
    };
    let kty = match props.get("kty").and_then(Value::as_str) {
        Some(k @ ("RSA" | "RSA-HSM" | "EC" | "EC-HSM")) => k.to_string(),
        Some(_) => return Err(invalid_value("kty")),
        None => return Err(not_specified("kty")),
    };
    if kty.ends_with("-HSM") && !vault.is_premium() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "The key type '{kty}' requires a premium vault; vault '{}' is standard.",
                vault.name
            ),
        ));
    }
    let rsa = kty.starts_with("RSA");
    let key_size = optional_int(props, "keySize")?;
    let (key_size, curve_name) = if rsa {
        if props.get("curveName").is_some_and(|c| !c.is_null()) {
            return Err(invalid_value("curveName"));
        }
        match key_size.unwrap_or(2048) {
            size @ (2048 | 3072 | 4096) => (Some(size), None),
            _ => return Err(invalid_value("keySize")),
        }
    } else {
        if key_size.is_some() {
            return Err(invalid_value("keySize"));
        }
        match props.get("curveName").and_then(Value::as_str) {
            None => (None, Some("P-256".to_string())),
            Some(c) if CURVES.contains(&c) => (None, Some(c.to_string())),
            Some(_) => return Err(invalid_value("curveName")),
        }
    };
    let key_ops = match props.get("keyOps") {
        None | Some(Value::Null) if rsa => [
            "encrypt",
            "decrypt",
            "sign",
            "verify",
            "wrapKey",
            "unwrapKey",
        ]
        .map(String::from)
        .to_vec(),
        None | Some(Value::Null) => vec!["sign".to_string(), "verify".to_string()],
        Some(Value::Array(ops)) => ops
            .iter()
            .map(|op| {
                op.as_str()
                    .filter(|o| KEY_OPS.contains(o))
                    .map(str::to_string)
                    .ok_or_else(|| invalid_value("keyOps"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid_value("keyOps")),
    };
    if props.get("release_policy").is_some_and(|p| !p.is_null()) {
        return Err(ArmError::bad_request(
            "BadRequest",
            "Key release policies are not supported by this emulator.",
        ));
    }
    let version = parse_attributes(props.get("attributes"), now)?;
    let tags = tags(body)?;
    if let Some(count) = tags.as_ref().map(Map::len).filter(|n| *n > MAX_KEY_TAGS) {
        return Err(too_many_tags(count));
    }
    Ok(Key {
        name: name.to_string(),
        kty,
        key_size,
        curve_name,
        key_ops,
        tags,
        rotation_policy: parse_rotation_policy(props.get("rotationPolicy"), now)?,
        versions: vec![version],
    })
}

fn parse_attributes(attributes: Option<&Value>, now: i64) -> Result<KeyVersion, ArmError> {
    let empty = Map::new();
    let attributes = match attributes {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(a)) => a,
        Some(_) => return Err(invalid_value("attributes")),
    };
    let enabled = match attributes.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid_value("attributes.enabled")),
    };
    if attributes.get("exportable") == Some(&Value::Bool(true)) {
        return Err(ArmError::bad_request(
            "BadRequest",
            "An exportable key requires a release policy.",
        ));
    }
    let nbf = optional_int(attributes, "nbf")?;
    let exp = optional_int(attributes, "exp")?;
    if let (Some(nbf), Some(exp)) = (nbf, exp) {
        if exp <= nbf {
            return Err(invalid_value("attributes.exp"));
        }
    }
    Ok(KeyVersion {
        version: new_version_id(),
        enabled,
        nbf,
        exp,
        created: now,
        updated: now,
    })
}

/// PUT `.../keys/{keyName}`: creates the key, or returns an existing one unchanged.
pub fn create_if_not_exist(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let name = ctx.param("keyName").to_string();
    if !valid_key_name(&name) {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("The key name '{name}' is invalid. A key name must be 1-127 characters of letters, digits and hyphens."),
        ));
    }
    let body = ctx.body()?.clone();
    let vault = ready_vault(ctx)?;
    let key = parse_key(&name, &body, vault, ctx.now.timestamp())?;
    let lower = name.to_ascii_lowercase();
    if let Some(existing) = vault.keys.get(&lower) {
        return Ok(Reply::ok(key_json(vault, existing, true, casing)));
    }
    if vault.deleted_keys.contains_key(&lower) {
        return Err(ArmError::conflict(
            "Conflict",
            format!("Key {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged."),
        ));
    }
    let reply = key_json(vault, &key, true, casing);
    let vault_key = vault.name.to_ascii_lowercase();
    if let Some(vault) = ctx.state.keyvault.vaults.get_mut(&vault_key) {
        vault.keys.insert(lower, key);
    }
    Ok(Reply::ok(reply))
}

fn require_key<'a>(ctx: &'a Ctx, vault: &'a Vault) -> Result<&'a Key, ArmError> {
    vault
        .keys
        .get(&ctx.param("keyName").to_ascii_lowercase())
        .ok_or_else(|| {
            key_not_found(
                &vault.name,
                ctx.param("keyName"),
                ctx.param("resourceGroupName"),
            )
        })
}

pub fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let vault = require_vault(ctx)?;
    let key = require_key(ctx, vault)?;
    Ok(Reply::ok(key_json(vault, key, true, casing)))
}

pub fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let vault = require_vault(ctx)?;
    let value: Vec<Value> = vault
        .keys
        .values()
        .map(|k| key_json(vault, k, false, casing))
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

pub fn list_versions(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let vault = require_vault(ctx)?;
    let key = require_key(ctx, vault)?;
    let value: Vec<Value> = key
        .versions
        .iter()
        .map(|v| version_json(vault, key, v, false, casing))
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

pub fn get_version(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let vault = require_vault(ctx)?;
    let key = require_key(ctx, vault)?;
    let version = key.version(ctx.param("keyVersion")).ok_or_else(|| {
        ArmError::resource_not_found(
            &format!("{KEY_TYPE}/versions"),
            &format!("{}/{}/{}", vault.name, key.name, ctx.param("keyVersion")),
            ctx.param("resourceGroupName"),
        )
    })?;
    Ok(Reply::ok(version_json(vault, key, version, true, casing)))
}

/// The live vault (by name alone) and key an admin route names, mutably.
fn admin_key<'a>(ctx: &'a mut Ctx) -> Result<(&'a mut Vault, String), ArmError> {
    let vault_name = ctx.param("vaultName").to_string();
    let key_name = ctx.param("keyName").to_ascii_lowercase();
    let vault = ctx
        .state
        .keyvault
        .vaults
        .get_mut(&vault_name.to_ascii_lowercase())
        .ok_or_else(|| {
            ArmError::not_found(
                "VaultNotFound",
                format!("No live vault named '{vault_name}'."),
            )
        })?;
    if !vault.keys.contains_key(&key_name) {
        return Err(ArmError::not_found(
            "KeyNotFound",
            format!("A key with (name/id) {key_name} was not found in this key vault."),
        ));
    }
    Ok((vault, key_name))
}

/// Admin PATCH: `{"enabled": bool, "exp": secs|null, "nbf": secs|null}` on
/// the current version, as the data plane's update-key would.
pub fn admin_update(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let body = ctx.body()?.clone();
    let now = ctx.now.timestamp();
    let (vault, key_name) = admin_key(ctx)?;
    let Some(version) = vault
        .keys
        .get_mut(&key_name)
        .and_then(|k| k.versions.last_mut())
    else {
        return Err(ArmError::internal("key without versions"));
    };
    let mut next = version.clone();
    for (field, value) in &body {
        match (field.as_str(), value) {
            ("enabled", Value::Bool(b)) => next.enabled = *b,
            ("exp", Value::Null) => next.exp = None,
            ("nbf", Value::Null) => next.nbf = None,
            ("exp", v) if v.as_i64().is_some() => next.exp = v.as_i64(),
            ("nbf", v) if v.as_i64().is_some() => next.nbf = v.as_i64(),
            _ => return Err(invalid_value(field)),
        }
    }
    next.updated = now;
    *version = next;
    let reply = vault
        .keys
        .get(&key_name)
        .map(|k| key_json(vault, k, true, casing))
        .unwrap_or_default();
    Ok(Reply::ok(reply))
}

/// Admin POST `.../rotate`: a new current version, as a rotation would make.
pub fn admin_rotate(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let casing = ctx.settings.key_rotation_action_casing;
    let now = ctx.now.timestamp();
    let (vault, key_name) = admin_key(ctx)?;
    let Some(key) = vault.keys.get_mut(&key_name) else {
        return Err(ArmError::internal("key vanished"));
    };
    key.versions.push(KeyVersion {
        version: new_version_id(),
        enabled: true,
        nbf: None,
        exp: None,
        created: now,
        updated: now,
    });
    let reply = vault
        .keys
        .get(&key_name)
        .map(|k| key_json(vault, k, true, casing))
        .unwrap_or_default();
    Ok(Reply::ok(reply))
}

/// Admin DELETE: the key is deleted as through the data plane; in a
/// soft-delete vault its name stays taken.
pub fn admin_delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let (vault, key_name) = admin_key(ctx)?;
    if let Some(key) = vault.keys.remove(&key_name) {
        vault.deleted_keys.insert(key_name, key);
    }
    Ok(Reply::empty(StatusCode::NO_CONTENT))
}
