//! `audit_text`: the terminal view of an audit report, on hand-built reports.

use crate::support::audit_fixtures::*;
use actlog_cmk::audit::report::{AuditReport, Status};
use actlog_cmk::render::{audit_text, Ids};

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
        actlog_cmk::audit::report::Summary::of(&report.subscriptions, &report.destinations);
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
    assert!(
        text.contains("\nNo subscription in scope sends its activity log to a storage account.\n")
    );
    assert!(!text.contains("\nSubscription "));
    assert!(text.ends_with(
        "0 destinations: 0 compliant, 0 non_compliant, 0 cmk_broken, 0 unreadable, 0 missing (audit complete)\n"
    ));

    let mut report = empty();
    report.subscriptions[0].complete = false;
    report.summary = actlog_cmk::audit::report::Summary::of(&report.subscriptions, &[]);
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
        assert!(line.chars().count() <= 100, "too wide: {line:?}\n{text}");
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
