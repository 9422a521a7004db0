//! Views of an apply report: the summary table an operator reads at the end,
//! and the versioned JSON a script reads (docs/output.md).

use crate::apply::{ApplyReport, Outcome, StepStatus};

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
    let mut out = String::new();
    let width = report
        .accounts
        .iter()
        .map(|a| a.storage_account_id.len())
        .max()
        .unwrap_or(7)
        .max(7);
    out.push_str(&format!("{:<width$}  RESULT\n", "ACCOUNT"));
    for a in &report.accounts {
        out.push_str(&format!(
            "{:<width$}  {}\n",
            a.storage_account_id,
            a.outcome.as_str()
        ));
    }
    for a in &report.accounts {
        if report.dry_run {
            out.push_str(&format!(
                "\n{} would make these calls:\n",
                a.storage_account_id
            ));
            for s in &a.steps {
                out.push_str(&format!("  {}\n", s.call.as_deref().unwrap_or(&s.id)));
            }
        }
        if matches!(a.outcome, Outcome::Failed | Outcome::Refused) {
            out.push_str(&format!(
                "\n{} {}: {}\n  next step: {}\n",
                a.storage_account_id,
                a.outcome.as_str(),
                a.reason.as_deref().unwrap_or("(no reason given)"),
                a.next_step.as_deref().unwrap_or("run apply again")
            ));
        } else if !report.dry_run {
            let made: Vec<String> = a
                .steps
                .iter()
                .filter(|s| s.status != StepStatus::Verified)
                .map(|s| format!("{} {}", s.address, status_word(s.status)))
                .collect();
            if !made.is_empty() {
                out.push_str(&format!(
                    "\n{}: {}\n",
                    a.storage_account_id,
                    made.join(", ")
                ));
            }
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\nApply {}: {} done, {} failed, {} refused, {} skipped.\n",
        if report.dry_run {
            "dry run"
        } else {
            "complete"
        },
        s.done,
        s.failed,
        s.refused,
        s.skipped
    ));
    out
}

pub fn apply_json(report: &ApplyReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{AccountResult, ApplySummary, StepResult};

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
