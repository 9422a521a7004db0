//! Find every storage account that receives a subscription's (or a
//! management group's) activity log and judge its encryption. Data flows one
//! way: ARM -> sources (`sources.rs`, `management_groups.rs`) -> unique
//! destinations, one read each -> CMK health reads (`health.rs`) -> status
//! and reasons (`classify.rs`) -> [`AuditReport`].

pub mod account;
pub mod classify;
pub mod health;
pub mod management_groups;
pub mod report;
pub mod scope;
pub mod sources;

pub use management_groups::GroupScope;
pub use report::{
    AuditReport, Coverage, Destination, ManagementGroupAudit, Reason, ReasonCode, Source,
    SourceKind, Status,
};

use crate::azure::id::StorageAccountId;
use crate::azure::storage::StorageAccount;
use crate::azure::{keyvault, Arm, AzureError, Snapshot};
use crate::shard::Shard;
use classify::{cmk_reasons, cmk_status, reason, CmkObservation};
use futures::channel::mpsc;
use futures::stream::{self, StreamExt};
use report::{Encryption, SubscriptionAudit, Summary, Warning, SCHEMA_VERSION};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Validated, lower-case subscription ids; empty means every visible one.
    pub subscriptions: Vec<String>,
    /// Which management groups' activity-log settings are read.
    pub management_groups: GroupScope,
    /// How many reads may be in flight at once.
    pub parallelism: usize,
}

/// One destination account and everything that sends to it.
struct Target {
    id: StorageAccountId,
    sources: Vec<Source>,
}

/// Runs the audit. Fails only when nothing could be audited (the
/// subscription list is unreadable); every other failure is reported in the
/// result and makes it incomplete.
pub async fn run(
    arm: &Arm,
    snapshot: &Snapshot,
    options: &AuditOptions,
) -> Result<AuditReport, AzureError> {
    run_shard(arm, snapshot, options, None).await
}

/// [`run`] on the subscriptions of one `shard` only (all when `None`),
/// picked as the subscription list is read (or from the ids given).
pub async fn run_shard(
    arm: &Arm,
    snapshot: &Snapshot,
    options: &AuditOptions,
    shard: Option<Shard>,
) -> Result<AuditReport, AzureError> {
    let parallelism = options.parallelism.max(1);
    let everything = options.subscriptions.is_empty();
    let tenants = scope::ListedTenants::default();
    let in_scope =
        scope::subscriptions(arm, snapshot, &options.subscriptions, shard, &tenants).await?;
    // Each subscription's sources are read as soon as the list names it, and
    // each destination as soon as a source first names it. The two stages
    // meet through a queue, so that destinations in flight never hold up
    // the sources (nor the other way round).
    let mut per_subscription: Vec<Result<sources::SubscriptionSources, AzureError>> = Vec::new();
    let mut named = HashSet::new();
    let (named_first, to_read) = mpsc::unbounded::<StorageAccountId>();
    let read_so_far = &mut per_subscription;
    let ((), mut read_early, groups): ((), HashMap<String, Result<StorageAccount, AzureError>>, _) = tokio::join!(
        in_scope
            .map(|listed| async move { Ok(sources::read(arm, &listed?).await) })
            .buffered(parallelism)
            .for_each(move |found| {
                if let Some(found) = found.as_ref().ok().filter(|f| f.fatal.is_none()) {
                    for (id, _) in &found.sources {
                        if named.insert(id.id().key()) {
                            // Sent while the receiver lives: it outlives this stage.
                            let _ = named_first.unbounded_send(id.clone());
                        }
                    }
                }
                read_so_far.push(found);
                std::future::ready(())
            }),
        to_read
            .map(|id| async move { (id.id().key(), snapshot.account(arm, &id).await) })
            .buffer_unordered(parallelism)
            .collect(),
        management_groups::read(arm, &options.management_groups, shard, parallelism)
    );
    let tenants = tenants.into_inner();
    // A shard's scope is not every subscription: a vault missing from it is
    // then searched in every visible one, as for an explicit -s list.
    let everything = everything && shard.is_none();
    let mut audits: Vec<SubscriptionAudit> = Vec::new();
    let mut warnings: Vec<Warning> = Vec::new();
    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    let mut found_sources = Vec::new();
    let mut scope: Vec<String> = Vec::new();
    for found in per_subscription {
        // The subscription list could not be read (to its end): nothing is judged.
        let found = found?;
        scope.push(found.audit.subscription_id.clone());
        if let Some(fatal) = found.fatal {
            return Err(fatal);
        }
        audits.push(found.audit);
        warnings.extend(found.warnings);
        found_sources.extend(found.sources);
    }
    tracing::info!(subscriptions = scope.len(), "read activity-log sources");
    // The groups' sources after the subscriptions': a destination lists its
    // subscriptions' settings first.
    if let Some(fatal) = groups.fatal {
        return Err(fatal);
    }
    warnings.extend(groups.warnings);
    found_sources.extend(groups.sources);
    for (id, source) in found_sources {
        targets
            .entry(id.id().key())
            .or_insert_with(|| Target {
                id: id.clone(),
                sources: Vec::new(),
            })
            .sources
            .push(source);
    }
    tracing::info!(destinations = targets.len(), "judging destination accounts");

    let accounts: Vec<(Target, Result<StorageAccount, AzureError>)> =
        stream::iter(targets.into_values())
            .map(|target| {
                // Only the management groups' own destinations are still to read.
                let early = read_early.remove(&target.id.id().key());
                async move {
                    let account = match early {
                        Some(account) => account,
                        None => snapshot.account(arm, &target.id).await,
                    };
                    (target, account)
                }
            })
            .buffered(parallelism)
            .collect()
            .await;

    // Vault name -> the accounts that use it (where to search for it).
    let mut vault_names: BTreeMap<String, Vec<StorageAccountId>> = BTreeMap::new();
    for account in accounts.iter().filter_map(|(_, a)| a.as_ref().ok()) {
        if let Some(name) = account
            .uses_key_vault()
            .then_some(account.key_vault_uri.as_deref())
            .flatten()
            .and_then(keyvault::vault_name_from_uri)
        {
            vault_names
                .entry(name)
                .or_default()
                .push(account.id.clone());
        }
    }
    let vaults =
        health::read_vaults(arm, snapshot, vault_names, &scope, everything, parallelism).await;

    let now = chrono::Utc::now();
    let destinations: Vec<Destination> = stream::iter(accounts)
        .map(|(target, account)| {
            let vaults = &vaults;
            async move { judge(arm, snapshot, target, account, vaults, now.timestamp()).await }
        })
        .buffered(parallelism)
        .collect()
        .await;
    warnings.extend(
        destinations
            .iter()
            .filter_map(account::pinned_version_warning),
    );

    Ok(AuditReport {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: now,
        arm_endpoint: arm.endpoint().to_string(),
        coverage: Coverage {
            tenant_id: only_tenant(&tenants),
            shard,
            missing_shards: Vec::new(),
        },
        summary: Summary::with_groups(&audits, &groups.audits, &destinations),
        subscriptions: audits,
        management_groups: groups.audits,
        destinations,
        warnings,
    })
}

/// The tenant every listed subscription belongs to, if they agree.
fn only_tenant(tenants: &BTreeMap<String, String>) -> Option<String> {
    let mut all = tenants.values().map(|t| t.to_ascii_lowercase());
    let first = all.next()?;
    all.all(|t| t == first).then_some(first)
}

async fn judge(
    arm: &Arm,
    snapshot: &Snapshot,
    target: Target,
    account: Result<StorageAccount, AzureError>,
    vaults: &health::VaultIndex,
    now: i64,
) -> Destination {
    let id = target.id.to_string();
    let (status, reasons, encryption) = match &account {
        Err(e) if e.is_not_found() => (
            Status::Missing,
            vec![reason(
                ReasonCode::AccountNotFound,
                format!("storage account {id} does not exist ({}): point the settings below at an existing account, or delete them", e.code().unwrap_or("404")),
            )],
            None,
        ),
        Err(e) => {
            let code = if e.is_forbidden() {
                ReasonCode::AccessDenied
            } else {
                ReasonCode::ReadFailed
            };
            let mut message = sources::explain(
                e,
                &format!("storage account {id}"),
                "Microsoft.Storage/storageAccounts/read",
                &id,
            );
            // Read with another tenant's token: say which tenant to cover.
            message.extend(account::wrong_tenant_hint(e, target.id.subscription_id()));
            (Status::Unreadable, vec![reason(code, message)], None)
        }
        Ok(account) => {
            let mut encryption = Some(Encryption {
                key_source: account.key_source.clone(),
                key_vault_uri: account.key_vault_uri.clone(),
                key_vault_id: None,
                key_name: account.key_name.clone(),
                key_version: account.key_version.clone(),
                identity: account.encryption_identity.clone(),
            });
            if account.uses_key_vault() {
                let observed: CmkObservation = health::observe(arm, snapshot, account, vaults).await;
                if let (Some(e), Some(vault)) = (encryption.as_mut(), observed.vault.found()) {
                    e.key_vault_id = Some(vault.id.to_string());
                }
                let reasons = cmk_reasons(account, &observed, now);
                (cmk_status(&reasons), reasons, encryption)
            } else {
                (
                    Status::NonCompliant,
                    vec![reason(
                        ReasonCode::MicrosoftManagedKeys,
                        format!("storage account {id} is encrypted with Microsoft-managed keys (keySource {}): run `actlog-cmk plan` to see the fix", account.key_source),
                    )],
                    encryption,
                )
            }
        }
    };
    Destination {
        storage_account_id: id,
        status,
        reasons,
        sources: target.sources,
        encryption,
    }
}
