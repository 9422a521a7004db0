//! The plan views against golden files, and the plan JSON against its schema.
//!
//! - `plan_text(&plan, false)` must equal tests/golden/plan.txt and
//!   `plan_markdown(&plan)` tests/golden/plan.md, byte for byte.
//!   After an intended change to a view, regenerate them with
//!
//!       UPDATE_GOLDEN=1 cargo test --test it render::plan_golden
//!
//!   and review the diff of tests/golden/ before committing it.
//! - `plan_json` must match docs/schemas/plan.schema.json (draft 2020-12,
//!   every object closed), and the schema must reject what serde never writes
//!   (an unknown `kind`, a missing `fingerprint`, ...): the validator is proven
//!   live.
//!
//! It renders the very plan the other plan views' tests use
//! ([`two_accounts`], in `support::plan_fixtures`): two accounts in two
//! subscriptions, one with a new identity, vault, key and access policy, one
//! reusing an RBAC vault whose purge protection is turned on (irreversible)
//! with a role assignment for a principal known after apply; one compliant
//! and one unreadable destination skipped.

use crate::support::plan_fixtures::{identity_id, two_accounts, vault_id, SUB1};
use actlog_cmk::plan::{AccessPolicyGrant, KeyCreate};
use actlog_cmk::plan::{
    Desired, ObservedIdentity, PermissionModel, Plan, PlanSummary, Principal, SCHEMA_VERSION,
};
use actlog_cmk::render::{plan_json, plan_markdown, plan_text};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------- golden files

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file, or rewrites the file when
/// `UPDATE_GOLDEN=1`.
fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}\n(create it with UPDATE_GOLDEN=1 cargo test --test it render::plan_golden)",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .map(|(i, (e, a))| format!("line {}:\n  expected: {e:?}\n  actual:   {a:?}", i + 1))
        .unwrap_or_else(|| {
            format!(
                "one is a prefix of the other ({} and {} lines)",
                expected.lines().count(),
                actual.lines().count()
            )
        });
    panic!(
        "{} differs from the rendered output; {first_difference}\n\n\
         If the change is intended: UPDATE_GOLDEN=1 cargo test --test it render::plan_golden, \
         then review git diff tests/golden/.\n\nactual:\n{actual}",
        path.display()
    );
}

#[test]
fn text_matches_the_golden_file() {
    let plan = two_accounts();
    assert_eq!(plan.summary.add, 7);
    assert_eq!(plan.summary.change, 3);
    assert_golden("plan.txt", &plan_text(&plan, false));
}

#[test]
fn markdown_matches_the_golden_file() {
    assert_golden("plan.md", &plan_markdown(&two_accounts()));
}

#[test]
fn a_saved_plan_shows_as_it_did_when_made() {
    // A plan file holds plan_json; what is read back renders the same.
    let plan = two_accounts();
    let back: Plan = serde_json::from_str(&plan_json(&plan)).expect("plan_json reads back");
    assert_eq!(plan_text(&back, false), plan_text(&plan, false));
    assert_eq!(plan_markdown(&back), plan_markdown(&plan));
    assert_eq!(plan_json(&back), plan_json(&plan));
}

#[test]
fn colour_adds_only_escape_codes() {
    let plan = two_accounts();
    let coloured = plan_text(&plan, true);
    assert!(coloured.contains("\x1b[32m+\x1b[0m"));
    assert!(coloured.contains("\x1b[33m~\x1b[0m"));
    let mut stripped = String::new();
    let mut rest = coloured.as_str();
    while let Some(start) = rest.find('\x1b') {
        stripped.push_str(&rest[..start]);
        let end = rest[start..].find('m').expect("an SGR sequence ends in m");
        rest = &rest[start + end + 1..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plan_text(&plan, false));
}

// ---------------------------------------------------------------- JSON schema

fn plan_schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/plan.schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A validator for `schema` that also checks `format`s.
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("cannot build a validator: {e}"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors = errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).unwrap()
    );
}

fn rendered_json(plan: &Plan) -> Value {
    serde_json::from_str(&plan_json(plan)).expect("plan_json writes JSON")
}

#[test]
fn plan_json_matches_its_schema() {
    let schema = plan_schema();
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "draft 2020-12"
    );
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        json!(SCHEMA_VERSION)
    );
    let validator = validator(&schema);
    let full = rendered_json(&two_accounts());
    assert_valid(&validator, &full, "the golden plan");

    // It uses every kind of desired state, so the validation covers them all.
    let mut kinds: Vec<&str> = full["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["changes"].as_array().unwrap())
        .map(|c| c["desired"]["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut schema_kinds: Vec<&str> = schema["$defs"]["desired"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["properties"]["kind"]["const"].as_str().unwrap())
        .collect();
    schema_kinds.sort();
    assert_eq!(kinds, schema_kinds);

    // The other shapes serde can write.
    let mut plan = two_accounts();
    plan.settings.permission_model = PermissionModel::Rbac;
    plan.settings.key_expiry_days = None;
    plan.settings.key_rotation_days = None;
    plan.settings.identity = Some(identity_id(SUB1, "rg-logs", "id-shared"));
    plan.settings.key_vault = Some(vault_id(SUB1, "rg-logs", "kv-shared"));
    plan.accounts[0].observed.identity = Some(ObservedIdentity {
        id: identity_id(SUB1, "rg-logs", "id-shared"),
        principal_id: "99999999-0000-0000-0000-000000000002".to_string(),
    });
    if let Desired::AccessPolicy(AccessPolicyGrant { principal, .. }) =
        &mut plan.accounts[0].changes[3].desired
    {
        *principal = Principal::Known {
            principal_id: "99999999-0000-0000-0000-000000000002".to_string(),
        };
    }
    if let Desired::Key(KeyCreate {
        expiry_days,
        rotation_days,
        ..
    }) = &mut plan.accounts[0].changes[2].desired
    {
        *expiry_days = None;
        *rotation_days = None;
    }
    assert_valid(&validator, &rendered_json(&plan), "the variant plan");

    let empty = Plan {
        accounts: vec![],
        skipped: vec![],
        summary: PlanSummary::default(),
        ..two_accounts()
    };
    assert_valid(&validator, &rendered_json(&empty), "an empty plan");

    // What serde reads without complaint: optional fields left out.
    let mut sparse = full.clone();
    sparse["settings"]
        .as_object_mut()
        .unwrap()
        .remove("identity");
    sparse["accounts"][0]["changes"][0]["attributes"][0]
        .as_object_mut()
        .unwrap()
        .remove("before");
    assert_valid(&validator, &sparse, "a plan with optional fields left out");
    serde_json::from_value::<Plan>(sparse).expect("serde reads it too");
}

#[test]
fn plan_schema_rejects_what_serde_never_writes() {
    let validator = validator(&plan_schema());
    let good = rendered_json(&two_accounts());
    // `broken`: the schema refuses it, though serde (which ignores unknown
    // fields and does not check every value) may read it; `no_plan`: neither
    // the schema nor serde takes it for a plan.
    let check = |what: &str, serde_too: bool, change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        assert!(
            !errors(&validator, &value).is_empty(),
            "the schema accepts {what}"
        );
        if serde_too {
            assert!(
                serde_json::from_value::<Plan>(value).is_err(),
                "serde reads {what}"
            );
        }
    };
    let broken = |what: &str, change: &dyn Fn(&mut Value)| check(what, false, change);
    let no_plan = |what: &str, change: &dyn Fn(&mut Value)| check(what, true, change);
    no_plan("an unknown desired kind", &|v| {
        v["accounts"][0]["changes"][0]["desired"]["kind"] = json!("dns_zone")
    });
    no_plan("an account without a fingerprint", &|v| {
        v["accounts"][0]
            .as_object_mut()
            .unwrap()
            .remove("fingerprint");
    });
    // An unknown field on every kind of object.
    for pointer in [
        "",
        "/settings",
        "/summary",
        "/skipped/0",
        "/accounts/0",
        "/accounts/0/targets",
        "/accounts/0/observed",
        "/accounts/0/observed/account",
        "/accounts/1/observed/vault",
        "/accounts/0/changes/0",
        "/accounts/0/changes/0/attributes/0",
        "/accounts/0/changes/3/desired/principal",
        "/accounts/0/changes/3/desired/principal/of_identity",
    ] {
        broken(&format!("an extra field at '{pointer}'"), &|v| {
            v.pointer_mut(pointer).unwrap()["surprise"] = json!(true);
        });
    }
    for (account, change) in [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 1), (1, 3)] {
        broken(
            &format!("an extra field in desired {account}/{change}"),
            &|v| v["accounts"][account]["changes"][change]["desired"]["surprise"] = json!(1),
        );
    }
    // Every required field.
    for (pointer, field) in [
        ("", "schema_version"),
        ("", "tool_version"),
        ("", "created_at"),
        ("", "tenant_id"),
        ("", "arm_endpoint"),
        ("", "settings"),
        ("", "accounts"),
        ("", "skipped"),
        ("", "summary"),
        ("/settings", "key_name"),
        ("/settings", "key_size"),
        ("/settings", "permission_model"),
        ("/settings", "identity_name_template"),
        ("/settings", "vault_name_template"),
        ("/settings", "tags"),
        ("/summary", "add"),
        ("/summary", "destroy"),
        ("/skipped/0", "status"),
        ("/skipped/0", "reason"),
        ("/accounts/0", "storage_account_id"),
        ("/accounts/0", "status"),
        ("/accounts/0", "targets"),
        ("/accounts/0", "observed"),
        ("/accounts/0", "changes"),
        ("/accounts/0/targets", "vault_id"),
        ("/accounts/0/observed", "account"),
        ("/accounts/0/observed", "key_exists"),
        ("/accounts/0/observed", "grant_exists"),
        ("/accounts/0/observed/account", "location"),
        ("/accounts/0/observed/account", "user_assigned_identities"),
        ("/accounts/1/observed/vault", "purge_protection"),
        ("/accounts/0/changes/0", "action"),
        ("/accounts/0/changes/0", "address"),
        ("/accounts/0/changes/0", "id"),
        ("/accounts/0/changes/0", "attributes"),
        ("/accounts/0/changes/0", "desired"),
        ("/accounts/0/changes/0/attributes/0", "name"),
        ("/accounts/0/changes/0/attributes/0", "after"),
        ("/accounts/0/changes/0/desired", "kind"),
        ("/accounts/0/changes/0/desired", "location"),
        ("/accounts/0/changes/1/desired", "rbac_authorization"),
        ("/accounts/0/changes/2/desired", "key_size"),
        ("/accounts/0/changes/3/desired", "principal"),
        ("/accounts/0/changes/4/desired", "user_assigned_identities"),
        ("/accounts/1/changes/1/desired", "id"),
        ("/accounts/1/changes/3/desired", "role_definition_id"),
        (
            "/accounts/1/changes/3/desired/principal/of_identity",
            "identity_id",
        ),
    ] {
        no_plan(&format!("'{pointer}' without '{field}'"), &|v| {
            v.pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field)
                .expect("the field is there to remove");
        });
    }
    broken("schema_version 2", &|v| v["schema_version"] = json!(2));
    no_plan("an unknown action", &|v| {
        v["accounts"][0]["changes"][0]["action"] = json!("replace")
    });
    // Only a rollback plan deletes: serde knows the action, the schema of a
    // remediation plan does not allow it.
    broken("a remediation that deletes", &|v| {
        v["accounts"][0]["changes"][0]["action"] = json!("delete")
    });
    no_plan("an unknown permission model", &|v| {
        v["settings"]["permission_model"] = json!("acl")
    });
    broken("an unknown status", &|v| {
        v["skipped"][0]["status"] = json!("fine")
    });
    broken("a fingerprint that is no SHA-256", &|v| {
        v["accounts"][0]["fingerprint"] = json!("abc")
    });
    no_plan("a principal of both kinds", &|v| {
        v["accounts"][0]["changes"][3]["desired"]["principal"]["known"] =
            json!({"principal_id": "p"})
    });
    no_plan("a desired state of another kind's shape", &|v| {
        v["accounts"][0]["changes"][0]["desired"]["kind"] = json!("key")
    });
    no_plan("a negative count", &|v| v["summary"]["add"] = json!(-1));
    no_plan("a key size that is no number", &|v| {
        v["settings"]["key_size"] = json!("3072")
    });
    no_plan("a tag that is no string", &|v| {
        v["settings"]["tags"]["owner"] = json!(1)
    });
    no_plan("a time that is no time", &|v| {
        v["created_at"] = json!("yesterday")
    });
}
