//! Validation of storage account request bodies (create and update
//! parameters) and the identity rules of a PUT or PATCH.

use super::model::{AccountIdentity, AttachedIdentity, SystemIdentity};
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::key;
use crate::emulator::rules;
use crate::emulator::state::State;
use serde_json::{Map, Value};

pub const SKUS: &[&str] = &[
    "Standard_LRS",
    "Standard_GRS",
    "Standard_RAGRS",
    "Standard_ZRS",
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GZRS",
    "Standard_RAGZRS",
];

pub const KINDS: &[&str] = &[
    "Storage",
    "StorageV2",
    "BlobStorage",
    "FileStorage",
    "BlockBlobStorage",
];

/// Whether the body is `StorageAccountCreateParameters` (PUT) or
/// `StorageAccountUpdateParameters` (PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Create,
    Update,
}

impl Shape {
    fn model(self) -> &'static str {
        match self {
            Shape::Create => "StorageAccountCreateParameters",
            Shape::Update => "StorageAccountUpdateParameters",
        }
    }
}

/// The storage RP's generic 400 for a value it refuses (seen for kind/sku mismatches).
pub fn invalid_values(params: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidValuesForRequestParameters",
        format!("Values for request parameters are invalid: {params}."),
    )
}

fn unknown_member(member: &str, model: &str) -> ArmError {
    ArmError::invalid_request_content(format!(
        "Could not find member '{member}' on object of type '{model}'"
    ))
}

/// Names: 3-24 characters, lower-case letters and digits only.
pub fn valid_account_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

pub fn account_name_invalid(name: &str) -> ArmError {
    ArmError::bad_request("AccountNameInvalid", name_invalid_message(name))
}

pub fn name_invalid_message(name: &str) -> String {
    format!("{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.")
}

/// Top-level members each parameter model declares.
pub fn check_top_level(body: &Map<String, Value>, shape: Shape) -> Result<(), ArmError> {
    let allowed: &[&str] = match shape {
        Shape::Create => &["sku", "kind", "location", "tags", "identity", "properties"],
        Shape::Update => &["sku", "kind", "tags", "identity", "properties"],
    };
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(member) => Err(unknown_member(member, shape.model())),
        None => Ok(()),
    }
}

/// `sku.name`, one of the known SKUs; `None` when an update leaves it out.
pub fn sku(body: &Map<String, Value>, shape: Shape) -> Result<Option<String>, ArmError> {
    match body.get("sku") {
        None | Some(Value::Null) if shape == Shape::Update => Ok(None),
        None | Some(Value::Null) => Err(invalid_values("sku")),
        Some(Value::Object(sku)) => {
            if let Some(member) = sku.keys().find(|k| *k != "name" && *k != "tier") {
                return Err(unknown_member(member, "Sku"));
            }
            sku.get("name")
                .and_then(Value::as_str)
                .and_then(|n| SKUS.iter().find(|s| s.eq_ignore_ascii_case(n)))
                .map(|s| Some((*s).to_string()))
                .ok_or_else(|| invalid_values("sku"))
        }
        Some(_) => Err(ArmError::invalid_request_content("sku must be an object")),
    }
}

/// `kind`, one of the known kinds; `None` when an update leaves it out.
pub fn kind(body: &Map<String, Value>, shape: Shape) -> Result<Option<String>, ArmError> {
    match body.get("kind") {
        None | Some(Value::Null) if shape == Shape::Update => Ok(None),
        Some(Value::String(k)) => KINDS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(k))
            .map(|known| Some((*known).to_string()))
            .ok_or_else(|| invalid_values("kind")),
        _ => Err(invalid_values("kind")),
    }
}

/// Premium block blob and file accounts need a premium SKU, and premium
/// SKUs exist only for those kinds and StorageV2.
pub fn check_kind_and_sku(kind: &str, sku: &str) -> Result<(), ArmError> {
    let premium = sku.starts_with("Premium");
    let ok = match kind {
        "BlockBlobStorage" | "FileStorage" => premium,
        "StorageV2" => true,
        _ => !premium || (sku == "Premium_LRS" && kind == "Storage"),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_values("kind, sku"))
    }
}

/// Settable properties other than `encryption`, and the JSON type each takes.
const BOOLEAN_SETTINGS: &[&str] = &[
    "supportsHttpsTrafficOnly",
    "isSftpEnabled",
    "isLocalUserEnabled",
    "enableExtendedGroups",
    "allowBlobPublicAccess",
    "allowSharedKeyAccess",
    "allowCrossTenantReplication",
    "defaultToOAuthAuthentication",
];
const CREATE_ONLY_BOOLEAN_SETTINGS: &[&str] = &["isHnsEnabled", "isNfsV3Enabled"];
const OBJECT_SETTINGS: &[&str] = &[
    "networkAcls",
    "customDomain",
    "sasPolicy",
    "keyPolicy",
    "azureFilesIdentityBasedAuthentication",
    "routingPreference",
    "immutableStorageWithVersioning",
];
const ENUM_SETTINGS: &[(&str, &[&str])] = &[
    ("accessTier", &["Hot", "Cool", "Premium", "Cold"]),
    (
        "minimumTlsVersion",
        &["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"],
    ),
    ("largeFileSharesState", &["Disabled", "Enabled"]),
    (
        "publicNetworkAccess",
        &["Enabled", "Disabled", "SecuredByPerimeter"],
    ),
    ("allowedCopyScope", &["PrivateLink", "AAD"]),
];
const CREATE_ONLY_ENUM_SETTINGS: &[(&str, &[&str])] =
    &[("dnsEndpointType", &["Standard", "AzureDnsZone"])];

/// Validates one plain property and returns the value to store.
pub fn setting(name: &str, value: &Value, shape: Shape) -> Result<Value, ArmError> {
    let create = shape == Shape::Create;
    let is_bool =
        BOOLEAN_SETTINGS.contains(&name) || create && CREATE_ONLY_BOOLEAN_SETTINGS.contains(&name);
    if is_bool {
        return match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(invalid_values(name)),
        };
    }
    if OBJECT_SETTINGS.contains(&name) {
        return match value {
            Value::Object(_) => Ok(value.clone()),
            _ => Err(invalid_values(name)),
        };
    }
    let enums = ENUM_SETTINGS
        .iter()
        .chain(CREATE_ONLY_ENUM_SETTINGS.iter().filter(|_| create));
    if let Some((_, allowed)) = enums.into_iter().find(|(n, _)| *n == name) {
        return value
            .as_str()
            .and_then(|v| allowed.iter().find(|a| a.eq_ignore_ascii_case(v)))
            .map(|a| Value::String((*a).to_string()))
            .ok_or_else(|| invalid_values(name));
    }
    let model = match shape {
        Shape::Create => "StorageAccountPropertiesCreateParameters",
        Shape::Update => "StorageAccountPropertiesUpdateParameters",
    };
    Err(unknown_member(name, model))
}

/// What the request's `identity` block asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRequest {
    pub system: bool,
    pub user: bool,
    /// `userAssignedIdentities` entries: id -> keep (`{}`) or remove (`null`).
    pub entries: Option<Vec<(String, bool)>>,
}

fn identity_failure(account_id: &str, status: &str, code: &str, message: &str) -> ArmError {
    ArmError::bad_request(
        "FailedIdentityOperation",
        format!(
            "Identity operation for resource '{account_id}' failed with error 'Failed to perform resource identity operation. Status: '{status}'. Response: '{{\"error\":{{\"code\":\"{code}\",\"message\":\"{message}\"}}}}'.'."
        ),
    )
}

/// Parses `identity`: `type` is required; `userAssignedIdentities` only
/// with a type that includes `UserAssigned`.
pub fn identity_request(value: &Value, account_id: &str) -> Result<IdentityRequest, ArmError> {
    let Value::Object(identity) = value else {
        return Err(ArmError::invalid_request_content(
            "identity must be an object",
        ));
    };
    let allowed = ["type", "userAssignedIdentities", "principalId", "tenantId"];
    if let Some(member) = identity.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(unknown_member(member, "Identity"));
    }
    let type_text = identity
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_values("identity.type"))?;
    let (system, user) =
        parse_identity_type(type_text).ok_or_else(|| invalid_values("identity.type"))?;
    let entries = match identity.get("userAssignedIdentities") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(
            map.iter()
                .map(|(id, v)| match v {
                    Value::Null => Ok((id.clone(), false)),
                    Value::Object(_) => Ok((id.clone(), true)),
                    _ => Err(ArmError::invalid_request_content(
                        "userAssignedIdentities values must be objects or null",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(ArmError::invalid_request_content(
                "userAssignedIdentities must be an object",
            ))
        }
    };
    if !user && entries.is_some() {
        return Err(identity_failure(
            account_id,
            "BadRequest",
            "BadRequest",
            "The request format was unexpected, a non-UserAssigned identity type should not contain: userAssignedIdentities",
        ));
    }
    Ok(IdentityRequest {
        system,
        user,
        entries,
    })
}

/// `None`, `SystemAssigned`, `UserAssigned`, `SystemAssigned,UserAssigned`
/// (any case, spaces after the comma tolerated) -> (system, user).
pub fn parse_identity_type(text: &str) -> Option<(bool, bool)> {
    let parts: Vec<String> = text
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["none"] => Some((false, false)),
        ["systemassigned"] => Some((true, false)),
        ["userassigned"] => Some((false, true)),
        ["systemassigned", "userassigned"] | ["userassigned", "systemassigned"] => {
            Some((true, true))
        }
        _ => None,
    }
}

/// The identity after applying `request` to `current`. A type without
/// `userAssignedIdentities` keeps the attached ones; a type without
/// `UserAssigned` drops them; a new system identity gets a fresh principal.
/// Returns the identity and whether its system principal is new.
pub fn apply_identity(
    state: &State,
    account_id: &str,
    current: Option<&AccountIdentity>,
    request: &IdentityRequest,
    new_guid: impl Fn() -> String,
) -> Result<(AccountIdentity, bool), ArmError> {
    let mut next = AccountIdentity::default();
    let mut system_is_new = false;
    if request.system {
        next.system = current.and_then(|c| c.system.clone());
        if next.system.is_none() {
            system_is_new = true;
            next.system = Some(SystemIdentity {
                principal_id: new_guid(),
                tenant_id: state.tenant_of_resource(account_id).to_string(),
            });
        }
    }
    if request.user {
        next.user_assigned = current.map(|c| c.user_assigned.clone()).unwrap_or_default();
        for (id, keep) in request.entries.iter().flatten() {
            if !keep {
                next.user_assigned.remove(&key(id));
                continue;
            }
            let Some(found) = rules::user_assigned_principal(state, id) else {
                // Also for an identity deleted while still attached: Azure's
                // identity service answers BadRequest with the id in lower case
                // (Azure/aad-pod-identity#515, Azure/azure-libraries-for-net#839).
                let message = format!("Resource '{}' was not found.", id.to_ascii_lowercase());
                return Err(identity_failure(
                    account_id,
                    "BadRequest",
                    "BadRequest",
                    &message,
                ));
            };
            let attached = next
                .user_assigned
                .get(&key(id))
                .map_or_else(|| id.clone(), |a| a.id.clone());
            next.user_assigned.insert(
                key(id),
                AttachedIdentity {
                    id: attached,
                    principal_id: found.principal_id,
                    client_id: found.client_id,
                },
            );
        }
        if next.user_assigned.is_empty() {
            return Err(identity_failure(
                account_id,
                "BadRequest",
                "BadRequest",
                "The identity ids must not be null or empty for 'UserAssigned' identity type.",
            ));
        }
    }
    Ok((next, system_is_new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn account_names_are_3_to_24_lowercase_letters_and_digits() {
        assert!(valid_account_name("logs2024"));
        assert!(!valid_account_name("ab"));
        assert!(!valid_account_name(&"a".repeat(25)));
        assert!(!valid_account_name("Logs"));
        assert!(!valid_account_name("logs-1"));
    }

    #[test]
    fn identity_types_parse_with_or_without_space() {
        assert_eq!(
            parse_identity_type("SystemAssigned, UserAssigned"),
            Some((true, true))
        );
        assert_eq!(parse_identity_type("systemassigned"), Some((true, false)));
        assert_eq!(parse_identity_type("None"), Some((false, false)));
        assert_eq!(parse_identity_type("Both"), None);
        assert_eq!(parse_identity_type("None,UserAssigned"), None);
    }

    #[test]
    fn user_assigned_entries_need_a_user_assigned_type() {
        let err = identity_request(
            &json!({"type": "SystemAssigned", "userAssignedIdentities": {}}),
            "/x",
        )
        .unwrap_err();
        assert_eq!(err.code, "FailedIdentityOperation");
        let req = identity_request(
            &json!({"type": "UserAssigned", "userAssignedIdentities": {"/a": {}, "/b": null}}),
            "/x",
        )
        .unwrap();
        assert_eq!(
            req.entries.unwrap(),
            vec![("/a".into(), true), ("/b".into(), false)]
        );
        assert!(identity_request(&json!({}), "/x").is_err());
        assert!(identity_request(&json!({"type": "None", "extra": 1}), "/x").is_err());
    }

    #[test]
    fn kinds_and_skus_must_fit() {
        assert!(check_kind_and_sku("StorageV2", "Standard_RAGRS").is_ok());
        assert!(check_kind_and_sku("BlockBlobStorage", "Premium_LRS").is_ok());
        assert_eq!(
            check_kind_and_sku("BlockBlobStorage", "Standard_LRS")
                .unwrap_err()
                .code,
            "InvalidValuesForRequestParameters"
        );
        assert!(check_kind_and_sku("BlobStorage", "Premium_ZRS").is_err());
    }

    #[test]
    fn settings_are_typed_and_create_only_ones_refused_on_update() {
        assert_eq!(
            setting("accessTier", &json!("cool"), Shape::Update).unwrap(),
            json!("Cool")
        );
        assert!(setting("accessTier", &json!("Warm"), Shape::Update).is_err());
        assert!(setting("supportsHttpsTrafficOnly", &json!("yes"), Shape::Update).is_err());
        assert!(setting("isHnsEnabled", &json!(true), Shape::Create).is_ok());
        assert_eq!(
            setting("isHnsEnabled", &json!(true), Shape::Update)
                .unwrap_err()
                .code,
            "InvalidRequestContent"
        );
        assert!(setting("provisioningState", &json!("Succeeded"), Shape::Create).is_err());
    }
}
