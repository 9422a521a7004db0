//! `actlog-cmk permissions`: the roles it prints cover every ARM operation
//! the tool makes, and no more. The real binary runs `audit`, `plan`,
//! `apply --dry-run`, `apply`, `rollback --dry-run` and `rollback` against
//! the emulator on an estate that takes every path (new RBAC vaults,
//! access-policy and RBAC repairs of `cmk_broken` accounts, a log profile, a
//! pinned key version, a reused access-policy vault without purge protection
//! given with `--key-vault`, rollback with `--remove-grants`). Each request in
//! the emulator's log is mapped to the Azure action it needs and checked
//! against the role the tool documents for that command, with Azure's
//! matching (case-insensitive, `*` wildcards, `NotActions`), and must lie
//! within the role's assignable scopes.

use crate::support;

use actlog_cmk::permissions::{action_matches, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::estate::*;
use support::reports::destination;
use support::*;

/// The Azure RBAC action a request needs, derived as Azure does from the
/// method and path: `{namespace}/{type}[/{child type}...]/{read|write|delete}`,
/// or `.../{name}/action` for a POST, with Azure's exceptions
/// (`checkNameAvailability` is a read; resource lists and subscriptions live
/// in `Microsoft.Resources`).
fn arm_action(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let providers = segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"));
    // Types are the segments at even offsets: type/name/type/name..., so
    // `.../accessPolicies/add` is the accessPolicies type with "add" in a name's place.
    let (namespace, types): (&str, Vec<&str>) = match providers {
        Some(i) => (
            segments.get(i + 1).copied().unwrap_or_default(),
            segments.iter().skip(i + 2).step_by(2).copied().collect(),
        ),
        None => (
            "Microsoft.Resources",
            segments.iter().step_by(2).copied().collect(),
        ),
    };
    let last_type = types.last().copied().unwrap_or_default();
    let verb = match method {
        "GET" | "HEAD" => "read",
        "DELETE" => "delete",
        "POST" if last_type.eq_ignore_ascii_case("checkNameAvailability") => "read",
        "POST" => "action",
        _ => "write",
    };
    format!("{namespace}/{}/{verb}", types.join("/"))
}

#[test]
fn requests_map_to_azure_action_names() {
    let rg = "/subscriptions/s/resourceGroups/rg";
    let vault = format!("{rg}/providers/Microsoft.KeyVault/vaults/kv");
    for (method, path, action) in [
        (
            "GET",
            "/subscriptions?api-version=2022-12-01".to_string(),
            "Microsoft.Resources/subscriptions/read",
        ),
        (
            "GET",
            "/subscriptions/s".into(),
            "Microsoft.Resources/subscriptions/read",
        ),
        (
            "GET",
            "/subscriptions/s/resources?$filter=x".into(),
            "Microsoft.Resources/subscriptions/resources/read",
        ),
        (
            "PUT",
            rg.into(),
            "Microsoft.Resources/subscriptions/resourceGroups/write",
        ),
        (
            "GET",
            "/subscriptions/s/providers/Microsoft.Insights/diagnosticSettings".into(),
            "Microsoft.Insights/diagnosticSettings/read",
        ),
        (
            "GET",
            "/subscriptions/s/providers/microsoft.insights/logprofiles/default".into(),
            "microsoft.insights/logprofiles/read",
        ),
        (
            "POST",
            "/subscriptions/s/providers/Microsoft.KeyVault/checkNameAvailability".into(),
            "Microsoft.KeyVault/checkNameAvailability/read",
        ),
        ("PATCH", vault.clone(), "Microsoft.KeyVault/vaults/write"),
        (
            "PUT",
            format!("{vault}/accessPolicies/add"),
            "Microsoft.KeyVault/vaults/accessPolicies/write",
        ),
        (
            "GET",
            format!("{vault}/keys/k/versions/v1"),
            "Microsoft.KeyVault/vaults/keys/versions/read",
        ),
        (
            "PUT",
            format!("{vault}/providers/Microsoft.Authorization/roleAssignments/g"),
            "Microsoft.Authorization/roleAssignments/write",
        ),
        (
            "DELETE",
            format!("{vault}/providers/Microsoft.Authorization/roleAssignments/g"),
            "Microsoft.Authorization/roleAssignments/delete",
        ),
        (
            "POST",
            format!("{rg}/providers/Microsoft.Storage/storageAccounts/st/listKeys"),
            "Microsoft.Storage/storageAccounts/listKeys/action",
        ),
    ] {
        assert_eq!(arm_action(method, &path), action, "{method} {path}");
    }
}

/// The role definitions as the binary prints them for `--role all`,
/// assignable in the two subscriptions the tests use.
async fn documented_roles(env: &Env) -> Vec<Value> {
    let run = env
        .tool()
        .run(&[
            "permissions",
            "--scope",
            &format!("/subscriptions/{SUB1}"),
            "--scope",
            &format!("/subscriptions/{SUB2}"),
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let roles = run.json().as_array().cloned().unwrap();
    assert_eq!(roles.len(), 3);
    roles
}

fn role<'a>(roles: &'a [Value], name: &str) -> &'a Value {
    roles
        .iter()
        .find(|r| r["Name"] == name)
        .unwrap_or_else(|| panic!("no role {name}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Azure's rule: an `Actions` entry matches and no `NotActions` entry does.
fn allows(role: &Value, action: &str) -> bool {
    strings(&role["Actions"])
        .iter()
        .any(|p| action_matches(p, action))
        && !strings(&role["NotActions"])
            .iter()
            .any(|p| action_matches(p, action))
}

/// One run of the binary and the actions its requests needed.
struct Observed {
    command: String,
    /// (action, "METHOD path")
    requests: Vec<(String, String)>,
}

async fn observe(env: &Env, args: &[&str], expected_code: i32) -> Observed {
    env.clear_requests().await;
    let run = env.tool().run(args).await;
    assert_eq!(
        run.code, expected_code,
        "{args:?}\n{}\n{}",
        run.stdout, run.stderr
    );
    let requests: Vec<(String, String)> = env
        .arm_requests()
        .await
        .iter()
        .map(|r| {
            let method = r["method"].as_str().unwrap();
            let path = r["path"].as_str().unwrap();
            // A request no route took would be a 404 we could not name an action for.
            assert!(
                r["operation"].is_string(),
                "{args:?}: {method} {path} matched no operation: {r}"
            );
            (arm_action(method, path), format!("{method} {path}"))
        })
        .collect();
    assert!(!requests.is_empty(), "{args:?} made no ARM request");
    Observed {
        command: args.join(" "),
        requests,
    }
}

/// Each request is granted by the role, and made within one of its
/// assignable scopes (listing subscriptions and management groups are the
/// tenant-level calls: each shows those where the caller holds any role).
fn assert_covered(role: &Value, runs: &[&Observed]) {
    let scopes: Vec<String> = strings(&role["AssignableScopes"])
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let mut missing = Vec::new();
    for run in runs {
        for (action, request) in &run.requests {
            if !allows(role, action) {
                missing.push(format!("{}: {action} ({request})", run.command));
            }
            let path = request
                .split_once(' ')
                .map(|(_, p)| p.split('?').next().unwrap_or_default().to_ascii_lowercase())
                .unwrap_or_default();
            let within = path == "/subscriptions"
                || path == "/providers/microsoft.management/managementgroups"
                || scopes
                    .iter()
                    .any(|s| path == *s || path.starts_with(&format!("{s}/")));
            if !within {
                missing.push(format!("{}: {request} is outside {scopes:?}", run.command));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} does not grant:\n{}",
        role["Name"],
        missing.join("\n")
    );
}

fn actions_of(runs: &[&Observed]) -> BTreeSet<String> {
    runs.iter()
        .flat_map(|r| r.requests.iter().map(|(a, _)| a.to_ascii_lowercase()))
        .collect()
}

async fn remove_access_policy(env: &Env, vault_id: &str, principal: &str) {
    let a = env
        .arm(
            Method::PUT,
            &format!("{vault_id}/accessPolicies/remove?{VAULT_API}"),
            Some(json!({"properties": {"accessPolicies": [{
                "tenantId": env.emu.connection.tenant_id, "objectId": principal,
                "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}]}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

/// Pins the account's key to its current version.
async fn pin_key_version(env: &Env, account: &CmkAccount) {
    let key = env
        .arm(
            Method::GET,
            &format!("{}/keys/cmk?{VAULT_API}", account.vault_id),
            None,
        )
        .await;
    let uri = key.body["properties"]["keyUriWithVersion"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", key.body));
    let version = uri.trim_end_matches('/').rsplit('/').next().unwrap();
    let a = env
        .arm(
            Method::PATCH,
            &format!("{}?{STORAGE_API}", account.account_id),
            Some(json!({"properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": format!("https://{}.vault.azure.net/", account.vault_name),
                    "keyname": "cmk", "keyversion": version},
                "identity": {"userAssignedIdentity": account.identity_id}}}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_audit_plan_apply_and_rollback_is_covered_by_the_documented_role() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "logging").await;

    // Plain accounts: a new RBAC vault each. One is fed by a diagnostic
    // setting, the other, in another subscription, by a legacy log profile.
    let fresh = env.storage_account(SUB1, "rg-app", "stfresh").await;
    env.diagnostic_setting(SUB1, "to-fresh", &fresh, true).await;
    let legacy = env.storage_account(SUB2, "rg-legacy", "stlegacy").await;
    env.log_profile(SUB1, "default", &legacy).await;

    // cmk_broken, repairable: an access-policy vault whose policy for the
    // account's identity is gone, and an RBAC vault whose role assignment is.
    let ap = env
        .cmk_account(SUB1, "rg-ap", "stbrokenap", "kv-perm-ap", false)
        .await;
    remove_access_policy(&env, &ap.vault_id, &ap.principal_id).await;
    env.diagnostic_setting(SUB1, "to-broken-ap", &ap.account_id, true)
        .await;
    let rbac = env
        .cmk_account_with(&CmkSetup {
            sub: SUB2,
            rg: "rg-rbac",
            account: "stbrokenrbac",
            identity: "id-broken",
            vault: "kv-perm-rbac",
            rbac: true,
            key_size: 3072,
            key_source: "Microsoft.Keyvault",
        })
        .await;
    let account = rbac.account_id;
    let grant = rbac
        .role_assignment_id
        .expect("an RBAC vault has a role assignment");
    let deleted = env
        .arm(
            Method::DELETE,
            &format!("{grant}?api-version=2022-04-01"),
            None,
        )
        .await;
    assert!(deleted.status.is_success(), "{:?}", deleted.body);
    env.diagnostic_setting(SUB2, "to-broken-rbac", &account, true)
        .await;

    // Compliant, with a pinned key version (audit reads that version).
    let pinned = env
        .cmk_account(SUB2, "rg-pinned", "stpinned", "kv-perm-pinned", true)
        .await;
    pin_key_version(&env, &pinned).await;
    env.diagnostic_setting(SUB2, "to-pinned", &pinned.account_id, true)
        .await;

    let roles = documented_roles(&env).await;
    let audit_role = role(&roles, Role::Audit.name());
    let apply_role = role(&roles, Role::Apply.name());
    let rollback_role = role(&roles, Role::Rollback.name());

    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();

    let audit = observe(&env, &["audit", "-o", "json"], 2).await;
    let plan = observe(
        &env,
        &["plan", "--detailed-exitcode", "--out", plan_file],
        2,
    )
    .await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    let planned: Vec<String> = saved["plan"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["storage_account_id"].as_str().unwrap().to_lowercase())
        .collect();
    for id in [&fresh, &legacy, &ap.account_id, &account] {
        assert!(
            planned.contains(&id.to_lowercase()),
            "{id} not planned: {planned:?}"
        );
    }
    let dry_run = observe(&env, &["apply", "--dry-run", plan_file], 0).await;
    let apply = observe(&env, &["apply", "--yes"], 0).await;

    // A reused vault without purge protection, in another subscription,
    // given with --key-vault, for an account found after the first apply;
    // a saved plan applied as it is.
    let reuse = env.storage_account(SUB2, "rg-reuse", "streuse").await;
    env.diagnostic_setting(SUB2, "to-reuse", &reuse, true).await;
    let old = env
        .vault(
            SUB1,
            "rg-shared",
            "kv-perm-old",
            json!({"enableRbacAuthorization": false}),
        )
        .await;
    env.without_purge_protection("kv-perm-old").await;
    let reuse_plan = observe(&env, &["plan", "--key-vault", &old, "--out", plan_file], 0).await;
    let reuse_apply = observe(&env, &["apply", plan_file], 0).await;
    let after = observe(&env, &["audit", "-o", "json"], 0).await;
    let report = env.tool().run(&["audit", "-o", "json"]).await.json();
    for id in [&fresh, &legacy, &ap.account_id, &account, &reuse] {
        assert_eq!(destination(&report, id)["status"], "compliant", "{id}");
    }

    // Rollback of the accounts the tool remediated, grants included: RBAC
    // vaults (role assignments) and the access-policy vault.
    let mut rollback_args = vec!["rollback", "--remove-grants", "-o", "json"];
    for id in [&fresh, &legacy, &reuse] {
        rollback_args.extend(["--account", id.as_str()]);
    }
    let mut dry_args = rollback_args.clone();
    dry_args.push("--dry-run");
    let rollback_dry_run = observe(&env, &dry_args, 0).await;
    rollback_args.push("--yes");
    let rollback = observe(&env, &rollback_args, 0).await;
    let report = env.tool().run(&["audit", "-o", "json"]).await.json();
    for id in [&fresh, &legacy, &reuse] {
        assert_eq!(destination(&report, id)["status"], "non_compliant", "{id}");
    }

    // Read-only commands need only the audit role; apply and rollback their own.
    let read_only = [
        &audit,
        &plan,
        &dry_run,
        &reuse_plan,
        &after,
        &rollback_dry_run,
    ];
    let applies = [&apply, &reuse_apply];
    assert_covered(audit_role, &read_only);
    assert_covered(apply_role, &applies);
    assert_covered(rollback_role, &[&rollback]);

    // The estate took every path: each write apply makes was seen, so the
    // test would catch a role that lost one.
    let written = actions_of(&applies);
    for write in [
        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
        "Microsoft.KeyVault/vaults/write",
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        "Microsoft.KeyVault/vaults/keys/write",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Storage/storageAccounts/write",
        "Microsoft.KeyVault/checkNameAvailability/read",
    ] {
        assert!(
            written.contains(&write.to_ascii_lowercase()),
            "apply never needed {write}: {written:#?}"
        );
    }
    let patched_vault = reuse_apply
        .requests
        .iter()
        .any(|(_, r)| r.starts_with("PATCH ") && r.contains("/vaults/kv-perm-old"));
    assert!(patched_vault, "{:#?}", reuse_apply.requests);

    // And nothing more: every action of the audit role was needed by a
    // read-only command, every action of the apply role by apply, except the
    // linked permission Azure checks on the identity a storage write attaches
    // (no request of its own).
    let read = actions_of(&read_only);
    let unused: Vec<String> = strings(&audit_role["Actions"])
        .into_iter()
        .filter(|a| !read.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(unused.is_empty(), "audit role grants unused {unused:?}");
    let all = actions_of(&[
        &audit,
        &plan,
        &dry_run,
        &reuse_plan,
        &after,
        &apply,
        &reuse_apply,
    ]);
    let linked = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action";
    let unused: Vec<String> = strings(&apply_role["Actions"])
        .into_iter()
        .filter(|a| a != linked && !all.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(unused.is_empty(), "apply role grants unused {unused:?}");
    assert!(allows(apply_role, linked));
    // Rollback reads as audit does; each of its writes was needed.
    let undone = actions_of(&[&rollback]);
    let unused: Vec<String> = strings(&rollback_role["Actions"])
        .into_iter()
        .filter(|a| !a.to_ascii_lowercase().ends_with("/read"))
        .filter(|a| !undone.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(unused.is_empty(), "rollback role grants unused {unused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_role_only_reads_and_no_role_touches_data() {
    let env = Env::start().await;
    let roles = documented_roles(&env).await;
    let audit = role(&roles, Role::Audit.name());
    for action in strings(&audit["Actions"]) {
        let verb = action.rsplit('/').next().unwrap().to_ascii_lowercase();
        assert_eq!(verb, "read", "the audit role grants {action}");
        assert!(!action.contains('*'), "{action}");
    }
    for write in [
        "Microsoft.Storage/storageAccounts/write",
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleAssignments/delete",
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
    ] {
        assert!(!allows(audit, write), "{write}");
    }
    for r in &roles {
        assert_eq!(r["IsCustom"], true);
        assert_eq!(r["DataActions"], json!([]), "{}", r["Name"]);
        assert_eq!(r["NotDataActions"], json!([]));
        assert_eq!(
            r["AssignableScopes"],
            json!([
                format!("/subscriptions/{SUB1}"),
                format!("/subscriptions/{SUB2}")
            ])
        );
        // Every role reads what audit reads: apply and rollback look before they write.
        for read in strings(&audit["Actions"]) {
            assert!(allows(r, &read), "{} lacks {read}", r["Name"]);
        }
        // No role deletes an identity, a vault or a key.
        for delete in [
            "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
            "Microsoft.KeyVault/vaults/delete",
            "Microsoft.KeyVault/vaults/keys/delete",
            "Microsoft.Storage/storageAccounts/delete",
        ] {
            assert!(!allows(r, delete), "{} grants {delete}", r["Name"]);
        }
    }
    let apply = role(&roles, Role::Apply.name());
    assert!(!allows(
        apply,
        "Microsoft.Authorization/roleAssignments/delete"
    ));
    let rollback = role(&roles, Role::Rollback.name());
    for needed in [
        "Microsoft.Storage/storageAccounts/write",
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        "Microsoft.Authorization/roleAssignments/delete",
    ] {
        assert!(allows(rollback, needed), "rollback lacks {needed}");
    }
    assert!(!allows(
        rollback,
        "Microsoft.Authorization/roleAssignments/write"
    ));
    assert!(!allows(rollback, "Microsoft.KeyVault/vaults/write"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_role_prints_one_object_and_bad_scopes_are_refused() {
    let env = Env::start().await;
    let tool = env.tool();
    let rg = format!("/subscriptions/{SUB2}/resourceGroups/rg-logs");
    let run = tool
        .run(&[
            "permissions",
            "--role",
            "apply",
            "--scope",
            &format!("/subscriptions/{SUB1}/"),
            "--scope",
            &rg,
            "--scope",
            &format!("/subscriptions/{}", SUB1.to_uppercase()),
        ])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apply = run.json();
    assert!(apply.is_object(), "{apply:#}");
    assert_eq!(apply["Name"], "actlog-cmk Apply");
    assert_eq!(
        apply["AssignableScopes"],
        json!([format!("/subscriptions/{SUB1}"), rg])
    );
    let expected: Vec<String> = Role::Apply
        .actions()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(strings(&apply["Actions"]), expected);
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    // Without --scope: the placeholder, and a note on stderr saying so.
    let placeholder = tool.run(&["permissions", "--role", "audit"]).await;
    assert_eq!(placeholder.code, 0);
    assert_eq!(
        placeholder.json()["AssignableScopes"],
        json!(["/subscriptions/<subscription-id>"])
    );
    assert!(
        placeholder.stderr.contains("--scope"),
        "{}",
        placeholder.stderr
    );

    for bad in [
        "/",
        "/subscriptions/not-a-guid",
        "subscriptions/11111111-1111-1111-1111-111111111111",
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    ] {
        let run = tool.run(&["permissions", "--scope", bad]).await;
        assert_eq!(run.code, 1, "{bad}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{bad}: {}", run.stdout);
        assert!(run.stderr.contains(bad), "{bad}: {}", run.stderr);
    }
}

#[test]
fn docs_permissions_explains_every_action_of_every_role() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/permissions.md"))
        .unwrap();
    for role in Role::ALL {
        assert!(
            doc.contains(role.name()),
            "{} not in docs/permissions.md",
            role.name()
        );
        for action in role.actions() {
            assert!(
                doc.contains(&format!("`{action}`")),
                "{action} ({}) is not explained in docs/permissions.md",
                role.name()
            );
        }
    }
}
