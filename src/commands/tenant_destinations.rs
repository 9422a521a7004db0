//! Destinations across tenants: a subscription of one covered tenant may
//! send its activity log to an account in another covered tenant's
//! subscription. Read on the first tenant's connection, ARM refuses the
//! token (401 `InvalidAuthenticationTokenTenant`) and the audit reports the
//! account unreadable; here it is judged again on the connection of the
//! tenant whose subscription list holds the account's subscription, keeping
//! the sources that found it. An account of a tenant that refused the
//! sign-in stays unreadable, its next step pointing at that refusal.

use super::tenants::{Refused, TenantArm};
use crate::audit::report::{AuditReport, Summary};
use crate::audit::{account, Status};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Snapshot};
use std::collections::BTreeMap;

/// Each report (by the index of the tenant that audited it) with its
/// unreadable accounts of another connected tenant judged on that tenant's
/// connection and snapshot. Nothing is read unless an account is unreadable.
pub async fn judge_in_own_tenant(
    connected: &[TenantArm],
    snapshots: &[Snapshot],
    reports: &mut [(usize, AuditReport)],
    parallelism: usize,
) {
    let unreadable = |r: &AuditReport| {
        r.destinations
            .iter()
            .any(|d| d.status == Status::Unreadable)
    };
    if connected.len() < 2 || !reports.iter().any(|(_, r)| unreadable(r)) {
        return;
    }
    let holders = holders(connected).await;
    for (auditor, report) in reports.iter_mut() {
        let mut judged = false;
        for d in &mut report.destinations {
            if d.status != Status::Unreadable {
                continue;
            }
            let Ok(id) = StorageAccountId::parse(&d.storage_account_id) else {
                continue;
            };
            let Some(&holder) = holders.get(&id.subscription_id().to_ascii_lowercase()) else {
                continue;
            };
            if holder == *auditor {
                continue;
            }
            tracing::info!(account = %id, tenant = %connected[holder].tenant_id, "reading the account in its own tenant");
            let sources = std::mem::take(&mut d.sources);
            *d = account::judge_one(
                &connected[holder].arm,
                &snapshots[holder],
                &id,
                sources,
                parallelism,
            )
            .await;
            report.warnings.extend(account::pinned_version_warning(d));
            judged = true;
        }
        if judged {
            // The account may no longer make the tenant's report incomplete.
            report.summary = Summary::with_groups(
                &report.subscriptions,
                &report.management_groups,
                &report.destinations,
            );
        }
    }
}

/// The index of the connected tenant holding each subscription (lower-case
/// id), from each tenant's subscription list. A list that cannot be read
/// leaves its tenant's accounts unreadable, as without this step.
async fn holders(connected: &[TenantArm]) -> BTreeMap<String, usize> {
    let mut holders = BTreeMap::new();
    for (index, tenant) in connected.iter().enumerate() {
        match subscriptions::list(&tenant.arm).await {
            Ok((subs, _pages)) => {
                for s in subs {
                    holders
                        .entry(s.subscription_id.to_ascii_lowercase())
                        .or_insert(index);
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant.tenant_id, error = %e, "cannot list the tenant's subscriptions")
            }
        }
    }
    holders
}

/// An unreadable account of a tenant that refused the sign-in: the next
/// step is that tenant's sign-in, not covering it (it was asked for).
pub fn point_at_refusals(report: &mut AuditReport, refused: &[Refused]) {
    for d in &mut report.destinations {
        if d.status != Status::Unreadable {
            continue;
        }
        for reason in &mut d.reasons {
            for r in refused {
                let uncovered = account::uncovered_hint(&r.tenant_id);
                if reason.message.contains(&uncovered) {
                    let code = match r.code.as_str() {
                        "" => String::new(),
                        code => format!(" ({code})"),
                    };
                    reason.message = reason.message.replace(
                        &uncovered,
                        &format!("; the account is in tenant {}, which refused the sign-in{code} (see the warning): add the principal to that tenant, then run again", r.tenant_id),
                    );
                }
            }
        }
    }
}
