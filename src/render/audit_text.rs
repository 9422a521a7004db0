//! The default, human view: the destinations grouped by the subscription
//! that holds them, one block each, then subscription errors, warnings and a
//! one-line summary. By default resources are named, not given by id (a
//! storage account's name is unique across Azure; its resource group and
//! subscription are shown once) and long lines wrap, so that the text fits
//! 100 columns; with [`Ids::Full`] (`-v`) headings, identities and messages
//! carry full resource ids, as the JSON always does. Names and messages come
//! from Azure: control characters in them are replaced so that they cannot
//! drive the terminal.

use super::fit::{id_segment, ids_to_names, wrap_list, wrap_words, WIDTH};
use super::style::{clean, paint_bold, GREEN, RED, YELLOW};
use super::{account_name, categories_phrase, incomplete_phrase, plural, problem_lists, Ids};
use crate::audit::report::{AuditReport, Destination, Encryption, Source, Status};
use std::fmt::Write as _;

/// Narrowest the categories column gets before the table outgrows `WIDTH`.
const MIN_CATEGORIES_WIDTH: usize = 24;

/// Renders the report for a terminal; `color` adds ANSI colours to the status
/// tags (green compliant, red non_compliant/cmk_broken/missing, yellow
/// unreadable) and to an incomplete summary; `ids` chooses names or full ids.
pub fn audit_text(report: &AuditReport, color: bool, ids: Ids) -> String {
    // Azure's words, safe for a terminal, with ids as the reader asked.
    let show = |text: &str| match ids {
        Ids::Names => clean(&ids_to_names(text)),
        Ids::Full => clean(text),
    };
    // Names wrap to fit; full ids make long lines anyway, and a line per
    // message is what a reader of -v greps.
    let item = |first: &str, indent: &str, text: &str| match ids {
        Ids::Names => wrap_words(first, indent, &show(text)),
        Ids::Full => format!("{first}{}\n", show(text)),
    };
    let mut out = String::new();
    let part = match report.coverage.label() {
        Some(label) => format!(" ({label})"),
        None => String::new(),
    };
    let scope = format!(
        "Audit of {}{part} on {}",
        plural(report.summary.subscriptions, "subscription"),
        clean(&report.arm_endpoint),
    );
    let made = format!(
        "(actlog-cmk {}, {})",
        clean(&report.tool_version),
        report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // One line when it fits; else what was made and when goes below.
    let separator = if scope.chars().count() + 1 + made.chars().count() <= WIDTH {
        " "
    } else {
        "\n  "
    };
    let _ = writeln!(out, "{scope}{separator}{made}\n");

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
    // Destinations come sorted by id, so each subscription's are together.
    let mut group: Option<String> = None;
    for destination in &report.destinations {
        let subscription = id_segment(&destination.storage_account_id, "subscriptions");
        let key = subscription.map(str::to_ascii_lowercase);
        if key.is_some() && key != group {
            let _ = writeln!(
                out,
                "Subscription {}\n",
                clean(subscription.unwrap_or_default())
            );
        }
        group = key;
        destination_block(&mut out, destination, color, ids, &item);
        out.push('\n');
    }

    let [errors, warnings] = problem_lists(report);
    for (heading, items) in [("Subscription errors:", errors), ("Warnings:", warnings)] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}");
        for (subscription, message) in items {
            let first = match subscription {
                Some(id) => format!("  - {}: ", clean(id)),
                None => "  - ".to_string(),
            };
            out.push_str(&item(&first, "    ", message));
        }
        out.push('\n');
    }

    let s = &report.summary;
    let state = if s.incomplete {
        format!("(audit INCOMPLETE: {})", incomplete_phrase(report))
    } else {
        "(audit complete)".to_string()
    };
    let counts = format!(
        "{}: {} compliant, {} non_compliant, {} cmk_broken, {} unreadable, {} missing",
        plural(s.destinations, "destination"),
        s.compliant,
        s.non_compliant,
        s.cmk_broken,
        s.unreadable,
        s.missing,
    );
    // The state below the counts when both do not fit (measured without colour).
    let separator = if counts.chars().count() + 1 + state.chars().count() <= WIDTH {
        " "
    } else {
        "\n  "
    };
    let state = if s.incomplete {
        paint_bold(&state, YELLOW, color)
    } else {
        state
    };
    let _ = writeln!(out, "{counts}{separator}{state}");
    out
}

fn destination_block(
    out: &mut String,
    destination: &Destination,
    color: bool,
    ids: Ids,
    item: &dyn Fn(&str, &str, &str) -> String,
) {
    let tag = status_tag(destination.status);
    // Pad outside the colour codes so that the names line up either way.
    let padding = " ".repeat(TAG_WIDTH.saturating_sub(tag.len()));
    let id = &destination.storage_account_id;
    let resource_group = id_segment(id, "resourceGroups");
    let account = match (ids, resource_group) {
        (Ids::Names, Some(group)) => format!(
            "{} (resource group {})",
            clean(account_name(id)),
            clean(group)
        ),
        _ => clean(id),
    };
    let _ = writeln!(
        out,
        "{}{padding} {account}",
        paint_bold(&tag, status_color(destination.status), color),
    );
    encryption_lines(out, destination.encryption.as_ref(), ids);
    if !destination.reasons.is_empty() {
        out.push_str("  reasons:\n");
        for reason in &destination.reasons {
            let first = format!("    - {}: ", reason.code.as_str());
            out.push_str(&item(&first, "      ", &reason.message));
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

fn encryption_lines(out: &mut String, encryption: Option<&Encryption>, ids: Ids) {
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
        Some(identity) if ids == Ids::Names => {
            let _ = writeln!(
                out,
                "    identity: {} (user-assigned)",
                clean(account_name(identity))
            );
        }
        Some(identity) => {
            let _ = writeln!(out, "    identity: {}", clean(identity));
        }
        None if !microsoft => out.push_str("    identity: system-assigned\n"),
        None => {}
    }
}

/// The sources by subscription: a line naming the subscription, then its
/// sources' kind, name and categories, aligned across the whole block; the
/// categories wrap at commas to keep the table within `WIDTH`.
fn sources_table(out: &mut String, sources: &[Source]) {
    const INDENT: &str = "      ";
    const GAP: &str = "  ";
    let rows: Vec<[String; 3]> = sources
        .iter()
        .map(|s| {
            [
                s.kind.as_str().to_string(),
                clean(&s.name),
                clean(&categories_phrase(s)),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1)];
    let lead = INDENT.len() + widths.iter().map(|w| w + GAP.len()).sum::<usize>();
    let categories_width = WIDTH.saturating_sub(lead).max(MIN_CATEGORIES_WIDTH);
    // In the order the audit found them, a subscription line whenever it changes.
    let mut subscription: Option<String> = None;
    for (source, row) in sources.iter().zip(&rows) {
        let key = source.subscription_id.to_ascii_lowercase();
        if subscription.as_ref() != Some(&key) {
            let _ = writeln!(out, "    subscription {}:", clean(&source.subscription_id));
            subscription = Some(key);
        }
        let mut line = String::from(INDENT);
        for (cell, w) in row.iter().zip(widths) {
            line.push_str(cell);
            line.push_str(&" ".repeat(w - cell.chars().count()));
            line.push_str(GAP);
        }
        for (i, part) in wrap_list(&row[2], categories_width).iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{line}{part}");
            } else {
                let _ = writeln!(out, "{}{part}", " ".repeat(lead));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::*;

    fn names(report: &AuditReport) -> String {
        audit_text(report, false, Ids::Names)
    }

    #[test]
    fn every_status_has_its_block_under_its_subscription() {
        let text = names(&every_status());
        assert!(
            text.contains(&format!(
                "\nSubscription {SUB1}\n\n[COMPLIANT]     good (resource group rg-logs)\n"
            )),
            "{text}"
        );
        for (tag, name) in [
            ("[COMPLIANT]    ", "good"),
            ("[NON-COMPLIANT]", "mmk"),
            ("[CMK-BROKEN]   ", "broken"),
            ("[UNREADABLE]   ", "secret"),
            ("[MISSING]      ", "gone"),
        ] {
            let heading = format!("\n{tag} {name} (resource group rg-logs)\n");
            assert!(text.contains(&heading), "no heading {heading:?} in\n{text}");
        }
        // One subscription holds them all: one group line.
        assert_eq!(text.matches("\nSubscription 1").count(), 1, "{text}");
        assert!(!text.contains('\x1b'), "no colour unless asked");
        assert!(
            !text.contains("/subscriptions/"),
            "no id by default:\n{text}"
        );
        assert!(text.starts_with(
            "Audit of 2 subscriptions on https://management.azure.com (actlog-cmk 0.1.0, 2024-05-01T10:20:30Z)\n"
        ));
    }

    #[test]
    fn full_ids_when_asked() {
        let report = every_status();
        let text = audit_text(&report, false, Ids::Full);
        for destination in &report.destinations {
            let heading = format!(" {}\n", destination.storage_account_id);
            assert!(text.contains(&heading), "no heading {heading:?} in\n{text}");
        }
        assert!(text.contains("    identity: /subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-logs\n"));
        let names = names(&report);
        assert!(
            names.contains("    identity: id-logs (user-assigned)\n"),
            "{names}"
        );
    }

    #[test]
    fn ids_in_messages_become_names_unless_full_ids_are_asked() {
        let mut report = every_status();
        let vault = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-logs";
        report.destinations[2].reasons[0].message =
            format!("key 'cmk-logs' in vault {vault} is disabled: enable it");
        report.warnings[0].message = format!(
            "log profile 'old-profile' sends to {}; move it",
            report.destinations[4].storage_account_id
        );
        let text = names(&report);
        assert!(
            text.contains(
                "    - key_disabled: key 'cmk-logs' in vault kv-logs is disabled: enable it\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "  - {SUB1}: log profile 'old-profile' sends to gone; move it\n"
            )),
            "{text}"
        );
        let full = audit_text(&report, false, Ids::Full);
        assert!(
            full.contains(&format!("in vault {vault} is disabled")),
            "{full}"
        );
    }

    #[test]
    fn shows_reasons_encryption_and_sources() {
        let text = names(&every_status());
        assert!(text.contains(
            "    - microsoft_managed_keys: the account uses Microsoft-managed keys: switch to a customer-managed\n      key\n"
        ), "{text}");
        assert!(text.contains("    - key_disabled: key 'cmk-logs' is disabled: enable it\n"));
        assert!(text.contains("  encryption: Microsoft.Storage (Microsoft-managed keys)\n"));
        assert!(text.contains("  encryption: Microsoft.Keyvault\n    vault:    https://kv-logs.vault.azure.net/\n    key:      cmk-logs (version 0123456789abcdef pinned)\n    identity: system-assigned\n"));
        assert!(text.contains("  encryption: not read\n"));
        // The mmk destination's sources: by subscription, aligned, none enabled, log profile.
        let table = format!(
            "  sources:\n    subscription {SUB1}:\n      diagnostic_setting  to-mmk   (none enabled)\n    \
             subscription {SUB2}:\n      log_profile         default  n/a (log profile)\n"
        );
        assert!(text.contains(&table), "no table\n{table}\nin\n{text}");
    }

    #[test]
    fn errors_warnings_and_an_incomplete_summary() {
        let text = names(&every_status());
        assert!(text.contains("Subscription errors:\n  - 22222222-2222-2222-2222-222222222222: listing diagnostic settings was denied (403): grant\n    Microsoft.Insights/DiagnosticSettings/Read\n"), "{text}");
        assert!(text.contains("Warnings:\n  - 11111111-1111-1111-1111-111111111111: log profile 'old-profile' is retired: use a diagnostic\n    setting\n  - no credentials for one tenant were found\n"), "{text}");
        assert!(text.ends_with(
            "5 destinations: 1 compliant, 1 non_compliant, 1 cmk_broken, 1 unreadable, 1 missing\n  (audit INCOMPLETE: 1 subscription not read completely, 1 destination unreadable)\n"
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
        let text = names(&report);
        assert!(text.ends_with(
            "4 destinations: 1 compliant, 1 non_compliant, 1 cmk_broken, 0 unreadable, 1 missing (audit complete)\n"
        ));
        assert!(!text.contains("Subscription errors"));
    }

    #[test]
    fn colours_the_tags_when_asked() {
        let text = audit_text(&every_status(), true, Ids::Names);
        assert!(text.contains("\x1b[1m\x1b[32m[COMPLIANT]\x1b[0m     good "));
        assert!(text.contains("\x1b[1m\x1b[31m[NON-COMPLIANT]\x1b[0m mmk "));
        assert!(text.contains("\x1b[1m\x1b[31m[CMK-BROKEN]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[31m[MISSING]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[33m[UNREADABLE]\x1b[0m"));
        assert!(text.contains("\x1b[1m\x1b[33m(audit INCOMPLETE"));
    }

    #[test]
    fn no_destinations() {
        let text = names(&empty());
        assert!(text
            .contains("\nNo subscription in scope sends its activity log to a storage account.\n"));
        assert!(!text.contains("\nSubscription "));
        assert!(text.ends_with(
            "0 destinations: 0 compliant, 0 non_compliant, 0 cmk_broken, 0 unreadable, 0 missing (audit complete)\n"
        ));

        let mut report = empty();
        report.subscriptions[0].complete = false;
        report.summary = crate::audit::report::Summary::of(&report.subscriptions, &[]);
        let text = names(&report);
        assert!(!text.contains("No subscription in scope sends"));
        assert!(text.contains("the audit is incomplete"));
        assert!(text.contains(
            "Subscription errors:\n  - 11111111-1111-1111-1111-111111111111: not read completely\n"
        ));
        assert!(text.ends_with("(audit INCOMPLETE: 1 subscription not read completely)\n"));
    }

    #[test]
    fn pipes_pass_through_and_control_characters_do_not() {
        let text = names(&awkward_names());
        assert!(text.contains("] pipe|acct (resource group rg-logs)\n"));
        assert!(
            text.contains("      diagnostic_setting  a|b  Cat|One, Two\n"),
            "{text}"
        );
        let mut report = awkward_names();
        report.destinations[0].sources[0].name = "evil\x1b[2Jname\n".to_string();
        report.destinations[0].storage_account_id =
            account_id(SUB1, "acct\x1b[2J").replace("rg-logs", "rg\x07");
        for ids in [Ids::Names, Ids::Full] {
            let text = audit_text(&report, false, ids);
            assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
            assert!(text.contains("evil\u{fffd}[2Jname\u{fffd}"));
            assert!(text.contains("acct\u{fffd}[2J"));
        }
    }

    /// Every line of an estate with long messages, ids in them, many
    /// categories, a long endpoint and an incomplete audit fits in 100 columns.
    #[test]
    fn every_line_fits_in_100_columns() {
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
        let long_message = format!(
            "storage account {} is encrypted with Microsoft-managed keys (keySource Microsoft.Storage): run `actlog-cmk plan` to see the fix",
            report.destinations[1].storage_account_id
        );
        report.destinations[1].reasons[0].message = long_message;
        report.summary.subscriptions = 1000;
        report.arm_endpoint = "https://management.usgovcloudapi.net".to_string();
        let text = names(&report);
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}\n{text}");
        }
        assert!(text.starts_with("Audit of 1000 subscriptions on https://management.usgovcloudapi.net\n  (actlog-cmk 0.1.0, 2024-05-01T10:20:30Z)\n\n"), "{text}");
        // Continuation lines start under the categories column.
        let table = "      diagnostic_setting  to-good  Administrative, Security, ServiceHealth, Alert, Recommendation,\n\
                     \x20                                  Policy, Autoscale, ResourceHealth\n";
        assert!(text.contains(table), "no table\n{table}\nin\n{text}");
        assert!(text.contains(
            "    - microsoft_managed_keys: storage account mmk is encrypted with Microsoft-managed keys\n      (keySource Microsoft.Storage): run `actlog-cmk plan` to see the fix\n"
        ), "{text}");
    }
}
