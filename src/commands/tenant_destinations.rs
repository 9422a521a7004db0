//! Destinations across tenants: a subscription of one covered tenant may
//! send its activity log to an account in another covered tenant's
//! subscription. Read on the first tenant's connection, ARM refuses the
//! token (401 `InvalidAuthenticationTokenTenant`) and the audit reports the
//! account unreadable; here it is judged again on the connection of the
//! tenant whose subscription list holds the account's subscription, keeping
//! the sources that found it. An account of a tenant that refused the
//! sign-in stays unreadable, its next step pointing at that refusal.

use super::tenants::{Refused, TenantArm};
use crate::audit::report::{AuditReport, Destination, Source, Summary};
use crate::audit::{account, Status};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Snapshot};
use futures::stream::{self, StreamExt};
use std::collections::BTreeMap;

/// The reports (each with the index of the tenant that audited it) with
/// their unreadable accounts of another connected tenant judged on that
/// tenant's connection and snapshot and moved to that tenant's report (one
/// made for it if it has none), where its plan, across tenants, finds them
/// and applies on its connection. Nothing is read unless an account is
/// unreadable.
pub async fn judge_in_own_tenant(
    connected: &[TenantArm],
    snapshots: &[Snapshot],
    reports: &mut Vec<(usize, AuditReport)>,
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
    // Taken out of the auditing tenant's report: (holder, account, sources).
    let mut elsewhere: Vec<(usize, StorageAccountId, Vec<Source>)> = Vec::new();
    for (auditor, report) in reports.iter_mut() {
        let before = report.destinations.len();
        let mut kept = Vec::new();
        for d in std::mem::take(&mut report.destinations) {
            let holder = (d.status == Status::Unreadable)
                .then(|| StorageAccountId::parse(&d.storage_account_id).ok())
                .flatten()
                .and_then(|id| {
                    let holder = *holders.get(&id.subscription_id().to_ascii_lowercase())?;
                    (holder != *auditor).then_some((holder, id))
                });
            match holder {
                Some((holder, id)) => elsewhere.push((holder, id, d.sources)),
                None => kept.push(d),
            }
        }
        report.destinations = kept;
        if report.destinations.len() != before {
            // The account no longer makes this tenant's report incomplete.
            report.summary = Summary::with_groups(
                &report.subscriptions,
                &report.management_groups,
                &report.destinations,
            );
        }
    }
    // Judged as the audit judges accounts: up to `parallelism` at once.
    let moved: Vec<(usize, Destination)> = stream::iter(elsewhere)
        .map(|(holder, id, sources)| async move {
            tracing::info!(account = %id, tenant = %connected[holder].tenant_id, "reading the account in its own tenant");
            let judged = account::judge_one(
                &connected[holder].arm,
                &snapshots[holder],
                &id,
                sources,
                parallelism,
            )
            .await;
            (holder, judged)
        })
        .buffered(parallelism.max(1))
        .collect()
        .await;
    for (holder, d) in moved {
        let at = match reports.iter().position(|(index, _)| *index == holder) {
            Some(at) => at,
            None => {
                let template = &reports[0].1;
                reports.push((holder, empty_like(template, &connected[holder])));
                reports.len() - 1
            }
        };
        let report = &mut reports[at].1;
        report.warnings.extend(account::pinned_version_warning(&d));
        match report.destinations.iter_mut().find(|seen| {
            seen.storage_account_id
                .eq_ignore_ascii_case(&d.storage_account_id)
        }) {
            // Judged by its own tenant already, or moved there from another.
            Some(seen) => seen.sources.extend(
                d.sources
                    .into_iter()
                    .filter(|s| !seen.sources.contains(s))
                    .collect::<Vec<_>>(),
            ),
            None => report.destinations.push(d),
        }
        report.summary = Summary::with_groups(
            &report.subscriptions,
            &report.management_groups,
            &report.destinations,
        );
    }
}

/// A report of `tenant` with nothing in it (its subscriptions were not in
/// scope), to hold the accounts of its subscriptions others send to.
fn empty_like(template: &AuditReport, tenant: &TenantArm) -> AuditReport {
    AuditReport {
        arm_endpoint: tenant.arm.endpoint().to_string(),
        summary: Summary::default(),
        subscriptions: Vec::new(),
        management_groups: Vec::new(),
        destinations: Vec::new(),
        warnings: Vec::new(),
        ..template.clone()
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
