//! The storage accounts the emulator holds, their pending create operations,
//! and how an account is rendered as the 2023-05-01 `StorageAccount` model
//! (shape taken from the recordings and the spec's examples).

use crate::emulator::context::format_timestamp;
use crate::emulator::providers::common::key;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const RESOURCE_TYPE: &str = "Microsoft.Storage/storageAccounts";

/// How the account's data is encrypted at rest.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum KeySource {
    #[default]
    MicrosoftStorage,
    MicrosoftKeyvault,
}

impl KeySource {
    /// Azure compares key sources case-insensitively on input.
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("Microsoft.Storage") {
            Some(Self::MicrosoftStorage)
        } else if text.eq_ignore_ascii_case("Microsoft.Keyvault") {
            Some(Self::MicrosoftKeyvault)
        } else {
            None
        }
    }

    /// The spelling Azure answers with (note the lower-case `v`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MicrosoftStorage => "Microsoft.Storage",
            Self::MicrosoftKeyvault => "Microsoft.Keyvault",
        }
    }
}

/// The account's system-assigned identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SystemIdentity {
    pub principal_id: String,
    pub tenant_id: String,
}

/// A user-assigned identity attached to the account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AttachedIdentity {
    /// The identity's resource id exactly as the client sent it (Azure echoes it).
    pub id: String,
    pub principal_id: String,
    pub client_id: String,
}

/// The account's `identity` block. An account that never had one has `None`
/// in [`Account::identity`]; `Some` with nothing in it renders `{"type":"None"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccountIdentity {
    pub system: Option<SystemIdentity>,
    /// By lower-case resource id.
    pub user_assigned: BTreeMap<String, AttachedIdentity>,
}

impl AccountIdentity {
    pub fn type_name(&self) -> &'static str {
        match (self.system.is_some(), !self.user_assigned.is_empty()) {
            (true, true) => "SystemAssigned,UserAssigned",
            (true, false) => "SystemAssigned",
            (false, true) => "UserAssigned",
            (false, false) => "None",
        }
    }

    pub fn user(&self, id: &str) -> Option<&AttachedIdentity> {
        self.user_assigned.get(&key(id))
    }
}

/// The customer-managed key in use.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyVaultKey {
    pub vault_uri: String,
    pub key_name: String,
    /// `None` when not sent (the account follows the key's current version);
    /// `Some("")` is echoed back as `""` like Azure does.
    pub key_version: Option<String>,
    pub current_versioned_key_id: String,
    pub last_key_rotation: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    pub key_source: KeySource,
    pub key_vault: Option<KeyVaultKey>,
    /// `encryption.identity.userAssignedIdentity` as sent (may be `""`); it
    /// survives a revert to `Microsoft.Storage` and identity removals.
    pub user_assigned_identity: Option<String>,
    pub require_infrastructure_encryption: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Canonical id: `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}`.
    pub id: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub kind: String,
    pub sku: String,
    pub tags: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    /// Until then the account is still being created (`provisioningState: Creating`).
    pub ready_at: DateTime<Utc>,
    /// When ARM's index (Resources_List) shows it; `None` means at once.
    #[serde(default)]
    pub indexed_at: Option<DateTime<Utc>>,
    pub identity: Option<AccountIdentity>,
    pub encryption: Encryption,
    /// Plain settable properties (`accessTier`, `networkAcls`...) as last set;
    /// they override the defaults when rendered.
    pub settings: Map<String, Value>,
}

impl Account {
    pub fn is_provisioning(&self, now: DateTime<Utc>) -> bool {
        now < self.ready_at
    }
}

/// A create in progress, polled through its `Location`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub subscription_id: String,
    pub account_id: String,
    pub done_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Model {
    /// By lower-case account id.
    pub(super) accounts: BTreeMap<String, Account>,
    /// By lower-case operation GUID.
    pub(super) operations: BTreeMap<String, Operation>,
}

impl Model {
    /// The account with this resource id (any casing), e.g. a diagnostic
    /// setting's `storageAccountId`.
    pub fn get_by_id(&self, id: &str) -> Option<&Account> {
        self.accounts.get(&key(id))
    }

    /// Every account, in id order.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// The account that holds this globally unique name, wherever it lives.
    pub fn by_name(&self, name: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// Azure's region pairs, for the secondary of geo-redundant SKUs.
fn paired_region(location: &str) -> Option<&'static str> {
    const PAIRS: &[(&str, &str)] = &[
        ("eastus", "westus"),
        ("eastus2", "centralus"),
        ("northcentralus", "southcentralus"),
        ("westus2", "westcentralus"),
        ("westus3", "eastus"),
        ("northeurope", "westeurope"),
        ("uksouth", "ukwest"),
        ("francecentral", "francesouth"),
        ("germanywestcentral", "germanynorth"),
        ("swedencentral", "swedensouth"),
        ("japaneast", "japanwest"),
        ("australiaeast", "australiasoutheast"),
        ("southeastasia", "eastasia"),
        ("canadacentral", "canadaeast"),
        ("centralindia", "southindia"),
        ("koreacentral", "koreasouth"),
    ];
    PAIRS.iter().find_map(|(a, b)| {
        if *a == location {
            Some(*b)
        } else if *b == location {
            Some(*a)
        } else {
            None
        }
    })
}

fn is_geo_redundant(sku: &str) -> bool {
    matches!(
        sku,
        "Standard_GRS" | "Standard_RAGRS" | "Standard_GZRS" | "Standard_RAGZRS"
    )
}

fn endpoints(name: &str, kind: &str, suffix: &str, with_file: bool) -> Value {
    let url = |service: &str| format!("https://{name}{suffix}.{service}.core.windows.net/");
    let mut e = Map::new();
    if kind == "StorageV2" || kind == "BlockBlobStorage" {
        e.insert("dfs".into(), json!(url("dfs")));
        e.insert(
            "web".into(),
            json!(format!("https://{name}{suffix}.z13.web.core.windows.net/")),
        );
    }
    if kind != "FileStorage" {
        e.insert("blob".into(), json!(url("blob")));
    }
    if kind == "Storage" || kind == "StorageV2" {
        e.insert("queue".into(), json!(url("queue")));
        e.insert("table".into(), json!(url("table")));
    }
    if with_file && (kind == "Storage" || kind == "StorageV2" || kind == "FileStorage") {
        e.insert("file".into(), json!(url("file")));
    }
    Value::Object(e)
}

fn default_access_tier(account: &Account) -> Option<&'static str> {
    match account.kind.as_str() {
        "StorageV2" | "BlobStorage" if account.sku.starts_with("Premium") => Some("Premium"),
        "StorageV2" | "BlobStorage" => Some("Hot"),
        _ => None,
    }
}

fn identity_json(identity: &AccountIdentity) -> Value {
    let mut body = Map::new();
    if let Some(system) = &identity.system {
        body.insert("principalId".into(), json!(system.principal_id));
        body.insert("tenantId".into(), json!(system.tenant_id));
    }
    body.insert("type".into(), json!(identity.type_name()));
    if !identity.user_assigned.is_empty() {
        // The spec's UserAssignedIdentity has only principalId and clientId;
        // Azure's extra tenantId/identityUrl/certRenewAfter are left out.
        let entries: Map<String, Value> = identity
            .user_assigned
            .values()
            .map(|u| {
                (
                    u.id.clone(),
                    json!({"principalId": u.principal_id, "clientId": u.client_id}),
                )
            })
            .collect();
        body.insert("userAssignedIdentities".into(), Value::Object(entries));
    }
    Value::Object(body)
}

const NO_EXPIRY: &str = "1970-01-01T00:00:00.0000000Z";

fn encryption_json(account: &Account) -> Value {
    let enc = &account.encryption;
    let enabled_at = format_timestamp(account.created_at);
    let service = json!({"keyType": "Account", "enabled": true, "lastEnabledTime": enabled_at});
    let mut body = Map::new();
    if let Some(uai) = &enc.user_assigned_identity {
        body.insert("identity".into(), json!({"userAssignedIdentity": uai}));
    }
    if let (KeySource::MicrosoftKeyvault, Some(kv)) = (enc.key_source, &enc.key_vault) {
        let mut props = json!({
            "currentVersionedKeyIdentifier": kv.current_versioned_key_id,
            "lastKeyRotationTimestamp": format_timestamp(kv.last_key_rotation),
            "currentVersionedKeyExpirationTimestamp":
                kv.expires.map_or_else(|| NO_EXPIRY.to_string(), format_timestamp),
            "keyvaulturi": kv.vault_uri,
            "keyname": kv.key_name,
        });
        if let Some(version) = &kv.key_version {
            props["keyversion"] = json!(version);
        }
        body.insert("keyvaultproperties".into(), props);
    }
    body.insert(
        "services".into(),
        json!({"file": service.clone(), "blob": service}),
    );
    body.insert("keySource".into(), json!(enc.key_source.as_str()));
    if let Some(required) = enc.require_infrastructure_encryption {
        body.insert("requireInfrastructureEncryption".into(), json!(required));
    }
    Value::Object(body)
}

/// How much of what newer Azure answers goes into an account's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Only what the 2023-05-01 spec lists (the conformance test checks it).
    Spec,
    /// Also what Azure answers beyond that spec (`storageUnknownValues`):
    /// the 2026 recordings' `accessTier: Smart`, `allowCrossTenantDelegationSas`
    /// and `networkAcls.ipv6Rules`, and newer api-versions' provisioning
    /// state `ValidateSubscriptionQuotaBegin` early in a create.
    Field,
}

/// `Creating`, or in the field `ValidateSubscriptionQuotaBegin` during the
/// first half of a create (a state of newer api-versions' `ProvisioningState`).
fn provisioning_state(account: &Account, now: DateTime<Utc>, values: Values) -> &'static str {
    if !account.is_provisioning(now) {
        return "Succeeded";
    }
    let half = (account.ready_at - account.created_at) / 2;
    if values == Values::Field && now < account.created_at + half {
        "ValidateSubscriptionQuotaBegin"
    } else {
        "Creating"
    }
}

fn properties_json(account: &Account, now: DateTime<Utc>, values: Values) -> Value {
    let created = format_timestamp(account.created_at);
    let mut props = json!({
        "keyCreationTime": {"key1": created, "key2": created},
        "allowCrossTenantReplication": false,
        "privateEndpointConnections": [],
        "minimumTlsVersion": "TLS1_0",
        "allowBlobPublicAccess": false,
        "networkAcls": {
            "bypass": "AzureServices",
            "virtualNetworkRules": [],
            "ipRules": [],
            "defaultAction": "Allow"
        },
        "supportsHttpsTrafficOnly": true,
    });
    let map = props.as_object_mut().expect("literal object");
    if let Some(tier) = default_access_tier(account) {
        map.insert("accessTier".into(), json!(tier));
    }
    if values == Values::Field {
        if map.get("accessTier") == Some(&json!("Hot")) {
            map.insert("accessTier".into(), json!("Smart"));
        }
        map.insert("allowCrossTenantDelegationSas".into(), json!(false));
        map["networkAcls"]["ipv6Rules"] = json!([]);
    }
    for (name, value) in &account.settings {
        map.insert(name.clone(), value.clone());
    }
    map.insert("encryption".into(), encryption_json(account));
    map.insert(
        "provisioningState".into(),
        json!(provisioning_state(account, now, values)),
    );
    map.insert("creationTime".into(), json!(created));
    map.insert(
        "primaryEndpoints".into(),
        endpoints(&account.name, &account.kind, "", true),
    );
    map.insert("primaryLocation".into(), json!(account.location));
    map.insert("statusOfPrimary".into(), json!("available"));
    if let Some(secondary) =
        paired_region(&account.location).filter(|_| is_geo_redundant(&account.sku))
    {
        map.insert("secondaryLocation".into(), json!(secondary));
        map.insert("statusOfSecondary".into(), json!("available"));
        if account.sku.starts_with("Standard_RA") {
            map.insert(
                "secondaryEndpoints".into(),
                endpoints(&account.name, &account.kind, "-secondary", false),
            );
        }
    }
    props
}

/// The account as GET, PATCH and the final poll answer it.
pub fn to_json(account: &Account, now: DateTime<Utc>, values: Values) -> Value {
    let tier = if account.sku.starts_with("Premium") {
        "Premium"
    } else {
        "Standard"
    };
    let mut body = Map::new();
    if let Some(identity) = &account.identity {
        body.insert("identity".into(), identity_json(identity));
    }
    body.insert("sku".into(), json!({"name": account.sku, "tier": tier}));
    body.insert("kind".into(), json!(account.kind));
    body.insert("id".into(), json!(account.id));
    body.insert("name".into(), json!(account.name));
    body.insert("type".into(), json!(RESOURCE_TYPE));
    body.insert("location".into(), json!(account.location));
    body.insert("tags".into(), Value::Object(account.tags.clone()));
    body.insert("properties".into(), properties_json(account, now, values));
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(kind: &str, sku: &str) -> Account {
        let t = Utc::now();
        Account {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs1".into(),
            subscription_id: "s".into(),
            resource_group: "rg".into(),
            name: "logs1".into(),
            location: "westeurope".into(),
            kind: kind.into(),
            sku: sku.into(),
            tags: Map::new(),
            created_at: t,
            ready_at: t,
            indexed_at: None,
            identity: None,
            encryption: Encryption::default(),
            settings: Map::new(),
        }
    }

    #[test]
    fn key_source_is_parsed_case_insensitively_and_answered_as_azure_spells_it() {
        assert_eq!(
            KeySource::parse("Microsoft.KeyVault"),
            Some(KeySource::MicrosoftKeyvault)
        );
        assert_eq!(KeySource::MicrosoftKeyvault.as_str(), "Microsoft.Keyvault");
        assert_eq!(
            KeySource::parse("microsoft.storage"),
            Some(KeySource::MicrosoftStorage)
        );
        assert_eq!(KeySource::parse("Microsoft.Vault"), None);
    }

    #[test]
    fn identity_type_has_no_space_and_none_when_empty() {
        let mut identity = AccountIdentity {
            system: Some(SystemIdentity {
                principal_id: "p".into(),
                tenant_id: "t".into(),
            }),
            ..AccountIdentity::default()
        };
        identity.user_assigned.insert(
            "x".into(),
            AttachedIdentity {
                id: "X".into(),
                principal_id: "p2".into(),
                client_id: "c2".into(),
            },
        );
        assert_eq!(identity.type_name(), "SystemAssigned,UserAssigned");
        assert_eq!(AccountIdentity::default().type_name(), "None");
        let body = identity_json(&identity);
        assert_eq!(body["userAssignedIdentities"]["X"]["clientId"], "c2");
        assert!(body["userAssignedIdentities"]["X"]
            .get("tenantId")
            .is_none());
    }

    #[test]
    fn rendering_follows_kind_and_sku() {
        let now = Utc::now();
        let v2 = to_json(&account("StorageV2", "Standard_RAGRS"), now, Values::Spec);
        assert!(v2.get("identity").is_none());
        assert_eq!(v2["properties"]["accessTier"], "Hot");
        assert_eq!(v2["properties"]["secondaryLocation"], "northeurope");
        assert!(v2["properties"]["primaryEndpoints"]["dfs"].is_string());
        assert_eq!(
            v2["properties"]["encryption"]["keySource"],
            "Microsoft.Storage"
        );
        assert!(v2["properties"]["encryption"]
            .get("keyvaultproperties")
            .is_none());
        let classic = to_json(&account("Storage", "Standard_LRS"), now, Values::Spec);
        assert!(classic["properties"].get("accessTier").is_none());
        assert!(classic["properties"].get("secondaryLocation").is_none());
        assert!(classic["properties"]["primaryEndpoints"]
            .get("dfs")
            .is_none());
    }

    #[test]
    fn keyless_expiry_renders_as_the_epoch() {
        let mut a = account("StorageV2", "Standard_LRS");
        a.encryption.key_source = KeySource::MicrosoftKeyvault;
        a.encryption.key_vault = Some(KeyVaultKey {
            vault_uri: "https://v.vault.azure.net/".into(),
            key_name: "k".into(),
            key_version: None,
            current_versioned_key_id: "https://v.vault.azure.net/keys/k/1".into(),
            last_key_rotation: a.created_at,
            expires: None,
        });
        let kv = &to_json(&a, Utc::now(), Values::Spec)["properties"]["encryption"]
            ["keyvaultproperties"];
        assert_eq!(kv["currentVersionedKeyExpirationTimestamp"], NO_EXPIRY);
        assert!(kv.get("keyversion").is_none());
    }
}
