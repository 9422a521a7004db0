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
    /// The tenant the plan was made in; apply refuses another. Empty in a
    /// plan across several tenants, whose `tenants` names each one.
    pub tenant_id: String,
    /// The ARM endpoint the plan was made against; apply refuses another.
    pub arm_endpoint: String,
    /// `--shard K/N`: the plan covers only shard K of N of the subscriptions.
    /// Absent (and so in older plan files) when it covers them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// A plan across tenants (`--tenant`, `--all-tenants`): the tenant of
    /// each subscription holding an account it names, by lower-case
    /// subscription id; apply signs in to each. Absent otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tenants: BTreeMap<String, String>,
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

/// An account's status in a plan: its audit status, or `error` when the
/// plan could not be made for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Compliant,
    NonCompliant,
    CmkBroken,
    Unreadable,
    Missing,
    /// Planning failed (a read, a name that is taken, a key that cannot be used).
    Error,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Compliant => "compliant",
            PlanStatus::NonCompliant => "non_compliant",
            PlanStatus::CmkBroken => "cmk_broken",
            PlanStatus::Unreadable => "unreadable",
            PlanStatus::Missing => "missing",
            PlanStatus::Error => "error",
        }
    }
}

impl From<crate::audit::Status> for PlanStatus {
    fn from(status: crate::audit::Status) -> Self {
        use crate::audit::Status;
        match status {
            Status::Compliant => PlanStatus::Compliant,
            Status::NonCompliant => PlanStatus::NonCompliant,
            Status::CmkBroken => PlanStatus::CmkBroken,
            Status::Unreadable => PlanStatus::Unreadable,
            Status::Missing => PlanStatus::Missing,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub storage_account_id: String,
    /// The audit status, or `error` when planning the account failed.
    pub status: PlanStatus,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    pub storage_account_id: String,
    /// The audit status that made this account need a plan.
    pub status: PlanStatus,
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

impl ObservedAccount {
    /// What a plan relies on about the account, as read (ids and key source
    /// in lower case, so Azure's casing changes nothing).
    pub fn of(a: &crate::azure::storage::StorageAccount) -> Self {
        let mut user_assigned: Vec<String> = a
            .user_assigned
            .iter()
            .map(|u| u.id.to_ascii_lowercase())
            .collect();
        user_assigned.sort();
        ObservedAccount {
            location: a.location.to_ascii_lowercase(),
            key_source: a.key_source.to_ascii_lowercase(),
            key_vault_uri: a.key_vault_uri.clone(),
            key_name: a.key_name.clone(),
            key_version: a.key_version.clone(),
            encryption_identity: a
                .encryption_identity
                .as_ref()
                .map(|i| i.to_ascii_lowercase()),
            identity_type: a.identity_type.clone(),
            user_assigned_identities: user_assigned,
            system_principal_id: a.system_principal_id.clone(),
        }
    }

    /// SHA-256 (hex) of the canonical JSON of the account as observed: a
    /// saved rollback plan's account is refused when this changed.
    pub fn fingerprint(&self) -> String {
        sha256_hex(self)
    }
}

/// What a saved plan file holds: a remediation (`plan --out`) or the undo of
/// one (`rollback --out`), as Terraform's destroy plan is a plan too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    Remediation,
    Rollback,
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
    /// Only rollback plans delete (the tool's grants); a remediation never does.
    Delete,
}

impl Action {
    pub fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
    }
}

/// The kinds of resource a plan changes, by the short name the diff and the
/// JSON give them (`key_vault`, `role_assignment`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Address {
    Identity,
    KeyVault,
    Key,
    AccessPolicy,
    RoleAssignment,
    StorageAccount,
    /// The user-assigned identities on a storage account (rollback takes the
    /// tool's off).
    StorageAccountIdentity,
}

impl Address {
    pub fn as_str(self) -> &'static str {
        match self {
            Address::Identity => "identity",
            Address::KeyVault => "key_vault",
            Address::Key => "key",
            Address::AccessPolicy => "access_policy",
            Address::RoleAssignment => "role_assignment",
            Address::StorageAccount => "storage_account",
            Address::StorageAccountIdentity => "storage_account_identity",
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource change: what it is, before and after per attribute, and the
/// desired state apply sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub action: Action,
    /// What kind of resource it is, in the diff and the JSON.
    pub address: Address,
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

/// The desired state of one resource, as apply will request it: each kind
/// its own struct, so the executor dispatches on it once. The request each
/// sends is `Desired::request` (`requests.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Desired {
    Identity(IdentityCreate),
    KeyVault(VaultCreate),
    EnablePurgeProtection(PurgeProtection),
    Key(KeyCreate),
    AccessPolicy(AccessPolicyGrant),
    RoleAssignment(RoleAssignmentGrant),
    StorageEncryption(StorageSwitch),
}

/// PUT a user-assigned identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityCreate {
    pub id: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
}

/// PUT a vault with soft delete and purge protection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultCreate {
    pub id: String,
    pub location: String,
    pub tenant_id: String,
    pub rbac_authorization: bool,
    pub tags: BTreeMap<String, String>,
}

/// PATCH an existing vault to turn on purge protection (and soft delete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurgeProtection {
    pub id: String,
}

/// PUT a key if it does not exist (never changes an existing key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyCreate {
    pub vault_id: String,
    pub name: String,
    pub key_size: u32,
    pub expiry_days: Option<u32>,
    pub rotation_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
}

/// Add get/wrapKey/unwrapKey for the principal to the vault's access policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessPolicyGrant {
    pub vault_id: String,
    pub tenant_id: String,
    pub principal: Principal,
}

/// PUT a role assignment (Key Vault Crypto Service Encryption User).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleAssignmentGrant {
    pub id: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal: Principal,
    /// What marks it as the tool's, for this account
    /// (`ownership::grant_description`): role assignments take no tags, and
    /// rollback finds a repair's grant by this.
    pub description: String,
}

/// PATCH the account: add the identity (keeping every identity it has)
/// and switch encryption to the key, without a key version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageSwitch {
    pub account_id: String,
    pub identity_type: String,
    /// The user-assigned identities sent: the ones the account had
    /// (except `dropped_identities`), plus the new one.
    pub user_assigned_identities: Vec<String>,
    /// Attached identities that no longer exist (deleted while
    /// attached): Azure refuses an update that names one, so they are
    /// not sent back. Absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_identities: Vec<String>,
    pub identity_id: String,
    pub key_vault_uri: String,
    pub key_name: String,
}

impl Plan {
    /// The tenants the plan is for, as the views name them: its tenant, or,
    /// for a plan across several (`tenants`), each of them, sorted.
    pub fn tenant_ids(&self) -> Vec<&str> {
        if !self.tenant_id.is_empty() || self.tenants.is_empty() {
            return vec![self.tenant_id.as_str()];
        }
        let ids: std::collections::BTreeSet<&str> =
            self.tenants.values().map(String::as_str).collect();
        ids.into_iter().collect()
    }

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
            change: changes
                .clone()
                .filter(|c| c.action == Action::Update)
                .count(),
            destroy: changes.filter(|c| c.action == Action::Delete).count(),
            accounts: accounts.len(),
            skipped: skipped.len(),
            unread: 0,
        }
    }
}

impl Observed {
    /// SHA-256 (hex) of the canonical JSON of what was observed.
    pub fn fingerprint(&self) -> String {
        sha256_hex(self)
    }
}

fn sha256_hex(value: &impl Serialize) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    fn addresses_are_written_as_their_short_names() {
        for address in [
            Address::Identity,
            Address::KeyVault,
            Address::Key,
            Address::AccessPolicy,
            Address::RoleAssignment,
            Address::StorageAccount,
            Address::StorageAccountIdentity,
        ] {
            let text = serde_json::to_string(&address).unwrap();
            assert_eq!(text, format!("\"{}\"", address.as_str()));
            assert_eq!(serde_json::from_str::<Address>(&text).unwrap(), address);
        }
        assert!(serde_json::from_str::<Address>("\"dns_zone\"").is_err());
    }

    #[test]
    fn desired_states_round_trip_through_json() {
        let d = Desired::AccessPolicy(AccessPolicyGrant {
            vault_id: "v".into(),
            tenant_id: "t".into(),
            principal: Principal::OfIdentity {
                identity_id: "i".into(),
            },
        });
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.contains(r#""kind":"access_policy""#), "{text}");
        assert_eq!(serde_json::from_str::<Desired>(&text).unwrap(), d);
    }
}
