//! `actlog-cmk plan`: audit, then compute and show the changes; optionally
//! save them for `apply`. Never writes to Azure.

use crate::audit::{self, AuditOptions};
use crate::azure::Snapshot;
use crate::cli::{PlanArgs, PlanFormat};
use crate::plan::{self, exit_code};
use crate::render;
use std::io::IsTerminal;

pub async fn run(args: PlanArgs) -> anyhow::Result<u8> {
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
    let color = std::io::stdout().is_terminal() && super::color_allowed();
    let text = match args.output {
        PlanFormat::Text => render::plan_text(&plan, color),
        PlanFormat::Json => render::plan_json(&plan),
        PlanFormat::Markdown => render::plan_markdown(&plan),
    };
    super::write_output(None, &text)?;
    if let Some(path) = &args.out {
        plan::file::save(&plan, path)?;
        eprintln!(
            "Saved the plan to {}. Review it, then run: actlog-cmk apply {}",
            path.display(),
            path.display()
        );
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
        return Ok(exit_code::ERROR);
    }
    if plan.is_incomplete() {
        for unread in &plan.unread {
            eprintln!("warning: could not read {}: {}", unread.id, unread.reason);
        }
        eprintln!("warning: the plan is incomplete: what could not be read may need changes too; exiting 3");
        return Ok(exit_code::INCOMPLETE);
    }
    Ok(match (args.detailed_exitcode, plan.has_changes()) {
        (true, true) => exit_code::CHANGES,
        _ => exit_code::NO_CHANGES,
    })
}
