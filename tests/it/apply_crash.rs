//! An apply killed with SIGKILL at different points, then run again: the
//! rerun converges (every destination compliant) and nothing exists twice.
//! Kills land between writes (instant settings, slowed writes) and inside
//! Azure's waits, with field-like timings: a vault still `RegisteringDns`, a
//! grant still propagating, an account switched but not yet verified.

use crate::support;

use actlog_cmk::emulator::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::estate::*;
use support::request_log::succeeded;
use support::*;

const ACCOUNTS: [(&str, &str); 3] = [
    ("rg-a", "stcrasha"),
    ("rg-b", "stcrashb"),
    ("rg-c", "stcrashc"),
];

fn successful_writes(requests: &[Value]) -> usize {
    requests
        .iter()
        .filter(|r| r["method"] != "GET" && r["operation"] != "Vaults_CheckNameAvailability")
        .filter(|r| r["status"].as_u64().is_some_and(|s| s < 300))
        .count()
}

/// One subscription whose activity log goes to each of [`ACCOUNTS`].
async fn estate(settings: Settings) -> (Env, Vec<String>) {
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "prod").await;
    let mut ids = Vec::new();
    for (rg, name) in ACCOUNTS {
        let id = env.storage_account(SUB1, rg, name).await;
        env.diagnostic_setting(SUB1, &format!("to-{name}"), &id, true)
            .await;
        ids.push(id);
    }
    (env, ids)
}

/// Starts `apply --yes` and SIGKILLs it as soon as the request log shows
/// `ready`.
async fn kill_when(env: &Env, what: &str, ready: impl Fn(&[Value]) -> bool) {
    env.clear_requests().await;
    // The tool holds the CA file: it lives until the kill.
    let tool = env.tool();
    tool.ready().await;
    let mut child = tool
        .command(&["apply", "--yes", "--parallelism", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if ready(&env.arm_requests().await) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            use std::io::Read as _;
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("apply ended before {what}:\n{stderr}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "apply never reached {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Runs apply again: it must finish the job, the audit must find every
/// destination compliant, and nothing may exist twice.
async fn assert_rerun_converges(env: &Env, ids: &[String], after: &str) {
    let tool = env.tool();
    let rerun = tool.run(&["apply", "--yes"]).await;
    assert_eq!(
        rerun.code, 0,
        "after a kill {after}:\n{}\n{}",
        rerun.stdout, rerun.stderr
    );
    let audit = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(audit.code, 0, "after a kill {after}: {}", audit.stdout);

    // One identity and one vault per account, nothing twice.
    let identities = env
        .resources_of_type(SUB1, "Microsoft.ManagedIdentity/userAssignedIdentities")
        .await;
    let vaults = env
        .resources_of_type(SUB1, "Microsoft.KeyVault/vaults")
        .await;
    assert_eq!(identities.len(), ACCOUNTS.len(), "{identities:#?}");
    assert_eq!(vaults.len(), ACCOUNTS.len(), "{vaults:#?}");
    for vault in &vaults {
        let grants = env
            .arm(Method::GET, &format!("{vault}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"), None)
            .await;
        let grants = grants.body["value"].as_array().unwrap().len();
        assert_eq!(
            grants, 1,
            "after a kill {after}, {vault} has {grants} role assignments"
        );
    }
    for id in ids {
        let account = env
            .arm(Method::GET, &format!("{id}?{STORAGE_API}"), None)
            .await;
        let identities = account.body["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len();
        assert_eq!(identities, 1, "{:#}", account.body);
    }
}

/// Kills `apply --yes` once `kill_after` writes have succeeded, reruns it, and
/// checks the estate.
async fn kill_and_rerun(kill_after: usize) {
    let (env, ids) = estate(fast_settings()).await;
    // Slow writes, so the kill lands between them.
    env.patch_settings(json!({"faults": {"operationLatencyMs": {
        "UserAssignedIdentities_CreateOrUpdate": 150, "Vaults_CreateOrUpdate": 150,
        "Keys_CreateIfNotExist": 150, "RoleAssignments_Create": 150, "StorageAccounts_Update": 150}}}))
    .await;
    kill_when(&env, &format!("{kill_after} writes"), |requests| {
        successful_writes(requests) >= kill_after
    })
    .await;
    assert_rerun_converges(&env, &ids, &format!("at {kill_after} writes")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_converges_on_rerun_wherever_it_was_killed() {
    // 3 accounts x 5 writes: kill after the first write, in the middle, and
    // just before the last storage update.
    for kill_after in [1, 6, 11, 14] {
        kill_and_rerun(kill_after).await;
    }
}

/// Field timings: a vault takes seconds to register its DNS name, a grant
/// tens of seconds to reach Azure Storage.
fn field_timings() -> Settings {
    Settings {
        vault_provisioning_ms: 6_000,
        grant_propagation_ms: 20_000,
        ..fast_settings()
    }
}

/// Killed while every vault is still `RegisteringDns`: the rerun's plan finds
/// the vaults (and creates none), and must wait for them as for new ones
/// before it writes their keys (Key Vault refuses a key until then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_a_kill_while_vaults_register_waits_for_them() {
    let (env, ids) = estate(field_timings()).await;
    kill_when(&env, "every vault created", |requests| {
        succeeded(requests, "Vaults_CreateOrUpdate") == ACCOUNTS.len()
    })
    .await;
    env.clear_requests().await;
    assert_rerun_converges(&env, &ids, "while the vaults registered").await;
    let requests = env.arm_requests().await;
    assert_eq!(
        succeeded(&requests, "Vaults_CreateOrUpdate"),
        0,
        "the rerun created a vault again"
    );
}

/// Killed while the storage updates were refused because the grants had not
/// reached Azure Storage yet: the rerun's plan finds the grants and keeps
/// trying the update until they have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_a_kill_while_grants_propagate_waits_them_out() {
    let (env, ids) = estate(field_timings()).await;
    kill_when(&env, "a storage update refused for a grant", |requests| {
        requests.iter().any(|r| {
            r["operation"] == "StorageAccounts_Update"
                && r["errorCode"] == "KeyVaultAuthenticationFailure"
        })
    })
    .await;
    assert_rerun_converges(&env, &ids, "while the grants propagated").await;
}

/// Killed after an account was switched to its key but before apply read it
/// back: the rerun finds it done, verifies it, and changes nothing on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_a_kill_between_switch_and_verification_verifies() {
    let (env, ids) = estate(Settings {
        grant_propagation_ms: 2_000,
        ..field_timings()
    })
    .await;
    // Slow account reads, so the kill lands between a switch and its check.
    env.patch_settings(json!({"faults": {"operationLatencyMs": {
        "StorageAccounts_GetProperties": 1500}}}))
        .await;
    kill_when(&env, "a switched account", |requests| {
        succeeded(requests, "StorageAccounts_Update") >= 1
    })
    .await;
    env.patch_settings(json!({"faults": {"operationLatencyMs": {}}}))
        .await;
    assert_rerun_converges(&env, &ids, "between a switch and its verification").await;
}
