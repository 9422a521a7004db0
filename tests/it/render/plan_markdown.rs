//! `plan_markdown`: the pull-request view of a plan, on hand-built plans.

use crate::support::plan_fixtures::*;
use actlog_cmk::render::plan_markdown;
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
    assert!(md.ends_with("\n\nNo changes. Every activity-log destination in scope is compliant.\n"));
    let md = plan_markdown(&nothing_plannable());
    assert!(md.starts_with("## ⚠️ actlog-cmk plan: no changes can be planned\n"));
    assert!(md.contains(
        "No changes can be planned, but 1 destination is not known to be compliant. See Skipped below.\n"
    ));
}

#[test]
fn an_incomplete_plan_says_so_in_the_title_and_lists_what_was_not_read() {
    let unread = actlog_cmk::plan::Unread {
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
    assert!(
        md.contains(
            "INCOMPLETE: 1 resource could not be read and may need changes. See Not read below.\n"
        ),
        "{md}"
    );
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
