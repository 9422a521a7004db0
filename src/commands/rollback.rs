//! `actlog-cmk rollback`: plan the reverse of a remediation for the named
//! accounts (or every activity-log destination the tool remediated), show it,
//! ask (or `--yes`), carry it out and verify. Exit codes as apply's:
//! docs/output.md.

use crate::apply::{progress, Progress};
use crate::audit::{self, AuditOptions, Status};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Arm};
use crate::cli::{ApplyArgs, ApplyFormat, RollbackArgs};
use crate::plan;
use crate::render;
use crate::rollback::{self, BuildOptions, RollbackOptions, RollbackPlan};
use anyhow::{anyhow, bail, Context};
use std::io::IsTerminal;
use std::path::Path;

pub async fn run(args: RollbackArgs) -> anyhow::Result<u8> {
    let named = accounts(&args)?;
    let subscriptions = super::remediation::subscriptions(&args.scope)?;
    if !named.is_empty() && !subscriptions.is_empty() {
        bail!("--account and --subscription do not go together: name the accounts, or let rollback find them in the subscriptions; nothing was changed");
    }
    if args.force && named.is_empty() {
        bail!("--force applies only to accounts named with --account: rollback never switches off a key it did not set up for every account at once; nothing was changed");
    }
    let parallelism = usize::from(
        args.scope
            .parallelism
            .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
    );
    let arm = super::azure_args::connect(&args.azure)?;
    let targets = if named.is_empty() {
        // The tool's work is found through the activity-log destinations.
        let report = audit::run(
            &arm,
            &AuditOptions {
                subscriptions,
                parallelism,
            },
        )
        .await?;
        report
            .destinations
            .iter()
            .filter(|d| !matches!(d.status, Status::Missing | Status::Unreadable))
            .map(|d| StorageAccountId::parse(&d.storage_account_id))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        named.clone()
    };
    let plan = rollback::build(
        &arm,
        &targets,
        &BuildOptions {
            named: !named.is_empty(),
            force: args.force,
            remove_grants: args.remove_grants,
            parallelism,
        },
    )
    .await
    .map_err(|e| {
        if named.is_empty() {
            anyhow!("{e}; nothing was changed (to roll back other accounts without this one, name them with --account)")
        } else {
            anyhow!("{e}; nothing was changed")
        }
    })?;

    show_diff(&plan, args.output, args.quiet);
    if let Some(path) = &args.out {
        return save(&arm, plan, path).await;
    }
    let options = RollbackOptions {
        parallelism,
        dry_run: args.dry_run,
        check_fingerprints: false,
    };
    if plan.has_changes() && !args.yes && !args.dry_run {
        super::confirm(
            "Do you want to roll back these accounts?",
            "refusing to roll back without confirmation: standard input is not a terminal. Review the plan above (or run with --dry-run), then pass --yes",
            "rollback",
        )?;
    }
    execute(&arm, &plan, &options, args.output, args.quiet).await
}

/// `apply FILE` of a plan `rollback --out` saved: the file's checks (the
/// checksum, each account's recorded fingerprint, then endpoint and tenant)
/// passed or the whole file is refused; an account that changed since is
/// refused, the others are rolled back without asking, as a saved plan is.
pub async fn apply_saved(args: &ApplyArgs, path: &Path) -> anyhow::Result<u8> {
    let plan: RollbackPlan = plan::file::load_as(path)?;
    let arm = super::azure_args::connect(&args.azure)?;
    let accounts = plan.accounts.iter().map(|a| a.storage_account_id.as_str());
    super::apply::check_plan_belongs_here(
        &arm,
        (&plan.arm_endpoint, &plan.tenant_id),
        accounts,
        path,
    )
    .await?;
    show_diff(&plan, args.output, args.quiet);
    let options = RollbackOptions {
        parallelism: usize::from(
            args.scope
                .parallelism
                .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
        ),
        dry_run: args.dry_run,
        check_fingerprints: true,
    };
    execute(&arm, &plan, &options, args.output, args.quiet).await
}

/// The diff, on standard error when standard output carries JSON.
fn show_diff(plan: &RollbackPlan, output: ApplyFormat, quiet: bool) {
    let color = std::io::stderr().is_terminal() && super::color_allowed();
    let diff = render::rollback_plan_text(plan, color);
    if quiet {
        return;
    }
    match output {
        ApplyFormat::Json => eprint!("{diff}"),
        ApplyFormat::Text => print!("{diff}"),
    }
}

/// `rollback --out FILE`: the plan saved for `apply FILE`, with the tenant
/// its accounts are in (apply refuses the file in another), nothing changed.
async fn save(arm: &Arm, mut plan: RollbackPlan, path: &Path) -> anyhow::Result<u8> {
    if let Some(first) = plan.accounts.first() {
        let id = StorageAccountId::parse(&first.storage_account_id)?;
        plan.tenant_id = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
    }
    plan::file::save(&plan, path)?;
    eprintln!(
        "Saved the rollback plan to {}. Review it, then run: actlog-cmk apply {}",
        path.display(),
        path.display()
    );
    Ok(0)
}

async fn execute(
    arm: &Arm,
    plan: &RollbackPlan,
    options: &RollbackOptions,
    output: ApplyFormat,
    quiet: bool,
) -> anyhow::Result<u8> {
    let progress: Box<dyn Progress> =
        if plan.has_changes() && std::io::stderr().is_terminal() && !quiet {
            Box::new(progress::Bars::new())
        } else {
            Box::new(progress::Lines {
                quiet: quiet || !plan.has_changes(),
            })
        };
    let report = rollback::rollback(arm, plan, options, progress.as_ref()).await;
    let text = match output {
        ApplyFormat::Text => render::rollback_text(&report),
        ApplyFormat::Json => render::rollback_json(&report),
    };
    super::write_output(None, &text)?;
    Ok(report.exit_code())
}

/// `--account` ids, validated before any call.
fn accounts(args: &RollbackArgs) -> anyhow::Result<Vec<StorageAccountId>> {
    args.accounts
        .iter()
        .map(|a| {
            StorageAccountId::parse(a.trim())
                .with_context(|| "--account takes a storage account's resource id".to_string())
        })
        .collect()
}
