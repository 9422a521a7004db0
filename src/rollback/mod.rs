//! Undoing a remediation, for an operator who hits trouble after switching to
//! a customer-managed key: back to Microsoft-managed keys (`keySource`
//! `Microsoft.Storage`), the user-assigned identity the tool added taken off
//! the account (every identity it had before stays) and, on request, the
//! tool's grants removed. Keys and vaults are never deleted or disabled: data
//! encrypted under them must stay readable.
//!
//! Like apply: a plan as data (`model.rs`), computed from fresh reads
//! (`build.rs`, recognising the tool's work by its tags in `observe.rs`),
//! carried out per account with read-first steps (`execute.rs`), accounts in
//! parallel, and verified (`verify.rs`).

pub mod build;
pub mod execute;
pub mod model;
pub mod observe;
pub mod report;
mod verify;

pub use build::{build, BuildError, BuildOptions};
pub use model::*;
pub use report::{AccountResult, RollbackReport, StepResult, StepStatus};

use crate::apply::{self, Outcome, Progress};
use crate::azure::id::StorageAccountId;
use crate::azure::{storage, Arm};
use crate::plan::ObservedAccount;
use futures::stream::{self, StreamExt};

#[derive(Debug, Clone)]
pub struct RollbackOptions {
    pub parallelism: usize,
    /// Show the calls, write nothing.
    pub dry_run: bool,
    /// The plan comes from a file (`rollback --out`, then `apply FILE`):
    /// an account that changed since is refused, as apply refuses one.
    pub check_fingerprints: bool,
}

/// Carries out the plan; refused and skipped accounts are reported as such.
pub async fn rollback(
    arm: &Arm,
    plan: &RollbackPlan,
    options: &RollbackOptions,
    progress: &dyn Progress,
) -> RollbackReport {
    let mut accounts: Vec<AccountResult> = stream::iter(&plan.accounts)
        .map(|account| rollback_account(arm, account, options, progress))
        .buffer_unordered(options.parallelism.max(1))
        .collect()
        .await;
    accounts.extend(plan.refused.iter().map(|r| AccountResult {
        storage_account_id: r.storage_account_id.clone(),
        outcome: Outcome::Refused,
        reason: Some(r.reason.clone()),
        next_step: Some(r.next_step.clone()),
        steps: Vec::new(),
    }));
    accounts.extend(plan.skipped.iter().map(|s| AccountResult {
        storage_account_id: s.storage_account_id.clone(),
        outcome: Outcome::Skipped,
        reason: Some(s.reason.clone()),
        next_step: None,
        steps: Vec::new(),
    }));
    accounts.sort_by(|a, b| a.storage_account_id.cmp(&b.storage_account_id));
    RollbackReport {
        schema_version: report::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        dry_run: options.dry_run,
        plan: plan.clone(),
        summary: report::summary_of(&accounts),
        accounts,
    }
}

/// A saved rollback plan's account that no longer looks as it did when the
/// plan was made is left alone: the plan's changes were computed from that.
async fn refuse_if_changed(arm: &Arm, account: &AccountRollback) -> Option<AccountResult> {
    let refuse = |reason: String, next: &str| {
        Some(AccountResult {
            storage_account_id: account.storage_account_id.clone(),
            outcome: Outcome::Refused,
            reason: Some(reason),
            next_step: Some(next.to_string()),
            steps: Vec::new(),
        })
    };
    let id = match StorageAccountId::parse(&account.storage_account_id) {
        Ok(id) => id,
        Err(e) => return refuse(e.to_string(), "run rollback --out again"),
    };
    match storage::get(arm, &id).await {
        Ok(now) if ObservedAccount::of(&now).fingerprint() == account.fingerprint => None,
        Ok(_) => refuse(
            "changed since the rollback plan was made (its key source, key or identities differ from what the plan relied on)".into(),
            "run rollback --out again, review it, and apply the new plan",
        ),
        Err(e) => refuse(
            format!("cannot read it again to check it against the rollback plan: {e}"),
            "fix the access or endpoint problem, then run rollback --out again",
        ),
    }
}

async fn rollback_account(
    arm: &Arm,
    account: &AccountRollback,
    options: &RollbackOptions,
    progress: &dyn Progress,
) -> AccountResult {
    let id = &account.storage_account_id;
    progress.started(id, account.changes.len() + 1);
    let refused = match options.check_fingerprints {
        true => refuse_if_changed(arm, account).await,
        false => None,
    };
    let result = match refused {
        Some(refused) => refused,
        None if options.dry_run => execute::dry_run(account),
        None => execute::run(arm, account, progress).await,
    };
    // The progress views know apply's result type; they show only the outcome.
    progress.finished(
        id,
        &apply::AccountResult {
            storage_account_id: id.clone(),
            outcome: result.outcome,
            reason: None,
            next_step: None,
            steps: Vec::new(),
        },
    );
    result
}
