//! The machine view: the report as serde writes it, pretty-printed. Its
//! shape is docs/schemas/audit.schema.json (checked by tests/it/render_schemas.rs).

use crate::audit::report::AuditReport;

/// Pretty JSON with a trailing newline.
pub fn audit_json(report: &AuditReport) -> String {
    // The model has string keys and no custom Serialize: this cannot fail.
    let mut json =
        serde_json::to_string_pretty(report).expect("an AuditReport always serialises to JSON");
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::*;
    use serde_json::{json, Value};

    #[test]
    fn field_names_and_values_are_serdes() {
        let text = audit_json(&every_status());
        assert!(text.ends_with("}\n"));
        assert!(text.starts_with("{\n  \"schema_version\": 1,\n"));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["generated_at"], "2024-05-01T10:20:30Z");
        assert_eq!(
            value["summary"],
            json!({
                "subscriptions": 2, "destinations": 5, "compliant": 1, "non_compliant": 1,
                "cmk_broken": 1, "unreadable": 1, "missing": 1, "incomplete": true
            })
        );
        let statuses: Vec<&str> = value["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "compliant",
                "non_compliant",
                "cmk_broken",
                "unreadable",
                "missing"
            ]
        );
        let mmk = &value["destinations"][1];
        assert_eq!(mmk["reasons"][0]["code"], "microsoft_managed_keys");
        assert_eq!(mmk["sources"][1]["kind"], "log_profile");
        assert_eq!(mmk["sources"][1]["enabled_categories"], json!([]));
        // Absent options are left out, not null.
        assert_eq!(
            mmk["encryption"],
            json!({"key_source": "Microsoft.Storage"})
        );
        assert!(value["destinations"][3].get("encryption").is_none());
        assert!(value["warnings"][1].get("subscription_id").is_none());
    }

    #[test]
    fn no_destinations_and_pipes() {
        let value: Value = serde_json::from_str(&audit_json(&empty())).unwrap();
        assert_eq!(value["destinations"], json!([]));
        assert_eq!(value["warnings"], json!([]));
        let value: Value = serde_json::from_str(&audit_json(&awkward_names())).unwrap();
        assert_eq!(value["destinations"][0]["sources"][0]["name"], "a|b");
    }
}
