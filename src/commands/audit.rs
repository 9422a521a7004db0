//! `actlog-cmk audit`: validate the arguments, run the audit, render the report.

use crate::audit::{self, AuditOptions};
use crate::azure::id::parse_subscription_id;
use crate::azure::Snapshot;
use crate::cli::{AuditArgs, AuditFormat};
use crate::render;
use std::io::IsTerminal;

/// Returns the exit code the report calls for (docs/output.md).
pub async fn run(args: AuditArgs) -> anyhow::Result<u8> {
    // Validate every id before any call.
    let mut subscriptions = Vec::new();
    for id in &args.subscriptions {
        let id = parse_subscription_id(id.trim())?;
        if !subscriptions.contains(&id) {
            subscriptions.push(id);
        }
    }
    let arm = super::azure_args::connect(&args.azure)?;
    let report = audit::run(
        &arm,
        &Snapshot::new(),
        &AuditOptions {
            subscriptions,
            parallelism: usize::from(args.parallelism),
        },
    )
    .await?;
    let to_terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    // Full ids at -v; names by default, so that the text fits a terminal.
    let ids = if args.verbose > 0 {
        render::Ids::Full
    } else {
        render::Ids::Names
    };
    let text = match args.output {
        AuditFormat::Text => {
            render::audit_text(&report, to_terminal && super::color_allowed(), ids)
        }
        AuditFormat::Json => render::audit_json(&report),
        AuditFormat::Markdown => render::audit_markdown(&report),
        AuditFormat::Sarif => render::audit_sarif(&report),
    };
    super::write_output(args.output_file.as_deref(), &text)?;
    Ok(report.exit_code())
}
