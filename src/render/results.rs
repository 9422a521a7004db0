//! What apply and rollback both end with: the results table an operator
//! reads (one row per account, then the calls of a dry run, each failure or
//! refusal with its next step, the steps taken, a closing count) and the JSON
//! a script reads. The two reports share their outcomes and summary
//! (docs/output.md documents one shape), so one function lays them out; each
//! view only says what goes into an account's lines. Accounts are named
//! with their resource group and subscription in columns, not by their
//! 140-character ids, so that the table fits a terminal.

use super::fit::id_segment;
use super::style::clean;
use crate::apply::{ApplySummary, Outcome};
use serde::Serialize;
use std::fmt::Write as _;

/// One account of the results, as the view chose to show it.
pub(super) struct AccountLines<'a> {
    pub storage_account_id: &'a str,
    pub outcome: Outcome,
    pub reason: Option<&'a str>,
    pub next_step: Option<&'a str>,
    /// The calls to list (a dry run's), or `None` for no list at all.
    pub calls: Option<Vec<&'a str>>,
    /// What was done (`identity created`): shown, when not empty, for an
    /// account that neither failed nor was refused.
    pub made: Vec<String>,
}

/// How the results are worded for one command.
pub(super) struct Wording {
    /// `Apply`, in `Apply complete: 1 done, ...`.
    pub command: &'static str,
    /// Said when a failure comes without a next step of its own.
    pub default_next_step: &'static str,
}

/// The results table, the account details and the closing count.
pub(super) fn results_text(
    wording: &Wording,
    dry_run: bool,
    accounts: &[AccountLines],
    summary: &ApplySummary,
) -> String {
    // Ids, reasons and calls carry Azure's words: cleaned, so that they
    // cannot drive the terminal.
    let show = clean;
    let mut out = String::new();
    let named = named_rows(accounts);
    match &named {
        Some(rows) => {
            let header = ["ACCOUNT", "RESOURCE GROUP", "SUBSCRIPTION"].map(String::from);
            let width = |i: usize| {
                rows.iter()
                    .chain(std::iter::once(&header))
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let widths = [width(0), width(1), width(2)];
            let mut line = |cells: &[String; 3], result: &str| {
                for (cell, w) in cells.iter().zip(widths) {
                    out.push_str(cell);
                    out.push_str(&" ".repeat(w - cell.chars().count() + 2));
                }
                out.push_str(result);
                out.push('\n');
            };
            line(&header, "RESULT");
            for (a, row) in accounts.iter().zip(rows) {
                line(row, a.outcome.as_str());
            }
        }
        None => {
            // Padded by the id as the report holds it, so that cleaning an id
            // (one character for one) does not move the column.
            let width = accounts
                .iter()
                .map(|a| a.storage_account_id.len())
                .max()
                .unwrap_or(7)
                .max(7);
            let _ = writeln!(out, "{:<width$}  RESULT", "ACCOUNT");
            for a in accounts {
                let _ = writeln!(
                    out,
                    "{:<width$}  {}",
                    show(a.storage_account_id),
                    a.outcome.as_str()
                );
            }
        }
    }
    for (i, a) in accounts.iter().enumerate() {
        // The account as its row names it.
        let id = match &named {
            Some(rows) => rows[i][0].clone(),
            None => show(a.storage_account_id),
        };
        if let Some(calls) = &a.calls {
            let _ = writeln!(out, "\n{id} would make these calls:");
            for call in calls {
                let _ = writeln!(out, "  {}", show(call));
            }
        }
        if matches!(a.outcome, Outcome::Failed | Outcome::Refused) {
            let _ = writeln!(
                out,
                "\n{id} {}: {}\n  next step: {}",
                a.outcome.as_str(),
                show(a.reason.unwrap_or("(no reason given)")),
                show(a.next_step.unwrap_or(wording.default_next_step))
            );
        } else if !a.made.is_empty() {
            let _ = writeln!(out, "\n{id}: {}", show(&a.made.join(", ")));
        }
    }
    let _ = writeln!(
        out,
        "\n{} {}: {} done, {} failed, {} refused, {} skipped{}.",
        wording.command,
        if dry_run { "dry run" } else { "complete" },
        summary.done,
        summary.failed,
        summary.refused,
        summary.skipped,
        [
            (summary.would_create, "would create"),
            (summary.would_update, "would update"),
            (summary.unread, "NOT READ"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!(", {n} {what}"))
        .collect::<String>()
    );
    out
}

/// Each account as name, resource group and subscription (cleaned), when
/// every id is a storage account's ARM id: names are unique across Azure, and
/// the three together say all the id does in a third of its width. `None`
/// (the table shows ids) when one is not, rather than lose what it says.
fn named_rows(accounts: &[AccountLines]) -> Option<Vec<[String; 3]>> {
    accounts
        .iter()
        .map(|a| {
            let id = a.storage_account_id;
            let subscription = id_segment(id, "subscriptions")?;
            let group = id_segment(id, "resourceGroups")?;
            let name = id_segment(id, "storageAccounts")?;
            Some([clean(name), clean(group), clean(subscription)])
        })
        .collect()
}

/// Pretty JSON with a trailing newline (`{}` should serde ever refuse the
/// report, which its plain fields do not allow).
pub(super) fn results_json(report: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account<'a>(id: &'a str, outcome: Outcome) -> AccountLines<'a> {
        AccountLines {
            storage_account_id: id,
            outcome,
            reason: None,
            next_step: None,
            calls: None,
            made: Vec::new(),
        }
    }

    fn wording() -> Wording {
        Wording {
            command: "Apply",
            default_next_step: "run apply again",
        }
    }

    #[test]
    fn a_failure_without_words_gets_the_defaults() {
        let mut done = account("/s/a", Outcome::Done);
        done.made = vec!["identity created".to_string()];
        let accounts = [done, account("/s/b", Outcome::Failed)];
        let text = results_text(&wording(), false, &accounts, &ApplySummary::default());
        assert_eq!(
            text,
            "ACCOUNT  RESULT\n/s/a     done\n/s/b     failed\n\n/s/a: identity created\n\n\
             /s/b failed: (no reason given)\n  next step: run apply again\n\n\
             Apply complete: 0 done, 0 failed, 0 refused, 0 skipped.\n"
        );
    }

    #[test]
    fn arm_ids_are_shown_as_name_group_and_subscription() {
        let id = |group: &str, name: &str| {
            format!("/subscriptions/5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a02/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}")
        };
        let (a, b) = (
            id("rg-dev-audit", "stdevaudit"),
            id("rg-x", "stcontosoactlogs"),
        );
        let mut done = account(&a, Outcome::Done);
        done.made = vec!["identity created".to_string()];
        let mut failed = account(&b, Outcome::Failed);
        failed.reason = Some("denied");
        let text = results_text(&wording(), false, &[done, failed], &ApplySummary::default());
        assert_eq!(
            text,
            "ACCOUNT           RESOURCE GROUP  SUBSCRIPTION                          RESULT\n\
             stdevaudit        rg-dev-audit    5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a02  done\n\
             stcontosoactlogs  rg-x            5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a02  failed\n\
             \nstdevaudit: identity created\n\
             \nstcontosoactlogs failed: denied\n  next step: run apply again\n\
             \nApply complete: 0 done, 0 failed, 0 refused, 0 skipped.\n"
        );
        // One id that is not an account's: every row keeps its id.
        let text = results_text(
            &wording(),
            false,
            &[account(&a, Outcome::Done), account("/s/b", Outcome::Done)],
            &ApplySummary::default(),
        );
        assert!(text.contains(&format!("\n{a}  done\n")), "{text}");
    }

    #[test]
    fn cleaning_keeps_the_column_where_it_was() {
        let mut evil = account("/s/\x1b[2J", Outcome::Skipped);
        evil.calls = Some(vec!["PUT /s/\x07"]);
        let text = results_text(&wording(), true, &[evil], &ApplySummary::default());
        assert!(
            text.starts_with("ACCOUNT  RESULT\n/s/\u{fffd}[2J  skipped\n"),
            "{text}"
        );
        assert!(
            text.contains("would make these calls:\n  PUT /s/\u{fffd}\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\nApply dry run: 0 done, 0 failed, 0 refused, 0 skipped.\n"),
            "{text}"
        );
    }
}
