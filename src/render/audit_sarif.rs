//! The code-scanning view: SARIF 2.1.0, one run.
//!
//! - One rule per reason code that occurs in a result; the rule id is the code
//!   in kebab-case (`microsoft-managed-keys`), with a short description and
//!   help saying how to fix it.
//! - One result per (destination, reason) for every destination that is not
//!   `compliant`, at the account: a physical location GitHub code scanning
//!   accepts (a virtual path under `azure/`, `sarif_location.rs`) and a
//!   logical one (kind `resource`, fully qualified name = the account's id),
//!   with partial fingerprints that stay the same from run to run.
//! - Level: `error` for a definite problem (non_compliant, cmk_broken,
//!   missing); `warning` for a gap in the audit: every reason of an
//!   `unreadable` destination, and an `access_denied` or `read_failed` reason
//!   of a `cmk_broken` one. A gap is not `note`: it makes the audit exit 3,
//!   and a note is easy to overlook.
//! - Subscription errors and warnings are the invocation's
//!   `toolExecutionNotifications` (`error` and `warning`); the summary is in
//!   the run's `properties`.
//!
//! Checked against the official SARIF 2.1.0 schema and GitHub's ingestion
//! rules by tests/it/render_schemas.rs.

use super::reasons::{help, rule_id, rule_name, title};
use super::sarif_location::{account_location, original_uri_base_ids, partial_fingerprints};
use crate::audit::report::{AuditReport, Destination, Reason, ReasonCode, Status};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/actlog-cmk/actlog-cmk";

/// The report as a SARIF 2.1.0 log, pretty-printed with a trailing newline.
pub fn audit_sarif(report: &AuditReport) -> String {
    let findings: Vec<(&Destination, Option<&Reason>)> = report
        .destinations
        .iter()
        .filter(|d| d.status != Status::Compliant)
        .flat_map(|d| {
            // The model promises a reason for every status but compliant; should
            // one still come without, it gets a result of its own all the same.
            let reasons: Vec<Option<&Reason>> = if d.reasons.is_empty() {
                vec![None]
            } else {
                d.reasons.iter().map(Some).collect()
            };
            reasons.into_iter().map(move |r| (d, r))
        })
        .collect();

    let codes: BTreeSet<ReasonCode> = findings
        .iter()
        .filter_map(|(_, r)| r.map(|r| r.code))
        .collect();
    let unexplained: BTreeSet<Status> = findings
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(d, _)| d.status)
        .collect();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut rules: Vec<Value> = Vec::new();
    for &code in &codes {
        rule_ids.push(rule_id(code));
        rules.push(json!({
            "id": rule_id(code),
            "name": rule_name(code),
            "shortDescription": {"text": title(code)},
            "fullDescription": {"text": format!("{}. Reason code `{}` in the audit's JSON output.", title(code), code.as_str())},
            "help": {"text": help(code)},
            "properties": {"tags": ["security", "azure", "encryption"]},
        }));
    }
    for &status in &unexplained {
        let id = unexplained_rule_id(status);
        rules.push(json!({
            "id": id,
            "name": format!("Unexplained{}", rule_name_of_status(status)),
            "shortDescription": {"text": format!("Destination is {} without a stated reason", status.as_str())},
            // GitHub requires a full description of every rule.
            "fullDescription": {"text": format!("The audit found the destination {} but gave no reason code: a gap in actlog-cmk, not in the account.", status.as_str())},
            "help": {"text": "Run the audit with -v and report the account: every status but compliant should carry a reason."},
            "properties": {"tags": ["security", "azure", "encryption"]},
        }));
        rule_ids.push(id);
    }

    // How often each (account, rule) pair has come up so far: an account can
    // have two reasons with one code, and each must stay an alert of its own.
    let mut occurrences: BTreeMap<(String, String), usize> = BTreeMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|&(destination, reason)| {
            let id = match reason {
                Some(r) => rule_id(r.code),
                None => unexplained_rule_id(destination.status),
            };
            let index = rule_ids
                .iter()
                .position(|r| *r == id)
                .expect("every result's rule is listed");
            let key = (destination.storage_account_id.to_lowercase(), id.clone());
            let occurrence = occurrences.entry(key).or_insert(0);
            *occurrence += 1;
            result(destination, reason, id, index, *occurrence)
        })
        .collect();

    let mut notifications: Vec<Value> = Vec::new();
    for subscription in &report.subscriptions {
        let mut errors: Vec<String> = subscription.errors.clone();
        if errors.is_empty() && !subscription.complete {
            errors.push("the subscription was not read completely".to_string());
        }
        for error in errors {
            notifications.push(json!({
                "level": "error",
                "message": {"text": non_empty(&error, "the subscription could not be read")},
                "locations": [subscription_location(&subscription.subscription_id)],
            }));
        }
    }
    for warning in &report.warnings {
        let mut notification = json!({
            "level": "warning",
            "message": {"text": non_empty(&warning.message, "warning")},
        });
        if let Some(id) = &warning.subscription_id {
            notification["locations"] = json!([subscription_location(id)]);
        }
        notifications.push(notification);
    }
    let mut invocation = json!({
        "executionSuccessful": true,
        "exitCode": report.exit_code(),
    });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }

    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "actlog-cmk",
                    "version": report.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [invocation],
            "originalUriBaseIds": original_uri_base_ids(),
            "results": results,
            "properties": {
                "schemaVersion": report.schema_version,
                "generatedAt": report.generated_at,
                "armEndpoint": report.arm_endpoint,
                "summary": report.summary,
            },
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a json! value always serialises");
    text.push('\n');
    text
}

fn result(
    destination: &Destination,
    reason: Option<&Reason>,
    rule_id: String,
    rule_index: usize,
    occurrence: usize,
) -> Value {
    let gap = destination.status == Status::Unreadable
        || reason
            .is_some_and(|r| matches!(r.code, ReasonCode::AccessDenied | ReasonCode::ReadFailed));
    let level = if gap { "warning" } else { "error" };
    let message = match reason {
        Some(r) => non_empty(&r.message, title(r.code)),
        None => format!(
            "{} is {} without a stated reason",
            destination.storage_account_id,
            destination.status.as_str()
        ),
    };
    let mut properties = Map::new();
    properties.insert("status".into(), json!(destination.status));
    if let Some(r) = reason {
        properties.insert("reasonCode".into(), json!(r.code));
    }
    properties.insert("sources".into(), json!(destination.sources));
    if let Some(encryption) = &destination.encryption {
        properties.insert("encryption".into(), json!(encryption));
    }
    json!({
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": message},
        "locations": [account_location(
            &destination.storage_account_id,
            super::account_name(&destination.storage_account_id),
        )],
        // Stable across runs, so that a code-scanning service can track the
        // same finding over time: account id (ARM ids are case-insensitive) and rule.
        "partialFingerprints": partial_fingerprints(&destination.storage_account_id, &rule_id, occurrence),
        "properties": properties,
    })
}

fn subscription_location(subscription_id: &str) -> Value {
    json!({
        "logicalLocations": [{
            "name": subscription_id,
            "fullyQualifiedName": format!("/subscriptions/{subscription_id}"),
            "kind": "resource",
        }]
    })
}

fn unexplained_rule_id(status: Status) -> String {
    format!("unexplained-{}", status.as_str().replace('_', "-"))
}

fn rule_name_of_status(status: Status) -> String {
    status
        .as_str()
        .split('_')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

/// SARIF messages must not be empty.
fn non_empty(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::*;

    fn sarif(report: &AuditReport) -> Value {
        let text = audit_sarif(report);
        assert!(text.ends_with("}\n"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn log_and_driver() {
        let log = sarif(&every_status());
        assert_eq!(log["$schema"], SARIF_SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["runs"].as_array().unwrap().len(), 1);
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "actlog-cmk");
        assert_eq!(driver["version"], "0.1.0");
        assert_eq!(driver["informationUri"], INFORMATION_URI);
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
}
