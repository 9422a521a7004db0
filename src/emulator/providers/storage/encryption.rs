//! The `properties.encryption` rules of a storage PUT or PATCH: when a
//! switch to a customer-managed key (`Microsoft.Keyvault`) is checked,
//! which identity is used to reach the key, and what Azure reports after.
//!
//! Azure checks the key only when the CMK configuration changes (key source,
//! vault, key name, version or encryption identity): recordings show PATCHes
//! that re-send an unchanged configuration while dropping the identity the
//! key depends on are accepted (a trap the tool must avoid, so the emulator
//! lets it happen).

use super::model::{AccountIdentity, Encryption, KeySource, KeyVaultKey};
use super::request::{invalid_values, Shape};
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::key;
use crate::emulator::rules;
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What the request's `encryption` block asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncryptionRequest {
    pub key_source: Option<KeySource>,
    pub key_vault: Option<KeyVaultRequest>,
    pub user_assigned_identity: Option<String>,
    pub require_infrastructure_encryption: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyVaultRequest {
    pub vault_uri: Option<String>,
    pub key_name: Option<String>,
    pub key_version: Option<String>,
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, ArmError> {
    value
        .as_object()
        .ok_or_else(|| ArmError::invalid_request_content(format!("{what} must be an object")))
}

fn only_members(map: &Map<String, Value>, allowed: &[&str], model: &str) -> Result<(), ArmError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(member) => Err(ArmError::invalid_request_content(format!(
            "Could not find member '{member}' on object of type '{model}'"
        ))),
        None => Ok(()),
    }
}

/// An optional string member: absent or `null` is `None`, anything else but a string is refused.
fn string(map: &Map<String, Value>, name: &str) -> Result<Option<String>, ArmError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid_values(name)),
    }
}

fn check_services(value: &Value) -> Result<(), ArmError> {
    let services = object(value, "services")?;
    only_members(
        services,
        &["blob", "file", "table", "queue"],
        "EncryptionServices",
    )?;
    for service in services.values().filter(|v| !v.is_null()) {
        let service = object(service, "an encryption service")?;
        only_members(
            service,
            &["enabled", "keyType", "lastEnabledTime"],
            "EncryptionService",
        )?;
        // Encryption at rest cannot be turned off.
        if matches!(service.get("enabled"), Some(v) if v != &Value::Bool(true) && !v.is_null()) {
            return Err(invalid_values("encryption.services.enabled"));
        }
        if let Some(key_type) = string(service, "keyType")? {
            if key_type != "Service" && key_type != "Account" {
                return Err(invalid_values("encryption.services.keyType"));
            }
        }
    }
    Ok(())
}

/// Parses `properties.encryption`. Read-only members are ignored, as ARM does.
pub fn parse(value: &Value) -> Result<EncryptionRequest, ArmError> {
    let enc = object(value, "encryption")?;
    only_members(
        enc,
        &[
            "services",
            "keySource",
            "requireInfrastructureEncryption",
            "keyvaultproperties",
            "identity",
        ],
        "Encryption",
    )?;
    if let Some(services) = enc.get("services").filter(|v| !v.is_null()) {
        check_services(services)?;
    }
    let key_source = match string(enc, "keySource")? {
        None => None,
        Some(text) => Some(KeySource::parse(&text).ok_or_else(|| invalid_values("keySource"))?),
    };
    let key_vault = match enc.get("keyvaultproperties") {
        None | Some(Value::Null) => None,
        Some(kv) => {
            let kv = object(kv, "keyvaultproperties")?;
            let read_only = [
                "currentVersionedKeyIdentifier",
                "lastKeyRotationTimestamp",
                "currentVersionedKeyExpirationTimestamp",
            ];
            let allowed: Vec<&str> = ["keyname", "keyversion", "keyvaulturi"]
                .into_iter()
                .chain(read_only)
                .collect();
            only_members(kv, &allowed, "KeyVaultProperties")?;
            Some(KeyVaultRequest {
                vault_uri: string(kv, "keyvaulturi")?,
                key_name: string(kv, "keyname")?,
                key_version: string(kv, "keyversion")?,
            })
        }
    };
    let user_assigned_identity = match enc.get("identity") {
        None | Some(Value::Null) => None,
        Some(identity) => {
            let identity = object(identity, "encryption.identity")?;
            only_members(identity, &["userAssignedIdentity"], "EncryptionIdentity")?;
            string(identity, "userAssignedIdentity")?
        }
    };
    let require_infrastructure_encryption = match enc.get("requireInfrastructureEncryption") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid_values("requireInfrastructureEncryption")),
    };
    Ok(EncryptionRequest {
        key_source,
        key_vault,
        user_assigned_identity,
        require_infrastructure_encryption,
    })
}

/// No usable identity although the account has one (a user-assigned
/// identity not named in `encryption.identity`, one named but not attached,
/// or a system identity created by this very request, whose principal cannot
/// have been granted anything yet). The message is Azure's; the code is not
/// known from any source, so the generic `BadRequest` is used.
pub fn missing_prerequisites() -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        "Missing pre-requisites to enable EncryptionAtRest/Customer Managed Key for this storage account. For more information, see - https://aka.ms/storagecmkconfiguration",
    )
}

/// The account has no managed identity at all: Azure's `MissingMsiHeaders`.
pub fn msi_not_set() -> ArmError {
    ArmError::bad_request(
        "MissingMsiHeaders",
        "Managed Service Identity (MSI) is not set for this account.",
    )
}

/// The principal Azure Storage uses to reach the key: the user-assigned
/// identity named in `encryption.identity`, else the system-assigned one.
pub fn cmk_principal(
    identity: Option<&AccountIdentity>,
    encryption_identity: Option<&str>,
    system_is_new: bool,
) -> Result<String, ArmError> {
    if let Some(id) = encryption_identity.filter(|id| !id.is_empty()) {
        return identity
            .and_then(|i| i.user(id))
            .map(|u| u.principal_id.clone())
            .ok_or_else(missing_prerequisites);
    }
    match identity {
        Some(AccountIdentity {
            system: Some(system),
            ..
        }) if !system_is_new => Ok(system.principal_id.clone()),
        Some(i) if i.system.is_some() || !i.user_assigned.is_empty() => {
            Err(missing_prerequisites())
        }
        _ => Err(msi_not_set()),
    }
}

fn same_vault(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

fn same_key(current: Option<&KeyVaultKey>, uri: &str, name: &str, version: Option<&str>) -> bool {
    current.is_some_and(|k| {
        same_vault(&k.vault_uri, uri)
            && k.key_name.eq_ignore_ascii_case(name)
            && k.key_version.as_deref() == version
    })
}

fn same_identity(a: Option<&str>, b: Option<&str>) -> bool {
    let norm = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(key);
    norm(a) == norm(b)
}

/// Everything the encryption rules need about the request and the account after it.
pub struct Change<'a> {
    pub shape: Shape,
    pub current: &'a Encryption,
    pub request: Option<&'a EncryptionRequest>,
    /// The account's identity once this request is applied.
    pub identity: Option<&'a AccountIdentity>,
    pub system_is_new: bool,
    pub now: DateTime<Utc>,
}

/// The account's encryption after the request, checking a new or changed
/// customer-managed key against the vault.
pub fn apply(state: &State, change: &Change) -> Result<Encryption, ArmError> {
    let current = change.current;
    let mut next = current.clone();
    let request = change.request.cloned().unwrap_or_default();
    if let Some(source) = request.key_source {
        next.key_source = source;
    }
    if let Some(uai) = &request.user_assigned_identity {
        next.user_assigned_identity = Some(uai.clone());
    }
    if let Some(required) = request.require_infrastructure_encryption {
        let unchanged = current.require_infrastructure_encryption.unwrap_or(false) == required;
        if change.shape == Shape::Update && !unchanged {
            // Infrastructure encryption is chosen at creation and fixed after.
            return Err(invalid_values("requireInfrastructureEncryption"));
        }
        next.require_infrastructure_encryption = Some(required);
    }
    if next.key_source == KeySource::MicrosoftStorage {
        next.key_vault = None;
        return Ok(next);
    }
    let was_cmk = current.key_source == KeySource::MicrosoftKeyvault;
    let (uri, name, version) = match (&request.key_vault, current.key_vault.as_ref()) {
        (Some(kv), _) => (
            kv.vault_uri.clone(),
            kv.key_name.clone(),
            kv.key_version.clone(),
        ),
        (None, Some(k)) if was_cmk => (
            Some(k.vault_uri.clone()),
            Some(k.key_name.clone()),
            k.key_version.clone(),
        ),
        (None, _) => (None, None, None),
    };
    let uri = uri
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid_values("keyvaultproperties.keyvaulturi"))?;
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid_values("keyvaultproperties.keyname"))?;
    let key_unchanged =
        was_cmk && same_key(current.key_vault.as_ref(), &uri, &name, version.as_deref());
    let identity_unchanged = same_identity(
        current.user_assigned_identity.as_deref(),
        next.user_assigned_identity.as_deref(),
    );
    if key_unchanged && identity_unchanged {
        return Ok(next);
    }
    let principal = cmk_principal(
        change.identity,
        next.user_assigned_identity.as_deref(),
        change.system_is_new,
    )?;
    if let Some(id) = next
        .user_assigned_identity
        .as_deref()
        .filter(|id| !id.is_empty())
    {
        rules::check_attached_identity(state, id)?;
    }
    let resolved = rules::check_cmk_key(state, &uri, &name, &principal, change.now)?;
    let current_versioned_key_id = match version.as_deref().filter(|v| !v.is_empty()) {
        Some(pinned) => match resolved.current_versioned_key_id.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{pinned}"),
            None => resolved.current_versioned_key_id.clone(),
        },
        None => resolved.current_versioned_key_id.clone(),
    };
    let last_key_rotation = match (&current.key_vault, key_unchanged) {
        (Some(k), true) => k.last_key_rotation,
        _ => change.now,
    };
    next.key_vault = Some(KeyVaultKey {
        vault_uri: uri,
        key_name: name,
        key_version: version,
        current_versioned_key_id,
        last_key_rotation,
        expires: resolved.expires,
    });
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::super::model::{AttachedIdentity, SystemIdentity};
    use super::*;
    use serde_json::json;

    fn identity(system: bool, users: &[&str]) -> AccountIdentity {
        AccountIdentity {
            system: system.then(|| SystemIdentity {
                principal_id: "sys".into(),
                tenant_id: "t".into(),
            }),
            user_assigned: users
                .iter()
                .map(|u| {
                    (
                        key(u),
                        AttachedIdentity {
                            id: (*u).into(),
                            principal_id: format!("p-{u}"),
                            client_id: "c".into(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn the_named_user_identity_wins_and_must_be_attached() {
        let i = identity(true, &["/A"]);
        assert_eq!(cmk_principal(Some(&i), Some("/a"), false).unwrap(), "p-/A");
        assert_eq!(
            cmk_principal(Some(&i), Some("/b"), false).unwrap_err().code,
            "BadRequest"
        );
        assert_eq!(cmk_principal(Some(&i), Some(""), false).unwrap(), "sys");
    }

    #[test]
    fn without_a_named_identity_only_an_existing_system_identity_serves() {
        assert_eq!(
            cmk_principal(Some(&identity(false, &["/A"])), None, false)
                .unwrap_err()
                .message,
            missing_prerequisites().message
        );
        assert_eq!(
            cmk_principal(Some(&identity(true, &[])), None, true)
                .unwrap_err()
                .code,
            "BadRequest"
        );
        assert_eq!(
            cmk_principal(Some(&identity(false, &[])), None, false)
                .unwrap_err()
                .code,
            "MissingMsiHeaders"
        );
        assert_eq!(
            cmk_principal(None, None, false).unwrap_err().code,
            "MissingMsiHeaders"
        );
    }

    #[test]
    fn encryption_bodies_are_parsed_strictly() {
        let req = parse(&json!({
            "keySource": "Microsoft.KeyVault",
            "services": {"blob": {"enabled": true, "keyType": "Account"}},
            "keyvaultproperties": {"keyvaulturi": "https://v.vault.azure.net/", "keyname": "k", "currentVersionedKeyIdentifier": null},
            "identity": {"userAssignedIdentity": "/id"}
        }))
        .unwrap();
        assert_eq!(req.key_source, Some(KeySource::MicrosoftKeyvault));
        assert_eq!(req.key_vault.unwrap().key_version, None);
        assert_eq!(req.user_assigned_identity.as_deref(), Some("/id"));
        assert!(parse(&json!({"keySource": "Microsoft.Vault"})).is_err());
        assert!(parse(&json!({"keyvaultproperties": {"keyurl": "x"}})).is_err());
        assert!(parse(&json!({"services": {"blob": {"enabled": false}}})).is_err());
    }

    #[test]
    fn reverting_drops_the_key_but_keeps_the_encryption_identity() {
        let current = Encryption {
            key_source: KeySource::MicrosoftKeyvault,
            key_vault: Some(KeyVaultKey {
                vault_uri: "https://v.vault.azure.net/".into(),
                key_name: "k".into(),
                key_version: None,
                current_versioned_key_id: "https://v.vault.azure.net/keys/k/1".into(),
                last_key_rotation: Utc::now(),
                expires: None,
            }),
            user_assigned_identity: Some(String::new()),
            require_infrastructure_encryption: None,
        };
        let request = parse(&json!({"keySource": "Microsoft.Storage"})).unwrap();
        let next = apply(
            &State::default(),
            &Change {
                shape: Shape::Update,
                current: &current,
                request: Some(&request),
                identity: None,
                system_is_new: false,
                now: Utc::now(),
            },
        )
        .unwrap();
        assert_eq!(next.key_source, KeySource::MicrosoftStorage);
        assert!(next.key_vault.is_none());
        assert_eq!(next.user_assigned_identity.as_deref(), Some(""));
    }

    #[test]
    fn an_unchanged_key_is_not_checked_again_even_without_identity() {
        let current = Encryption {
            key_source: KeySource::MicrosoftKeyvault,
            key_vault: Some(KeyVaultKey {
                vault_uri: "https://v.vault.azure.net/".into(),
                key_name: "k".into(),
                key_version: None,
                current_versioned_key_id: "https://v.vault.azure.net/keys/k/1".into(),
                last_key_rotation: Utc::now(),
                expires: None,
            }),
            ..Encryption::default()
        };
        let request = parse(&json!({"keySource": "Microsoft.Keyvault",
            "keyvaultproperties": {"keyvaulturi": "https://V.vault.azure.net", "keyname": "k"}}))
        .unwrap();
        let next = apply(
            &State::default(),
            &Change {
                shape: Shape::Update,
                current: &current,
                request: Some(&request),
                identity: Some(&AccountIdentity::default()),
                system_is_new: false,
                now: Utc::now(),
            },
        )
        .unwrap();
        assert_eq!(next, current);
    }
}
