//! Undoing a remediation, for an operator who hits trouble after switching to
//! a customer-managed key: back to Microsoft-managed keys (`keySource`
//! `Microsoft.Storage`), the user-assigned identity the tool added taken off
//! the account (every identity it had before stays) and, on request, the
//! tool's grants removed. Keys and vaults are never deleted or disabled: data
//! encrypted under them must stay readable.
//!
//! Like apply: a plan as data (`model.rs`), computed from fresh reads
//! (`build.rs`, recognising the tool's work by its tags in `observe.rs`),
//! carried out per account with read-first steps (`steps.rs`), by the
//! executor apply's plans go through (`crate::execute`), and verified
//! (`verify.rs`).

pub mod build;
pub mod model;
pub mod observe;
pub mod report;
pub mod steps;
mod verify;

pub use build::{build, BuildError, BuildOptions};
pub use model::*;
pub use report::{AccountResult, RollbackReport, StepResult, StepStatus};

use crate::apply::{Outcome, Progress};
use crate::azure::id::StorageAccountId;
use crate::azure::{storage, Arm};
use crate::execute::{self, Mode, Walk};
use crate::plan::ObservedAccount;

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
    let walk = Walk {
        parallelism: options.parallelism,
        dry_run: options.dry_run,
        check_fingerprints: options.check_fingerprints,
    };
    let mut accounts = execute::execute(&Rollback { arm }, &plan.accounts, walk, progress).await;
    accounts.extend(plan.refused.iter().map(|r| {
        execute::refused(
            &r.storage_account_id,
            execute::Refusal::new(r.reason.clone(), r.next_step.clone()),
        )
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

/// A rollback plan's accounts, as the executor carries them out.
struct Rollback<'a> {
    arm: &'a Arm,
}

impl Mode for Rollback<'_> {
    type Account = AccountRollback;
    type Step = StepResult;
    type Context = ();

    fn account_id(account: &AccountRollback) -> &str {
        &account.storage_account_id
    }

    fn step_count(account: &AccountRollback) -> usize {
        account.changes.len() + 1
    }

    fn begin(&self, _: &AccountRollback) {}

    /// A saved rollback plan's account that no longer looks as it did when
    /// the plan was made is left alone: the plan's changes were computed
    /// from that.
    async fn refusal(&self, _: &(), account: &AccountRollback) -> Option<execute::Refusal> {
        let id = match StorageAccountId::parse(&account.storage_account_id) {
            Ok(id) => id,
            Err(e) => {
                return Some(execute::Refusal::new(
                    e.to_string(),
                    "run rollback --out again",
                ))
            }
        };
        match storage::get(self.arm, &id).await {
            Ok(now) if ObservedAccount::of(&now).fingerprint() == account.fingerprint => None,
            Ok(_) => Some(execute::Refusal::new(
                "changed since the rollback plan was made (its key source, key or identities differ from what the plan relied on)",
                "run rollback --out again, review it, and apply the new plan",
            )),
            Err(e) => Some(execute::Refusal::new(
                format!("cannot read it again to check it against the rollback plan: {e}"),
                "fix the access or endpoint problem, then run rollback --out again",
            )),
        }
    }

    fn dry_run(&self, account: &AccountRollback) -> AccountResult {
        steps::dry_run(account)
    }

    async fn run(
        &self,
        _: (),
        account: &AccountRollback,
        progress: &dyn Progress,
    ) -> AccountResult {
        steps::run(self.arm, account, progress).await
    }
}
