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
    // In the order the audit found them, a subscription (or management
    // group) line whenever it changes.
    let mut subscription: Option<String> = None;
    for (source, row) in sources.iter().zip(&rows) {
        let (noun, id) = source.origin();
        let key = format!("{noun} {}", id.to_ascii_lowercase());
        if subscription.as_ref() != Some(&key) {
            let _ = writeln!(out, "    {noun} {}:", clean(id));
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
