//! What rollback did, per account and per step: the summary table, the
//! `--output json` document (versioned, docs/output.md) and the exit code,
//! which mean what apply's do.

use super::model::RollbackPlan;
use crate::apply::report::exit_code;
use crate::apply::{ApplySummary, Outcome};
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub dry_run: bool,
    /// The plan that was shown (and confirmed).
    pub plan: RollbackPlan,
    /// Counts of `done`, `failed`, `refused`, `skipped` accounts.
    pub summary: ApplySummary,
    /// Every account: rolled back, refused or skipped; sorted by id.
    pub accounts: Vec<AccountResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountResult {
    pub storage_account_id: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// `storage_account`, `storage_account_identity`, `access_policy`,
    /// `role_assignment`, `verify`.
    pub address: String,
    pub id: String,
    pub status: StepStatus,
    /// The call made (or, in a dry run, that would be made).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Updated,
    Removed,
    /// Found already rolled back (an earlier run did it).
    AlreadyDone,
    Verified,
    WouldCall,
    Failed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Updated => "updated",
            StepStatus::Removed => "removed",
            StepStatus::AlreadyDone => "already done",
            StepStatus::Verified => "verified",
            StepStatus::WouldCall => "would call",
            StepStatus::Failed => "failed",
        }
    }
}

impl RollbackReport {
    /// 0 when every account is done or had nothing to do; 3 when one failed
    /// or was refused (docs/output.md).
    pub fn exit_code(&self) -> u8 {
        if self.summary.failed + self.summary.refused > 0 {
            exit_code::PARTIAL
        } else {
            exit_code::DONE
        }
    }
}

pub fn summary_of(accounts: &[AccountResult]) -> ApplySummary {
    let count = |o: Outcome| accounts.iter().filter(|a| a.outcome == o).count();
    ApplySummary {
        done: count(Outcome::Done),
        failed: count(Outcome::Failed),
        refused: count(Outcome::Refused),
        skipped: count(Outcome::Skipped),
    }
}
