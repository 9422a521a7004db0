//! The plan as plain data (Terraform's model): per account, the resources to
//! create or update, each with the attributes before and after, and the exact
//! desired state apply will bring about. Computing (`build.rs`), storing
//! (`file.rs`) and showing (`render/plan_*.rs`) a plan are separate.
//! The JSON form is versioned ([`SCHEMA_VERSION`]); see docs/output.md and
//! docs/schemas/plan.schema.json.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Bump when a field is removed or changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    pub tool_version: String,
    pub created_at: DateTime<Utc>,
    /// The tenant the plan was made in; apply refuses another.
    pub tenant_id: String,
    /// The ARM endpoint the plan was made against; apply refuses another.
    pub arm_endpoint: String,
    pub settings: PlanSettings,
    /// Accounts with changes, sorted by id.
    pub accounts: Vec<AccountPlan>,
    /// Destinations without changes, and why (compliant, unreadable, a fix
    /// that needs a person).
    pub skipped: Vec<Skipped>,
    /// What the audit beneath the plan could not read (a subscription's
    /// sources, an account): the plan may miss changes there, so plan exits
    /// 3 and apply counts them. Absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
    pub summary: PlanSummary,
}

/// Something the plan could not see, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// `/subscriptions/{id}` for a subscription whose sources could not be
    /// listed, else the storage account's id.
    pub id: String,
    /// Why, naming the permission or the next step.
    pub reason: String,
}

/// The choices the plan was made with (flags, environment, config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSettings {
    pub key_name: String,
    pub key_size: u32,
    /// Days until a new key expires; with rotation on, Key Vault rotates before that.
    pub key_expiry_days: Option<u32>,
    /// Rotate new keys automatically this many days after creation.
    pub key_rotation_days: Option<u32>,
    /// Permission model of vaults the tool creates.
    pub permission_model: PermissionModel,
    /// `--identity`: use this existing identity for every account.
    pub identity: Option<String>,
    /// `--key-vault`: use this existing vault for every account.
    pub key_vault: Option<String>,
    pub identity_name_template: String,
    pub vault_name_template: String,
    /// Extra tags for created resources (the tool's own tags are always added).
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PermissionModel {
    /// Azure RBAC (Microsoft's recommendation): a role assignment grants key access.
    Rbac,
    /// Vault access policies.
    AccessPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub accounts: usize,
    pub skipped: usize,
    /// Entries of `unread`; absent from the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unread: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub storage_account_id: String,
    /// The audit status (`compliant`, `cmk_broken`, `unreadable`, `missing`).
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    pub storage_account_id: String,
    /// The audit status that made this account need a plan.
    pub status: String,
    /// SHA-256 over `observed`: apply reads the account again and refuses it
    /// when this no longer matches.
    pub fingerprint: String,
    /// The resources the plan works with, existing or to be created.
    pub targets: Targets,
    /// Every property the plan relied on, as read when it was made.
    pub observed: Observed,
    /// In the order apply carries them out.
    pub changes: Vec<ResourceChange>,
}

/// The resources an account's plan works with; apply reads these again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// The user-assigned identity's id, or `SystemAssigned` when a repair
    /// grants the account's system-assigned identity.
    pub identity_id: String,
    pub vault_id: String,
    pub key_name: String,
}

/// What the plan relied on. Apply rebuilds this from fresh reads and compares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    pub account: ObservedAccount,
    /// The identity the plan uses, when it exists already.
    pub identity: Option<ObservedIdentity>,
    /// The vault the plan uses, when it exists already.
    pub vault: Option<ObservedVault>,
    /// Whether the key exists already.
    pub key_exists: bool,
    /// Whether the grant exists already.
    pub grant_exists: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedAccount {
    pub location: String,
    pub key_source: String,
    pub key_vault_uri: Option<String>,
    pub key_name: Option<String>,
    pub key_version: Option<String>,
    pub encryption_identity: Option<String>,
    pub identity_type: String,
    /// Lower-case ids, sorted.
    pub user_assigned_identities: Vec<String>,
    pub system_principal_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedIdentity {
    pub id: String,
    pub principal_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedVault {
    pub id: String,
    pub vault_uri: String,
    pub rbac_authorization: bool,
    pub soft_delete: bool,
    pub purge_protection: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
}

impl Action {
    pub fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
        }
    }
}

/// One resource change: what it is, before and after per attribute, and the
/// desired state apply sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub action: Action,
    /// A short address, e.g. `identity`, `key_vault`, `key`, `access_policy`,
    /// `role_assignment`, `storage_account`.
    pub address: String,
    /// The resource's full id.
    pub id: String,
    /// Attribute changes, for the diff. Values that are only known once apply
    /// has run are the string `(known after apply)`.
    pub attributes: Vec<AttributeChange>,
    /// Set when the change can never be undone, with why.
    pub irreversible: Option<String>,
    pub desired: Desired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    pub name: String,
    /// Absent for a created resource.
    pub before: Option<Value>,
    pub after: Value,
}

pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// The principal a grant is for: known, or that of an identity the plan creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    Known { principal_id: String },
    OfIdentity { identity_id: String },
}

/// The desired state of one resource, as apply will request it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Desired {
    /// PUT a user-assigned identity.
    Identity {
        id: String,
        location: String,
        tags: BTreeMap<String, String>,
    },
    /// PUT a vault with soft delete and purge protection.
    KeyVault {
        id: String,
        location: String,
        tenant_id: String,
        rbac_authorization: bool,
        tags: BTreeMap<String, String>,
    },
    /// PATCH an existing vault to turn on purge protection (and soft delete).
    EnablePurgeProtection { id: String },
    /// PUT a key if it does not exist (never changes an existing key).
    Key {
        vault_id: String,
        name: String,
        key_size: u32,
        expiry_days: Option<u32>,
        rotation_days: Option<u32>,
        tags: BTreeMap<String, String>,
    },
    /// Add get/wrapKey/unwrapKey for the principal to the vault's access policies.
    AccessPolicy {
        vault_id: String,
        tenant_id: String,
        principal: Principal,
    },
    /// PUT a role assignment (Key Vault Crypto Service Encryption User).
    RoleAssignment {
        id: String,
        scope: String,
        role_definition_id: String,
        principal: Principal,
    },
    /// PATCH the account: add the identity (keeping every identity it has)
    /// and switch encryption to the key, without a key version.
    StorageEncryption {
        account_id: String,
        identity_type: String,
        /// The user-assigned identities sent: the ones the account had
        /// (except `dropped_identities`), plus the new one.
        user_assigned_identities: Vec<String>,
        /// Attached identities that no longer exist (deleted while
        /// attached): Azure refuses an update that names one, so they are
        /// not sent back. Absent from the JSON when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dropped_identities: Vec<String>,
        identity_id: String,
        key_vault_uri: String,
        key_name: String,
    },
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.accounts.iter().any(|a| !a.changes.is_empty())
    }

    /// Something could not be read: "no changes" would not be the whole truth.
    pub fn is_incomplete(&self) -> bool {
        !self.unread.is_empty()
    }
}

impl PlanSummary {
    /// The counts of a plan; `unread` is set by who knows what was not read.
    pub fn of(accounts: &[AccountPlan], skipped: &[Skipped]) -> Self {
        let changes = accounts.iter().flat_map(|a| &a.changes);
        PlanSummary {
            add: changes
                .clone()
                .filter(|c| c.action == Action::Create)
                .count(),
            change: changes.filter(|c| c.action == Action::Update).count(),
            destroy: 0,
            accounts: accounts.len(),
            skipped: skipped.len(),
            unread: 0,
        }
    }
}

impl Observed {
    /// SHA-256 (hex) of the canonical JSON of what was observed.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_any_observed_property() {
        let a = Observed::default();
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.account.identity_type = "SystemAssigned".into();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
    }

    #[test]
    fn desired_states_round_trip_through_json() {
        let d = Desired::AccessPolicy {
            vault_id: "v".into(),
            tenant_id: "t".into(),
            principal: Principal::OfIdentity {
                identity_id: "i".into(),
            },
        };
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.contains(r#""kind":"access_policy""#), "{text}");
        assert_eq!(serde_json::from_str::<Desired>(&text).unwrap(), d);
    }
}
