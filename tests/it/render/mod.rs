//! The views (`actlog_cmk::render`) on hand-built reports and plans
//! (`support::audit_fixtures`, `support::plan_fixtures`): one module per
//! view, and the plan views against the golden files in tests/golden/.
//! The views' schemas are checked in `render_schemas`.

mod audit_json;
mod audit_markdown;
mod audit_sarif;
mod audit_text;
mod plan_golden;
mod plan_json;
mod plan_markdown;
mod plan_text;
mod reasons;
