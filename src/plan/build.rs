//! Computing the plan from an audit: for each destination that needs it, the
//! resources to create or update. Only reads; never writes to Azure. The
//! reads are `gather.rs`, the changes a pure function of them (`diff.rs`).
//!
//! - `non_compliant` accounts get the full remediation: identity, vault, key,
//!   grant, storage update. What exists already (from an earlier, interrupted
//!   apply, or given with `--identity` / `--key-vault`) is reused, not created.
//! - `cmk_broken` accounts get a repair when the fix is clear: the missing
//!   grant, or purge protection on the vault. Other breakage needs a person.

use super::diff::{self, AccountInputs};
use super::gather::Gatherer;
use super::model::*;
use crate::audit::{AuditReport, Destination, ReasonCode, Status};
use crate::azure::{Arm, AzureError, Snapshot};
use futures::stream::{self, StreamExt};

pub use super::attributes::DROPPED_IDENTITY;
pub use super::diff::with_user_assigned;
pub use super::ownership::{made_for, TAG_ACCOUNT, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Azure(#[from] AzureError),
    #[error("{0}")]
    Invalid(String),
}

impl From<diff::Refusal> for PlanError {
    fn from(r: diff::Refusal) -> Self {
        PlanError::Invalid(r.0)
    }
}

/// The outcome for one destination.
enum Outcome {
    Planned(Box<AccountPlan>),
    Skipped(Skipped),
}

fn skipped(d: &Destination, status: PlanStatus, reason: impl Into<String>) -> Outcome {
    Outcome::Skipped(Skipped {
        storage_account_id: d.storage_account_id.clone(),
        status,
        reason: reason.into(),
    })
}

pub async fn build(
    arm: &Arm,
    snapshot: &Snapshot,
    report: &AuditReport,
    settings: &PlanSettings,
    parallelism: usize,
) -> Result<Plan, PlanError> {
    let gatherer = Gatherer::new(arm, snapshot, report, settings, parallelism).await?;
    let outcomes: Vec<Outcome> = stream::iter(&report.destinations)
        .map(|d| plan_destination(&gatherer, settings, d))
        .buffered(parallelism.max(1))
        .collect()
        .await;
    let mut accounts = Vec::new();
    let mut skipped = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Planned(p) if p.changes.is_empty() => skipped.push(Skipped {
                storage_account_id: p.storage_account_id,
                status: p.status,
                reason: "nothing to change".into(),
            }),
            Outcome::Planned(p) => accounts.push(*p),
            Outcome::Skipped(s) => skipped.push(s),
        }
    }
    let tenant_id = gatherer
        .tenants
        .values()
        .next()
        .cloned()
        .unwrap_or_default();
    let unread = unread(report);
    let mut summary = PlanSummary::of(&accounts, &skipped);
    summary.unread = unread.len();
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        tenant_id,
        arm_endpoint: arm.endpoint().to_string(),
        shard: None,
        tenants: Default::default(),
        settings: settings.clone(),
        summary,
        accounts,
        skipped,
        unread,
    })
}

/// What the audit could not read: subscriptions whose sources were not
/// listed completely (they may send the activity log to accounts nobody saw),
/// management groups likewise, and destination accounts that could not be read.
fn unread(report: &AuditReport) -> Vec<Unread> {
    let subscriptions = report
        .subscriptions
        .iter()
        .filter(|s| !s.complete)
        .map(|s| Unread {
            id: format!("/subscriptions/{}", s.subscription_id),
            reason: if s.errors.is_empty() {
                "its activity-log sources could not be read completely".to_string()
            } else {
                s.errors.join("; ")
            },
        });
    let groups = report
        .management_groups
        .iter()
        .filter(|g| !g.complete)
        .map(|g| Unread {
            id: format!(
                "/providers/Microsoft.Management/managementGroups/{}",
                g.management_group_id
            ),
            reason: g.errors.join("; "),
        });
    let accounts = report
        .destinations
        .iter()
        .filter(|d| d.status == Status::Unreadable)
        .map(|d| Unread {
            id: d.storage_account_id.clone(),
            reason: d
                .reasons
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        });
    subscriptions.chain(groups).chain(accounts).collect()
}

/// Reasons a repair can fix without a person's judgement.
fn repairable(code: ReasonCode) -> bool {
    matches!(
        code,
        ReasonCode::IdentityLacksKeyAccess
            | ReasonCode::VaultPurgeProtectionDisabled
            | ReasonCode::VaultSoftDeleteDisabled
    )
}

async fn plan_destination(
    gatherer: &Gatherer<'_>,
    settings: &PlanSettings,
    d: &Destination,
) -> Outcome {
    let result = match d.status {
        Status::Compliant => {
            return skipped(
                d,
                PlanStatus::Compliant,
                "already on a healthy customer-managed key",
            )
        }
        Status::Unreadable | Status::Missing => {
            let why: Vec<&str> = d.reasons.iter().map(|r| r.message.as_str()).collect();
            return skipped(d, d.status.into(), why.join("; "));
        }
        Status::CmkBroken => {
            if let Some(r) = d.reasons.iter().find(|r| !repairable(r.code)) {
                return skipped(
                    d,
                    PlanStatus::CmkBroken,
                    format!("needs a person: {} (the tool does not change keys or identities an account already uses)", r.message),
                );
            }
            planned(d, settings, gatherer.repair(d).await)
        }
        Status::NonCompliant => planned(d, settings, gatherer.remediation(d).await),
    };
    match result {
        Ok(plan) => Outcome::Planned(Box::new(plan)),
        Err(e) => skipped(d, PlanStatus::Error, format!("could not plan: {e}")),
    }
}

/// The account's plan from its gathered inputs.
fn planned(
    d: &Destination,
    settings: &PlanSettings,
    inputs: Result<AccountInputs, PlanError>,
) -> Result<AccountPlan, PlanError> {
    let inputs = inputs?;
    let changes = diff::changes(&inputs, settings)?;
    let observed = inputs.seen.observed(&inputs.targets);
    Ok(AccountPlan {
        storage_account_id: d.storage_account_id.clone(),
        status: d.status.into(),
        fingerprint: observed.fingerprint(),
        observed,
        targets: inputs.targets,
        changes,
    })
}
