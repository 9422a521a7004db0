//! The Key Vault provider's state: live and soft-deleted vaults (their names
//! are global across subscriptions, as vault DNS names are), their access
//! policies with the moment each permission takes effect, and their keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";
pub const KEY_TYPE: &str = "Microsoft.KeyVault/vaults/keys";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Model {
    /// Live vaults by lower-case name: one name, one vault, in all of Azure.
    pub(super) vaults: BTreeMap<String, Vault>,
    /// Soft-deleted vaults by lower-case name; their names stay taken until purged.
    pub(super) deleted: BTreeMap<String, DeletedVault>,
    /// Purge operations by id, so their `Location` can be polled.
    pub(super) purges: BTreeMap<String, PurgeOperation>,
}

fn always() -> bool {
    true
}

fn public_vault_dns() -> String {
    crate::emulator::cloud::EmulatedCloud::Public
        .key_vault_dns()
        .to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    pub id: String,
    pub subscription_id: String,
    pub resource_group: String,
    /// As the creator spelled it.
    pub name: String,
    /// The DNS suffix of its `vaultUri`, the emulated cloud's when it was
    /// created (a state file from before clouds: the public one).
    #[serde(default = "public_vault_dns")]
    pub dns_suffix: String,
    pub location: String,
    pub tags: Map<String, Value>,
    pub tenant_id: String,
    /// `standard` or `premium`.
    pub sku_name: String,
    pub access_policies: Vec<AccessPolicy>,
    pub enabled_for_deployment: bool,
    pub enabled_for_disk_encryption: Option<bool>,
    pub enabled_for_template_deployment: Option<bool>,
    pub soft_delete_retention_in_days: i64,
    /// Always true through the API (it refuses `false`); a state file can hold
    /// a vault from before soft delete became mandatory.
    #[serde(default = "always")]
    pub enable_soft_delete: bool,
    pub enable_rbac_authorization: Option<bool>,
    /// Once true, never false again.
    pub enable_purge_protection: bool,
    pub network_acls: Option<NetworkAcls>,
    pub public_network_access: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    /// When `provisioningState` turns from `RegisteringDns` to `Succeeded`.
    pub provisioned_at: DateTime<Utc>,
    /// When ARM's index (Resources_List) shows it; `None` (a state file from
    /// before the setting) means at once.
    #[serde(default)]
    pub indexed_at: Option<DateTime<Utc>>,
    /// Keys by lower-case name.
    pub keys: BTreeMap<String, Key>,
    /// Keys deleted through the data plane: recoverable, so their names stay taken.
    pub deleted_keys: BTreeMap<String, Key>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkAcls {
    pub bypass: String,
    pub default_action: String,
    pub ip_rules: Vec<Value>,
    pub virtual_network_rules: Vec<Value>,
}

/// One access policy entry. Every permission carries the moment it takes
/// effect, because Azure applies a new grant only after it has propagated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    pub tenant_id: String,
    pub object_id: String,
    pub application_id: Option<String>,
    /// `keys`, `secrets`, `certificates`, `storage` -> granted permissions, in request order.
    pub permissions: BTreeMap<String, Vec<Grant>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub name: String,
    pub effective_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub name: String,
    pub kty: String,
    pub key_size: Option<i64>,
    pub curve_name: Option<String>,
    pub key_ops: Vec<String>,
    pub tags: Option<Map<String, Value>>,
    pub rotation_policy: Option<Value>,
    /// Oldest first; the last one is the current version.
    pub versions: Vec<KeyVersion>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyVersion {
    /// 32 lower-case hex digits.
    pub version: String,
    pub enabled: bool,
    /// Unix seconds.
    pub nbf: Option<i64>,
    /// Unix seconds.
    pub exp: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeletedVault {
    pub vault: Vault,
    pub deletion_date: DateTime<Utc>,
    pub scheduled_purge_date: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PurgeOperation {
    pub subscription_id: String,
    pub created_at: DateTime<Utc>,
}

impl Model {
    /// Every live vault (soft-deleted ones are not resources any more), by name.
    pub fn live_vaults(&self) -> impl Iterator<Item = &Vault> {
        self.vaults.values()
    }

    /// The live vaults, by lower-case name, for tests that build a vault by hand.
    #[cfg(test)]
    pub(crate) fn live_vaults_mut(&mut self) -> &mut BTreeMap<String, Vault> {
        &mut self.vaults
    }

    /// The live vault with this name, wherever it lives.
    pub fn vault_named(&self, name: &str) -> Option<&Vault> {
        self.vaults.get(&name.to_ascii_lowercase())
    }

    /// The live vault at this subscription, group and name (any casing).
    pub fn vault(&self, subscription: &str, group: &str, name: &str) -> Option<&Vault> {
        self.vault_named(name)
            .filter(|v| v.is_at(subscription, group))
    }

    /// The live vault whose `vaultUri` is `uri` (case-insensitive, trailing
    /// slash and an explicit `:443` optional): its name, in its own cloud's
    /// DNS suffix (another cloud's suffix names no vault, as in Azure).
    pub fn vault_by_uri(&self, uri: &str) -> Option<&Vault> {
        let host = uri
            .trim()
            .to_ascii_lowercase()
            .strip_prefix("https://")?
            .trim_end_matches('/')
            .trim_end_matches(":443")
            .to_string();
        let (name, suffix) = host.split_once('.')?;
        self.vault_named(name)
            .filter(|v| v.dns_suffix.eq_ignore_ascii_case(suffix))
    }

    /// True when the name belongs to a live or a soft-deleted vault.
    pub fn name_taken(&self, name: &str) -> bool {
        let key = name.to_ascii_lowercase();
        self.vaults.contains_key(&key) || self.deleted.contains_key(&key)
    }
}

impl Vault {
    pub fn is_at(&self, subscription: &str, group: &str) -> bool {
        self.subscription_id.eq_ignore_ascii_case(subscription)
            && self.resource_group.eq_ignore_ascii_case(group)
    }

    pub fn is_provisioned(&self, now: DateTime<Utc>) -> bool {
        now >= self.provisioned_at
    }

    pub fn provisioning_state(&self, now: DateTime<Utc>) -> &'static str {
        if self.is_provisioned(now) {
            "Succeeded"
        } else {
            "RegisteringDns"
        }
    }

    /// While DNS is being registered Azure echoes the name as given without a
    /// trailing slash; afterwards the URI is lower case with one.
    pub fn vault_uri(&self, now: DateTime<Utc>) -> String {
        if self.is_provisioned(now) {
            format!(
                "https://{}.{}/",
                self.name.to_ascii_lowercase(),
                self.dns_suffix
            )
        } else {
            format!("https://{}.{}", self.name, self.dns_suffix)
        }
    }

    /// The base of key identifiers as the ARM key resources show them (with `:443`).
    pub fn key_uri_base(&self) -> String {
        format!(
            "https://{}.{}:443/keys",
            self.name.to_ascii_lowercase(),
            self.dns_suffix
        )
    }

    pub fn rbac(&self) -> bool {
        self.enable_rbac_authorization == Some(true)
    }

    pub fn is_premium(&self) -> bool {
        self.sku_name == "premium"
    }

    /// `Recoverable` once purge protection is on, as Key Vault reports it.
    pub fn recovery_level(&self) -> &'static str {
        if self.enable_purge_protection {
            "Recoverable"
        } else {
            "Recoverable+Purgeable"
        }
    }

    /// True when trusted Azure services (Storage among them) are shut out by the firewall.
    pub fn firewall_blocks_trusted_services(&self) -> bool {
        let acls = self.network_acls.as_ref();
        let bypass_azure = acls.is_none_or(|a| a.bypass.eq_ignore_ascii_case("AzureServices"));
        let restricted = acls.is_some_and(|a| a.default_action.eq_ignore_ascii_case("Deny"))
            || self.public_network_access.eq_ignore_ascii_case("Disabled");
        restricted && !bypass_azure
    }

    pub fn policy_for(&self, object_id: &str) -> Option<&AccessPolicy> {
        self.access_policies
            .iter()
            .find(|p| p.object_id.eq_ignore_ascii_case(object_id))
    }
}

impl AccessPolicy {
    /// True when `permission` (or `all`) on `category` has taken effect by `now`.
    pub fn allows(&self, category: &str, permission: &str, now: DateTime<Utc>) -> bool {
        self.permissions.get(category).is_some_and(|grants| {
            grants.iter().any(|g| {
                (g.name.eq_ignore_ascii_case(permission) || g.name.eq_ignore_ascii_case("all"))
                    && g.effective_at <= now
            })
        })
    }
}

impl Key {
    pub fn current(&self) -> Option<&KeyVersion> {
        self.versions.last()
    }

    pub fn version(&self, version: &str) -> Option<&KeyVersion> {
        self.versions
            .iter()
            .find(|v| v.version.eq_ignore_ascii_case(version))
    }

    pub fn is_rsa(&self) -> bool {
        self.kty == "RSA" || self.kty == "RSA-HSM"
    }
}

impl KeyVersion {
    /// Enabled, past its not-before and before its expiry.
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        let t = now.timestamp();
        self.enabled && self.nbf.is_none_or(|nbf| nbf <= t) && self.exp.is_none_or(|exp| t < exp)
    }
}

/// Vault names: 3-24 letters, digits and hyphens, starting with a letter,
/// ending with a letter or digit, without consecutive hyphens.
pub fn valid_vault_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=24).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphabetic()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("--")
}

/// Key names: 1-127 letters, digits and hyphens.
pub fn valid_key_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A new key version id: 32 hex digits, as Key Vault issues them.
pub fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_names_follow_azure_rules() {
        assert!(valid_vault_name("kv-logs-01"));
        assert!(valid_vault_name("abc"));
        assert!(!valid_vault_name("ab"));
        assert!(!valid_vault_name(&format!("a{}", "b".repeat(24))));
        assert!(!valid_vault_name("1kv"));
        assert!(!valid_vault_name("kv-"));
        assert!(!valid_vault_name("kv--logs"));
        assert!(!valid_vault_name("kv_logs"));
    }

    #[test]
    fn key_names_and_versions() {
        assert!(valid_key_name("cmk-1"));
        assert!(!valid_key_name(""));
        assert!(!valid_key_name("a.b"));
        let v = new_version_id();
        assert_eq!(v.len(), 32);
        assert!(v.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
