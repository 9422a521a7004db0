//! Plan and apply across tenants (`--tenant`, `--all-tenants`): each tenant
//! planned on its own connection, the plans combined into one to review and
//! save (each subscription's tenant in `Plan::tenants`), and apply split
//! back by tenant, each part carried out on a connection signed in to its
//! tenant. A saved plan across tenants is checked per tenant, as a plan of
//! one tenant is (`plan::file::origin`). A tenant that refuses the sign-in
//! is an unread entry (`/tenants/{id}`): the plan is incomplete (exit 3).

use super::tenant_destinations;
use super::tenants::{self, Refused, TenantArm};
use crate::apply::{self, ApplyOptions, ApplyReport, ApplySummary, Progress};
use crate::audit::{self, AuditOptions, GroupScope};
use crate::azure::id::StorageAccountId;
use crate::azure::subscriptions::SubscriptionRef;
use crate::azure::Snapshot;
use crate::cli::AzureArgs;
use crate::plan::{Plan, PlanSettings, PlanStatus, PlanSummary, Unread};
use crate::shard::Shard;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One tenant's share of the work: its connection, the reads its plan was
/// built on, and its plan.
pub struct Part {
    pub tenant: TenantArm,
    pub snapshot: Snapshot,
    pub plan: Plan,
}

/// The subscription of a storage account id, lower case.
fn subscription_of(account_id: &str) -> Option<String> {
    StorageAccountId::parse(account_id)
        .ok()
        .map(|id| id.subscription_id().to_ascii_lowercase())
}

/// The unread entry of a tenant that refused the sign-in.
fn unread(refused: &Refused) -> Unread {
    Unread {
        id: format!("/tenants/{}", refused.tenant_id),
        reason: refused.warning().message,
    }
}

/// What of each tenant a plan covers: the `-s` subscriptions (all when
/// none), the management groups, the shard.
pub struct Reach<'a> {
    pub subscriptions: &'a [SubscriptionRef],
    pub management_groups: &'a GroupScope,
    pub shard: Option<Shard>,
}

/// Signs in to the tenants asked for (`ids`, or every tenant the
/// credential's own lists when `all`) and plans each ([`plan`]): what
/// `plan` and `apply` without a plan file do across tenants.
pub async fn connect_and_plan(
    azure: &AzureArgs,
    ids: &[String],
    all: bool,
    reach: Reach<'_>,
    settings: &PlanSettings,
    parallelism: usize,
) -> anyhow::Result<(Plan, Vec<Part>)> {
    let (connected, refused) = tenants::connect(azure, ids, all).await?;
    plan(azure, connected, &refused, reach, settings, parallelism).await
}

/// Plans each connected tenant (of `reach.subscriptions` only, when given),
/// returning the parts and their combination.
async fn plan(
    azure: &AzureArgs,
    connected: Vec<TenantArm>,
    refused: &[Refused],
    reach: Reach<'_>,
    settings: &PlanSettings,
    parallelism: usize,
) -> anyhow::Result<(Plan, Vec<Part>)> {
    // Every tenant audited first: an account one tenant sends to may be in
    // another's subscription, judged and planned on that tenant's
    // connection (tenant_destinations.rs).
    let snapshots: Vec<Snapshot> = connected.iter().map(|_| Snapshot::new()).collect();
    let mut reports = Vec::new();
    let mut found: Vec<SubscriptionRef> = Vec::new();
    for (index, tenant) in connected.iter().enumerate() {
        let scope: Vec<SubscriptionRef> = if reach.subscriptions.is_empty() {
            Vec::new()
        } else {
            let (ids, matched) = tenants::pick(&tenant.arm, reach.subscriptions).await?;
            found.extend(matched);
            if ids.is_empty() {
                continue;
            }
            ids.into_iter().map(SubscriptionRef::Id).collect()
        };
        let options = AuditOptions {
            subscriptions: super::scope::resolve(&tenant.arm, &scope).await?,
            management_groups: reach.management_groups.clone(),
            parallelism,
        };
        let report =
            audit::run_shard(&tenant.arm, &snapshots[index], &options, reach.shard).await?;
        reports.push((index, report));
    }
    tenants::check_found(reach.subscriptions, &found, reports.len())?;
    tenant_destinations::judge_in_own_tenant(&connected, &snapshots, &mut reports, parallelism)
        .await;
    // In the tenants' order, as before (a tenant holding only accounts
    // others send to comes at its place).
    reports.sort_by_key(|(index, _)| *index);
    let mut tenants: Vec<Option<(TenantArm, Snapshot)>> =
        connected.into_iter().zip(snapshots).map(Some).collect();
    let mut parts = Vec::new();
    for (index, report) in reports {
        let Some((tenant, snapshot)) = tenants[index].take() else {
            continue;
        };
        let mut plan = super::remediation::plan_from(
            &tenant.arm,
            &snapshot,
            &report,
            reach.shard,
            settings,
            parallelism,
        )
        .await?;
        plan.tenant_id = tenant.tenant_id.clone();
        parts.push(Part {
            tenant,
            snapshot,
            plan,
        });
    }
    let mut combined = combine(parts.iter().map(|p| &p.plan), settings, reach.shard);
    combined.unread.extend(refused.iter().map(unread));
    combined.summary.unread = combined.unread.len();
    if combined.arm_endpoint.is_empty() {
        // No tenant planned (each refused the sign-in): the endpoint asked for.
        combined.arm_endpoint = tenants::endpoint(azure);
    }
    Ok((combined, parts))
}

/// One plan of `plans` (each of one tenant): accounts and skipped ones
/// sorted by id, each subscription's tenant recorded.
fn combine<'a>(
    plans: impl Iterator<Item = &'a Plan>,
    settings: &PlanSettings,
    shard: Option<Shard>,
) -> Plan {
    let mut accounts = Vec::new();
    let mut skipped = Vec::new();
    let mut unread = Vec::new();
    let mut tenants = BTreeMap::new();
    let mut tenant_ids = BTreeSet::new();
    let mut arm_endpoint = String::new();
    for plan in plans {
        tenant_ids.insert(plan.tenant_id.clone());
        arm_endpoint = plan.arm_endpoint.clone();
        let ids = plan.accounts.iter().map(|a| &a.storage_account_id).chain(
            plan.skipped
                .iter()
                // An account the tenant could not read may be another
                // tenant's (401 InvalidAuthenticationTokenTenant): its
                // subscription's tenant is not known.
                .filter(|s| s.status != PlanStatus::Unreadable)
                .map(|s| &s.storage_account_id),
        );
        for sub in ids.filter_map(|id| subscription_of(id)) {
            tenants.insert(sub, plan.tenant_id.clone());
        }
        accounts.extend(plan.accounts.iter().cloned());
        skipped.extend(plan.skipped.iter().cloned());
        unread.extend(plan.unread.iter().cloned());
    }
    accounts.sort_by_key(|a| a.storage_account_id.to_ascii_lowercase());
    skipped.sort_by_key(|s| s.storage_account_id.to_ascii_lowercase());
    let mut summary = PlanSummary::of(&accounts, &skipped);
    summary.unread = unread.len();
    Plan {
        schema_version: crate::plan::model::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        tenant_id: match tenant_ids.len() {
            1 => tenant_ids.into_iter().next().unwrap_or_default(),
            _ => String::new(),
        },
        arm_endpoint,
        shard,
        tenants,
        settings: settings.clone(),
        accounts,
        skipped,
        unread,
        summary,
    }
}

/// A saved plan across tenants, split by tenant: each part's accounts are
/// those whose subscription the plan records in that tenant; each part is
/// checked as a plan of its tenant (endpoint, every account's subscription
/// still in it) on a connection signed in to it. A tenant that refuses the
/// sign-in now fails the whole apply before anything is changed.
pub async fn open_saved(azure: &AzureArgs, plan: &Plan, path: &Path) -> anyhow::Result<Vec<Part>> {
    let in_tenant = |account_id: &str, tenant: &str| {
        subscription_of(account_id)
            .and_then(|sub| plan.tenants.get(&sub))
            .is_some_and(|t| t.eq_ignore_ascii_case(tenant))
    };
    let tenant_ids: BTreeSet<String> = plan
        .tenants
        .values()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if let Some(orphan) = plan.accounts.iter().find(|a| {
        !tenant_ids
            .iter()
            .any(|t| in_tenant(&a.storage_account_id, t))
    }) {
        anyhow::bail!(
            "the plan {} names no tenant for {}: it was edited after plan made it; run plan again; nothing was changed",
            path.display(),
            orphan.storage_account_id
        );
    }
    let ids: Vec<String> = tenant_ids.into_iter().collect();
    let (connected, refused) = tenants::connect(azure, &ids, false).await?;
    if let Some(refused) = refused.first() {
        anyhow::bail!("{}; nothing was changed", refused.warning().message);
    }
    let mut parts = Vec::new();
    for tenant in connected {
        let mut part = plan.clone();
        part.tenant_id = tenant.tenant_id.clone();
        part.accounts
            .retain(|a| in_tenant(&a.storage_account_id, &tenant.tenant_id));
        part.skipped
            .retain(|s| in_tenant(&s.storage_account_id, &tenant.tenant_id));
        part.tenants
            .retain(|_, t| t.eq_ignore_ascii_case(&tenant.tenant_id));
        part.unread.clear();
        crate::plan::file::origin::check(&tenant.arm, &part, path).await?;
        parts.push(Part {
            tenant,
            snapshot: Snapshot::new(),
            plan: part,
        });
    }
    Ok(parts)
}

/// Carries out each part on its tenant's connection, one tenant after
/// another, into one report (accounts sorted by id, as one run sorts them);
/// `unread` is the combined plan's.
pub async fn apply_each(
    parts: &[Part],
    unread: &[Unread],
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyReport {
    let mut accounts = Vec::new();
    let mut dry_run = options.dry_run;
    for part in parts {
        let report = apply::apply(
            &part.tenant.arm,
            &part.snapshot,
            &part.plan,
            options,
            progress,
        )
        .await;
        dry_run = report.dry_run;
        accounts.extend(report.accounts);
    }
    accounts.sort_by_key(|a| a.storage_account_id.to_ascii_lowercase());
    let mut summary = ApplySummary::of(&accounts);
    summary.unread = unread.len();
    ApplyReport {
        schema_version: apply::report::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        dry_run,
        summary,
        accounts,
        unread: unread.to_vec(),
    }
}
