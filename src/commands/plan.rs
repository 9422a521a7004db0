//! `actlog-cmk plan`: audit, then compute and show the changes; optionally
//! save them for `apply`. Never writes to Azure.

use crate::azure::Snapshot;
use crate::cli::{PlanArgs, PlanFormat};
use crate::exit_status::ExitStatus;
use crate::plan;
use crate::render;
use std::io::IsTerminal;

/// Saves `plan` for `actlog-cmk apply FILE`, signed when there is a key
/// (read with `PlanKey::from_env` before any work, so a bad key fails
/// first), and says what to run next. Every command that saves a plan
/// saves it here.
pub(super) fn save_for_apply<T: plan::file::SavedPlan>(
    plan: &T,
    path: &std::path::Path,
    key: Option<&plan::file::PlanKey>,
) -> anyhow::Result<()> {
    plan::file::save_with(plan, path, key)?;
    let signed = match key {
        Some(_) => format!(" (signed with the key in {})", plan::file::signature::ENV),
        None => String::new(),
    };
    eprintln!(
        "Saved the plan to {}{signed}. Review it, then run: actlog-cmk apply {}",
        path.display(),
        path.display()
    );
    Ok(())
}

pub async fn run(args: PlanArgs) -> anyhow::Result<ExitStatus> {
    // A bad key fails before anything is read.
    let key = match &args.out {
        Some(_) => plan::file::PlanKey::from_env()?,
        None => None,
    };
    let subscriptions = super::scope::parse(&args.scope.subscriptions)?;
    let management_groups = super::scope::groups(&args.scope.management_groups, &subscriptions)?;
    super::tenants::refuse_named_groups(&args.tenants, &management_groups)?;
    let tenant_ids = super::tenants::parse(&args.tenants)?;
    let (settings, parallelism) = super::remediation::settings(&args.remediation, &args.scope)?;
    let plan = if super::tenants::requested(&args.tenants) {
        super::tenant_plans::connect_and_plan(
            &args.azure,
            &tenant_ids,
            args.tenants.all_tenants,
            super::tenant_plans::Reach {
                subscriptions: &subscriptions,
                management_groups: &management_groups,
                shard: args.shard,
            },
            &settings,
            parallelism,
        )
        .await?
        .0
    } else {
        let arm = super::azure_args::connect(&args.azure).await?;
        super::remediation::plan_now(
            &arm,
            &Snapshot::new(),
            &subscriptions,
            &management_groups,
            args.shard,
            &settings,
            parallelism,
        )
        .await?
    };
    let color = std::io::stdout().is_terminal() && super::color_allowed();
    let text = match args.output {
        PlanFormat::Text => render::plan_text(&plan, color),
        PlanFormat::Json => render::plan_json(&plan),
        PlanFormat::Markdown => render::plan_markdown(&plan),
    };
    super::write_output(None, &text)?;
    if let Some(path) = &args.out {
        save_for_apply(&plan, path, key.as_ref())?;
    }
    let failed: Vec<&plan::Skipped> = plan
        .skipped
        .iter()
        .filter(|s| s.status == plan::PlanStatus::Error)
        .collect();
    if !failed.is_empty() {
        for s in &failed {
            eprintln!("error: {}: {}", s.storage_account_id, s.reason);
        }
        return Ok(ExitStatus::Error);
    }
    if plan.is_incomplete() {
        for unread in &plan.unread {
            eprintln!("warning: could not read {}: {}", unread.id, unread.reason);
        }
        eprintln!("warning: the plan is incomplete: what could not be read may need changes too; exiting 3");
        // With or without --detailed-exitcode, as audit exits: a gate must
        // not read the plan as the whole truth.
        return Ok(ExitStatus::Incomplete);
    }
    Ok(match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => ExitStatus::CHANGES,
        _ => ExitStatus::Success,
    })
}
