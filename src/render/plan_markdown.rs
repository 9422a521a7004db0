//! The plan as a pull-request comment (GitHub-flavoured Markdown): a title
//! with the summary, a caution when something cannot be undone, one section
//! per account with its diff in a ```` ```diff ```` block, then a table of the
//! skipped destinations.
//!
//! The diff block holds the lines of the text view with each change's symbol
//! moved to the start of its line, `~` written as `!` (as Atlantis does), so
//! that GitHub colours it: `+` green, `!` orange. Text from Azure outside the
//! block is escaped so that it shows as written.

use super::markdown::{code, document, text};
use super::plan_text::{change_lines, outcome, summary_line, Outcome};
use super::{account_name, plural};
use crate::plan::{AccountPlan, Plan, Skipped};
use std::fmt::Write as _;

pub fn plan_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let (icon, verdict) = match outcome(plan) {
        Outcome::Changes => (
            "📝",
            format!(
                "{} to add, {} to change, {} to destroy",
                plan.summary.add, plan.summary.change, plan.summary.destroy
            ),
        ),
        Outcome::AllCompliant => ("✅", "no changes".to_string()),
        Outcome::NotAllCompliant(_) => ("⚠️", "no changes can be planned".to_string()),
        Outcome::Incomplete(n) => (
            "⚠️",
            format!("incomplete, {} not read", plural(n, "resource")),
        ),
    };
    let verdict = match outcome(plan) {
        Outcome::Changes if plan.is_incomplete() => format!(
            "{verdict}; incomplete, {} not read",
            plural(plan.unread.len(), "resource")
        ),
        _ => verdict,
    };
    let _ = writeln!(out, "## {icon} actlog-cmk plan: {verdict}\n");
    let _ = writeln!(
        out,
        "Planned in {} through {} at {} with actlog-cmk {}.\n",
        {
            let ids: Vec<String> = plan
                .tenant_ids()
                .into_iter()
                .map(|t| code(t, false))
                .collect();
            let noun = if ids.len() == 1 { "tenant" } else { "tenants" };
            format!("{noun} {}", ids.join(", "))
        },
        code(&plan.arm_endpoint, false),
        plan.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text(&plan.tool_version)
    );
    match outcome(plan) {
        Outcome::Changes => {}
        Outcome::AllCompliant if plan.skipped.is_empty() => {
            let _ = writeln!(out, "{}\n", text(&summary_line(plan)));
        }
        Outcome::AllCompliant | Outcome::NotAllCompliant(_) => {
            let _ = writeln!(out, "{} See Skipped below.\n", text(&summary_line(plan)));
        }
        Outcome::Incomplete(_) => {
            let _ = writeln!(out, "{} See Not read below.\n", text(&summary_line(plan)));
        }
    }

    let irreversible = plan
        .accounts
        .iter()
        .flat_map(|a| &a.changes)
        .filter(|c| c.irreversible.is_some())
        .count();
    if irreversible > 0 {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> **{} cannot be undone**: see the marks below.\n",
            if irreversible == 1 {
                "1 change".to_string()
            } else {
                format!("{irreversible} changes")
            }
        );
    }

    if plan.has_changes() {
        for account in &plan.accounts {
            account_section(&mut out, account);
        }
    }

    if !plan.skipped.is_empty() {
        out.push_str("### Skipped\n\n| Storage account | Status | Reason |\n| --- | --- | --- |\n");
        for skipped in &plan.skipped {
            skipped_row(&mut out, skipped);
        }
        out.push('\n');
    }
    if plan.is_incomplete() {
        out.push_str("### Not read\n\nThe plan may be missing changes for these.\n\n| Resource | Why |\n| --- | --- |\n");
        for unread in &plan.unread {
            let _ = writeln!(
                out,
                "| {} | {} |",
                code(&unread.id, true),
                text(&unread.reason)
            );
        }
        out.push('\n');
    }
    document(out)
}

fn account_section(out: &mut String, account: &AccountPlan) {
    let _ = writeln!(
        out,
        "### {} ({})\n\n{}\n",
        text(account_name(&account.storage_account_id)),
        code(account.status.as_str(), false),
        code(&account.storage_account_id, false)
    );
    for change in account.changes.iter() {
        if let Some(why) = &change.irreversible {
            let _ = writeln!(
                out,
                "**⚠️ Irreversible: {} {}: {}**\n",
                code(change.address.as_str(), false),
                code(&change.id, false),
                text(why)
            );
        }
    }
    if account.changes.is_empty() {
        out.push_str("No changes.\n\n");
        return;
    }
    let mut lines = Vec::new();
    for (i, change) in account.changes.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(change_lines(change, false).iter().map(|l| diff_line(l)));
    }
    // A fence longer than any run of backticks in a value.
    let longest_run = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let _ = writeln!(out, "{fence}diff\n{}\n{fence}\n", lines.join("\n"));
}

/// `  + name = 1` -> `+   name = 1`, `  ~ x` -> `!   x`; other lines as they are.
fn diff_line(line: &str) -> String {
    let rest = line.trim_start_matches(' ');
    let indent = line.len() - rest.len();
    let marker = match rest.chars().next() {
        Some('+') => '+',
        Some('~') => '!',
        _ => return line.to_string(),
    };
    // The symbol is one byte.
    format!("{marker}{}{}", " ".repeat(indent), &rest[1..])
}

fn skipped_row(out: &mut String, skipped: &Skipped) {
    let icon = match skipped.status.as_str() {
        "compliant" => "✅ ",
        "non_compliant" => "❌ ",
        "cmk_broken" => "💥 ",
        "unreadable" => "⚠️ ",
        "missing" => "🚫 ",
        _ => "",
    };
    let _ = writeln!(
        out,
        "| **{}**<br>{} | {icon}{} | {} |",
        text(account_name(&skipped.storage_account_id)),
        code(&skipped.storage_account_id, true),
        text(skipped.status.as_str()),
        text(&skipped.reason)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_move_the_symbol_to_the_start() {
        assert_eq!(diff_line("  + identity \"x\" {"), "+   identity \"x\" {");
        assert_eq!(diff_line("      ~ a = 1 -> 2"), "!       a = 1 -> 2");
        assert_eq!(diff_line("    }"), "    }");
        assert_eq!(
            diff_line("      # irreversible: x"),
            "      # irreversible: x"
        );
        assert_eq!(diff_line(""), "");
    }
}
