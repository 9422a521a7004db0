//! What a reviewer sees is what apply sends: a saved account's diff is
//! checked against its requests (`attributes::check`).

use super::tests::*;
use super::*;
use crate::plan::attributes::{attributes, check, Before};
use serde_json::json;

fn saved(inputs: &AccountInputs, model: PermissionModel) -> AccountPlan {
    let changes = changes(inputs, &settings(model)).expect("a plan");
    let observed = inputs.seen.observed(&inputs.targets);
    AccountPlan {
        storage_account_id: inputs.account_id.to_string(),
        status: PlanStatus::NonCompliant,
        fingerprint: observed.fingerprint(),
        observed,
        targets: inputs.targets.clone(),
        changes,
    }
}

#[test]
fn every_plan_the_diff_makes_agrees_with_its_requests() {
    for seen in [nothing_yet(), with_everything_but_the_grant()] {
        for model in [PermissionModel::Rbac, PermissionModel::AccessPolicy] {
            let plan = saved(&inputs(Purpose::Remediation, seen.clone()), model);
            assert_eq!(check(&plan), None, "{plan:#?}");
        }
    }
}

#[test]
fn a_request_edited_after_planning_changes_the_diff_and_is_caught() {
    let mut plan = saved(
        &inputs(Purpose::Remediation, nothing_yet()),
        PermissionModel::Rbac,
    );
    let before = Before::recorded(&plan.observed);
    let key = &mut plan.changes[2];
    let Desired::Key(KeyCreate { key_size, name, .. }) = &mut key.desired else {
        panic!("a key: {key:?}")
    };
    *key_size = 2048;
    *name = "other".into();
    let derived = attributes(&key.desired, &before);
    let shown = |attributes: &[AttributeChange], name: &str| {
        attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.after.clone())
    };
    assert_eq!(shown(&derived, "key_size"), Some(json!(2048)));
    assert_eq!(shown(&derived, "name"), Some(json!("other")));
    // The diff rendered from the requests shows the edit.
    let mut rendered = crate::plan::Plan {
        schema_version: SCHEMA_VERSION,
        tool_version: "test".into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        tenant_id: "t".into(),
        arm_endpoint: "https://127.0.0.1/".into(),
        shard: None,
        tenants: Default::default(),
        settings: settings(PermissionModel::Rbac),
        accounts: vec![plan.clone()],
        skipped: vec![],
        unread: vec![],
        summary: PlanSummary::default(),
    };
    let stale = crate::render::plan_text(&rendered, false);
    rendered.accounts[0].changes[2].attributes = derived;
    let fresh = crate::render::plan_text(&rendered, false);
    assert_ne!(stale, fresh);
    assert!(fresh.contains("2048"), "{fresh}");
    assert!(!stale.contains("2048"), "{stale}");
    // The stored diff no longer matches: refused, naming the attribute.
    let why = check(&plan).expect("a disagreement");
    assert!(why.contains("name = \"other\""), "{why}");
}

#[test]
fn a_diff_edited_without_its_request_is_caught_too() {
    let mut plan = saved(
        &inputs(Purpose::Remediation, nothing_yet()),
        PermissionModel::Rbac,
    );
    plan.changes[1]
        .attributes
        .retain(|a| a.name != "enable_purge_protection");
    let why = check(&plan).expect("a disagreement");
    assert!(why.contains("enable_purge_protection"), "{why}");
    let mut plan = saved(
        &inputs(Purpose::Remediation, nothing_yet()),
        PermissionModel::Rbac,
    );
    plan.changes[4].attributes.push(AttributeChange {
        name: "encryption.key_version".into(),
        before: None,
        after: json!("v1"),
    });
    assert!(check(&plan).is_some());
}
