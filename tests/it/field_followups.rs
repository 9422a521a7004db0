//! Plan, apply and rollback under field conditions the first field work left
//! open, the real binary against the emulator: ARM's resource index lagging a
//! minute behind the tool's own creates (rollback right after apply; a saved
//! plan made right after an interrupted apply), and grants that take a while
//! to reach storage without costing two extra reads per retry.

use crate::support;

use actlog_cmk::emulator::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::account;
use support::*;

const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// A minute of index lag: longer than any of these tests runs, so nothing
/// the tool creates is listed by Resources_List while it matters.
async fn lagging_index(env: &Env) {
    env.patch_settings(json!({"resourceIndexLagMs": 60_000}))
        .await;
}

async fn get(env: &Env, path: &str, api: &str) -> Value {
    let a = env.arm(Method::GET, &format!("{path}?{api}"), None).await;
    assert!(a.status.is_success(), "GET {path}: {:?}", a.body);
    a.body
}

/// Rollback right after apply recognises the identity apply just attached by
/// reading it (its tags say it is the tool's), though the index does not
/// list it yet, and takes it off the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_right_after_apply_takes_off_the_tools_identity_the_index_does_not_list_yet() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    lagging_index(&env).await;
    let tool = env.tool();
    let applied = tool.run(&["apply", "--yes"]).await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let attached = user_assigned(&get(&env, &app, STORAGE_API).await["identity"]);
    assert_eq!(attached.len(), 1, "{attached:?}");
    // The premise: the index does not list the tool's identity yet.
    let indexed = env.indexed_resources_of_type(SUB1, IDENTITY_TYPE).await;
    assert!(!indexed.contains(&attached[0]), "{indexed:?}");

    let run = tool.run(&["rollback", "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = get(&env, &app, STORAGE_API).await;
    assert_eq!(
        after["properties"]["encryption"]["keySource"],
        "Microsoft.Storage"
    );
    assert_eq!(after["identity"]["type"], "None", "{after:#}");
    assert!(user_assigned(&after["identity"]).is_empty(), "{after:#}");
    // Taken off the account, never deleted.
    get(&env, &attached[0], MSI_API).await;
}

/// The identity change a plan file holds for `account_id`: (id, body to PUT).
fn planned_identity(file: &Value, account_id: &str) -> (String, Value) {
    let account = file["plan"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["storage_account_id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(account_id))
        })
        .unwrap_or_else(|| panic!("{account_id} in {file:#}"));
    assert!(account["observed"]["identity"].is_null(), "{account:#}");
    let desired = account["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["desired"])
        .find(|d| d["kind"] == "identity")
        .unwrap_or_else(|| panic!("an identity change in {account:#}"));
    (
        desired["id"].as_str().unwrap().to_string(),
        json!({"location": desired["location"], "tags": desired["tags"]}),
    )
}

fn read_plan(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `plan --out` right after an apply that was interrupted once it had
/// created the identity: the plan lists identities per resource group and
/// the lagging index misses it, so the plan creates it again. `apply` of that
/// file takes the tool's own identity as the plan's progress and converges;
/// an identity someone else made under the planned name is still a change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_made_while_the_index_lags_an_interrupted_apply_converges() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let ours = env.storage_account(SUB1, "rg-ours", "stours").await;
    let theirs = env.storage_account(SUB1, "rg-theirs", "sttheirs").await;
    env.diagnostic_setting(SUB1, "to-ours", &ours, true).await;
    env.diagnostic_setting(SUB1, "to-theirs", &theirs, true)
        .await;
    lagging_index(&env).await;
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();

    // What the interrupted apply had done: the identity, as apply creates it
    // (for `theirs`, someone else's identity under the same name, untagged).
    let first = dir.path().join("first.json");
    let planned = tool.run(&["plan", "--out", first.to_str().unwrap()]).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    let first = read_plan(&first);
    let (our_identity, body) = planned_identity(&first, &ours);
    let created = env
        .arm(
            Method::PUT,
            &format!("{our_identity}?{MSI_API}"),
            Some(body),
        )
        .await;
    assert!(created.status.is_success(), "{:?}", created.body);
    let (their_identity, body) = planned_identity(&first, &theirs);
    let body = json!({"location": body["location"]});
    let created = env
        .arm(
            Method::PUT,
            &format!("{their_identity}?{MSI_API}"),
            Some(body),
        )
        .await;
    assert!(created.status.is_success(), "{:?}", created.body);

    let file = dir.path().join("plan.json");
    let planned = tool.run(&["plan", "--out", file.to_str().unwrap()]).await;
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    // The premise: the index hid both identities from this plan too.
    let plan = read_plan(&file);
    planned_identity(&plan, &ours);
    planned_identity(&plan, &theirs);

    let run = tool
        .run(&["apply", file.to_str().unwrap(), "-o", "json"])
        .await;
    let report = run.json();
    let done = account(&report, &ours);
    assert_eq!(done["outcome"], "done", "{done:#}");
    let refused = account(&report, &theirs);
    assert_eq!(refused["outcome"], "refused", "{refused:#}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("changed since the plan was made"),
        "{refused:#}"
    );
    // One identity each, none created twice; ours is the one on the account.
    let identities = env.resources_of_type(SUB1, IDENTITY_TYPE).await;
    assert_eq!(identities.len(), 2, "{identities:?}");
    let after = get(&env, &ours, STORAGE_API).await;
    assert_eq!(
        user_assigned(&after["identity"]),
        vec![our_identity.to_lowercase()]
    );
    assert_eq!(
        after["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );
}

/// A grant that takes 20 s to reach storage: apply retries the switch a
/// dozen times or more, and diagnoses the refusals (a read of the vault and
/// one of the key) only at the first and then at growing intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twenty_second_grant_wait_costs_a_bounded_number_of_vault_and_key_reads() {
    let env = Env::start_with(Settings {
        grant_propagation_ms: 20_000,
        ..fast_settings()
    })
    .await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    env.clear_requests().await;
    let run = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let requests = env.arm_requests().await;
    let is_switch = |r: &Value| r["operation"] == "StorageAccounts_Update";
    let refused = |r: &Value| is_switch(r) && r["errorCode"] == "KeyVaultAuthenticationFailure";
    let first = requests.iter().position(refused).expect("a refusal");
    let through = first
        + requests[first..]
            .iter()
            .position(|r| is_switch(r) && r["status"] == 200)
            .expect("the switch got through");
    let waiting = &requests[first..through];
    let count = |operation: &str| {
        waiting
            .iter()
            .filter(|r| r["operation"] == operation)
            .count()
    };
    // The premise: many refusals, each of which used to cost two reads.
    assert!(count("StorageAccounts_Update") >= 10, "{waiting:#?}");
    // Diagnoses at 0 s, 5 s and 15 s into the wait; one more for jitter.
    assert!(count("Vaults_Get") <= 4, "{waiting:#?}");
    assert!(count("Keys_Get") <= 4, "{waiting:#?}");
    assert!(count("Vaults_Get") >= 1, "the first refusal is diagnosed");
}
