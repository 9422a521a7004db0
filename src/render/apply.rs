//! Views of an apply report: the summary table an operator reads at the end,
//! and the versioned JSON a script reads (docs/output.md).

use super::results::{results_json, results_text, AccountLines, Wording};
use super::style::clean;
use crate::apply::{ApplyReport, StepStatus};
use std::fmt::Write as _;

fn status_word(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Created => "created",
        StepStatus::Updated => "updated",
        StepStatus::AlreadyDone => "already done",
        StepStatus::Verified => "verified",
        StepStatus::WouldCall => "would call",
        StepStatus::Failed => "failed",
    }
}

/// The summary: one row per account, then the details of failures (what went
/// wrong and the next step) and, for a dry run, the calls.
pub fn apply_text(report: &ApplyReport) -> String {
    let accounts: Vec<AccountLines> = report
        .accounts
        .iter()
        .map(|a| AccountLines {
            storage_account_id: &a.storage_account_id,
            outcome: a.outcome,
            reason: a.reason.as_deref(),
            next_step: a.next_step.as_deref(),
            // Every account of a dry run lists its calls, even none.
            calls: report.dry_run.then(|| {
                a.steps
                    .iter()
                    .map(|s| s.call.as_deref().unwrap_or(&s.id))
                    .collect()
            }),
            made: if report.dry_run {
                Vec::new()
            } else {
                a.steps
                    .iter()
                    .filter(|s| s.status != StepStatus::Verified)
                    .map(|s| format!("{} {}", s.address, status_word(s.status)))
                    .collect()
            },
        })
        .collect();
    let wording = Wording {
        command: "Apply",
        default_next_step: "run apply again",
    };
    let mut out = results_text(&wording, report.dry_run, &accounts, &report.summary);
    if !report.unread.is_empty() {
        let _ = writeln!(
            out,
            "\nNot read ({}: apply could not see whether they need changes; fix the access, then run apply again):",
            report.unread.len()
        );
        for unread in &report.unread {
            let _ = writeln!(out, "  - {}: {}", clean(&unread.id), clean(&unread.reason));
        }
    }
    out
}

pub fn apply_json(report: &ApplyReport) -> String {
    results_json(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{AccountResult, ApplySummary, Outcome, StepResult};

    fn report(dry_run: bool) -> ApplyReport {
        let accounts = vec![
            AccountResult {
                storage_account_id: "/s/a".into(),
                outcome: Outcome::Done,
                reason: None,
                next_step: None,
                steps: vec![StepResult {
                    address: "identity".into(),
                    id: "/s/i".into(),
                    status: StepStatus::Created,
                    call: Some("PUT /s/i".into()),
                }],
            },
            AccountResult {
                storage_account_id: "/s/b".into(),
                outcome: Outcome::Failed,
                reason: Some("storage_account: denied".into()),
                next_step: Some("grant it".into()),
                steps: vec![],
            },
        ];
        ApplyReport {
            schema_version: 1,
            tool_version: "0".into(),
            dry_run,
            summary: ApplySummary::of(&accounts),
            accounts,
            unread: vec![],
        }
    }

    #[test]
    fn the_summary_names_failures_and_their_next_step() {
        let text = apply_text(&report(false));
        assert!(text.contains("/s/a     done"), "{text}");
        assert!(
            text.contains("/s/b failed: storage_account: denied\n  next step: grant it"),
            "{text}"
        );
        assert!(text.contains("identity created"), "{text}");
        assert!(
            text.ends_with("Apply complete: 1 done, 1 failed, 0 refused, 0 skipped.\n"),
            "{text}"
        );
    }

    #[test]
    fn azure_text_cannot_drive_the_terminal() {
        let mut evil = report(false);
        evil.accounts[1].reason = Some("denied\x1b[2J\nfake: line".into());
        let text = apply_text(&evil);
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(
            text.contains("denied\u{fffd}[2J\u{fffd}fake: line"),
            "{text:?}"
        );
    }

    #[test]
    fn a_dry_run_lists_the_calls() {
        let text = apply_text(&report(true));
        assert!(
            text.contains("would make these calls:\n  PUT /s/i"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&apply_json(&report(true))).unwrap();
        assert_eq!(json["dry_run"], true);
        assert_eq!(json["accounts"][1]["outcome"], "failed");
    }
}
