//! Apply under field conditions, the real binary against the emulator: an
//! incomplete audit beneath it, a storage switch refused for a reason that
//! waiting cannot fix (a vault firewall, a disabled key), and an attached
//! identity that no longer exists.

use crate::support;

use actlog_cmk::emulator::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::estate::*;
use support::reports::account;
use support::schemas::assert_matches_project_schema;
use support::*;

/// Apply carries out what it could plan, but an audit that could not read a
/// subscription is not "all done": the summary counts it and apply exits 3,
/// also from a saved plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_counts_what_could_not_be_read_and_exits_3() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "dev").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    env.deny(&[&format!(
        "/subscriptions/{SUB2}/providers/Microsoft.Insights"
    )])
    .await;
    let tool = env.tool();

    let run = tool.run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("1 done, 0 failed, 0 refused, 0 skipped, 1 NOT READ."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("  - /subscriptions/{SUB2}: ")),
        "{}",
        run.stdout
    );

    // Nothing left to change, and still not all done.
    let again = tool.run(&["apply", "--yes", "-o", "json"]).await;
    assert_eq!(again.code, 3, "{}\n{}", again.stdout, again.stderr);
    let report = again.json();
    assert_eq!(report["summary"]["unread"], 1, "{report:#}");
    assert_eq!(report["unread"][0]["id"], format!("/subscriptions/{SUB2}"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let plan = tool.run(&["plan", "--out", file]).await;
    assert_eq!(plan.code, 3, "{}", plan.stderr);
    let saved = tool.run(&["apply", file]).await;
    assert_eq!(saved.code, 3, "{}\n{}", saved.stdout, saved.stderr);
    assert!(saved.stdout.contains("1 NOT READ"), "{}", saved.stdout);

    // With the subscription readable again, the same estate is all done.
    let done = tool.run(&["apply", "--yes", "-s", SUB1]).await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
}

/// Grants take a minute to reach storage here: without telling a grant on
/// its way from a hopeless refusal, apply would wait all of it.
fn slow_grants() -> Settings {
    Settings {
        grant_propagation_ms: 60_000,
        ..fast_settings()
    }
}

/// A vault firewall that shuts out trusted services makes storage answer
/// `KeyVaultAuthenticationFailure`, as a grant on its way does: apply names
/// the firewall at the first refusal instead of waiting out the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_firewall_without_the_trusted_services_bypass_fails_fast_and_is_named() {
    let env = Env::start_with(slow_grants()).await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    let vault = env
        .vault(
            SUB1,
            "rg-keys",
            "kv-firewalled",
            json!({"enableRbacAuthorization": true,
                   "networkAcls": {"defaultAction": "Deny", "bypass": "None"}}),
        )
        .await;
    let started = Instant::now();
    let run = env
        .tool()
        .run(&[
            "apply",
            "--yes",
            "--key-vault",
            &vault,
            "--propagation-timeout",
            "300",
            "-o",
            "json",
        ])
        .await;
    let took = started.elapsed();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let result = account(&report, &app);
    assert_eq!(result["outcome"], "failed", "{result:#}");
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "storage_account: Azure Storage cannot use the key: vault firewall: key vault"
        ),
        "{reason}"
    );
    assert!(reason.contains("AzureServices"), "{reason}");
    assert!(
        result["next_step"]
            .as_str()
            .unwrap()
            .contains("waiting would not help"),
        "{result:#}"
    );
    assert!(took < Duration::from_secs(30), "apply waited {took:?}");
}

/// A key disabled while apply waits for its grant: the next refusal names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_disabled_while_apply_waits_fails_the_account_at_once_and_is_named() {
    let env = Env::start_with(slow_grants()).await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    env.clear_requests().await;
    let tool = env.tool();
    let child = tool
        .command(&[
            "apply",
            "--yes",
            "--propagation-timeout",
            "300",
            "-o",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until storage has refused the key once (the grant is on its way).
    let started = Instant::now();
    let vault_name = loop {
        let requests = env.arm_requests().await;
        let refused = requests.iter().any(|r| {
            r["operation"] == "StorageAccounts_Update"
                && r["errorCode"] == "KeyVaultAuthenticationFailure"
        });
        let vault = requests
            .iter()
            .find(|r| r["operation"] == "Vaults_CreateOrUpdate")
            .and_then(|r| r["path"].as_str())
            .map(|p| p.rsplit('/').next().unwrap().to_string());
        if let (true, Some(vault)) = (refused, vault) {
            break vault;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{requests:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let disabled = env
        .admin(
            Method::PATCH,
            &format!("/keyvault/vaults/{vault_name}/keys/activity-log-cmk"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert!(disabled.status.is_success(), "{:?}", disabled.body);
    let disabled_at = Instant::now();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let took = disabled_at.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let result = account(&report, &app);
    assert_eq!(result["outcome"], "failed", "{result:#}");
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("storage_account: Azure Storage cannot use the key: key disabled: "),
        "{reason}"
    );
    assert!(took < Duration::from_secs(20), "apply went on for {took:?}");
}

/// A user-assigned identity deleted while attached stays listed on the
/// account, and Azure refuses an update that names it: the plan shows it
/// dropped, apply does not send it back, and an identity that exists (here
/// in another resource group, so it is read) is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_identity_that_no_longer_exists_is_dropped_and_shown_and_live_ones_kept() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    let (gone, _) = env.identity(SUB1, "rg-app", "id-gone").await;
    let (kept, _) = env.identity(SUB1, "rg-shared", "id-kept").await;
    let attached = env
        .arm(
            Method::PATCH,
            &format!("{app}?{STORAGE_API}"),
            Some(json!({"identity": {"type": "UserAssigned",
                "userAssignedIdentities": {&gone: {}, &kept: {}}}})),
        )
        .await;
    assert!(attached.status.is_success(), "{:?}", attached.body);
    let deleted = env
        .arm(Method::DELETE, &format!("{gone}?{MSI_API}"), None)
        .await;
    assert!(deleted.status.is_success(), "{:?}", deleted.body);
    let tool = env.tool();

    let text = tool.run(&["plan"]).await;
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    let dropped_line = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("~ identity.dropped_identity "))
        .unwrap_or_else(|| panic!("no dropped identity line:\n{}", text.stdout));
    assert!(
        dropped_line.ends_with(&format!(
            "= \"{gone}\" -> \"(dropped: it no longer exists)\""
        )),
        "{dropped_line}"
    );
    let plan = tool.run(&["plan", "-o", "json"]).await.json();
    assert_matches_project_schema("plan.schema.json", &plan, "a plan dropping an identity");
    let storage = account(&plan, &app)["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "storage_account")
        .unwrap()
        .clone();
    let desired = &storage["desired"];
    assert_eq!(desired["dropped_identities"], json!([gone]), "{desired:#}");
    let sent: Vec<String> = desired["user_assigned_identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_lowercase())
        .collect();
    assert!(sent.contains(&kept.to_lowercase()), "{sent:?}");
    assert!(!sent.contains(&gone.to_lowercase()), "{sent:?}");

    let run = tool.run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let after = env
        .arm(Method::GET, &format!("{app}?{STORAGE_API}"), None)
        .await;
    let identities = user_assigned(&after.body["identity"]);
    assert!(identities.contains(&kept.to_lowercase()), "{identities:?}");
    assert!(
        identities.iter().any(|i| i.ends_with("/id-stapp-cmk")),
        "{identities:?}"
    );
}
