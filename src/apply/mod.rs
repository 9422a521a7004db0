//! Carrying out a plan: per account, identity and vault at once, then key,
//! grant, storage update and verification; accounts in parallel (the walk,
//! shared with rollback plans, is `crate::execute`). Every step
//! reads first and writes only what is missing, so a rerun after a crash
//! finishes the work without creating anything twice (`steps.rs`). Waiting
//! for Azure (vault DNS, grant propagation) is in `wait.rs`, telling a grant
//! on its way from a key storage can never use in `diagnose.rs`; the proof
//! that the account works is in `verify.rs`.

mod diagnose;
pub mod failure;
pub mod progress;
pub mod report;
mod steps;
mod verify;
mod wait;

pub use progress::Progress;
pub use report::{AccountResult, ApplyReport, ApplySummary, Outcome, StepResult, StepStatus};

use crate::azure::id::StorageAccountId;
use crate::azure::{Arm, Snapshot};
use crate::execute::{self, Mode, Refusal, Walk};
use crate::plan::observe::{observe, unchanged_since, what_changed};
use crate::plan::{AccountPlan, Plan};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// How long to keep retrying errors that mean "the grant has not reached
    /// Azure Storage yet" or "the new identity is not in the directory yet".
    pub propagation_timeout: Duration,
    /// Show the calls, write nothing.
    pub dry_run: bool,
    /// The plan comes from a file: check each account's fingerprint first.
    pub check_fingerprints: bool,
}

/// Applies `plan`, building on the command's `snapshot`: each account sees
/// only what is read or written from its start on (a plan made in the same
/// command may be minutes old once the operator has confirmed it).
pub async fn apply(
    arm: &Arm,
    snapshot: &Snapshot,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyReport {
    let mode = Remediation {
        arm,
        snapshot,
        options,
        propagation: wait::Propagation::default(),
    };
    let walk = Walk {
        parallelism: options.parallelism,
        dry_run: options.dry_run,
        check_fingerprints: options.check_fingerprints,
    };
    let accounts = execute::execute(&mode, &plan.accounts, walk, progress).await;
    let mut summary = ApplySummary::of(&accounts);
    summary.unread = plan.unread.len();
    ApplyReport {
        schema_version: report::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        dry_run: options.dry_run,
        summary,
        accounts,
        unread: plan.unread.clone(),
    }
}

/// A remediation plan's accounts, as the executor carries them out.
struct Remediation<'a> {
    arm: &'a Arm,
    snapshot: &'a Snapshot,
    options: &'a ApplyOptions,
    propagation: wait::Propagation,
}

impl Mode for Remediation<'_> {
    type Account = AccountPlan;
    type Step = StepResult;
    /// The reads made since the account began.
    type Context = Snapshot;

    fn account_id(account: &AccountPlan) -> &str {
        &account.storage_account_id
    }

    fn step_count(account: &AccountPlan) -> usize {
        account.changes.len() + 1
    }

    fn begin(&self, _: &AccountPlan) -> Snapshot {
        self.snapshot.since(self.snapshot.mark())
    }

    /// A plan file's account that no longer looks as it did is left alone.
    async fn refusal(&self, seen_since: &Snapshot, account: &AccountPlan) -> Option<Refusal> {
        let id = match StorageAccountId::parse(&account.storage_account_id) {
            Ok(id) => id,
            Err(e) => return Some(Refusal::new(e.to_string(), "run plan again")),
        };
        match observe(self.arm, seen_since, &id, &account.targets).await {
            Ok(seen) if unchanged_since(account, &seen) => None,
            Ok(seen) => {
                let changed = what_changed(account, &seen);
                let reason = if changed.is_empty() {
                    // A plan file that fingerprinted something this version
                    // does not name.
                    "changed since the plan was made (the account, its identity, vault, key or grant differ from what the plan relied on)".to_string()
                } else {
                    format!("changed since the plan was made: {}", changed.join("; "))
                };
                Some(Refusal::new(
                    reason,
                    "run plan again, review it, and apply the new plan",
                ))
            }
            Err(e) => Some(Refusal::new(
                format!("cannot read it again to check it against the plan: {e}"),
                "fix the access or endpoint problem, then run plan again",
            )),
        }
    }

    fn dry_run(&self, account: &AccountPlan) -> AccountResult {
        steps::dry_run(account)
    }

    async fn run(
        &self,
        seen_since: Snapshot,
        account: &AccountPlan,
        progress: &dyn Progress,
    ) -> AccountResult {
        steps::Runner::new(
            self.arm,
            account,
            self.options,
            progress,
            &self.propagation,
            seen_since,
        )
        .run()
        .await
    }
}
