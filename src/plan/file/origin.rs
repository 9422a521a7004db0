//! Whether a loaded plan file belongs where it is about to be applied: made
//! against this ARM endpoint, and for the tenant its subscriptions are in
//! now. A plan for another cloud or tenant is refused as a whole, before
//! any account is looked at (Terraform refuses a plan for another backend
//! the same way).

use super::PlanFileError;
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Arm};
use crate::plan::Plan;
use std::collections::BTreeSet;
use std::path::Path;

/// Refuses `plan` (loaded from `path`) when it was made against another
/// endpoint than `arm`'s, or for another tenant than the one each of its
/// subscriptions is in (one subscription read each).
pub async fn check(arm: &Arm, plan: &Plan, path: &Path) -> Result<(), PlanFileError> {
    let accounts = plan.accounts.iter().map(|a| a.storage_account_id.as_str());
    check_made_for(arm, (&plan.arm_endpoint, &plan.tenant_id), accounts, path).await
}

/// [`check`] for a plan of either mode: `made_for` is the endpoint and the
/// tenant it was made for, `accounts` the accounts it changes.
pub async fn check_made_for(
    arm: &Arm,
    made_for: (&str, &str),
    accounts: impl Iterator<Item = &str>,
    path: &Path,
) -> Result<(), PlanFileError> {
    let (endpoint, plan_tenant) = made_for;
    let here = arm.endpoint().as_str().trim_end_matches('/');
    let there = endpoint.trim_end_matches('/');
    if !here.eq_ignore_ascii_case(there) {
        return Err(PlanFileError::OtherEndpoint {
            path: path.to_path_buf(),
            planned: there.to_string(),
            here: here.to_string(),
        });
    }
    let mut seen = BTreeSet::new();
    for account in accounts {
        let id =
            StorageAccountId::parse(account).map_err(|source| PlanFileError::InvalidAccount {
                path: path.to_path_buf(),
                source,
            })?;
        if !seen.insert(id.subscription_id().to_string()) {
            continue;
        }
        let tenant = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
        if !tenant.eq_ignore_ascii_case(plan_tenant) {
            return Err(PlanFileError::OtherTenant {
                path: path.to_path_buf(),
                planned: plan_tenant.to_string(),
                subscription: id.subscription_id().to_string(),
                actual: tenant,
            });
        }
    }
    Ok(())
}
