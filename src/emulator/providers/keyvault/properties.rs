//! Validation of a vault's `properties` as Vaults_CreateOrUpdate and
//! Vaults_Update receive them, with the Key Vault RP's codes and messages.

use super::errors::{invalid_value, not_specified, purge_protection_false, soft_delete_false};
use super::model::{AccessPolicy, Grant, NetworkAcls, Vault};
use super::policies::parse_policies;
use crate::emulator::error::ArmError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// How much of the properties a request must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// PUT of a new vault: tenantId, sku and accessPolicies are required.
    Create,
    /// PUT over an existing vault: the same fields are required again.
    Replace,
    /// PATCH: every field is optional.
    Patch,
}

/// What a grant needs to know: when it is made and how long it takes to apply.
#[derive(Debug, Clone, Copy)]
pub struct GrantClock {
    pub now: DateTime<Utc>,
    pub propagation: chrono::Duration,
}

fn optional_bool(props: &Map<String, Value>, name: &str) -> Result<Option<bool>, ArmError> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ArmError::invalid_request_content(format!(
            "{name} must be a boolean"
        ))),
    }
}

/// Applies `props` to `vault` (a fresh default for a create), enforcing
/// Azure's rules. The vault is only changed when every property is valid.
pub fn apply(
    vault: &mut Vault,
    props: &Map<String, Value>,
    mode: Mode,
    emulator_tenant: &str,
    clock: GrantClock,
) -> Result<(), ArmError> {
    let mut next = vault.clone();
    let required = mode != Mode::Patch;
    match props.get("tenantId") {
        None | Some(Value::Null) if required => return Err(not_specified("tenantId")),
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case(emulator_tenant) => {
            next.tenant_id = emulator_tenant.to_string();
        }
        Some(_) => return Err(invalid_value("tenantId")),
    }
    match props.get("sku") {
        None | Some(Value::Null) if required => return Err(not_specified("sku")),
        None | Some(Value::Null) => {}
        Some(sku) => next.sku_name = parse_sku(sku)?,
    }
    match props.get("accessPolicies") {
        None | Some(Value::Null) if required => return Err(not_specified("accessPolicies")),
        None | Some(Value::Null) => {}
        Some(list) => {
            let entries = parse_policies(list, &next.tenant_id, 1024)?;
            next.access_policies = replace_policies(&vault.access_policies, entries, clock);
        }
    }
    if let Some(b) = optional_bool(props, "enabledForDeployment")? {
        next.enabled_for_deployment = b;
    }
    if let Some(b) = optional_bool(props, "enabledForDiskEncryption")? {
        next.enabled_for_disk_encryption = Some(b);
    }
    if let Some(b) = optional_bool(props, "enabledForTemplateDeployment")? {
        next.enabled_for_template_deployment = Some(b);
    }
    if let Some(b) = optional_bool(props, "enableRbacAuthorization")? {
        next.enable_rbac_authorization = Some(b);
    }
    match optional_bool(props, "enableSoftDelete")? {
        Some(false) => return Err(soft_delete_false()),
        Some(true) => next.enable_soft_delete = true,
        None => {}
    }
    match optional_bool(props, "enablePurgeProtection")? {
        Some(false) => return Err(purge_protection_false()),
        Some(true) => next.enable_purge_protection = true,
        None => {}
    }
    apply_retention(&mut next, props, mode)?;
    match props.get("networkAcls") {
        None | Some(Value::Null) => {}
        Some(acls) => next.network_acls = Some(parse_network_acls(acls)?),
    }
    match props.get("publicNetworkAccess") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.eq_ignore_ascii_case("enabled") => {
            next.public_network_access = "Enabled".into();
        }
        Some(Value::String(s)) if s.eq_ignore_ascii_case("disabled") => {
            next.public_network_access = "Disabled".into();
        }
        Some(_) => return Err(invalid_value("publicNetworkAccess")),
    }
    *vault = next;
    Ok(())
}

fn parse_sku(sku: &Value) -> Result<String, ArmError> {
    let family = sku.get("family").and_then(Value::as_str);
    let name = sku.get("name").and_then(Value::as_str);
    match (family, name) {
        (Some("A"), Some(name @ ("standard" | "premium"))) => Ok(name.to_string()),
        _ => Err(invalid_value("sku")),
    }
}

/// 7 to 90 days, fixed once the vault exists.
fn apply_retention(
    next: &mut Vault,
    props: &Map<String, Value>,
    mode: Mode,
) -> Result<(), ArmError> {
    let days = match props.get("softDeleteRetentionInDays") {
        None | Some(Value::Null) => return Ok(()),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| invalid_value("softDeleteRetentionInDays"))?,
    };
    if !(7..=90).contains(&days) {
        return Err(ArmError::bad_request(
            "BadRequest",
            "The property \"softDeleteRetentionInDays\" must be between 7 and 90.",
        ));
    }
    if mode != Mode::Create && days != next.soft_delete_retention_in_days {
        return Err(ArmError::bad_request(
            "BadRequest",
            "The property \"softDeleteRetentionInDays\" cannot be changed once the vault has been created.",
        ));
    }
    next.soft_delete_retention_in_days = days;
    Ok(())
}

fn parse_network_acls(acls: &Value) -> Result<NetworkAcls, ArmError> {
    let Some(acls) = acls.as_object() else {
        return Err(invalid_value("networkAcls"));
    };
    let text = |name: &str, allowed: &[&str], default: &str| -> Result<String, ArmError> {
        match acls.get(name) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .map(|a| (*a).to_string())
                .ok_or_else(|| invalid_value(&format!("networkAcls.{name}"))),
            Some(_) => Err(invalid_value(&format!("networkAcls.{name}"))),
        }
    };
    let list = |name: &str, required: &str| -> Result<Vec<Value>, ArmError> {
        match acls.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items))
                if items
                    .iter()
                    .all(|i| i.get(required).and_then(Value::as_str).is_some()) =>
            {
                Ok(items.clone())
            }
            Some(_) => Err(invalid_value(&format!("networkAcls.{name}"))),
        }
    };
    Ok(NetworkAcls {
        bypass: text("bypass", &["AzureServices", "None"], "AzureServices")?,
        default_action: text("defaultAction", &["Allow", "Deny"], "Allow")?,
        ip_rules: list("ipRules", "value")?,
        virtual_network_rules: list("virtualNetworkRules", "id")?,
    })
}

/// The new policy list, keeping the effective time of every permission an
/// object already had (it does not propagate again) and starting the clock
/// for new ones.
pub fn replace_policies(
    old: &[AccessPolicy],
    new: Vec<AccessPolicy>,
    clock: GrantClock,
) -> Vec<AccessPolicy> {
    new.into_iter()
        .map(|mut entry| {
            let before = old
                .iter()
                .find(|p| p.object_id.eq_ignore_ascii_case(&entry.object_id));
            for (category, grants) in entry.permissions.iter_mut() {
                for grant in grants.iter_mut() {
                    grant.effective_at = before
                        .and_then(|p| p.permissions.get(category))
                        .and_then(|g| g.iter().find(|g| g.name.eq_ignore_ascii_case(&grant.name)))
                        .map_or(clock.now + clock.propagation, |g| g.effective_at);
                }
            }
            entry
        })
        .collect()
}

/// A grant that takes effect after propagation.
pub fn new_grant(name: &str, clock: GrantClock) -> Grant {
    Grant {
        name: name.to_string(),
        effective_at: clock.now + clock.propagation,
    }
}
