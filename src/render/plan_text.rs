//! The plan as a Terraform-style diff for a terminal: per account a `#`
//! header, then one block per resource change in apply's order (`+` create,
//! `~` update; a rollback's `-` delete too), one line per attribute, irreversible changes marked; then the
//! skipped destinations and the `Plan: N to add, ...` line. Nothing here reads
//! the clock, so the same plan always gives the same text (tests/golden/plan.txt).
//!
//! Values are JSON (strings quoted, lists and maps compact) except
//! [`KNOWN_AFTER_APPLY`], which stays bare as in Terraform. Names, ids and
//! messages come from Azure: control characters in them are replaced (in
//! values, JSON escapes them) so that they cannot drive the terminal.

use super::plural;
use super::style::{clean, paint, paint_bold, quoted, BOLD, GREEN, RED, YELLOW};
use crate::plan::{
    AccountPlan, Action, Address, AttributeChange, Plan, PlanStatus, ResourceChange,
    KNOWN_AFTER_APPLY,
};
use serde_json::Value;
use std::fmt::Write as _;

/// `tenant ID`, or `tenants A, B` for a plan across tenants.
fn tenants(plan: &Plan) -> String {
    let ids: Vec<String> = plan.tenant_ids().into_iter().map(clean).collect();
    let noun = if ids.len() == 1 { "tenant" } else { "tenants" };
    format!("{noun} {}", ids.join(", "))
}

/// Renders the plan for a terminal; `color` adds ANSI colours: green `+`,
/// yellow `~`, bold headers and summary, bold yellow irreversible marks.
pub fn plan_text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan for {} through {}\n",
        tenants(plan),
        clean(&plan.arm_endpoint)
    );

    if plan.has_changes() {
        legend(&mut out, plan, color);
        out.push_str("actlog-cmk will perform the following actions:\n\n");
        for account in &plan.accounts {
            let header = format!("# {}", account_heading(account));
            let _ = writeln!(out, "{}", paint(&header, BOLD, color));
            if account.changes.is_empty() {
                out.push_str("  (no changes)\n");
            }
            for (i, change) in account.changes.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                for line in change_lines(change, color) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            out.push('\n');
        }
    }

    if !plan.skipped.is_empty() {
        out.push_str("Skipped:\n");
        for skipped in &plan.skipped {
            let _ = writeln!(
                out,
                "  - {} ({}): {}",
                clean(&skipped.storage_account_id),
                clean(skipped.status.as_str()),
                clean(&skipped.reason)
            );
        }
        out.push('\n');
    }

    if plan.is_incomplete() {
        out.push_str("Not read (the plan may be missing changes there):\n");
        for unread in &plan.unread {
            let _ = writeln!(out, "  - {}: {}", clean(&unread.id), clean(&unread.reason));
        }
        out.push('\n');
    }

    let summary = match outcome(plan) {
        Outcome::NotAllCompliant(_) => format!("{} See Skipped above.", summary_line(plan)),
        Outcome::Incomplete(_) => format!("{} See Not read above.", summary_line(plan)),
        _ => summary_line(plan),
    };
    let _ = writeln!(out, "{}", paint(&summary, BOLD, color));
    out
}

/// The symbols the plan uses, as Terraform lists them.
fn legend(out: &mut String, plan: &Plan, color: bool) {
    let used = |action: Action| {
        plan.accounts
            .iter()
            .flat_map(|a| &a.changes)
            .any(|c| c.action == action)
    };
    out.push_str("Resource actions are indicated with the following symbols:\n");
    for (action, word) in [
        (Action::Create, "create"),
        (Action::Update, "update in-place"),
    ] {
        if used(action) {
            let _ = writeln!(out, "  {} {word}", symbol(action, color));
        }
    }
    out.push('\n');
}

/// `<account id> (<status>)`, cleaned.
fn account_heading(account: &AccountPlan) -> String {
    format!(
        "{} ({})",
        clean(&account.storage_account_id),
        clean(account.status.as_str())
    )
}

/// One resource block: `  + address "id" {`, the irreversible mark, one line
/// per attribute (names aligned; `+ name = after` in a create, `~ name =
/// before -> after` in an update), `    }`. Without colour, every line that
/// carries a change starts with spaces, its symbol and a space.
pub(super) fn change_lines(change: &ResourceChange, color: bool) -> Vec<String> {
    resource_block(
        change.action,
        change.address,
        &change.id,
        &change.attributes,
        change.irreversible.as_deref(),
        color,
    )
}

/// The block of [`change_lines`] from its parts, for a remediation's changes
/// and a rollback's alike (`- name = before` in a delete).
pub(super) fn resource_block(
    action: Action,
    address: Address,
    id: &str,
    attributes: &[AttributeChange],
    irreversible: Option<&str>,
    color: bool,
) -> Vec<String> {
    let mut lines = vec![format!(
        "  {} {} {} {{",
        symbol(action, color),
        clean(address.as_str()),
        quoted(id)
    )];
    if let Some(why) = irreversible {
        let mark = format!("# irreversible: {}", clean(why));
        lines.push(format!("      {}", paint_bold(&mark, YELLOW, color)));
    }
    let names: Vec<String> = attributes.iter().map(|a| clean(&a.name)).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    for (attribute, name) in attributes.iter().zip(&names) {
        let padding = " ".repeat(width - name.chars().count());
        let after = value(&attribute.after);
        let before = || value(attribute.before.as_ref().unwrap_or(&Value::Null));
        // By the action, not by `before`: a `null` before reads back from
        // JSON as absent, and a saved plan must show as it did when made.
        let line = match action {
            Action::Create => format!(
                "{} {name}{padding} = {after}",
                symbol(Action::Create, color)
            ),
            Action::Update => format!(
                "{} {name}{padding} = {} -> {after}",
                symbol(Action::Update, color),
                before()
            ),
            Action::Delete => format!(
                "{} {name}{padding} = {}",
                symbol(Action::Delete, color),
                before()
            ),
        };
        lines.push(format!("      {line}"));
    }
    lines.push("    }".to_string());
    lines
}

/// How a plan ends.
pub(super) enum Outcome {
    Changes,
    /// No changes, and every skipped destination is compliant.
    AllCompliant,
    /// No changes, but this many skipped destinations are not known to be
    /// compliant (broken, missing, unreadable).
    NotAllCompliant(usize),
    /// No changes for what was read, but this many things were not read.
    Incomplete(usize),
}

pub(super) fn outcome(plan: &Plan) -> Outcome {
    if plan.has_changes() {
        return Outcome::Changes;
    }
    if plan.is_incomplete() {
        return Outcome::Incomplete(plan.unread.len());
    }
    match plan
        .skipped
        .iter()
        .filter(|s| s.status != PlanStatus::Compliant)
        .count()
    {
        0 => Outcome::AllCompliant,
        n => Outcome::NotAllCompliant(n),
    }
}

/// The last line: `Plan: 2 to add, 1 to change, 0 to destroy.` or why there
/// is nothing to do.
pub(super) fn summary_line(plan: &Plan) -> String {
    match outcome(plan) {
        Outcome::Changes if plan.is_incomplete() => format!(
            "Plan: {} to add, {} to change, {} to destroy. Incomplete: {} could not be read (see Not read above).",
            plan.summary.add,
            plan.summary.change,
            plan.summary.destroy,
            plural(plan.unread.len(), "resource")
        ),
        Outcome::Changes => format!(
            "Plan: {} to add, {} to change, {} to destroy.",
            plan.summary.add, plan.summary.change, plan.summary.destroy
        ),
        Outcome::Incomplete(n) => format!(
            "No changes planned, but the plan is INCOMPLETE: {} could not be read and may need changes.",
            plural(n, "resource")
        ),
        Outcome::AllCompliant => {
            "No changes. Every activity-log destination in scope is compliant.".to_string()
        }
        Outcome::NotAllCompliant(n) => format!(
            "No changes can be planned, but {} not known to be compliant.",
            if n == 1 {
                "1 destination is".to_string()
            } else {
                format!("{} are", plural(n, "destination"))
            }
        ),
    }
}

pub(super) fn symbol(action: Action, color: bool) -> String {
    let code = match action {
        Action::Create => GREEN,
        Action::Update => YELLOW,
        Action::Delete => RED,
    };
    paint(&action.symbol().to_string(), code, color)
}

/// A value as compact JSON; `(known after apply)` bare.
pub(super) fn value(v: &Value) -> String {
    match v {
        Value::String(s) if s == KNOWN_AFTER_APPLY => s.clone(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_json_but_known_after_apply() {
        assert_eq!(value(&json!(KNOWN_AFTER_APPLY)), "(known after apply)");
        assert_eq!(value(&json!("a\"b")), "\"a\\\"b\"");
        assert_eq!(value(&json!(null)), "null");
        assert_eq!(value(&json!(3072)), "3072");
        assert_eq!(value(&json!(["x", 1])), "[\"x\",1]");
        assert_eq!(value(&json!({"k": "v"})), "{\"k\":\"v\"}");
    }
}
