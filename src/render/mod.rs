//! Views of the audit report: the same [`AuditReport`](crate::audit::AuditReport)
//! shown as text for a terminal, JSON for machines (schema in
//! docs/schemas/audit.schema.json), Markdown for a pull-request comment and
//! SARIF 2.1.0 for code-scanning tools. Every function here is pure: it reads
//! the report and returns a string. Nothing here talks to Azure, reads the
//! clock or the environment; docs/output.md documents every format.
//!
//! The same goes for a remediation [`Plan`](crate::plan::Plan): a
//! Terraform-style diff for a terminal, JSON for machines and the plan file
//! (schema in docs/schemas/plan.schema.json), Markdown for a pull request.

mod apply;
mod audit_json;
mod audit_markdown;
mod audit_sarif;
mod audit_text;
mod fit;
mod markdown;
mod plan_json;
mod plan_markdown;
mod plan_text;
pub mod reasons;
mod results;
mod rollback;
mod sarif_location;
mod style;

pub use apply::{apply_json, apply_text};
pub use audit_json::audit_json;
pub use audit_markdown::audit_markdown;
pub use audit_sarif::audit_sarif;
pub use audit_text::audit_text;
pub use plan_json::plan_json;
pub use plan_markdown::plan_markdown;
pub use plan_text::plan_text;
pub use rollback::{rollback_json, rollback_plan_text, rollback_text};

use crate::audit::report::{Source, SourceKind, Status};

/// How a text view names Azure resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// By name, with the resource group and subscription shown once, so that
    /// the text fits 100 columns (the default).
    Names,
    /// By full resource id, as the JSON has them (`-v`).
    Full,
}

/// The account's name, the last segment of its resource id (the id itself
/// when it has no `/`).
fn account_name(id: &str) -> &str {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or(id)
}

/// `1 destination`, `3 destinations`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The enabled categories of a source as one phrase: log profiles have none
/// by definition (they send Write, Delete and Action), which is not the same
/// as a diagnostic setting with every category switched off.
fn categories_phrase(source: &Source) -> String {
    match source.kind {
        SourceKind::LogProfile => "n/a (log profile)".to_string(),
        SourceKind::DiagnosticSetting | SourceKind::ManagementGroupDiagnosticSetting
            if source.enabled_categories.is_empty() =>
        {
            "(none enabled)".to_string()
        }
        SourceKind::DiagnosticSetting | SourceKind::ManagementGroupDiagnosticSetting => {
            source.enabled_categories.join(", ")
        }
    }
}

/// Why the audit is incomplete, as a phrase (`1 subscription not read
/// completely, 1 management group not read completely, 2 destinations unreadable`).
fn incomplete_phrase(report: &crate::audit::AuditReport) -> String {
    let subscriptions = report.subscriptions.iter().filter(|s| !s.complete).count();
    let unreadable = report
        .destinations
        .iter()
        .filter(|d| d.status == Status::Unreadable)
        .count();
    let groups = report
        .management_groups
        .iter()
        .filter(|g| !g.complete)
        .count();
    let mut parts = Vec::new();
    if subscriptions > 0 {
        parts.push(format!(
            "{} not read completely",
            plural(subscriptions, "subscription")
        ));
    }
    if groups > 0 {
        parts.push(format!(
            "{} not read completely",
            plural(groups, "management group")
        ));
    }
    if unreadable > 0 {
        parts.push(format!("{} unreadable", plural(unreadable, "destination")));
    }
    if parts.is_empty() {
        "some resources could not be read".to_string()
    } else {
        parts.join(", ")
    }
}

/// What went wrong beyond the destinations, as two lists of `(subscription
/// id, message)`: the subscription errors (a subscription not read completely
/// without an error of its own says so), then the warnings (which may name no
/// subscription). The text and Markdown views list both, each in its markup.
fn problem_lists(report: &crate::audit::AuditReport) -> [Vec<(Option<&str>, &str)>; 2] {
    let errors = report
        .subscriptions
        .iter()
        .filter(|s| !s.complete || !s.errors.is_empty())
        .flat_map(|s| {
            let id = Some(s.subscription_id.as_str());
            let own_errors = s.errors.iter().map(move |e| (id, e.as_str()));
            let not_read = s.errors.is_empty().then_some((id, "not read completely"));
            not_read.into_iter().chain(own_errors)
        })
        .collect();
    let warnings = report
        .warnings
        .iter()
        .map(|w| (w.subscription_id.as_deref(), w.message.as_str()))
        .collect();
    [errors, warnings]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_name_is_the_last_segment() {
        assert_eq!(
            account_name("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs1"),
            "logs1"
        );
        assert_eq!(account_name("/x/y/"), "y");
        assert_eq!(account_name("plain"), "plain");
        assert_eq!(account_name(""), "");
    }

    #[test]
    fn plural_counts() {
        assert_eq!(plural(0, "destination"), "0 destinations");
        assert_eq!(plural(1, "destination"), "1 destination");
        assert_eq!(plural(2, "subscription"), "2 subscriptions");
    }
}
