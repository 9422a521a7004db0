//! Turns the remediation flags, the environment and the config file into
//! validated plan settings (flags and environment win over the file), and
//! plans now for `plan` and `apply` without a plan file.

use crate::audit::{self, AuditOptions, AuditReport, GroupScope};
use crate::azure::id::ResourceId;
use crate::azure::subscriptions::{self, SubscriptionRef};
use crate::azure::{Arm, Snapshot};
use crate::cli::{RemediationArgs, ScopeArgs};
use crate::plan::config::{self, TemplateKind};
use crate::plan::{self, naming, PermissionModel, Plan, PlanSettings};
use crate::shard::Shard;
use anyhow::{anyhow, bail};

pub const DEFAULT_KEY_SIZE: u32 = 3072;
/// 128, not 16: an account spends most of its time waiting (vault DNS, grant
/// propagation), so a hundred accounts in separate subscriptions finish in
/// about the time of one only if all run at once (16: 51 s for 100, 128:
/// 12 s; docs/benchmarks.md). Many accounts in one subscription are held
/// back by ARM's buckets instead, whose 429s the connection waits out.
pub const DEFAULT_PARALLELISM: u16 = 128;

/// Audits `subscriptions` (ids or names; every subscription the credential
/// sees when empty; of those, only `shard`'s) and the management groups of
/// `management_groups`, and plans the changes; the plan
/// records its shard. An empty plan still says which tenant it is for: the
/// plan records the tenant of the accounts it changes, and without any the
/// tenant of the first subscription in scope.
pub async fn plan_now(
    arm: &Arm,
    snapshot: &Snapshot,
    subscriptions: &[SubscriptionRef],
    management_groups: &GroupScope,
    shard: Option<Shard>,
    settings: &PlanSettings,
    parallelism: usize,
) -> anyhow::Result<Plan> {
    let report = audit::run_shard(
        arm,
        snapshot,
        &AuditOptions {
            subscriptions: super::scope::resolve(arm, subscriptions).await?,
            management_groups: management_groups.clone(),
            parallelism,
        },
        shard,
    )
    .await?;
    plan_from(arm, snapshot, &report, shard, settings, parallelism).await
}

/// The plan of an audit `report` made on `arm` (of `shard`, when given),
/// naming its tenant as [`plan_now`] says.
pub async fn plan_from(
    arm: &Arm,
    snapshot: &Snapshot,
    report: &AuditReport,
    shard: Option<Shard>,
    settings: &PlanSettings,
    parallelism: usize,
) -> anyhow::Result<Plan> {
    let mut plan = plan::build::build(arm, snapshot, report, settings, parallelism).await?;
    plan.shard = shard;
    if plan.tenant_id.is_empty() {
        // As the subscription list gave them to the audit.
        let listed = report
            .subscriptions
            .iter()
            .find_map(|s| snapshot.tenant(&s.subscription_id));
        plan.tenant_id = match listed {
            Some(tenant) => tenant,
            None => match report.subscriptions.first() {
                Some(first) => {
                    subscriptions::get(arm, &first.subscription_id)
                        .await?
                        .tenant_id
                }
                None => String::new(),
            },
        };
    }
    Ok(plan)
}

fn resource_id(text: &str, flag: &str, resource_type: &str) -> anyhow::Result<String> {
    let id = ResourceId::parse(text).map_err(|e| anyhow!("{flag}: {e}"))?;
    if !id.is_type(resource_type) {
        bail!(
            "{flag}: '{text}' is a {} id, not a {resource_type} id",
            id.resource_type()
        );
    }
    Ok(id.to_string())
}

/// The settings and the parallelism.
pub fn settings(
    args: &RemediationArgs,
    scope: &ScopeArgs,
) -> anyhow::Result<(PlanSettings, usize)> {
    let file = config::load_config(args.config.as_deref())?;
    let key_name = config::validate_key_name(
        &args
            .key_name
            .clone()
            .or(file.key_name)
            .unwrap_or_else(|| naming::DEFAULT_KEY_NAME.to_string()),
    )
    .map_err(|e| anyhow!("--key-name: {e}"))?;
    let key_size =
        config::validate_key_size(args.key_size.or(file.key_size).unwrap_or(DEFAULT_KEY_SIZE))
            .map_err(|e| anyhow!("--key-size: {e}"))?;
    let days = |flag: Option<u32>, from_file: Option<u32>, name: &str| {
        flag.or(from_file)
            .map(|d| config::validate_days(d).map_err(|e| anyhow!("{name}: {e}")))
            .transpose()
    };
    let key_expiry_days = days(
        args.key_expiry_days,
        file.key_expiry_days,
        "--key-expiry-days",
    )?;
    let key_rotation_days = days(
        args.key_rotation_days,
        file.key_rotation_days,
        "--key-rotation-days",
    )?;
    // Before any read or write: Key Vault would refuse the key on every account.
    config::validate_key_lifetime(key_expiry_days, key_rotation_days)
        .map_err(|e| anyhow!("{e}; nothing was changed"))?;
    let identity = args
        .identity
        .clone()
        .or(file.identity)
        .map(|id| {
            resource_id(
                &id,
                "--identity",
                "Microsoft.ManagedIdentity/userAssignedIdentities",
            )
        })
        .transpose()?;
    let key_vault = args
        .key_vault
        .clone()
        .or(file.key_vault)
        .map(|id| resource_id(&id, "--key-vault", "Microsoft.KeyVault/vaults"))
        .transpose()?;
    let identity_name_template = config::validate_template(
        &args
            .identity_name
            .clone()
            .or(file.names.identity)
            .unwrap_or_else(|| naming::DEFAULT_IDENTITY_TEMPLATE.to_string()),
        TemplateKind::Identity,
    )
    .map_err(|e| anyhow!("--identity-name: {e}"))?;
    let vault_name_template = config::validate_template(
        &args
            .vault_name
            .clone()
            .or(file.names.vault)
            .unwrap_or_else(|| naming::DEFAULT_VAULT_TEMPLATE.to_string()),
        TemplateKind::Vault,
    )
    .map_err(|e| anyhow!("--vault-name: {e}"))?;
    let mut tags = file.tags;
    for tag in &args.tags {
        let (k, v) = tag
            .split_once('=')
            .ok_or_else(|| anyhow!("--tag '{tag}': write it as KEY=VALUE"))?;
        tags.insert(k.trim().to_string(), v.trim().to_string());
    }
    for (k, v) in &tags {
        config::validate_tag(k, v).map_err(|e| anyhow!("tag '{k}': {e}"))?;
    }
    config::validate_tag_count(&tags).map_err(|e| anyhow!("--tag: {e}; nothing was changed"))?;
    let parallelism = scope
        .parallelism
        .or(file.parallelism)
        .unwrap_or(DEFAULT_PARALLELISM);
    Ok((
        PlanSettings {
            key_name,
            key_size,
            key_expiry_days,
            key_rotation_days,
            permission_model: args
                .permission_model
                .or(file.permission_model)
                .unwrap_or(PermissionModel::Rbac),
            identity,
            key_vault,
            identity_name_template,
            vault_name_template,
            tags,
        },
        usize::from(parallelism.max(1)),
    ))
}
