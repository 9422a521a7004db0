//! Carrying out a plan: per account, identity and vault at once, then key,
//! grant, storage update and verification; accounts in parallel. Every step
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
use crate::plan::observe::{observe, unchanged_since, what_changed};
use crate::plan::{AccountPlan, Plan};
use futures::stream::{self, StreamExt};
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
    let propagation = wait::Propagation::default();
    let accounts: Vec<AccountResult> = stream::iter(&plan.accounts)
        .map(|account| {
            let seen = snapshot.since(snapshot.mark());
            apply_account(arm, seen, account, options, progress, &propagation)
        })
        .buffer_unordered(options.parallelism.max(1))
        .collect()
        .await;
    let mut accounts = accounts;
    accounts.sort_by(|a, b| a.storage_account_id.cmp(&b.storage_account_id));
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

async fn apply_account(
    arm: &Arm,
    snapshot: Snapshot,
    account: &AccountPlan,
    options: &ApplyOptions,
    progress: &dyn Progress,
    propagation: &wait::Propagation,
) -> AccountResult {
    let id = &account.storage_account_id;
    progress.started(id, account.changes.len() + 1);
    let result = match refuse_if_changed(arm, &snapshot, account, options).await {
        Some(refused) => refused,
        None if options.dry_run => steps::dry_run(account),
        None => {
            steps::Runner::new(arm, account, options, progress, propagation, snapshot)
                .run()
                .await
        }
    };
    progress.finished(id, &result);
    result
}

/// A plan file's account that no longer looks as it did is left alone.
async fn refuse_if_changed(
    arm: &Arm,
    snapshot: &Snapshot,
    account: &AccountPlan,
    options: &ApplyOptions,
) -> Option<AccountResult> {
    if !options.check_fingerprints {
        return None;
    }
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
        Err(e) => return refuse(e.to_string(), "run plan again"),
    };
    match observe(arm, snapshot, &id, &account.targets).await {
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
            refuse(reason, "run plan again, review it, and apply the new plan")
        }
        Err(e) => refuse(
            format!("cannot read it again to check it against the plan: {e}"),
            "fix the access or endpoint problem, then run plan again",
        ),
    }
}
