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
