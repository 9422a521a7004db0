//! The default, human view: one block per destination, then subscription
//! errors, warnings and a one-line summary. Lines other than those carrying a
//! resource id or a reason message fit in 100 columns (the sources table wraps
//! its categories column). Names and messages come from Azure: control
//! characters in them are replaced so that they cannot drive the terminal.

use super::style::{clean, paint_bold, GREEN, RED, YELLOW};
use super::{categories_phrase, incomplete_phrase, plural, problem_lists};
use crate::audit::report::{AuditReport, Destination, Encryption, Source, Status};
use std::fmt::Write as _;

const WIDTH: usize = 100;
/// Narrowest the categories column gets before the table outgrows `WIDTH`.
const MIN_CATEGORIES_WIDTH: usize = 24;

/// Renders the report for a terminal; `color` adds ANSI colours to the status
/// tags (green compliant, red non_compliant/cmk_broken/missing, yellow
/// unreadable) and to an incomplete summary.
pub fn audit_text(report: &AuditReport, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Audit of {} through {} (actlog-cmk {}, {})",
        plural(report.summary.subscriptions, "subscription"),
        clean(&report.arm_endpoint),
        clean(&report.tool_version),
        report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    out.push('\n');

    if report.destinations.is_empty() {
        if report.summary.incomplete {
            out.push_str(
                "No storage account was found receiving an activity log, but the audit is \
                 incomplete:\na subscription that could not be read may still send its activity \
                 log to one.\n",
            );
        } else {
            out.push_str("No subscription in scope sends its activity log to a storage account.\n");
        }
        out.push('\n');
    }
    for destination in &report.destinations {
        destination_block(&mut out, destination, color);
        out.push('\n');
    }

    let [errors, warnings] = problem_lists(report);
    for (heading, items) in [("Subscription errors:", errors), ("Warnings:", warnings)] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}");
        for (subscription, message) in items {
            let _ = match subscription {
                Some(id) => writeln!(out, "  - {}: {}", clean(id), clean(message)),
                None => writeln!(out, "  - {}", clean(message)),
            };
        }
        out.push('\n');
    }

    let s = &report.summary;
    let state = if s.incomplete {
        paint_bold(
            &format!("(audit INCOMPLETE: {})", incomplete_phrase(report)),
            YELLOW,
            color,
        )
    } else {
        "(audit complete)".to_string()
    };
    let _ = writeln!(
        out,
        "{}: {} compliant, {} non_compliant, {} cmk_broken, {} unreadable, {} missing {state}",
        plural(s.destinations, "destination"),
        s.compliant,
        s.non_compliant,
        s.cmk_broken,
        s.unreadable,
        s.missing,
    );
    out
}

fn destination_block(out: &mut String, destination: &Destination, color: bool) {
    let tag = status_tag(destination.status);
    // Pad outside the colour codes so that the ids line up either way.
    let padding = " ".repeat(TAG_WIDTH.saturating_sub(tag.len()));
    let _ = writeln!(
        out,
        "{}{padding} {}",
        paint_bold(&tag, status_color(destination.status), color),
        clean(&destination.storage_account_id)
    );
    encryption_lines(out, destination.encryption.as_ref());
    if !destination.reasons.is_empty() {
        out.push_str("  reasons:\n");
        for reason in &destination.reasons {
            let _ = writeln!(
                out,
                "    - {}: {}",
                reason.code.as_str(),
                clean(&reason.message)
            );
        }
    }
    if destination.sources.is_empty() {
        out.push_str("  sources: none recorded\n");
    } else {
        out.push_str("  sources:\n");
        sources_table(out, &destination.sources);
    }
}

/// `[NON-COMPLIANT]` is the widest tag.
const TAG_WIDTH: usize = 15;

fn status_tag(status: Status) -> String {
    format!("[{}]", status.as_str().replace('_', "-").to_uppercase())
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Compliant => GREEN,
        Status::NonCompliant | Status::CmkBroken | Status::Missing => RED,
        Status::Unreadable => YELLOW,
    }
}

fn encryption_lines(out: &mut String, encryption: Option<&Encryption>) {
    let Some(e) = encryption else {
        out.push_str("  encryption: not read\n");
        return;
    };
    let microsoft = e.key_source.eq_ignore_ascii_case("Microsoft.Storage");
    if microsoft {
        let _ = writeln!(
            out,
            "  encryption: {} (Microsoft-managed keys)",
            clean(&e.key_source)
        );
    } else {
        let _ = writeln!(out, "  encryption: {}", clean(&e.key_source));
    }
    // A vault key is expected unless the keys are Microsoft's: say so when absent.
    let or_not_set = |value: &Option<String>| match value {
        Some(v) => Some(clean(v)),
        None if !microsoft => Some("(not set)".to_string()),
        None => None,
    };
    if let Some(uri) = or_not_set(&e.key_vault_uri) {
        let _ = writeln!(out, "    vault:    {uri}");
    }
    if let Some(name) = or_not_set(&e.key_name) {
        match &e.key_version {
            Some(version) => {
                let _ = writeln!(
                    out,
                    "    key:      {name} (version {} pinned)",
                    clean(version)
                );
            }
            None => {
                let _ = writeln!(out, "    key:      {name} (latest version)");
            }
        }
    }
    match &e.identity {
        Some(identity) => {
            let _ = writeln!(out, "    identity: {}", clean(identity));
        }
        None if !microsoft => out.push_str("    identity: system-assigned\n"),
        None => {}
    }
}

/// Subscription, kind, name and categories, aligned; the categories wrap at
/// commas to keep the table within `WIDTH`.
fn sources_table(out: &mut String, sources: &[Source]) {
    const INDENT: &str = "    ";
    const GAP: &str = "  ";
    let rows: Vec<[String; 4]> = sources
        .iter()
        .map(|s| {
            [
                clean(&s.subscription_id),
                s.kind.as_str().to_string(),
                clean(&s.name),
                clean(&categories_phrase(s)),
            ]
        })
        .collect();
    let header = [
        "SUBSCRIPTION".to_string(),
        "KIND".to_string(),
        "NAME".to_string(),
        "CATEGORIES".to_string(),
    ];
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let lead = INDENT.len() + widths.iter().map(|w| w + GAP.len()).sum::<usize>();
    let categories_width = WIDTH.saturating_sub(lead).max(MIN_CATEGORIES_WIDTH);
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::from(INDENT);
        for (cell, w) in row.iter().zip(widths) {
            line.push_str(cell);
            line.push_str(&" ".repeat(w - cell.chars().count()));
            line.push_str(GAP);
        }
        for (i, part) in wrap_list(&row[3], categories_width).iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{line}{part}");
            } else {
                let _ = writeln!(out, "{}{part}", " ".repeat(lead));
            }
        }
    }
}

/// Splits `a, b, c` into lines of at most `width` characters, breaking after
/// commas only (an item longer than `width` gets a line of its own).
fn wrap_list(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let items: Vec<&str> = text.split(", ").collect();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.to_string()
        };
        let needed = if line.is_empty() {
            piece.chars().count()
        } else {
            line.chars().count() + 1 + piece.chars().count()
        };
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&piece);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::*;

    #[test]
    fn every_status_has_its_block() {
        let text = audit_text(&every_status(), false);
        for (tag, name) in [
            ("[COMPLIANT]    ", "good"),
            ("[NON-COMPLIANT]", "mmk"),
            ("[CMK-BROKEN]   ", "broken"),
            ("[UNREADABLE]   ", "secret"),
            ("[MISSING]      ", "gone"),
        ] {
            let heading = format!("{tag} {}\n", account_id(SUB1, name));
            assert!(text.contains(&heading), "no heading {heading:?} in\n{text}");
        }
        assert!(!text.contains('\x1b'), "no colour unless asked");
        assert!(text.starts_with(
            "Audit of 2 subscriptions through https://management.azure.com (actlog-cmk 0.1.0, 2024-05-01T10:20:30Z)\n"
        ));
    }

    #[test]
    fn shows_reasons_encryption_and_sources() {
        let text = audit_text(&every_status(), false);
        assert!(text.contains(
            "    - microsoft_managed_keys: the account uses Microsoft-managed keys: switch to a customer-managed key\n"
        ));
        assert!(text.contains("    - key_disabled: key 'cmk-logs' is disabled: enable it\n"));
        assert!(text.contains("  encryption: Microsoft.Storage (Microsoft-managed keys)\n"));
        assert!(text.contains("  encryption: Microsoft.Keyvault\n    vault:    https://kv-logs.vault.azure.net/\n    key:      cmk-logs (version 0123456789abcdef pinned)\n    identity: system-assigned\n"));
        assert!(text.contains("/userAssignedIdentities/id-logs\n"));
        assert!(text.contains("  encryption: not read\n"));
        // The mmk destination's table: aligned, none enabled, log profile.
        let table = "    SUBSCRIPTION                          KIND                NAME     CATEGORIES\n\
                     \x20   11111111-1111-1111-1111-111111111111  diagnostic_setting  to-mmk   (none enabled)\n\
                     \x20   22222222-2222-2222-2222-222222222222  log_profile         default  n/a (log profile)\n";
        assert!(text.contains(table), "no table\n{table}\nin\n{text}");
    }

    #[test]
    fn errors_warnings_and_an_incomplete_summary() {
        let text = audit_text(&every_status(), false);
        assert!(text.contains("Subscription errors:\n  - 22222222-2222-2222-2222-222222222222: listing diagnostic settings was denied (403): grant Microsoft.Insights/DiagnosticSettings/Read\n"));
        assert!(text.contains("Warnings:\n  - 11111111-1111-1111-1111-111111111111: log profile 'old-profile' is retired: use a diagnostic setting\n  - no credentials for one tenant were found\n"));
        assert!(text.ends_with(
            "5 destinations: 1 compliant, 1 non_compliant, 1 cmk_broken, 1 unreadable, 1 missing (audit INCOMPLETE: 1 subscription not read completely, 1 destination unreadable)\n"
        ));
    }

    #[test]
    fn complete_summary() {
        let mut report = every_status();
        report
            .destinations
            .retain(|d| d.status != Status::Unreadable);
        report.subscriptions.truncate(1);
        report.summary =
            crate::audit::report::Summary::of(&report.subscriptions, &report.destinations);
        let text = audit_text(&report, false);
        assert!(text.ends_with(
            "4 destinations: 1 compliant, 1 non_compliant, 1 cmk_broken, 0 unreadable, 1 missing (audit complete)\n"
        ));
        assert!(!text.contains("Subscription errors"));
    }

    #[test]
    fn colours_the_tags_when_asked() {
        let text = audit_text(&every_status(), true);
        assert!(text.contains("\x1b[1m\x1b[32m[COMPLIANT]\x1b[0m     /subscriptions/"));
        assert!(text.contains("\x1b[1m\x1b[31m[NON-COMPLIANT]\x1b[0m /subscriptions/"));
        assert!(text.contains("\x1b[1m\x1b[31m[CMK-BROKEN]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[31m[MISSING]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[33m[UNREADABLE]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[33m(audit INCOMPLETE"));
    }

    #[test]
    fn no_destinations() {
        let text = audit_text(&empty(), false);
        assert!(text
            .contains("\nNo subscription in scope sends its activity log to a storage account.\n"));
        assert!(text.ends_with(
            "0 destinations: 0 compliant, 0 non_compliant, 0 cmk_broken, 0 unreadable, 0 missing (audit complete)\n"
        ));

        let mut report = empty();
        report.subscriptions[0].complete = false;
        report.summary = crate::audit::report::Summary::of(&report.subscriptions, &[]);
        let text = audit_text(&report, false);
        assert!(!text.contains("No subscription in scope sends"));
        assert!(text.contains("the audit is incomplete"));
        assert!(text.contains(
            "Subscription errors:\n  - 11111111-1111-1111-1111-111111111111: not read completely\n"
        ));
        assert!(text.ends_with("(audit INCOMPLETE: 1 subscription not read completely)\n"));
    }

    #[test]
    fn pipes_pass_through_and_control_characters_do_not() {
        let text = audit_text(&awkward_names(), false);
        assert!(text.contains("/storageAccounts/pipe|acct\n"));
        assert!(text.contains("  diagnostic_setting  a|b   Cat|One, Two\n"));
        let mut report = awkward_names();
        report.destinations[0].sources[0].name = "evil\x1b[2Jname\n".to_string();
        let text = audit_text(&report, false);
        assert!(!text.contains('\x1b'));
        assert!(text.contains("evil\u{fffd}[2Jname\u{fffd}"));
    }

    #[test]
    fn table_lines_fit_in_100_columns() {
        let mut report = every_status();
        report.destinations[0].sources[0].enabled_categories = [
            "Administrative",
            "Security",
            "ServiceHealth",
            "Alert",
            "Recommendation",
            "Policy",
            "Autoscale",
            "ResourceHealth",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        let text = audit_text(&report, false);
        for line in text.lines() {
            let carries_id_or_message = line.contains("/subscriptions/")
                || line.trim_start().starts_with("- ")
                || line.starts_with("Audit of")
                || line.contains(" destinations: ");
            if !carries_id_or_message {
                assert!(line.chars().count() <= WIDTH, "too wide: {line:?}");
            }
        }
        // Continuation lines start under the categories column.
        let table = "    SUBSCRIPTION                          KIND                NAME     CATEGORIES\n\
                     \x20   11111111-1111-1111-1111-111111111111  diagnostic_setting  to-good  Administrative, Security,\n\
                     \x20                                                                      ServiceHealth, Alert,\n";
        assert!(text.contains(table), "no table\n{table}\nin\n{text}");
        assert!(text.contains("Autoscale, ResourceHealth\n"));
    }

    #[test]
    fn wrap_list_breaks_after_commas() {
        assert_eq!(wrap_list("a, b, c", 5), vec!["a, b,", "c"]);
        assert_eq!(wrap_list("a, b, c", 100), vec!["a, b, c"]);
        assert_eq!(wrap_list("abcdefgh, b", 3), vec!["abcdefgh,", "b"]);
        assert_eq!(wrap_list("", 3), vec![""]);
    }
}
