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
    let here = arm.endpoint().as_str().trim_end_matches('/');
    let there = plan.arm_endpoint.trim_end_matches('/');
    if !here.eq_ignore_ascii_case(there) {
        return Err(PlanFileError::OtherEndpoint {
            path: path.to_path_buf(),
            planned: there.to_string(),
            here: here.to_string(),
        });
    }
    let mut seen = BTreeSet::new();
    for account in &plan.accounts {
        let id = StorageAccountId::parse(&account.storage_account_id).map_err(|source| {
            PlanFileError::InvalidAccount {
                path: path.to_path_buf(),
                source,
            }
        })?;
        if !seen.insert(id.subscription_id().to_string()) {
            continue;
        }
        let tenant = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
        if !tenant.eq_ignore_ascii_case(&plan.tenant_id) {
            return Err(PlanFileError::OtherTenant {
                path: path.to_path_buf(),
                planned: plan.tenant_id.clone(),
                subscription: id.subscription_id().to_string(),
                actual: tenant,
            });
        }
    }
    Ok(())
}
