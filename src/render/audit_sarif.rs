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
