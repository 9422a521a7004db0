//! What apply did, per account and per step: the summary table, the
//! `--output json` document (versioned, docs/output.md) and the exit code.

use crate::exit_status::ExitStatus;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub dry_run: bool,
    pub summary: ApplySummary,
    pub accounts: Vec<AccountResult>,
    /// What the plan could not read (the plan's `unread`): apply could not
    /// see whether these need changes, so it is not all done. Absent from
    /// the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<crate::plan::Unread>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplySummary {
    pub done: usize,
    pub failed: usize,
    pub refused: usize,
    pub skipped: usize,
    /// A dry run's accounts where apply would create resources (absent from
    /// the JSON when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub would_create: usize,
    /// A dry run's accounts where apply would only update existing ones
    /// (absent from the JSON when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub would_update: usize,
    /// Subscriptions and accounts the plan could not read (apply only;
    /// absent from the JSON when 0, as in the plan).
    #[serde(skip_serializing_if = "is_zero")]
    pub unread: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every change made (or found made) and the result verified.
    Done,
    /// A step failed; `reason` and `next_step` say what and what to do.
    Failed,
    /// Not touched: the account changed since the plan was made.
    Refused,
    /// Nothing to do.
    Skipped,
    /// A dry run: apply would create resources for the account.
    WouldCreate,
    /// A dry run: apply would only update resources that exist.
    WouldUpdate,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
            Outcome::Skipped => "skipped",
            Outcome::WouldCreate => "would create",
            Outcome::WouldUpdate => "would update",
        }
    }
}

/// One account's result. Rollback's `accounts[]` has the same fields
/// (docs/output.md), so it reuses this struct with its own steps; the default
/// is apply's.
#[derive(Debug, Clone, Serialize)]
pub struct AccountResult<Step = StepResult> {
    pub storage_account_id: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    pub steps: Vec<Step>,
}

/// One step of an account; rollback reuses it with its own statuses.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult<Status = StepStatus> {
    /// Apply: `identity`, `key_vault`, `key`, `access_policy`,
    /// `role_assignment`, `storage_account`, `verify`. Rollback:
    /// `storage_account`, `storage_account_identity`, `access_policy`,
    /// `role_assignment`, `verify`.
    pub address: String,
    pub id: String,
    pub status: Status,
    /// The call made (or, in a dry run, that would be made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Created,
    Updated,
    /// Found already in the desired state (an earlier run made it).
    AlreadyDone,
    Verified,
    WouldCall,
    Failed,
}

impl ApplyReport {
    pub fn exit_code(&self) -> ExitStatus {
        self.summary.exit_code()
    }
}

impl ApplySummary {
    /// Counts the outcomes of apply's or rollback's accounts.
    pub fn of<Step>(accounts: &[AccountResult<Step>]) -> Self {
        let count = |o: Outcome| accounts.iter().filter(|a| a.outcome == o).count();
        ApplySummary {
            done: count(Outcome::Done),
            failed: count(Outcome::Failed),
            refused: count(Outcome::Refused),
            skipped: count(Outcome::Skipped),
            would_create: count(Outcome::WouldCreate),
            would_update: count(Outcome::WouldUpdate),
            unread: 0,
        }
    }

    /// 0 when every account is done or had nothing to do; 3 when one failed
    /// or was refused, or something could not be read (docs/output.md).
    /// Apply and rollback both exit with it.
    pub fn exit_code(&self) -> ExitStatus {
        if self.failed + self.refused + self.unread > 0 {
            ExitStatus::PARTIAL
        } else {
            ExitStatus::Success
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(outcome: Outcome) -> AccountResult {
        AccountResult {
            storage_account_id: "/s/a".into(),
            outcome,
            reason: None,
            next_step: None,
            steps: vec![],
        }
    }

    #[test]
    fn a_dry_run_counts_what_it_would_do_not_skipped_accounts() {
        let summary = ApplySummary::of(&[
            account(Outcome::WouldCreate),
            account(Outcome::WouldCreate),
            account(Outcome::WouldUpdate),
            account(Outcome::Skipped),
        ]);
        assert_eq!(
            (summary.would_create, summary.would_update, summary.skipped),
            (2, 1, 1)
        );
        assert_eq!(summary.exit_code(), ExitStatus::Success);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["would_create"], 2);
        // Absent when 0, as apply's other runs print them.
        let done = serde_json::to_value(ApplySummary::of(&[account(Outcome::Done)])).unwrap();
        assert!(done.get("would_create").is_none(), "{done}");
        assert!(done.get("would_update").is_none(), "{done}");
    }
}
