//! The pull-request comment view (GitHub-flavoured Markdown): a title that
//! gives the verdict, a table of counts, a table of destinations, then
//! subscription errors and warnings. Text from Azure is escaped so that it
//! shows as written: Markdown punctuation and `<` are backslash-escaped, `|`
//! cannot split a table cell, and a newline cannot end a row.

use super::markdown::{code, document, text};
use super::{account_name, categories_phrase, incomplete_phrase, plural, problem_lists};
use crate::audit::report::{AuditReport, Destination, Encryption, Source, Status};
use std::fmt::Write as _;

pub fn audit_markdown(report: &AuditReport) -> String {
    let s = &report.summary;
    let findings = s.non_compliant + s.cmk_broken + s.missing;
    let mut out = String::new();

    let (icon, verdict) = if findings > 0 {
        (
            "❌",
            format!(
                "{} of {} {} fixing",
                findings,
                plural(s.destinations, "destination"),
                if findings == 1 { "needs" } else { "need" }
            ),
        )
    } else if s.incomplete {
        ("⚠️", "incomplete".to_string())
    } else if s.destinations == 0 {
        (
            "✅",
            "no activity log goes to a storage account".to_string(),
        )
    } else {
        (
            "✅",
            format!(
                "{} compliant",
                if s.destinations == 1 {
                    "the destination is".to_string()
                } else {
                    format!("all {} destinations are", s.destinations)
                }
            ),
        )
    };
    let _ = writeln!(out, "## {icon} actlog-cmk audit: {verdict}\n");
    let part = match report.coverage.label() {
        Some(label) => format!(" ({})", text(&label)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "Audited {}{part} through {} at {} with actlog-cmk {}.\n",
        plural(s.subscriptions, "subscription"),
        code(&report.arm_endpoint, false),
        report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text(&report.tool_version)
    );
    if s.incomplete {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> **The audit is incomplete** ({}): the findings may not be all there are.\n",
            text(&incomplete_phrase(report))
        );
    }

    out.push_str("| Status | Destinations |\n| --- | ---: |\n");
    for (status, count) in [
        (Status::Compliant, s.compliant),
        (Status::NonCompliant, s.non_compliant),
        (Status::CmkBroken, s.cmk_broken),
        (Status::Unreadable, s.unreadable),
        (Status::Missing, s.missing),
    ] {
        let _ = writeln!(out, "| {} | {count} |", status_cell(status));
    }
    let _ = writeln!(out, "| **total** | **{}** |\n", s.destinations);

    out.push_str("### Destinations\n\n");
    if report.destinations.is_empty() {
        if s.incomplete {
            out.push_str(
                "No storage account was found receiving an activity log, but a subscription \
                 that could not be read may still send its activity log to one.\n\n",
            );
        } else {
            out.push_str(
                "No subscription in scope sends its activity log to a storage account.\n\n",
            );
        }
    } else {
        out.push_str("| Status | Storage account | Encryption | Reasons | Sources |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for destination in &report.destinations {
            destination_row(&mut out, destination);
        }
        out.push('\n');
    }

    let [errors, warnings] = problem_lists(report);
    for (heading, items) in [
        ("### Subscription errors", errors),
        ("### Warnings", warnings),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}\n");
        for (subscription, message) in items {
            let _ = match subscription {
                Some(id) => writeln!(out, "- {}: {}", code(id, false), text(message)),
                None => writeln!(out, "- {}", text(message)),
            };
        }
        out.push('\n');
    }
    document(out)
}

fn status_cell(status: Status) -> String {
    let icon = match status {
        Status::Compliant => "✅",
        Status::NonCompliant => "❌",
        Status::CmkBroken => "💥",
        Status::Unreadable => "⚠️",
        Status::Missing => "🚫",
    };
    format!("{icon} {}", status.as_str())
}

fn destination_row(out: &mut String, d: &Destination) {
    let account = format!(
        "**{}**<br>{}",
        text(account_name(&d.storage_account_id)),
        code(&d.storage_account_id, true)
    );
    let reasons = if d.reasons.is_empty() {
        "—".to_string()
    } else {
        d.reasons
            .iter()
            .map(|r| format!("{}: {}", code(r.code.as_str(), true), text(&r.message)))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let sources = if d.sources.is_empty() {
        "—".to_string()
    } else {
        d.sources
            .iter()
            .map(source_cell)
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let _ = writeln!(
        out,
        "| {} | {account} | {} | {reasons} | {sources} |",
        status_cell(d.status),
        encryption_cell(d.encryption.as_ref()),
    );
}

fn encryption_cell(encryption: Option<&Encryption>) -> String {
    let Some(e) = encryption else {
        return "not read".to_string();
    };
    let mut cell = code(&e.key_source, true);
    if e.key_source.eq_ignore_ascii_case("Microsoft.Storage") {
        cell.push_str(" (Microsoft-managed keys)");
        return cell;
    }
    let part = |value: &Option<String>| match value {
        Some(v) => code(v, true),
        None => "(not set)".to_string(),
    };
    let _ = write!(
        cell,
        "<br>key {} in {}",
        part(&e.key_name),
        part(&e.key_vault_uri)
    );
    if let Some(version) = &e.key_version {
        let _ = write!(cell, "<br>pinned version {}", code(version, true));
    }
    match &e.identity {
        Some(identity) => {
            let _ = write!(cell, "<br>identity {}", code(account_name(identity), true));
        }
        None => cell.push_str("<br>system-assigned identity"),
    }
    cell
}

fn source_cell(source: &Source) -> String {
    format!(
        "{} {} in {}: {}",
        source.kind.as_str().replace('_', " "),
        code(&source.name, true),
        code(source.origin().1, true),
        text(&categories_phrase(source))
    )
}
