//! `actlog-cmk apply [PLANFILE]`: carry out a saved plan (refusing a plan for
//! another tenant or endpoint as a whole, and any account that changed since),
//! or plan now, show the diff and ask. Exit codes: docs/output.md.

use crate::apply::{self, progress, ApplyOptions, Progress};
use crate::audit::{self, AuditOptions};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Arm, Snapshot};
use crate::cli::{ApplyArgs, ApplyFormat};
use crate::plan::{self, Plan};
use crate::render;
use anyhow::{bail, Context};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

pub async fn run(args: ApplyArgs) -> anyhow::Result<u8> {
    if let Some(path) = &args.plan_file {
        let plan = plan::file::load(path)?;
        // The diff shown is the one reviewed only if it is what apply sends.
        if let Err(why) = plan::attributes::check_plan(&plan) {
            bail!("the plan {} shows a diff that is not what it would send ({why}): it was edited after plan made it; run plan again and review it; nothing was changed", path.display());
        }
        let arm = super::azure_args::connect(&args.azure)?;
        check_plan_belongs_here(&arm, &plan, path).await?;
        let parallelism = usize::from(
            args.scope
                .parallelism
                .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
        );
        return execute(&args, &arm, &Snapshot::new(), plan, true, parallelism).await;
    }
    let subscriptions = super::remediation::subscriptions(&args.scope)?;
    let (settings, parallelism) = super::remediation::settings(&args.remediation, &args.scope)?;
    let arm = super::azure_args::connect(&args.azure)?;
    // The command's reads, shared by every layer below it.
    let snapshot = Snapshot::new();
    let report = audit::run(
        &arm,
        &snapshot,
        &AuditOptions {
            subscriptions,
            parallelism,
        },
    )
    .await?;
    let plan = plan::build::build(&arm, &snapshot, &report, &settings, parallelism).await?;
    if let Some(failed) = plan
        .skipped
        .iter()
        .find(|s| s.status == plan::PlanStatus::Error)
    {
        bail!(
            "cannot plan {}: {}; nothing was changed",
            failed.storage_account_id,
            failed.reason
        );
    }
    execute(&args, &arm, &snapshot, plan, false, parallelism).await
}

/// A plan for another tenant or endpoint is refused as a whole.
async fn check_plan_belongs_here(
    arm: &Arm,
    plan: &Plan,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let here = arm.endpoint().as_str().trim_end_matches('/');
    let there = plan.arm_endpoint.trim_end_matches('/');
    if !here.eq_ignore_ascii_case(there) {
        bail!(
            "the plan {} was made against {there}, not {here}: apply it against the endpoint it was made for, or run plan again here; nothing was changed",
            path.display()
        );
    }
    let mut seen = BTreeSet::new();
    for account in &plan.accounts {
        let id = StorageAccountId::parse(&account.storage_account_id)
            .with_context(|| format!("the plan {} names an invalid account", path.display()))?;
        if !seen.insert(id.subscription_id().to_string()) {
            continue;
        }
        let tenant = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
        if !tenant.eq_ignore_ascii_case(&plan.tenant_id) {
            bail!(
                "the plan {} was made for tenant {}, but subscription {} is in tenant {tenant}: run plan again with credentials for this tenant; nothing was changed",
                path.display(),
                plan.tenant_id,
                id.subscription_id()
            );
        }
    }
    Ok(())
}

async fn execute(
    args: &ApplyArgs,
    arm: &Arm,
    snapshot: &Snapshot,
    plan: Plan,
    from_file: bool,
    parallelism: usize,
) -> anyhow::Result<u8> {
    let json = args.output == ApplyFormat::Json;
    let color = std::io::stderr().is_terminal() && super::color_allowed();
    // The diff goes to standard error when standard output carries JSON.
    let diff = render::plan_text(&plan, color);
    if !args.quiet {
        if json {
            eprint!("{diff}");
        } else {
            println!("{diff}");
        }
    }
    if !plan.has_changes() {
        let report = apply::apply(
            arm,
            snapshot,
            &plan,
            &options(args, from_file, parallelism),
            &progress::Lines { quiet: true },
        )
        .await;
        finish(args, &report)?;
        // Not DONE when something could not be read: the summary counts it.
        return Ok(report.exit_code());
    }
    if !from_file && !args.yes && !args.dry_run {
        super::confirm(
            "Do you want to make these changes?",
            "refusing to apply without confirmation: standard input is not a terminal. Pass --yes, or save a plan with `plan --out FILE` and apply that file",
            "apply",
        )?;
    }
    let progress: Box<dyn Progress> = if std::io::stderr().is_terminal() && !args.quiet {
        Box::new(progress::Bars::new())
    } else {
        Box::new(progress::Lines { quiet: args.quiet })
    };
    let report = apply::apply(
        arm,
        snapshot,
        &plan,
        &options(args, from_file, parallelism),
        progress.as_ref(),
    )
    .await;
    finish(args, &report)?;
    Ok(report.exit_code())
}

fn options(args: &ApplyArgs, from_file: bool, parallelism: usize) -> ApplyOptions {
    ApplyOptions {
        parallelism,
        propagation_timeout: Duration::from_secs(args.propagation_timeout),
        dry_run: args.dry_run,
        check_fingerprints: from_file,
    }
}

fn finish(args: &ApplyArgs, report: &apply::ApplyReport) -> anyhow::Result<()> {
    let text = match args.output {
        ApplyFormat::Text => render::apply_text(report),
        ApplyFormat::Json => render::apply_json(report),
    };
    super::write_output(None, &text)
}
