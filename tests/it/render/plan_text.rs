//! `plan_text`: the Terraform-style terminal diff of a plan, on hand-built plans.

use crate::support::plan_fixtures::*;
use actlog_cmk::plan::*;
use actlog_cmk::render::plan_text;
use serde_json::json;

#[test]
fn headers_blocks_and_summary() {
    let text = plan_text(&two_accounts(), false);
    assert!(text.starts_with(
        "Plan for tenant aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa through https://management.azure.com\n\n\
         Resource actions are indicated with the following symbols:\n  + create\n  ~ update in-place\n\n\
         actlog-cmk will perform the following actions:\n\n"
    ));
    let logs1 = account_id(SUB1, "rg-logs", "logs1");
    assert!(text.contains(&format!("\n# {logs1} (non_compliant)\n  + identity \"/subscriptions/{SUB1}/resourceGroups/rg-logs/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-actlog-logs1\" {{\n")));
    assert!(text.contains(
        "      + name         = \"id-actlog-logs1\"\n      + location     = \"westeurope\"\n      + principal_id = (known after apply)\n      + tags         = {\"managed-by\":\"actlog-cmk\",\"owner\":\"platform-team\"}\n    }\n\n  + key_vault \""
    ));
    assert!(text.contains(&format!("\n  ~ storage_account \"{logs1}\" {{\n")));
    assert!(text.contains(
        "      ~ identity_type            = \"SystemAssigned\" -> \"SystemAssigned,UserAssigned\"\n"
    ));
    assert!(text.contains("      ~ key_name                 = null -> \"cmk-actlog\"\n"));
    assert!(text.contains("      + key_permissions = [\"get\",\"unwrapKey\",\"wrapKey\"]\n"));
    assert!(text.contains(&format!(
        "\n# {} (cmk_broken)\n",
        account_id(SUB2, "rg-audit", "logs2")
    )));
    assert!(text.contains(
        "      ~ key_version              = \"0123456789abcdef0123456789abcdef\" -> null\n"
    ));
    assert!(text.ends_with("\nPlan: 7 to add, 3 to change, 0 to destroy.\n"));
    assert!(!text.contains('\x1b'), "no colour unless asked");
}

#[test]
fn irreversible_changes_are_marked_inside_their_block() {
    let text = plan_text(&two_accounts(), false);
    assert!(text.contains(
        "/vaults/kv-shared\" {\n      # irreversible: purge protection cannot be turned off again; deleted keys stay until their retention period ends\n      ~ enable_purge_protection = false -> true\n    }\n"
    ));
    assert_eq!(text.matches("# irreversible:").count(), 1);
    let colored = plan_text(&two_accounts(), true);
    assert!(colored.contains(
        "      \x1b[1m\x1b[33m# irreversible: purge protection cannot be turned off again"
    ));
}

#[test]
fn skipped_destinations_are_listed() {
    let text = plan_text(&two_accounts(), false);
    assert!(text.contains(&format!(
        "\nSkipped:\n  - {} (compliant): already encrypted with key 'cmk-logs' in https://kv-logs.vault.azure.net/\n  - {} (unreadable): reading the account was denied (403): grant Reader on it\n\nPlan:",
        account_id(SUB1, "rg-logs", "good"),
        account_id(SUB2, "rg-audit", "secret")
    )));
}

#[test]
fn colours_only_when_asked() {
    let text = plan_text(&two_accounts(), true);
    assert!(text.contains("  \x1b[32m+\x1b[0m identity \""));
    assert!(text.contains("  \x1b[33m~\x1b[0m storage_account \""));
    assert!(text.contains("      \x1b[32m+\x1b[0m name "));
    assert!(text.contains("      \x1b[33m~\x1b[0m identity_type "));
    assert!(text.contains("\x1b[1m# /subscriptions/"));
    assert!(text.ends_with("\x1b[1mPlan: 7 to add, 3 to change, 0 to destroy.\x1b[0m\n"));
    // Without the codes, the same text.
    const GREEN: &str = "\x1b[32m";
    const YELLOW: &str = "\x1b[33m";
    const BOLD: &str = "\x1b[1m";
    const RESET: &str = "\x1b[0m";
    let stripped = text
        .replace(GREEN, "")
        .replace(YELLOW, "")
        .replace(BOLD, "")
        .replace(RESET, "");
    assert_eq!(stripped, plan_text(&two_accounts(), false));
}

#[test]
fn no_changes() {
    let text = plan_text(&all_compliant(), false);
    assert!(!text.contains("Resource actions"));
    assert!(!text.contains("following actions"));
    assert!(text.ends_with(
        " (compliant): already encrypted with key 'cmk-logs' in https://kv-logs.vault.azure.net/\n\n\
         No changes. Every activity-log destination in scope is compliant.\n"
    ));
    let text = plan_text(&plan(vec![], vec![]), false);
    assert_eq!(
        text,
        "Plan for tenant aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa through https://management.azure.com\n\n\
         No changes. Every activity-log destination in scope is compliant.\n"
    );
}

#[test]
fn nothing_can_be_planned() {
    let text = plan_text(&nothing_plannable(), false);
    assert!(text.ends_with(
        "(unreadable): reading the account was denied (403): grant Reader on it\n\n\
         No changes can be planned, but 1 destination is not known to be compliant. See Skipped above.\n"
    ));
    let mut plan = nothing_plannable();
    plan.skipped[0].status = PlanStatus::CmkBroken;
    // The summary line ends the text.
    assert!(plan_text(&plan, false).contains("but 2 destinations are not known"));
}

#[test]
fn only_used_symbols_are_in_the_legend() {
    let mut plan = two_accounts();
    for account in &mut plan.accounts {
        account.changes.retain(|c| c.action == Action::Create);
    }
    let text = plan_text(&plan, false);
    assert!(text.contains("symbols:\n  + create\n\n"));
}

#[test]
fn control_characters_cannot_drive_the_terminal() {
    let mut plan = two_accounts();
    plan.accounts[0].storage_account_id = "evil\x1b[2J\n".to_string();
    let change = &mut plan.accounts[0].changes[0];
    change.id = "id\x1b[31m".to_string();
    change.attributes[0].name = "na\x1bme".to_string();
    change.attributes[0].after = json!("v\x1b[0m");
    change.irreversible = Some("why\r".to_string());
    plan.skipped[0].reason = "bad\x1b]0;title\x07".to_string();
    let text = plan_text(&plan, false);
    assert!(!text.contains('\x1b'));
    assert!(!text.contains('\x07'));
    assert!(text.contains("# evil\u{fffd}[2J\u{fffd} (non_compliant)\n"));
    // The address is typed (`Address`): only the id can carry Azure's text.
    assert!(text.contains("  + identity \"id\\u001b[31m\" {\n"));
    assert!(text.contains("# irreversible: why\u{fffd}\n"));
    assert!(text.contains("+ na\u{fffd}me "));
    assert!(text.contains(" = \"v\\u001b[0m\"\n"));
}

#[test]
fn an_account_without_changes_says_so() {
    let mut plan = two_accounts();
    plan.accounts[1].changes.clear();
    let text = plan_text(&plan, false);
    assert!(text.contains(" (cmk_broken)\n  (no changes)\n\n"));
}

#[test]
fn an_incomplete_plan_names_what_was_not_read_with_or_without_changes() {
    let unread = actlog_cmk::plan::Unread {
        id: format!("/subscriptions/{SUB2}"),
        reason: "listing diagnostic settings was denied (403)".to_string(),
    };
    let mut changes = two_accounts();
    changes.unread = vec![unread.clone()];
    let text = plan_text(&changes, false);
    assert!(text.contains(&format!(
        "Not read (the plan may be missing changes there):\n  - /subscriptions/{SUB2}: listing diagnostic settings was denied (403)\n"
    )));
    assert!(text.ends_with(
        "Plan: 7 to add, 3 to change, 0 to destroy. Incomplete: 1 resource could not be read (see Not read above).\n"
    ), "{text}");
    let mut none = all_compliant();
    none.unread = vec![unread];
    let text = plan_text(&none, false);
    assert!(!text.contains("No changes."), "{text}");
    assert!(text.ends_with(
        "No changes planned, but the plan is INCOMPLETE: 1 resource could not be read and may need changes. See Not read above.\n"
    ), "{text}");
}
