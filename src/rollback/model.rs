//! The rollback plan as plain data, like the remediation plan: per account,
//! the changes (`~` update, `-` remove) with their attributes before and
//! after, what the execution will do for each, and what must still be there
//! afterwards (the identities the account keeps, the key and its vault).
//! Computing it (`build.rs`), carrying it out (`steps.rs`) and showing it
//! (`render/rollback.rs`) are separate.

use crate::plan::{Action, Address, AttributeChange, ObservedAccount, PlanMode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlan {
    /// Always `rollback`: what tells a saved undo plan from a remediation.
    pub mode: PlanMode,
    /// The plan file's schema ([`crate::plan::SCHEMA_VERSION`]).
    pub schema_version: u32,
    pub tool_version: String,
    pub created_at: DateTime<Utc>,
    /// The tenant of the accounts' subscriptions, set when the plan is saved
    /// (`rollback --out`); apply refuses the file in another tenant.
    pub tenant_id: String,
    /// The ARM endpoint the plan was made against.
    pub arm_endpoint: String,
    /// `--remove-grants`: the tool's access policy entries and role
    /// assignments are removed too.
    pub remove_grants: bool,
    /// Accounts with something to roll back, sorted by id.
    pub accounts: Vec<AccountRollback>,
    /// Named accounts the tool did not remediate (without `--force`).
    pub refused: Vec<Refusal>,
    /// Accounts with nothing to roll back, and why.
    pub skipped: Vec<Skip>,
    pub summary: RollbackSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackSummary {
    pub change: usize,
    pub remove: usize,
    pub accounts: usize,
    pub refused: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub storage_account_id: String,
    pub reason: String,
    pub next_step: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub storage_account_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRollback {
    pub storage_account_id: String,
    /// SHA-256 over `observed`: applying a saved rollback plan reads the
    /// account again and refuses it when this no longer matches.
    pub fingerprint: String,
    /// The account as read when the plan was made.
    pub observed: ObservedAccount,
    /// False when only `--force` lets the rollback through (the account's
    /// key is not one the tool created for it).
    pub remediated_by_tool: bool,
    /// What the rollback leaves alone and verification checks is still there.
    pub keeps: Keeps,
    /// The user-assigned identities the tool created for the account:
    /// verification checks none is on it any more (they are not deleted).
    pub tool_identities: Vec<String>,
    /// Things worth saying that are not changes (an identity kept because
    /// the tool did not create it, ...).
    pub notes: Vec<String>,
    /// In the order they are carried out: the key source first, then the
    /// identity, then the grants.
    pub changes: Vec<RollbackChange>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keeps {
    /// The system-assigned identity's principal, when the account has one.
    pub system_principal_id: Option<String>,
    /// Every user-assigned identity the account keeps (as it names them).
    pub user_assigned_identities: Vec<String>,
    /// The key the account used, with its vault: never deleted or disabled.
    pub key: Option<KeptKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptKey {
    pub vault_id: String,
    pub name: String,
    /// Whether it was enabled when the plan was made (verification expects
    /// it to be still).
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackChange {
    /// `update` (`~`) or `delete` (`-`): the plan's actions.
    pub action: Action,
    /// `storage_account`, `storage_account_identity`, `access_policy`,
    /// `role_assignment`: the plan's vocabulary.
    pub address: Address,
    pub id: String,
    /// For an update, before and after; for a removal, `before` is what goes
    /// and `after` is `null`.
    pub attributes: Vec<AttributeChange>,
    pub undo: Undo,
}

/// What the execution requests for one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Undo {
    /// PATCH `keySource` back to `Microsoft.Storage` and clear the
    /// encryption identity.
    MicrosoftManagedKeys { account_id: String },
    /// PATCH the tool's user-assigned identities off the account.
    DetachIdentities {
        account_id: String,
        identity_ids: Vec<String>,
    },
    /// Take get/wrapKey/unwrapKey away from the tool's identity.
    RemoveAccessPolicy {
        vault_id: String,
        tenant_id: String,
        principal_id: String,
    },
    /// DELETE the role assignment the tool created.
    DeleteRoleAssignment { id: String },
}

impl crate::plan::file::SavedPlan for RollbackPlan {
    const MODE: PlanMode = PlanMode::Rollback;

    fn schema_version(&self) -> u32 {
        self.schema_version
    }

    fn tampered_account(&self) -> Option<String> {
        let accounts = self.accounts.iter();
        crate::plan::file::first_tampered(accounts.map(|a| {
            (
                &a.storage_account_id,
                &a.fingerprint,
                a.observed.fingerprint(),
            )
        }))
    }
}

impl RollbackPlan {
    pub fn has_changes(&self) -> bool {
        self.accounts.iter().any(|a| !a.changes.is_empty())
    }
}

impl RollbackSummary {
    pub fn of(accounts: &[AccountRollback], refused: &[Refusal], skipped: &[Skip]) -> Self {
        let changes = accounts.iter().flat_map(|a| &a.changes);
        RollbackSummary {
            change: changes
                .clone()
                .filter(|c| c.action == Action::Update)
                .count(),
            remove: changes.filter(|c| c.action == Action::Delete).count(),
            accounts: accounts.len(),
            refused: refused.len(),
            skipped: skipped.len(),
        }
    }
}
