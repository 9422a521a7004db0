//! What rollback did, per account and per step: the summary table, the
//! `--output json` document (versioned, docs/output.md) and the exit code,
//! which mean what apply's do.

use super::model::RollbackPlan;
use crate::apply::report as apply_report;
use crate::apply::ApplySummary;
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

/// Apply's account result with rollback's steps: the JSON has the same shape.
pub type AccountResult = apply_report::AccountResult<StepResult>;

/// Apply's step result with rollback's statuses.
pub type StepResult = apply_report::StepResult<StepStatus>;

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
    /// The same as apply's (docs/output.md).
    pub fn exit_code(&self) -> crate::exit_status::ExitStatus {
        self.summary.exit_code()
    }
}

/// Counts the outcomes as apply does.
pub fn summary_of(accounts: &[AccountResult]) -> ApplySummary {
    ApplySummary::of(accounts)
}
