//! `report merge`: combines the JSON audit reports of `audit --shard K/N`
//! into the report one unsharded run would have written. Reports of other
//! tenants, tool or schema versions, or overlapping shards are refused; a
//! merge that lacks shards is marked partial (`missing_shards`) and incomplete.

use crate::audit::report::{
    AuditReport, Coverage, Destination, ManagementGroupAudit, Source, Summary, Warning,
    SCHEMA_VERSION,
};
use crate::audit::Status;
use crate::shard::Shard;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::path::Path;

/// Reads one shard report; anything that is not audit JSON is refused.
pub fn read(path: &Path) -> anyhow::Result<AuditReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report: AuditReport = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an audit JSON report (write one with `actlog-cmk audit --shard K/N -o json`)",
            path.display()
        )
    })?;
    if report.schema_version != SCHEMA_VERSION {
        bail!(
            "{} has schema_version {}; this actlog-cmk reads {SCHEMA_VERSION}",
            path.display(),
            report.schema_version
        );
    }
    Ok(report)
}

/// Merges `reports` (named by `names`, for messages), each a different shard
/// of the same N, of one tenant and tool version.
pub fn merge(reports: Vec<(String, AuditReport)>) -> anyhow::Result<AuditReport> {
    let Some((first_name, first)) = reports.first() else {
        bail!("no reports to merge");
    };
    let mut shards: BTreeMap<u32, &str> = BTreeMap::new();
    let mut count = None;
    let mut tenant: Option<(&str, &str)> = None;
    for (name, report) in &reports {
        let Some(shard) = report.coverage.shard else {
            bail!("{name} is not a shard report (it has no shard); merge reports of `audit --shard K/N`");
        };
        if report.tool_version != first.tool_version {
            bail!(
                "{name} was written by actlog-cmk {} and {first_name} by {}: merge reports of one version",
                report.tool_version,
                first.tool_version
            );
        }
        if report.arm_endpoint != first.arm_endpoint {
            bail!("{name} and {first_name} audited different ARM endpoints");
        }
        match (tenant, report.coverage.tenant_id.as_deref()) {
            (Some((other, other_name)), Some(this)) if other != this => bail!(
                "{name} is of tenant {this} and {other_name} of tenant {other}: merge reports of one tenant"
            ),
            (None, Some(this)) => tenant = Some((this, name)),
            _ => {}
        }
        match count {
            Some(n) if n != shard.count => {
                bail!("{name} is shard {shard} but the others are of {n} shards: shards overlap")
            }
            _ => count = Some(shard.count),
        }
        if let Some(other) = shards.insert(shard.index, name) {
            bail!("{name} and {other} are both shard {shard}: shards overlap");
        }
    }
    let count = count.unwrap_or(1);
    let missing_shards: Vec<Shard> = (1..=count)
        .filter(|k| !shards.contains_key(k))
        .map(|index| Shard { index, count })
        .collect();
    let coverage = Coverage {
        tenant_id: tenant.map(|(t, _)| t.to_string()),
        shard: None,
        missing_shards,
    };
    Ok(combine(
        reports.into_iter().map(|(_, r)| r).collect(),
        coverage,
    ))
}

/// One report of `reports` (at least one), as one run over all of them would write it.
pub fn combine(reports: Vec<AuditReport>, coverage: Coverage) -> AuditReport {
    let first = reports[0].clone();
    // What a report was incomplete for beyond its subscriptions and
    // destinations (a tenant that refused the sign-in) stays so merged.
    let incomplete = reports.iter().any(|r| r.summary.incomplete);
    let mut subscriptions = Vec::new();
    let mut management_groups: Vec<ManagementGroupAudit> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();
    let mut destinations: BTreeMap<String, Destination> = BTreeMap::new();
    for report in reports {
        subscriptions.extend(report.subscriptions);
        // Each group is read by one shard; the same group twice is kept once.
        for group in report.management_groups {
            if !management_groups.contains(&group) {
                management_groups.push(group);
            }
        }
        for warning in report.warnings {
            // Account-level warnings (no subscription) repeat in every shard
            // that sends to the account.
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        for d in report.destinations {
            match destinations.get_mut(&d.storage_account_id.to_ascii_lowercase()) {
                Some(seen) => absorb(seen, d),
                None => {
                    destinations.insert(d.storage_account_id.to_ascii_lowercase(), d);
                }
            }
        }
    }
    // One run lists subscriptions in the subscription list's order, which
    // the shards no longer know: sorted by id is the merged report's order.
    subscriptions.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
    let mut destinations: Vec<Destination> = destinations.into_values().collect();
    for d in &mut destinations {
        // Subscriptions' sources first, then management groups', as one run lists them.
        d.sources.sort_by(|a, b| {
            let key = |s: &'_ Source| {
                (
                    s.management_group_id.clone(),
                    s.subscription_id.clone(),
                    s.kind,
                    s.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
    }
    // As one run: subscriptions' warnings by subscription (stable: each
    // keeps its order), then the accounts' in account order.
    warnings.sort_by_key(|w| {
        (
            w.subscription_id.is_none(),
            w.subscription_id.clone(),
            w.subscription_id
                .is_none()
                .then(|| w.message.to_ascii_lowercase()),
        )
    });
    management_groups.sort_by(|a, b| a.management_group_id.cmp(&b.management_group_id));
    let mut summary = Summary::with_groups(&subscriptions, &management_groups, &destinations);
    summary.incomplete |= incomplete || !coverage.missing_shards.is_empty();
    AuditReport {
        generated_at: chrono::Utc::now(),
        coverage,
        summary,
        subscriptions,
        management_groups,
        destinations,
        warnings,
        ..first
    }
}

/// The same account seen from another shard: its sources join; a judgement
/// from a shard that could read the account wins over one that could not.
fn absorb(seen: &mut Destination, other: Destination) {
    for source in other.sources {
        if !seen.sources.contains(&source) {
            seen.sources.push(source);
        }
    }
    if seen.status == Status::Unreadable && other.status != Status::Unreadable {
        seen.storage_account_id = other.storage_account_id;
        seen.status = other.status;
        seen.reasons = other.reasons;
        seen.encryption = other.encryption;
    }
}
