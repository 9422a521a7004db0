//! `audit_sarif`: alerts, rules and notifications of the SARIF view, on hand-built reports.

use crate::support::audit_fixtures::*;
use actlog_cmk::audit::report::{AuditReport, ReasonCode};
use actlog_cmk::render::audit_sarif;
use actlog_cmk::render::reasons::{help, title};
use serde_json::{json, Value};

fn sarif(report: &AuditReport) -> Value {
    let text = audit_sarif(report);
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn log_and_driver() {
    let log = sarif(&every_status());
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "actlog-cmk");
    assert_eq!(driver["version"], "0.1.0");
    assert_eq!(
        driver["informationUri"],
        "https://github.com/actlog-cmk/actlog-cmk"
    );
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 3);
    assert_eq!(log["runs"][0]["properties"]["summary"]["incomplete"], true);
}

#[test]
fn one_rule_per_code_that_occurs() {
    let log = sarif(&every_status());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "microsoft-managed-keys",
            "key-disabled",
            "access-denied",
            "account-not-found"
        ]
    );
    assert_eq!(rules[0]["name"], "MicrosoftManagedKeys");
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        title(ReasonCode::MicrosoftManagedKeys)
    );
    assert_eq!(
        rules[0]["help"]["text"],
        help(ReasonCode::MicrosoftManagedKeys)
    );
}

#[test]
fn one_result_per_destination_and_reason() {
    let log = sarif(&every_status());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let summary: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap(),
                r["level"].as_str().unwrap(),
                r["properties"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("microsoft-managed-keys", "error", "non_compliant"),
            ("key-disabled", "error", "cmk_broken"),
            ("access-denied", "warning", "cmk_broken"),
            ("access-denied", "warning", "unreadable"),
            ("account-not-found", "error", "missing"),
        ]
    );
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
    }
    let first = &results[0];
    assert_eq!(
        first["message"]["text"],
        "the account uses Microsoft-managed keys: switch to a customer-managed key"
    );
    let location = &first["locations"][0]["logicalLocations"][0];
    assert_eq!(location["fullyQualifiedName"], account_id(SUB1, "mmk"));
    assert_eq!(location["name"], "mmk");
    assert_eq!(location["kind"], "resource");
    assert_eq!(first["properties"]["sources"][1]["kind"], "log_profile");
    assert_eq!(first["properties"]["reasonCode"], "microsoft_managed_keys");
    let fingerprint = first["partialFingerprints"]["actlogCmkFinding/v1"]
        .as_str()
        .unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert_ne!(
        fingerprint,
        results[1]["partialFingerprints"]["actlogCmkFinding/v1"]
    );
}

#[test]
fn errors_and_warnings_are_notifications() {
    let log = sarif(&every_status());
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 3);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        format!("/subscriptions/{SUB2}")
    );
    assert_eq!(notes[1]["level"], "warning");
    assert!(notes[2].get("locations").is_none());
}

#[test]
fn compliant_and_empty_reports_have_no_results() {
    let log = sarif(&empty());
    assert_eq!(log["runs"][0]["results"], json!([]));
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], json!([]));
    assert!(log["runs"][0]["invocations"][0]
        .get("toolExecutionNotifications")
        .is_none());
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 0);
}

#[test]
fn a_status_without_reason_still_has_a_result() {
    let mut report = every_status();
    report.destinations[1].reasons.clear();
    let log = sarif(&report);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results[0]["ruleId"], "unexplained-non-compliant");
    assert_eq!(results[0]["level"], "error");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(
        rules[results[0]["ruleIndex"].as_u64().unwrap() as usize]["name"],
        "UnexplainedNonCompliant"
    );
    assert!(!rules.iter().any(|r| r["id"] == "microsoft-managed-keys"));
}

#[test]
fn two_reasons_with_one_code_stay_two_alerts() {
    let mut report = every_status();
    let denied = report.destinations[2].reasons[1].clone();
    assert_eq!(denied.code, ReasonCode::AccessDenied);
    report.destinations[2].reasons.push(denied);
    let log = sarif(&report);
    let hashes: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "access-denied" && r["properties"]["status"] == "cmk_broken")
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(
        hashes[0].ends_with(":1") && hashes[1].ends_with(":2"),
        "{hashes:?}"
    );
    assert_eq!(hashes[0][..16], hashes[1][..16]);
}

#[test]
fn pipes_pass_through() {
    let log = sarif(&awkward_names());
    let result = &log["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["name"],
        "pipe|acct"
    );
    assert_eq!(result["properties"]["sources"][0]["name"], "a|b");
}
