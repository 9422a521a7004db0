//! Views of a rollback: the plan as a diff for a terminal (`~` update in
//! place, `-` remove; what stays is listed as `# kept:`), then the summary of
//! what was done, and the versioned JSON a script reads (docs/output.md).
//! Pure: the same plan or report always gives the same text. Names, ids and
//! messages come from Azure: control characters in them are replaced so that
//! they cannot drive the terminal.

use super::plan_text::{resource_block, symbol};
use super::results::{results_json, results_text, AccountLines, Wording};
use super::style::{clean, paint, quoted, BOLD};
use crate::apply::Outcome;
use crate::plan::Action;
use crate::rollback::{AccountRollback, RollbackChange, RollbackPlan, RollbackReport};
use std::fmt::Write as _;

/// The rollback plan as a diff; `color` adds ANSI colours (yellow `~`, red
/// `-`, bold headers and summary).
pub fn rollback_plan_text(plan: &RollbackPlan, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Rollback through {}\n", clean(&plan.arm_endpoint));
    if plan.has_changes() {
        out.push_str("Resource actions are indicated with the following symbols:\n");
        for (action, word) in [
            (Action::Update, "update in-place"),
            (Action::Delete, "remove"),
        ] {
            let used = plan
                .accounts
                .iter()
                .flat_map(|a| &a.changes)
                .any(|c| c.action == action);
            if used {
                let _ = writeln!(out, "  {} {word}", symbol(action, color));
            }
        }
        out.push_str("\nactlog-cmk will perform the following actions:\n\n");
        for account in &plan.accounts {
            account_block(&mut out, account, color);
        }
    }
    if !plan.refused.is_empty() {
        out.push_str("Refused:\n");
        for r in &plan.refused {
            let _ = writeln!(
                out,
                "  - {}: {}\n    next step: {}",
                clean(&r.storage_account_id),
                clean(&r.reason),
                clean(&r.next_step)
            );
        }
        out.push('\n');
    }
    if !plan.skipped.is_empty() {
        out.push_str("Skipped:\n");
        for s in &plan.skipped {
            let _ = writeln!(
                out,
                "  - {}: {}",
                clean(&s.storage_account_id),
                clean(&s.reason)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", paint(&summary_line(plan), BOLD, color));
    out
}

fn account_block(out: &mut String, account: &AccountRollback, color: bool) {
    let header = format!("# {}", clean(&account.storage_account_id));
    let _ = writeln!(out, "{}", paint(&header, BOLD, color));
    for note in &account.notes {
        let _ = writeln!(out, "  # {}", clean(note));
    }
    for change in &account.changes {
        for line in change_lines(change, color) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    let keeps = &account.keeps;
    if let Some(key) = &keeps.key {
        let _ = writeln!(
            out,
            "  # kept: key {} in key vault {} (never deleted or disabled: data encrypted under it stays readable)",
            quoted(&key.name),
            quoted(&key.vault_id)
        );
    }
    if let Some(principal) = &keeps.system_principal_id {
        let _ = writeln!(
            out,
            "  # kept: the system-assigned identity (principal {})",
            quoted(principal)
        );
    }
    for identity in &keeps.user_assigned_identities {
        let _ = writeln!(out, "  # kept: identity {}", quoted(identity));
    }
    out.push('\n');
}

/// One block: `  ~ address "id" {`, one line per attribute (`~ name = before
/// -> after`, or `- name = before` for what is removed), `    }`.
fn change_lines(change: &RollbackChange, color: bool) -> Vec<String> {
    // The plan's own block: a rollback reads as a plan does.
    resource_block(
        change.action,
        change.address,
        &change.id,
        &change.attributes,
        None,
        color,
    )
}

/// `Rollback: 2 to change, 1 to remove.`, or why there is nothing to do.
fn summary_line(plan: &RollbackPlan) -> String {
    let refused = match plan.summary.refused {
        0 => String::new(),
        1 => " 1 account refused (see Refused above).".to_string(),
        n => format!(" {n} accounts refused (see Refused above)."),
    };
    if plan.has_changes() {
        format!(
            "Rollback: {} to change, {} to remove.{refused}",
            plan.summary.change, plan.summary.remove
        )
    } else {
        format!("No changes. Nothing to roll back.{refused}")
    }
}

/// The summary after the rollback: one row per account, the calls of a dry
/// run, each failure or refusal with its next step, the steps taken.
pub fn rollback_text(report: &RollbackReport) -> String {
    let accounts: Vec<AccountLines> = report
        .accounts
        .iter()
        .map(|a| AccountLines {
            storage_account_id: &a.storage_account_id,
            outcome: a.outcome,
            reason: a.reason.as_deref(),
            next_step: a.next_step.as_deref(),
            calls: (report.dry_run && !a.steps.is_empty()).then(|| {
                a.steps
                    .iter()
                    .map(|s| s.call.as_deref().unwrap_or(&s.id))
                    .collect()
            }),
            made: if a.outcome == Outcome::Done {
                a.steps
                    .iter()
                    .filter(|s| s.status != crate::rollback::StepStatus::Verified)
                    .map(|s| format!("{} {}", s.address, s.status.as_str()))
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect();
    let wording = Wording {
        command: "Rollback",
        default_next_step: "run rollback again",
    };
    results_text(&wording, report.dry_run, &accounts, &report.summary)
}

/// Pretty JSON with a trailing newline.
pub fn rollback_json(report: &RollbackReport) -> String {
    results_json(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::ApplySummary;
    use crate::plan::{Address, AttributeChange};
    use crate::rollback::{
        AccountResult, Keeps, KeptKey, Refusal, RollbackSummary, Skip, StepResult, StepStatus, Undo,
    };
    use serde_json::{json, Value};

    const ACCOUNT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stlogs";
    const VAULT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-stlogs";
    const OURS: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-stlogs-cmk";
    const THEIRS: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app";

    fn change(
        action: Action,
        address: Address,
        id: &str,
        attrs: &[(&str, Value, Value)],
        undo: Undo,
    ) -> RollbackChange {
        RollbackChange {
            action,
            address,
            id: id.into(),
            attributes: attrs
                .iter()
                .map(|(n, b, a)| AttributeChange {
                    name: (*n).into(),
                    before: Some(b.clone()),
                    after: a.clone(),
                })
                .collect(),
            undo,
        }
    }

    fn plan() -> RollbackPlan {
        let observed = crate::plan::ObservedAccount::default();
        let account = AccountRollback {
            storage_account_id: ACCOUNT.into(),
            fingerprint: observed.fingerprint(),
            observed,
            remediated_by_tool: true,
            keeps: Keeps {
                system_principal_id: Some("sys-principal".into()),
                user_assigned_identities: vec![THEIRS.into()],
                key: Some(KeptKey {
                    vault_id: VAULT.into(),
                    name: "activity-log-cmk".into(),
                    enabled: true,
                }),
            },
            tool_identities: vec![OURS.into()],
            notes: vec![],
            changes: vec![
                change(
                    Action::Update,
                    Address::StorageAccount,
                    ACCOUNT,
                    &[
                        (
                            "encryption.key_source",
                            json!("Microsoft.Keyvault"),
                            json!("Microsoft.Storage"),
                        ),
                        (
                            "encryption.key_name",
                            json!("activity-log-cmk"),
                            Value::Null,
                        ),
                    ],
                    Undo::MicrosoftManagedKeys {
                        account_id: ACCOUNT.into(),
                    },
                ),
                change(
                    Action::Update,
                    Address::StorageAccountIdentity,
                    ACCOUNT,
                    &[(
                        "identity.user_assigned_identities",
                        json!([THEIRS, OURS]),
                        json!([THEIRS]),
                    )],
                    Undo::DetachIdentities {
                        account_id: ACCOUNT.into(),
                        identity_ids: vec![OURS.into()],
                    },
                ),
                change(
                    Action::Delete,
                    Address::AccessPolicy,
                    &format!("{VAULT}/accessPolicies/p1"),
                    &[(
                        "key_permissions",
                        json!(["get", "wrapKey", "unwrapKey"]),
                        Value::Null,
                    )],
                    Undo::RemoveAccessPolicy {
                        vault_id: VAULT.into(),
                        tenant_id: "t".into(),
                        principal_id: "p1".into(),
                    },
                ),
            ],
        };
        let refused = vec![Refusal {
            storage_account_id: "/s/other\x1b[2J".into(),
            reason: "not remediated by actlog-cmk".into(),
            next_step: "pass --force".into(),
        }];
        let skipped = vec![Skip {
            storage_account_id: "/s/done".into(),
            reason: "nothing to roll back".into(),
        }];
        RollbackPlan {
            mode: crate::plan::PlanMode::Rollback,
            schema_version: crate::plan::SCHEMA_VERSION,
            tool_version: "0.0.0-test".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            tenant_id: "t".into(),
            arm_endpoint: "https://management.azure.com/".into(),
            remove_grants: true,
            summary: RollbackSummary::of(std::slice::from_ref(&account), &refused, &skipped),
            accounts: vec![account],
            refused,
            skipped,
        }
    }

    #[test]
    fn the_diff_shows_updates_removals_and_what_stays() {
        let text = rollback_plan_text(&plan(), false);
        assert!(text.starts_with("Rollback through https://management.azure.com/\n\nResource actions are indicated with the following symbols:\n  ~ update in-place\n  - remove\n"), "{text}");
        assert!(text.contains(&format!("# {ACCOUNT}\n  ~ storage_account \"{ACCOUNT}\" {{\n      ~ encryption.key_source = \"Microsoft.Keyvault\" -> \"Microsoft.Storage\"\n      ~ encryption.key_name   = \"activity-log-cmk\" -> null\n    }}\n")), "{text}");
        assert!(text.contains(&format!("      ~ identity.user_assigned_identities = [\"{THEIRS}\",\"{OURS}\"] -> [\"{THEIRS}\"]\n")), "{text}");
        assert!(text.contains(&format!("  - access_policy \"{VAULT}/accessPolicies/p1\" {{\n      - key_permissions = [\"get\",\"wrapKey\",\"unwrapKey\"]\n    }}\n")), "{text}");
        assert!(
            text.contains(&format!(
                "  # kept: key \"activity-log-cmk\" in key vault \"{VAULT}\""
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("  # kept: identity \"{THEIRS}\"\n")),
            "{text}"
        );
        assert!(
            text.contains("  # kept: the system-assigned identity"),
            "{text}"
        );
        assert!(text.contains("Refused:\n  - /s/other\u{fffd}[2J: not remediated by actlog-cmk\n    next step: pass --force\n"), "{text}");
        assert!(
            text.contains("Skipped:\n  - /s/done: nothing to roll back\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Rollback: 2 to change, 1 to remove. 1 account refused (see Refused above).\n"
            ),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "no colour unless asked");
        let colored = rollback_plan_text(&plan(), true);
        assert!(
            colored.contains("  \x1b[31m-\x1b[0m access_policy"),
            "{colored}"
        );
        assert!(
            colored.contains("  \x1b[33m~\x1b[0m storage_account "),
            "{colored}"
        );
    }

    #[test]
    fn nothing_to_do_says_so() {
        let mut p = plan();
        p.accounts.clear();
        p.refused.clear();
        p.summary = RollbackSummary::of(&p.accounts, &p.refused, &p.skipped);
        let text = rollback_plan_text(&p, false);
        assert!(!text.contains("Resource actions"), "{text}");
        assert!(
            text.ends_with("No changes. Nothing to roll back.\n"),
            "{text}"
        );
    }

    fn report(dry_run: bool) -> RollbackReport {
        let accounts = vec![
            AccountResult {
                storage_account_id: "/s/a".into(),
                outcome: if dry_run {
                    Outcome::Skipped
                } else {
                    Outcome::Done
                },
                reason: None,
                next_step: None,
                steps: vec![
                    StepResult {
                        address: "storage_account".into(),
                        id: "/s/a".into(),
                        status: if dry_run {
                            StepStatus::WouldCall
                        } else {
                            StepStatus::Updated
                        },
                        call: Some(
                            "PATCH /s/a?api-version=2023-05-01 (keySource: Microsoft.Storage)"
                                .into(),
                        ),
                    },
                    StepResult {
                        address: "role_assignment".into(),
                        id: "/s/ra".into(),
                        status: if dry_run {
                            StepStatus::WouldCall
                        } else {
                            StepStatus::AlreadyDone
                        },
                        call: Some("DELETE /s/ra?api-version=2022-04-01".into()),
                    },
                ],
            },
            AccountResult {
                storage_account_id: "/s/b".into(),
                outcome: Outcome::Refused,
                reason: Some("/s/b was not remediated by actlog-cmk".into()),
                next_step: Some("pass --force".into()),
                steps: vec![],
            },
        ];
        RollbackReport {
            schema_version: 1,
            tool_version: "0".into(),
            dry_run,
            plan: plan(),
            summary: ApplySummary {
                done: usize::from(!dry_run),
                failed: 0,
                refused: 1,
                skipped: usize::from(dry_run),
                ..ApplySummary::default()
            },
            accounts,
        }
    }

    #[test]
    fn the_summary_names_refusals_steps_and_calls() {
        let text = rollback_text(&report(false));
        assert!(text.contains("/s/a     done\n/s/b     refused\n"), "{text}");
        assert!(
            text.contains("\n/s/a: storage_account updated, role_assignment already done\n"),
            "{text}"
        );
        assert!(text.contains("\n/s/b refused: /s/b was not remediated by actlog-cmk\n  next step: pass --force\n"), "{text}");
        assert!(
            text.ends_with("\nRollback complete: 1 done, 0 failed, 1 refused, 0 skipped.\n"),
            "{text}"
        );
        let dry = rollback_text(&report(true));
        assert!(dry.contains("/s/a would make these calls:\n  PATCH /s/a?api-version=2023-05-01 (keySource: Microsoft.Storage)\n  DELETE /s/ra"), "{dry}");
        assert!(
            dry.ends_with("Rollback dry run: 0 done, 0 failed, 1 refused, 1 skipped.\n"),
            "{dry}"
        );
    }

    #[test]
    fn the_json_carries_the_plan_and_the_results() {
        let json: Value = serde_json::from_str(&rollback_json(&report(false))).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(
            json["summary"],
            json!({"done": 1, "failed": 0, "refused": 1, "skipped": 0})
        );
        assert_eq!(json["accounts"][0]["steps"][0]["status"], "updated");
        assert_eq!(json["accounts"][0]["steps"][1]["status"], "already_done");
        assert_eq!(json["accounts"][1]["outcome"], "refused");
        assert!(json["accounts"][0].get("reason").is_none());
        let change = &json["plan"]["accounts"][0]["changes"][2];
        assert_eq!(change["action"], "delete");
        assert_eq!(change["undo"]["kind"], "remove_access_policy");
        assert_eq!(json["plan"]["summary"]["remove"], 1);
        assert_eq!(
            json["plan"]["accounts"][0]["keeps"]["key"]["name"],
            "activity-log-cmk"
        );
    }
}
