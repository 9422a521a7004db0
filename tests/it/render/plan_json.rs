//! `plan_json`: the machine view and the plan file are serde's, on hand-built plans.

use crate::support::plan_fixtures::*;
use actlog_cmk::plan::*;
use actlog_cmk::render::{plan_json, plan_text};
use serde_json::{json, Value};

#[test]
fn field_names_and_values_are_serdes() {
    let text = plan_json(&two_accounts());
    assert!(text.starts_with("{\n  \"schema_version\": 1,\n"));
    assert!(text.ends_with("}\n"));
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["created_at"], "2024-05-01T10:20:30Z");
    assert_eq!(
        value["summary"],
        json!({"add": 7, "change": 3, "destroy": 0, "accounts": 2, "skipped": 2})
    );
    assert_eq!(value["settings"]["permission_model"], "access_policy");
    // Absent options are written as null.
    assert_eq!(value["settings"]["identity"], Value::Null);
    let kinds: Vec<&str> = value["accounts"][1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["desired"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "identity",
            "enable_purge_protection",
            "key",
            "role_assignment",
            "storage_encryption"
        ]
    );
    let grant = &value["accounts"][1]["changes"][3];
    assert_eq!(grant["action"], "create");
    assert_eq!(
        grant["desired"]["principal"]["of_identity"]["identity_id"],
        json!(format!("/subscriptions/{SUB2}/resourceGroups/rg-audit/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-actlog-logs2"))
    );
    assert_eq!(grant["attributes"][2]["after"], "(known after apply)");
    assert_eq!(grant["attributes"][2]["before"], Value::Null);
    assert_eq!(grant["irreversible"], Value::Null);
    assert!(value["accounts"][1]["changes"][1]["irreversible"]
        .as_str()
        .unwrap()
        .starts_with("purge protection"));
}

#[test]
fn round_trips() {
    let plan = two_accounts();
    let json = plan_json(&plan);
    let back: Plan = serde_json::from_str(&json).unwrap();
    // Not `back == plan`: a `before` of `null` reads back as absent.
    assert_eq!(plan_json(&back), json);
    assert_eq!(plan_text(&back, false), plan_text(&plan, false));
}
