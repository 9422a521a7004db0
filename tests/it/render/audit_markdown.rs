//! `audit_markdown`: the pull-request view of an audit report, on hand-built reports.

use crate::support::audit_fixtures::*;
use actlog_cmk::audit::report::Status;
use actlog_cmk::render::audit_markdown;

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
    assert!(md.starts_with("## ✅ actlog-cmk audit: no activity log goes to a storage account\n"));
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
        actlog_cmk::audit::report::Summary::of(&report.subscriptions, &report.destinations);
    assert!(audit_markdown(&report)
        .starts_with("## ✅ actlog-cmk audit: the destination is compliant\n"));
    report.destinations.push(report.destinations[0].clone());
    report.summary =
        actlog_cmk::audit::report::Summary::of(&report.subscriptions, &report.destinations);
    assert!(audit_markdown(&report)
        .starts_with("## ✅ actlog-cmk audit: all 2 destinations are compliant\n"));
    report.destinations[1].status = Status::Unreadable;
    report.summary =
        actlog_cmk::audit::report::Summary::of(&report.subscriptions, &report.destinations);
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
