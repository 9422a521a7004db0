//! Custom roles on RBAC vaults (issue 17 item 2), end to end: the emulator
//! holds custom role definitions and storage uses a key only when the
//! identity's roles give read, wrap and unwrap (dataActions less
//! notDataActions); the audit judges the same from the definitions it reads,
//! so a custom role with the three actions is compliant, one whose
//! notDataActions drop unwrap is not, a built-in role still works, and a
//! definition the tool may not read is reported, never taken as a grant.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::destination;
use support::*;

const DEFINITIONS_API: &str = "api-version=2022-04-01";
const READ: &str = "Microsoft.KeyVault/vaults/keys/read";
const WRAP: &str = "Microsoft.KeyVault/vaults/keys/wrap/action";
const UNWRAP: &str = "Microsoft.KeyVault/vaults/keys/unwrap/action";

fn definition_path(sub: &str, guid: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
}

fn role_body(name: &str, data: &[&str], not_data: &[&str], scope: &str) -> Value {
    json!({"properties": {
        "roleName": name, "type": "CustomRole", "description": "key access for storage",
        "permissions": [{"actions": [], "notActions": [], "dataActions": data, "notDataActions": not_data}],
        "assignableScopes": [scope]}})
}

/// Creates a custom role assignable in `sub`; its id.
async fn custom_role(env: &Env, sub: &str, name: &str, data: &[&str], not_data: &[&str]) -> String {
    let id = definition_path(sub, &uuid::Uuid::new_v4().to_string());
    let body = role_body(name, data, not_data, &format!("/subscriptions/{sub}"));
    let a = env
        .arm(Method::PUT, &format!("{id}?{DEFINITIONS_API}"), Some(body))
        .await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert_eq!(a.body["properties"]["type"], "CustomRole");
    id
}

async fn assign(env: &Env, scope: &str, principal: &str, role_definition_id: &str) -> String {
    let (id, request) =
        actlog_cmk::demo::requests::role_assignment(scope, principal, role_definition_id);
    let a = env.arm(request.method, &request.path, request.body).await;
    assert!(a.status.is_success(), "{:?}", a.body);
    id
}

/// An RBAC vault with key `cmk`, an identity, and an account not yet on the key.
struct Parts {
    account_id: String,
    vault_id: String,
    vault_name: String,
    identity_id: String,
    principal_id: String,
}

async fn parts(env: &Env, name: &str) -> Parts {
    let rg = format!("rg-{name}");
    let account_id = env.storage_account(SUB1, &rg, name).await;
    let (identity_id, principal_id) = env.identity(SUB1, &rg, &format!("id-{name}")).await;
    let vault_name = format!("kv-{name}");
    let vault_id = env
        .vault(
            SUB1,
            &rg,
            &vault_name,
            json!({"enableRbacAuthorization": true}),
        )
        .await;
    env.key(&vault_id, "cmk", json!({"kty": "RSA", "keySize": 3072}))
        .await;
    env.diagnostic_setting(SUB1, &format!("to-{name}"), &account_id, true)
        .await;
    Parts {
        account_id,
        vault_id,
        vault_name,
        identity_id,
        principal_id,
    }
}

/// The storage switch to the vault's key, as storage answers it.
async fn try_switch(env: &Env, p: &Parts) -> Answer {
    let request = actlog_cmk::demo::requests::switch_to_cmk(
        &p.account_id,
        &p.vault_name,
        "cmk",
        &p.identity_id,
        "Microsoft.Keyvault",
    );
    env.arm(request.method, &request.path, request.body).await
}

fn codes(d: &Value) -> Vec<&str> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_roles_count_by_their_data_actions_and_built_in_roles_still_work() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "prod").await;

    // A custom role with exactly read, wrap and unwrap: storage takes the key.
    let wrapping = custom_role(&env, SUB1, "Storage key wrap", &[READ, WRAP, UNWRAP], &[]).await;
    let custom = parts(&env, "stcustom").await;
    assign(&env, &custom.vault_id, &custom.principal_id, &wrapping).await;
    let a = try_switch(&env, &custom).await;
    assert!(a.status.is_success(), "{:?}", a.body);

    // Keys/* less unwrap: storage refuses the key, as Azure does.
    let no_unwrap = custom_role(
        &env,
        SUB1,
        "Keys but unwrap",
        &["Microsoft.KeyVault/vaults/keys/*"],
        &[UNWRAP],
    )
    .await;
    let lacking = parts(&env, "stnounwrap").await;
    assign(&env, &lacking.vault_id, &lacking.principal_id, &no_unwrap).await;
    let refused = try_switch(&env, &lacking).await;
    assert_eq!(
        refused.code(),
        "KeyVaultAuthenticationFailure",
        "{:?}",
        refused.body
    );
    // Switched while a built-in grant held, which is then taken away.
    let crypto = format!(
        "/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}"
    );
    let temporary = assign(&env, &lacking.vault_id, &lacking.principal_id, &crypto).await;
    let a = try_switch(&env, &lacking).await;
    assert!(a.status.is_success(), "{:?}", a.body);
    let a = env
        .arm(
            Method::DELETE,
            &format!("{temporary}?api-version=2022-04-01"),
            None,
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);

    // A built-in role, as apply grants it.
    let built_in = env
        .cmk_account(SUB1, "rg-builtin", "stbuiltin", "kv-builtin", true)
        .await;
    env.diagnostic_setting(SUB1, "to-builtin", &built_in.account_id, true)
        .await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let d = destination(&report, &custom.account_id);
    assert_eq!(d["status"], "compliant", "{d:#}");
    let d = destination(&report, &built_in.account_id);
    assert_eq!(d["status"], "compliant", "{d:#}");
    let d = destination(&report, &lacking.account_id);
    assert_eq!(d["status"], "cmk_broken", "{d:#}");
    assert_eq!(codes(d), ["identity_lacks_key_access"], "{d:#}");
    let message = d["reasons"][0]["message"].as_str().unwrap();
    assert!(message.contains(&format!("but not {UNWRAP}")), "{message}");

    // Each role's definition read once, at the vault's subscription.
    let requests = env.arm_requests().await;
    let mut definition_reads: Vec<String> = requests
        .iter()
        .filter(|r| r["operation"] == "RoleDefinitions_Get")
        .map(|r| r["path"].as_str().unwrap().to_lowercase())
        .collect();
    let reads = definition_reads.len();
    definition_reads.sort();
    definition_reads.dedup();
    assert_eq!(
        (reads, definition_reads.len()),
        (3, 3),
        "{definition_reads:#?}"
    );
    let prefix =
        format!("/subscriptions/{SUB1}/providers/microsoft.authorization/roledefinitions/");
    assert!(
        definition_reads.iter().all(|p| p.starts_with(&prefix)),
        "{definition_reads:#?}"
    );

    // plan leaves the custom-role account alone and repairs the other with the built-in grant.
    let plan = env.tool().run(&["plan", "-o", "json"]).await.json();
    let find = |list: &str, id: &str| {
        plan[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["storage_account_id"] == id)
            .cloned()
    };
    let skipped = find("skipped", &custom.account_id).expect("the custom-role account is skipped");
    assert_eq!(skipped["status"], "compliant", "{skipped:#}");
    assert!(find("accounts", &custom.account_id).is_none());
    let repaired = find("accounts", &lacking.account_id).expect("the other is repaired");
    let kinds: Vec<&str> = repaired["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["role_assignment"], "{repaired:#}");

    // apply adds that grant; its verification and a new audit judge the
    // account by both roles, the custom one left as it is.
    let applied = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let report = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(report.code, 0, "{}", report.stdout);
    let d = destination(&report.json(), &lacking.account_id).clone();
    assert_eq!(d["status"], "compliant", "{d:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_definition_the_tool_may_not_read_is_reported_not_taken_as_a_grant() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "prod").await;
    let role = custom_role(&env, SUB1, "Storage key wrap", &[READ, WRAP, UNWRAP], &[]).await;
    let p = parts(&env, "stdenied").await;
    assign(&env, &p.vault_id, &p.principal_id, &role).await;
    let a = try_switch(&env, &p).await;
    assert!(a.status.is_success(), "{:?}", a.body);
    env.deny(&[&format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions"
    )])
    .await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_ne!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    let d = destination(&report, &p.account_id);
    assert_eq!(d["status"], "unreadable", "{d:#}");
    assert_eq!(codes(d), ["access_denied"], "{d:#}");
    let message = d["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Microsoft.Authorization/roleDefinitions/read"),
        "{message}"
    );
    assert!(message.contains("role definition"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_keeps_custom_roles_as_azure_does() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "prod").await;
    let scope = format!("/subscriptions/{SUB1}");
    let put = |guid: String, body: Value| {
        let env = &env;
        async move {
            env.arm(
                Method::PUT,
                &format!("{}?{DEFINITIONS_API}", definition_path(SUB1, &guid)),
                Some(body),
            )
            .await
        }
    };
    let body = |name: &str| role_body(name, &[READ], &[], &scope);

    // The name is a GUID; a built-in role's is no one's to write.
    assert_eq!(
        put("not-a-guid".into(), body("r")).await.code(),
        "InvalidRoleDefinitionId"
    );
    let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7".to_string();
    assert_eq!(
        put(reader, body("r")).await.code(),
        "InvalidRoleDefinitionId"
    );
    // A role needs assignable scopes.
    let a = put(
        uuid::Uuid::new_v4().to_string(),
        role_body("r", &[READ], &[], ""),
    )
    .await;
    assert_eq!(a.status, 400, "{:?}", a.body);

    let guid = uuid::Uuid::new_v4().to_string();
    let created = put(guid.clone(), body("Key reader")).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["name"], guid.as_str());
    // Role names are unique in the tenant, in any casing, built-in names included.
    for taken in ["key READER", "Reader"] {
        let a = put(uuid::Uuid::new_v4().to_string(), body(taken)).await;
        assert_eq!(
            (a.status.as_u16(), a.code()),
            (409, "RoleDefinitionWithSameNameExists"),
            "{taken}"
        );
    }
    // Writing the same role again updates it (201, as the spec answers).
    let updated = put(
        guid.clone(),
        role_body("Key reader", &[READ, WRAP], &[], &scope),
    )
    .await;
    assert_eq!(updated.status, 201, "{:?}", updated.body);

    let got = env
        .arm(
            Method::GET,
            &format!(
                "{}?{DEFINITIONS_API}",
                definition_path(SUB1, &guid.to_uppercase())
            ),
            None,
        )
        .await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert_eq!(
        got.body["properties"]["permissions"][0]["dataActions"],
        json!([READ, WRAP])
    );
    let list = |filter: &str| {
        let env = &env;
        let query =
            serde_urlencoded::to_string([("$filter", filter), ("api-version", "2022-04-01")])
                .unwrap();
        let path = format!("{scope}/providers/Microsoft.Authorization/roleDefinitions?{query}");
        async move {
            env.arm(Method::GET, &path, None).await.body["value"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let customs = list("type eq 'CustomRole'").await;
    assert_eq!(customs.len(), 1, "{customs:#?}");
    assert_eq!(customs[0]["properties"]["roleName"], "Key reader");
    assert_eq!(list("roleName eq 'key reader'").await.len(), 1);
    assert!(list("type eq 'BuiltInRole'")
        .await
        .iter()
        .all(|r| r["properties"]["type"] == "BuiltInRole"));

    // Assigned, it cannot be deleted; unassigned, it can, once.
    let (_, principal) = env.identity(SUB1, "rg", "id-x").await;
    let assignment = assign(&env, &scope, &principal, &definition_path(SUB1, &guid)).await;
    let role_path = format!("{}?{DEFINITIONS_API}", definition_path(SUB1, &guid));
    let delete = || env.arm(Method::DELETE, &role_path, None);
    let a = delete().await;
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (409, "RoleDefinitionHasAssignments")
    );
    env.arm(
        Method::DELETE,
        &format!("{assignment}?api-version=2022-04-01"),
        None,
    )
    .await;
    assert_eq!(delete().await.status, 200);
    assert_eq!(delete().await.status, 204);
    let gone = env
        .arm(
            Method::GET,
            &format!("{}?{DEFINITIONS_API}", definition_path(SUB1, &guid)),
            None,
        )
        .await;
    assert_eq!(gone.code(), "RoleDefinitionDoesNotExist");
}
