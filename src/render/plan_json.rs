//! The plan for machines: the [`Plan`] as serde writes it, pretty-printed.
//! Its shape is docs/schemas/plan.schema.json (checked by tests/it/render/plan_golden.rs);
//! the same JSON is the `plan` inside a saved plan file.

use crate::plan::Plan;

/// Pretty JSON with a trailing newline.
pub fn plan_json(plan: &Plan) -> String {
    // The model has string keys and no custom Serialize: this cannot fail.
    let mut json = serde_json::to_string_pretty(plan).expect("a Plan always serialises to JSON");
    json.push('\n');
    json
}
