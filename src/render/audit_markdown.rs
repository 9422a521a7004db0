//! The pull-request comment view (GitHub-flavoured Markdown): a title that
//! gives the verdict, a table of counts, a table of destinations, then
//! subscription errors and warnings. Text from Azure is escaped so that it
//! shows as written: Markdown punctuation and `<` are backslash-escaped, `|`
//! cannot split a table cell, and a newline cannot end a row.

use super::markdown::{code, text};
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
    // One trailing newline, however the last section ended.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
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
        code(&source.subscription_id, true),
        text(&categories_phrase(source))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::*;

    /// Table cells of a row, splitting at `|` not preceded by `\`.
    fn cells(row: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut escaped = false;
        for c in row.chars() {
            if c == '|' && !escaped {
                cells.push(String::new());
            } else {
                cells.last_mut().unwrap().push(c);
            }
            escaped = c == '\\' && !escaped;
        }
        // Drop what is outside the leading and trailing pipes.
        cells[1..cells.len() - 1]
            .iter()
            .map(|c| c.trim().to_string())
            .collect()
    }

    #[test]
    fn title_summary_and_every_status() {
        let md = audit_markdown(&every_status());
        assert!(md.starts_with("## ❌ actlog-cmk audit: 3 of 5 destinations need fixing\n\n"));
        assert!(md.contains(
            "Audited 2 subscriptions through `https://management.azure.com` at 2024-05-01T10:20:30Z with actlog-cmk 0.1.0.\n"
        ));
        assert!(md.contains("> **The audit is incomplete** (1 subscription not read completely, 1 destination unreadable)"));
        assert!(md.contains("| ✅ compliant | 1 |\n| ❌ non_compliant | 1 |\n| 💥 cmk_broken | 1 |\n| ⚠️ unreadable | 1 |\n| 🚫 missing | 1 |\n| **total** | **5** |\n"));
        let rows: Vec<&str> = md
            .lines()
            .skip_while(|l| !l.starts_with("| Status | Storage account"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(rows.len(), 5);
        for (row, (status, name)) in rows.iter().zip([
            ("✅ compliant", "good"),
            ("❌ non_compliant", "mmk"),
            ("💥 cmk_broken", "broken"),
            ("⚠️ unreadable", "secret"),
            ("🚫 missing", "gone"),
        ]) {
            let cells = cells(row);
            assert_eq!(cells.len(), 5, "{row}");
            assert_eq!(cells[0], status);
            assert!(cells[1].starts_with(&format!("**{name}**<br>`/subscriptions/")));
        }
        let mmk = cells(rows[1]);
        assert_eq!(mmk[2], "`Microsoft.Storage` (Microsoft-managed keys)");
        assert_eq!(
            mmk[3],
            "`microsoft_managed_keys`: the account uses Microsoft-managed keys: switch to a customer-managed key"
        );
        assert_eq!(
            mmk[4],
            "diagnostic setting `to-mmk` in `11111111-1111-1111-1111-111111111111`: (none enabled)<br>\
             log profile `default` in `22222222-2222-2222-2222-222222222222`: n/a (log profile)"
        );
        let broken = cells(rows[2]);
        assert_eq!(
            broken[2],
            "`Microsoft.Keyvault`<br>key `cmk-logs` in `https://kv-logs.vault.azure.net/`<br>pinned version `0123456789abcdef`<br>system-assigned identity"
        );
        assert!(broken[3].contains("<br>`access_denied`: reading role assignments was denied"));
        assert_eq!(cells(rows[0])[3], "—");
        assert!(cells(rows[0])[2].ends_with("<br>identity `id-logs`"));
        assert_eq!(cells(rows[3])[2], "not read");
    }

    #[test]
    fn errors_and_warnings_sections() {
        let md = audit_markdown(&every_status());
        assert!(md.contains("### Subscription errors\n\n- `22222222-2222-2222-2222-222222222222`: listing diagnostic settings was denied (403): grant Microsoft.Insights/DiagnosticSettings/Read\n"));
        assert!(md.ends_with("### Warnings\n\n- `11111111-1111-1111-1111-111111111111`: log profile 'old-profile' is retired: use a diagnostic setting\n- no credentials for one tenant were found\n"));
    }

    #[test]
    fn one_finding_needs_fixing() {
        assert!(audit_markdown(&awkward_names())
            .starts_with("## ❌ actlog-cmk audit: 1 of 1 destination needs fixing\n"));
    }

    #[test]
    fn no_destinations() {
        let md = audit_markdown(&empty());
        assert!(
            md.starts_with("## ✅ actlog-cmk audit: no activity log goes to a storage account\n")
        );
        assert!(md.ends_with(
            "### Destinations\n\nNo subscription in scope sends its activity log to a storage account.\n"
        ));
        assert!(!md.contains("| Status | Storage account"));
        assert!(!md.contains("incomplete"));
    }

    #[test]
    fn verdicts() {
        let mut report = every_status();
        report
            .destinations
            .retain(|d| d.status == Status::Compliant);
        report.subscriptions.truncate(1);
        report.summary =
            crate::audit::report::Summary::of(&report.subscriptions, &report.destinations);
        assert!(audit_markdown(&report)
            .starts_with("## ✅ actlog-cmk audit: the destination is compliant\n"));
        report.destinations.push(report.destinations[0].clone());
        report.summary =
            crate::audit::report::Summary::of(&report.subscriptions, &report.destinations);
        assert!(audit_markdown(&report)
            .starts_with("## ✅ actlog-cmk audit: all 2 destinations are compliant\n"));
        report.destinations[1].status = Status::Unreadable;
        report.summary =
            crate::audit::report::Summary::of(&report.subscriptions, &report.destinations);
        assert!(audit_markdown(&report).starts_with("## ⚠️ actlog-cmk audit: incomplete\n"));
    }

    #[test]
    fn pipes_and_markup_are_escaped() {
        let md = audit_markdown(&awkward_names());
        let row = md
            .lines()
            .find(|l| l.starts_with("| ❌ non_compliant | **"))
            .expect("a destination row");
        let cells = cells(row);
        assert_eq!(cells.len(), 5, "{row}");
        assert!(cells[1].starts_with("**pipe\\|acct**<br>`/subscriptions/"));
        assert!(cells[1].ends_with("/storageAccounts/pipe\\|acct`"));
        assert_eq!(
            cells[3],
            "`microsoft_managed_keys`: setting a\\|b sends to \\`pipe\\|acct\\` \\<b\\>unencrypted\\</b\\>"
        );
        assert_eq!(
            cells[4],
            "diagnostic setting `a\\|b` in `11111111-1111-1111-1111-111111111111`: Cat\\|One, Two"
        );
        assert!(md.contains(
            "- `11111111-1111-1111-1111-111111111111`: setting x\\|y has no category \\| enabled\n"
        ));
    }
}
