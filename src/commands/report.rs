//! `actlog-cmk report merge`: read the shard reports, merge them
//! (`report_merge`), render through the audit's renderers, and exit as one
//! unsharded audit would have.

use crate::cli::{AuditFormat, MergeArgs, ReportCommand};
use crate::exit_status::ExitStatus;
use crate::{render, report_merge};

pub fn run(command: ReportCommand) -> anyhow::Result<ExitStatus> {
    match command {
        ReportCommand::Merge(args) => merge(args),
    }
}

fn merge(args: MergeArgs) -> anyhow::Result<ExitStatus> {
    let reports = args
        .reports
        .iter()
        .map(|path| Ok((path.display().to_string(), report_merge::read(path)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = report_merge::merge(reports)?;
    if !merged.coverage.missing_shards.is_empty() {
        let missing: Vec<String> = merged
            .coverage
            .missing_shards
            .iter()
            .map(ToString::to_string)
            .collect();
        eprintln!(
            "warning: shards {} are missing: the merged report is partial; exiting 3",
            missing.join(", ")
        );
    }
    let text = match args.output {
        AuditFormat::Text => render::audit_text(&merged, false, render::Ids::Names),
        AuditFormat::Json => render::audit_json(&merged),
        AuditFormat::Markdown => render::audit_markdown(&merged),
        AuditFormat::Sarif => render::audit_sarif(&merged),
    };
    super::write_output(args.out.as_deref(), &text)?;
    Ok(match merged.exit_code() {
        ExitStatus::Findings if args.soft_fail => ExitStatus::Success,
        status => status,
    })
}
