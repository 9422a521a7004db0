//! `actlog-cmk apply [PLANFILE]`: carry out a saved plan (refusing a plan for
//! another tenant or endpoint as a whole, and any account that changed since),
//! or plan now, show the diff and ask. Exit codes: docs/output.md.

use crate::apply::{self, progress, ApplyOptions, Progress};
use crate::audit::{self, AuditOptions};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Arm};
use crate::cli::{ApplyArgs, ApplyFormat};
use crate::plan::file::PlanFileError;
use crate::plan::{self, Plan, PlanMode};
use crate::render;
use anyhow::{bail, Context};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

pub async fn run(args: ApplyArgs) -> anyhow::Result<u8> {
    if let Some(path) = &args.plan_file {
        let plan = match plan::file::load(path) {
            // `rollback --out` saved it: the same checks, rollback's executor.
            Err(PlanFileError::OtherMode {
                found: PlanMode::Rollback,
                ..
            }) => return super::rollback::apply_saved(&args, path).await,
            loaded => loaded?,
        };
        // The diff shown is the one reviewed only if it is what apply sends.
        if let Err(why) = plan::attributes::check_plan(&plan) {
            bail!("the plan {} shows a diff that is not what it would send ({why}): it was edited after plan made it; run plan again and review it; nothing was changed", path.display());
        }
        let arm = super::azure_args::connect(&args.azure)?;
        let accounts = plan.accounts.iter().map(|a| a.storage_account_id.as_str());
        check_plan_belongs_here(&arm, (&plan.arm_endpoint, &plan.tenant_id), accounts, path)
            .await?;
        let parallelism = usize::from(
            args.scope
                .parallelism
                .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
        );
        return execute(&args, &arm, plan, true, parallelism).await;
    }
    let subscriptions = super::remediation::subscriptions(&args.scope)?;
    let (settings, parallelism) = super::remediation::settings(&args.remediation, &args.scope)?;
    let arm = super::azure_args::connect(&args.azure)?;
    let report = audit::run(
        &arm,
        &AuditOptions {
            subscriptions,
            parallelism,
        },
    )
    .await?;
    let plan = plan::build::build(&arm, &report, &settings, parallelism).await?;
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
    execute(&args, &arm, plan, false, parallelism).await
}

/// A plan (of either mode) for another tenant or endpoint is refused as a
/// whole: `made_for` is the endpoint and tenant the plan was made for.
pub(super) async fn check_plan_belongs_here(
    arm: &Arm,
    made_for: (&str, &str),
    accounts: impl Iterator<Item = &str>,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let (endpoint, plan_tenant) = made_for;
    let here = arm.endpoint().as_str().trim_end_matches('/');
    let there = endpoint.trim_end_matches('/');
    if !here.eq_ignore_ascii_case(there) {
        bail!(
            "the plan {} was made against {there}, not {here}: apply it against the endpoint it was made for, or run plan again here; nothing was changed",
            path.display()
        );
    }
    let mut seen = BTreeSet::new();
    for account in accounts {
        let id = StorageAccountId::parse(account)
            .with_context(|| format!("the plan {} names an invalid account", path.display()))?;
        if !seen.insert(id.subscription_id().to_string()) {
            continue;
        }
        let tenant = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
        if !tenant.eq_ignore_ascii_case(plan_tenant) {
            bail!(
                "the plan {} was made for tenant {}, but subscription {} is in tenant {tenant}: run plan again with credentials for this tenant; nothing was changed",
                path.display(),
                plan_tenant,
                id.subscription_id()
            );
        }
    }
    Ok(())
}

async fn execute(
    args: &ApplyArgs,
    arm: &Arm,
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
