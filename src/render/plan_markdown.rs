//! The plan as a pull-request comment (GitHub-flavoured Markdown): a title
//! with the summary, a caution when something cannot be undone, one section
//! per account with its diff in a ```` ```diff ```` block, then a table of the
//! skipped destinations.
//!
//! The diff block holds the lines of the text view with each change's symbol
//! moved to the start of its line, `~` written as `!` (as Atlantis does), so
//! that GitHub colours it: `+` green, `!` orange. Text from Azure outside the
//! block is escaped so that it shows as written.

use super::markdown::{code, text};
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
        "Planned in tenant {} through {} at {} with actlog-cmk {}.\n",
        code(&plan.tenant_id, false),
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
    // One trailing newline, however the last section ended.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
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
    use crate::render::plan_fixtures::*;
    use serde_json::json;

    #[test]
    fn title_and_sections() {
        let md = plan_markdown(&two_accounts());
        assert!(md.starts_with(
            "## 📝 actlog-cmk plan: 7 to add, 3 to change, 0 to destroy\n\n\
             Planned in tenant `aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa` through \
             `https://management.azure.com` at 2024-05-01T10:20:30Z with actlog-cmk 0.1.0.\n\n\
             > [!CAUTION]\n> **1 change cannot be undone**: see the marks below.\n\n"
        ));
        assert!(md.contains(&format!(
            "### logs1 (`non_compliant`)\n\n`{}`\n\n```diff\n+   identity \"",
            account_id(SUB1, "rg-logs", "logs1")
        )));
        assert!(md.contains("\n+       name         = \"id-actlog-logs1\"\n"));
        assert!(md.contains("\n!       identity_type            = \"SystemAssigned\" -> \"SystemAssigned,UserAssigned\"\n"));
        assert!(md.contains("\n    }\n\n!   storage_account \""));
        assert!(md.contains("\n### logs2 (`cmk_broken`)\n"));
        assert!(!md.contains('\x1b'));
    }

    #[test]
    fn irreversible_changes_are_bold_and_in_the_diff() {
        let md = plan_markdown(&two_accounts());
        assert!(md.contains(&format!(
            "**⚠️ Irreversible: `key_vault` `/subscriptions/{SUB2}/resourceGroups/rg-security/providers/Microsoft.KeyVault/vaults/kv-shared`: \
             purge protection cannot be turned off again; deleted keys stay until their retention period ends**\n\n```diff\n"
        )));
        assert!(md.contains("\n      # irreversible: purge protection"));
    }

    #[test]
    fn skipped_table() {
        let md = plan_markdown(&two_accounts());
        assert!(md.ends_with(&format!(
            "### Skipped\n\n| Storage account | Status | Reason |\n| --- | --- | --- |\n\
             | **good**<br>`{}` | ✅ compliant | already encrypted with key 'cmk-logs' in https://kv-logs.vault.azure.net/ |\n\
             | **secret**<br>`{}` | ⚠️ unreadable | reading the account was denied (403): grant Reader on it |\n",
            account_id(SUB1, "rg-logs", "good"),
            account_id(SUB2, "rg-audit", "secret")
        )));
    }

    #[test]
    fn no_changes() {
        let md = plan_markdown(&all_compliant());
        assert!(md.starts_with("## ✅ actlog-cmk plan: no changes\n"));
        assert!(md.contains(
            "\n\nNo changes. Every activity-log destination in scope is compliant. See Skipped below.\n\n### Skipped\n"
        ));
        assert!(!md.contains("```diff"));
        assert!(!md.contains("[!CAUTION]"));
        let md = plan_markdown(&plan(vec![], vec![]));
        assert!(
            md.ends_with("\n\nNo changes. Every activity-log destination in scope is compliant.\n")
        );
        let md = plan_markdown(&nothing_plannable());
        assert!(md.starts_with("## ⚠️ actlog-cmk plan: no changes can be planned\n"));
        assert!(md.contains(
            "No changes can be planned, but 1 destination is not known to be compliant. See Skipped below.\n"
        ));
    }

    #[test]
    fn an_incomplete_plan_says_so_in_the_title_and_lists_what_was_not_read() {
        let unread = crate::plan::Unread {
            id: format!("/subscriptions/{SUB2}"),
            reason: "denied | 403".to_string(),
        };
        let mut changes = two_accounts();
        changes.unread = vec![unread.clone()];
        let md = plan_markdown(&changes);
        assert!(md.starts_with(
            "## 📝 actlog-cmk plan: 7 to add, 3 to change, 0 to destroy; incomplete, 1 resource not read\n"
        ), "{md}");
        assert!(md.contains(&format!(
            "### Not read\n\nThe plan may be missing changes for these.\n\n| Resource | Why |\n| --- | --- |\n| `/subscriptions/{SUB2}` | denied \\| 403 |\n"
        )), "{md}");
        let mut none = all_compliant();
        none.unread = vec![unread];
        let md = plan_markdown(&none);
        assert!(
            md.starts_with("## ⚠️ actlog-cmk plan: incomplete, 1 resource not read\n"),
            "{md}"
        );
        assert!(md.contains("INCOMPLETE: 1 resource could not be read and may need changes. See Not read below.\n"), "{md}");
    }

    #[test]
    fn a_value_with_backticks_gets_a_longer_fence() {
        let mut plan = two_accounts();
        plan.accounts[0].changes[0].attributes[0].after = json!("a````b");
        let md = plan_markdown(&plan);
        assert!(md.contains("\n`````diff\n"));
        assert!(md.contains("\n`````\n"));
    }

    #[test]
    fn azure_text_is_escaped() {
        let mut plan = two_accounts();
        plan.skipped[1].reason = "a|b <b>x</b>\nnext".to_string();
        plan.skipped[1].storage_account_id = account_id(SUB2, "rg", "pipe|acct");
        let md = plan_markdown(&plan);
        assert!(md.contains(
            "| **pipe\\|acct**<br>`/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/pipe\\|acct` | ⚠️ unreadable | a\\|b \\<b\\>x\\</b\\> next |\n"
        ));
    }

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
