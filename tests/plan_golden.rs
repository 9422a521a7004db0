//! The plan views against golden files, and the plan JSON against its schema.
//!
//! - `plan_text(&plan, false)` must equal tests/golden/plan.txt and
//!   `plan_markdown(&plan)` tests/golden/plan.md, byte for byte.
//!   After an intended change to a view, regenerate them with
//!
//!       UPDATE_GOLDEN=1 cargo test --test plan_golden
//!
//!   and review the diff of tests/golden/ before committing it.
//! - `plan_json` must match docs/schemas/plan.schema.json (draft 2020-12,
//!   every object closed), and the schema must reject what serde never writes
//!   (an unknown `kind`, a missing `fingerprint`, ...): the validator is proven
//!   live.
//!
//! The plan is built here through the public model (the unit tests'
//! fixtures in src/render/plan_fixtures.rs are not visible to this crate):
//! two accounts in two subscriptions, one with a new identity, vault, key and
//! access policy, one reusing an RBAC vault whose purge protection is turned
//! on (irreversible) with a role assignment for a principal known after apply;
//! one compliant and one unreadable destination skipped.

use actlog_cmk::plan::{
    AccountPlan, Action, AttributeChange, Desired, Observed, ObservedAccount, ObservedVault,
    PermissionModel, Plan, PlanSettings, PlanSummary, Principal, ResourceChange, Skipped, Targets,
    KNOWN_AFTER_APPLY, SCHEMA_VERSION,
};
use actlog_cmk::render::{plan_json, plan_markdown, plan_text};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SUB1: &str = "11111111-1111-1111-1111-111111111111";
const SUB2: &str = "22222222-2222-2222-2222-222222222222";
const TENANT: &str = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
/// Key Vault Crypto Service Encryption User.
const CRYPTO_USER_ROLE: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

// ---------------------------------------------------------------- the plan

fn account_id(sub: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}"
    )
}

fn identity_id(sub: &str, group: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
}

fn vault_id(sub: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("managed-by".to_string(), "actlog-cmk".to_string()),
        ("owner".to_string(), "platform-team".to_string()),
    ])
}

/// An attribute of a created resource.
fn set(name: &str, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.to_string(),
        before: None,
        after,
    }
}

/// An attribute of an updated resource.
fn change(name: &str, before: Value, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.to_string(),
        before: Some(before),
        after,
    }
}

fn resource(
    action: Action,
    address: &str,
    id: &str,
    attributes: Vec<AttributeChange>,
    desired: Desired,
) -> ResourceChange {
    ResourceChange {
        action,
        address: address.to_string(),
        id: id.to_string(),
        attributes,
        irreversible: None,
        desired,
    }
}

fn create_identity(id: &str, name: &str, location: &str) -> ResourceChange {
    resource(
        Action::Create,
        "identity",
        id,
        vec![
            set("name", json!(name)),
            set("location", json!(location)),
            set("principal_id", json!(KNOWN_AFTER_APPLY)),
            set("tags", json!(tags())),
        ],
        Desired::Identity {
            id: id.to_string(),
            location: location.to_string(),
            tags: tags(),
        },
    )
}

fn create_key(vault: &str) -> ResourceChange {
    resource(
        Action::Create,
        "key",
        &format!("{vault}/keys/cmk-actlog"),
        vec![
            set("name", json!("cmk-actlog")),
            set("key_type", json!("RSA")),
            set("key_size", json!(3072)),
            set("expiry_days", json!(730)),
            set("rotation_days", json!(365)),
            set("version", json!(KNOWN_AFTER_APPLY)),
        ],
        Desired::Key {
            vault_id: vault.to_string(),
            name: "cmk-actlog".to_string(),
            key_size: 3072,
            expiry_days: Some(730),
            rotation_days: Some(365),
            tags: tags(),
        },
    )
}

/// Microsoft-managed keys and a system-assigned identity to keep.
fn new_vault_account() -> AccountPlan {
    let account = account_id(SUB1, "rg-logs", "logs1");
    let identity = identity_id(SUB1, "rg-logs", "id-actlog-logs1");
    let vault = vault_id(SUB1, "rg-logs", "kv-actlog-logs1");
    let uri = "https://kv-actlog-logs1.vault.azure.net/";
    let observed = Observed {
        account: ObservedAccount {
            location: "westeurope".to_string(),
            key_source: "Microsoft.Storage".to_string(),
            identity_type: "SystemAssigned".to_string(),
            system_principal_id: Some("99999999-0000-0000-0000-000000000001".to_string()),
            ..ObservedAccount::default()
        },
        ..Observed::default()
    };
    AccountPlan {
        storage_account_id: account.clone(),
        status: "non_compliant".to_string(),
        fingerprint: observed.fingerprint(),
        targets: Targets {
            identity_id: identity.clone(),
            vault_id: vault.clone(),
            key_name: "cmk-actlog".to_string(),
        },
        observed,
        changes: vec![
            create_identity(&identity, "id-actlog-logs1", "westeurope"),
            resource(
                Action::Create,
                "key_vault",
                &vault,
                vec![
                    set("name", json!("kv-actlog-logs1")),
                    set("location", json!("westeurope")),
                    set("vault_uri", json!(uri)),
                    set("enable_rbac_authorization", json!(false)),
                    set("enable_soft_delete", json!(true)),
                    set("enable_purge_protection", json!(true)),
                    set("tags", json!(tags())),
                ],
                Desired::KeyVault {
                    id: vault.clone(),
                    location: "westeurope".to_string(),
                    tenant_id: TENANT.to_string(),
                    rbac_authorization: false,
                    tags: tags(),
                },
            ),
            create_key(&vault),
            resource(
                Action::Create,
                "access_policy",
                &format!("{vault}/accessPolicies/id-actlog-logs1"),
                vec![
                    set("tenant_id", json!(TENANT)),
                    set("object_id", json!(KNOWN_AFTER_APPLY)),
                    set("key_permissions", json!(["get", "unwrapKey", "wrapKey"])),
                ],
                Desired::AccessPolicy {
                    vault_id: vault.clone(),
                    tenant_id: TENANT.to_string(),
                    principal: Principal::OfIdentity {
                        identity_id: identity.clone(),
                    },
                },
            ),
            resource(
                Action::Update,
                "storage_account",
                &account,
                vec![
                    change(
                        "identity_type",
                        json!("SystemAssigned"),
                        json!("SystemAssigned,UserAssigned"),
                    ),
                    change(
                        "user_assigned_identities",
                        json!([]),
                        json!([identity.to_lowercase()]),
                    ),
                    change(
                        "key_source",
                        json!("Microsoft.Storage"),
                        json!("Microsoft.Keyvault"),
                    ),
                    change("key_vault_uri", Value::Null, json!(uri)),
                    change("key_name", Value::Null, json!("cmk-actlog")),
                    change("encryption_identity", Value::Null, json!(identity)),
                ],
                Desired::StorageEncryption {
                    account_id: account.clone(),
                    identity_type: "SystemAssigned,UserAssigned".to_string(),
                    user_assigned_identities: vec![identity.to_lowercase()],
                    identity_id: identity.clone(),
                    key_vault_uri: uri.to_string(),
                    key_name: "cmk-actlog".to_string(),
                },
            ),
        ],
    }
}

/// A broken customer-managed key in an existing RBAC vault without purge
/// protection.
fn reused_vault_account() -> AccountPlan {
    let account = account_id(SUB2, "rg-audit", "logs2");
    let identity = identity_id(SUB2, "rg-audit", "id-actlog-logs2");
    let vault = vault_id(SUB2, "rg-security", "kv-shared");
    let uri = "https://kv-shared.vault.azure.net/";
    let observed = Observed {
        account: ObservedAccount {
            location: "northeurope".to_string(),
            key_source: "Microsoft.Keyvault".to_string(),
            key_vault_uri: Some(uri.to_string()),
            key_name: Some("cmk-old".to_string()),
            key_version: Some("0123456789abcdef0123456789abcdef".to_string()),
            identity_type: "None".to_string(),
            ..ObservedAccount::default()
        },
        vault: Some(ObservedVault {
            id: vault.clone(),
            vault_uri: uri.to_string(),
            rbac_authorization: true,
            soft_delete: true,
            purge_protection: false,
        }),
        ..Observed::default()
    };
    let role_definition = format!(
        "/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_USER_ROLE}"
    );
    let assignment = format!(
        "{vault}/providers/Microsoft.Authorization/roleAssignments/6f1c3b2a-8d4e-4f60-9a7b-0c1d2e3f4a5b"
    );
    let mut purge_protection = resource(
        Action::Update,
        "key_vault",
        &vault,
        vec![change("enable_purge_protection", json!(false), json!(true))],
        Desired::EnablePurgeProtection { id: vault.clone() },
    );
    purge_protection.irreversible = Some(
        "purge protection cannot be turned off again; deleted keys stay until their retention period ends"
            .to_string(),
    );
    AccountPlan {
        storage_account_id: account.clone(),
        status: "cmk_broken".to_string(),
        fingerprint: observed.fingerprint(),
        targets: Targets {
            identity_id: identity.clone(),
            vault_id: vault.clone(),
            key_name: "cmk-actlog".to_string(),
        },
        observed,
        changes: vec![
            create_identity(&identity, "id-actlog-logs2", "northeurope"),
            purge_protection,
            create_key(&vault),
            resource(
                Action::Create,
                "role_assignment",
                &assignment,
                vec![
                    set("scope", json!(vault)),
                    set("role_definition_id", json!(role_definition)),
                    set("principal_id", json!(KNOWN_AFTER_APPLY)),
                    set("principal_type", json!("ServicePrincipal")),
                ],
                Desired::RoleAssignment {
                    id: assignment.clone(),
                    scope: vault.clone(),
                    role_definition_id: role_definition.clone(),
                    principal: Principal::OfIdentity {
                        identity_id: identity.clone(),
                    },
                },
            ),
            resource(
                Action::Update,
                "storage_account",
                &account,
                vec![
                    change("identity_type", json!("None"), json!("UserAssigned")),
                    change(
                        "user_assigned_identities",
                        json!([]),
                        json!([identity.to_lowercase()]),
                    ),
                    change("key_name", json!("cmk-old"), json!("cmk-actlog")),
                    change(
                        "key_version",
                        json!("0123456789abcdef0123456789abcdef"),
                        Value::Null,
                    ),
                    change("encryption_identity", Value::Null, json!(identity)),
                ],
                Desired::StorageEncryption {
                    account_id: account.clone(),
                    identity_type: "UserAssigned".to_string(),
                    user_assigned_identities: vec![identity.to_lowercase()],
                    identity_id: identity.clone(),
                    key_vault_uri: uri.to_string(),
                    key_name: "cmk-actlog".to_string(),
                },
            ),
        ],
    }
}

fn golden_plan() -> Plan {
    let accounts = vec![new_vault_account(), reused_vault_account()];
    let skipped = vec![
        Skipped {
            storage_account_id: account_id(SUB1, "rg-logs", "good"),
            status: "compliant".to_string(),
            reason: "already encrypted with key 'cmk-logs' in https://kv-logs.vault.azure.net/"
                .to_string(),
        },
        Skipped {
            storage_account_id: account_id(SUB2, "rg-audit", "secret"),
            status: "unreadable".to_string(),
            reason: "reading the account was denied (403): grant Reader on it".to_string(),
        },
    ];
    Plan {
        schema_version: SCHEMA_VERSION,
        // Fixed, not the crate's version: the golden files outlive releases.
        tool_version: "0.1.0".to_string(),
        created_at: "2024-05-01T10:20:30Z".parse().unwrap(),
        tenant_id: TENANT.to_string(),
        arm_endpoint: "https://management.azure.com".to_string(),
        settings: PlanSettings {
            key_name: "cmk-actlog".to_string(),
            key_size: 3072,
            key_expiry_days: Some(730),
            key_rotation_days: Some(365),
            permission_model: PermissionModel::AccessPolicy,
            identity: None,
            key_vault: None,
            identity_name_template: "id-actlog-{account}".to_string(),
            vault_name_template: "kv-actlog-{account}".to_string(),
            tags: BTreeMap::from([("owner".to_string(), "platform-team".to_string())]),
        },
        summary: PlanSummary::of(&accounts, &skipped),
        accounts,
        skipped,
    }
}

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
            "reading {}: {e}\n(create it with UPDATE_GOLDEN=1 cargo test --test plan_golden)",
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
         If the change is intended: UPDATE_GOLDEN=1 cargo test --test plan_golden, \
         then review git diff tests/golden/.\n\nactual:\n{actual}",
        path.display()
    );
}

#[test]
fn text_matches_the_golden_file() {
    let plan = golden_plan();
    assert_eq!(plan.summary.add, 7);
    assert_eq!(plan.summary.change, 3);
    assert_golden("plan.txt", &plan_text(&plan, false));
}

#[test]
fn markdown_matches_the_golden_file() {
    assert_golden("plan.md", &plan_markdown(&golden_plan()));
}

#[test]
fn a_saved_plan_shows_as_it_did_when_made() {
    // A plan file holds plan_json; what is read back renders the same.
    let plan = golden_plan();
    let back: Plan = serde_json::from_str(&plan_json(&plan)).expect("plan_json reads back");
    assert_eq!(plan_text(&back, false), plan_text(&plan, false));
    assert_eq!(plan_markdown(&back), plan_markdown(&plan));
    assert_eq!(plan_json(&back), plan_json(&plan));
}

#[test]
fn colour_adds_only_escape_codes() {
    let plan = golden_plan();
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
    let full = rendered_json(&golden_plan());
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
    let mut plan = golden_plan();
    plan.settings.permission_model = PermissionModel::Rbac;
    plan.settings.key_expiry_days = None;
    plan.settings.key_rotation_days = None;
    plan.settings.identity = Some(identity_id(SUB1, "rg-logs", "id-shared"));
    plan.settings.key_vault = Some(vault_id(SUB1, "rg-logs", "kv-shared"));
    plan.accounts[0].observed.identity = Some(actlog_cmk::plan::ObservedIdentity {
        id: identity_id(SUB1, "rg-logs", "id-shared"),
        principal_id: "99999999-0000-0000-0000-000000000002".to_string(),
    });
    if let Desired::AccessPolicy { principal, .. } = &mut plan.accounts[0].changes[3].desired {
        *principal = Principal::Known {
            principal_id: "99999999-0000-0000-0000-000000000002".to_string(),
        };
    }
    if let Desired::Key {
        expiry_days,
        rotation_days,
        ..
    } = &mut plan.accounts[0].changes[2].desired
    {
        *expiry_days = None;
        *rotation_days = None;
    }
    assert_valid(&validator, &rendered_json(&plan), "the variant plan");

    let empty = Plan {
        accounts: vec![],
        skipped: vec![],
        summary: PlanSummary::default(),
        ..golden_plan()
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
    let good = rendered_json(&golden_plan());
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
