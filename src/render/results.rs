//! What apply and rollback both end with: the results table an operator
//! reads (one row per account, then the calls of a dry run, each failure or
//! refusal with its next step, the steps taken, a closing count) and the JSON
//! a script reads. The two reports share their outcomes and summary
//! (docs/output.md documents one shape), so one function lays them out; each
//! view only says what goes into an account's lines.

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
    // Padded by the id as the report holds it, so that cleaning an id (one
    // character for one) does not move the column.
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
    for a in accounts {
        let id = show(a.storage_account_id);
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
