//! Reading the tool's JSON reports: an account's entry found by its id as
//! ARM compares ids (case-insensitively), and the audit after a change.

use super::Env;
use serde_json::Value;

/// The entry of `entries` (an array of objects with `storage_account_id`)
/// for the account `id`.
fn by_account_id<'a>(entries: &'a Value, id: &str, what: &str) -> &'a Value {
    entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["storage_account_id"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(id)
        })
        .unwrap_or_else(|| panic!("no {what} for {id} in {entries:#}"))
}

/// An audit report's destination for the account.
pub fn destination<'a>(audit: &'a Value, account_id: &str) -> &'a Value {
    by_account_id(&audit["destinations"], account_id, "destination")
}

/// A plan's, apply's or rollback's entry for the account.
pub fn account<'a>(report: &'a Value, account_id: &str) -> &'a Value {
    by_account_id(&report["accounts"], account_id, "account")
}

/// `audit -o json`, which exits 0 (all compliant) or 2 (findings).
pub async fn audit_json(env: &Env) -> Value {
    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    run.json()
}

pub fn assert_all_compliant(audit: &Value) {
    for d in audit["destinations"].as_array().unwrap() {
        assert_eq!(d["status"], "compliant", "{d:#}");
    }
}
