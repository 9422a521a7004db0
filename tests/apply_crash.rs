//! An apply killed with SIGKILL at different points, then run again: the
//! rerun converges (every destination compliant) and nothing exists twice.

mod support;

use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::estate::*;
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

/// Kills `apply --yes` once `kill_after` writes have succeeded, reruns it, and
/// checks the estate.
async fn kill_and_rerun(kill_after: usize) {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let mut ids = Vec::new();
    for (rg, name) in ACCOUNTS {
        let id = env.storage_account(SUB1, rg, name).await;
        env.diagnostic_setting(SUB1, &format!("to-{name}"), &id, true)
            .await;
        ids.push(id);
    }
    // Slow writes, so the kill lands between them.
    env.patch_settings(json!({"faults": {"operationLatencyMs": {
        "UserAssignedIdentities_CreateOrUpdate": 150, "Vaults_CreateOrUpdate": 150,
        "Keys_CreateIfNotExist": 150, "RoleAssignments_Create": 150, "StorageAccounts_Update": 150}}}))
    .await;
    env.clear_requests().await;
    let tool = env.tool();
    let mut child = tool
        .command(&["apply", "--yes", "--parallelism", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if successful_writes(&env.arm_requests().await) >= kill_after {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply ended before {kill_after} writes"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "apply made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let rerun = tool.run(&["apply", "--yes"]).await;
    assert_eq!(
        rerun.code, 0,
        "after a kill at {kill_after} writes:\n{}\n{}",
        rerun.stdout, rerun.stderr
    );
    let audit = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(
        audit.code, 0,
        "after a kill at {kill_after} writes: {}",
        audit.stdout
    );

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
            "after a kill at {kill_after} writes, {vault} has {grants} role assignments"
        );
    }
    for id in &ids {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_converges_on_rerun_wherever_it_was_killed() {
    // 3 accounts x 5 writes: kill after the first write, in the middle, and
    // just before the last storage update.
    for kill_after in [1, 6, 11, 14] {
        kill_and_rerun(kill_after).await;
    }
}
