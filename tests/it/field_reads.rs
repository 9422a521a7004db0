//! The tool's reads under the emulator's field behaviours, the real binary
//! over HTTPS: Resources_List pages that are empty or short yet carry
//! `nextLink`, ARM's index lagging creates, key rotation policies answered
//! in Managed HSM's casing, and tokens that expire inside a throttled run.
//! `audit` and `rollback` right after `apply` find the vaults it made although
//! the index does not list them yet.

use crate::support;

use actlog_cmk::emulator::settings::{RotationActionCasing, Settings};
use serde_json::json;
use support::reports::{assert_all_compliant, audit_json, destination};
use support::*;

/// A CMK setup whose vault lives in another resource group than its account
/// (as with a central key vault), so only the index can find it by name.
async fn account_with_vault_elsewhere(env: &Env, vault_name: &str) -> String {
    let account = env.storage_account(SUB1, "rg-app", "stcentral").await;
    let (identity, principal) = env.identity(SUB1, "rg-app", "id-central").await;
    let vault = env.vault(SUB1, "rg-zz-keys", vault_name, json!({})).await;
    env.key(&vault, "cmk", json!({"kty": "RSA", "keySize": 3072}))
        .await;
    env.access_policy(&vault, &principal, &["get", "wrapKey", "unwrapKey"])
        .await;
    env.switch_to_cmk(&account, vault_name, "cmk", &identity, "Microsoft.Keyvault")
        .await;
    env.diagnostic_setting(SUB1, "to-central", &account, true)
        .await;
    account
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vault_is_found_on_a_late_page_after_empty_ones() {
    let mut settings = fast_settings();
    settings.resource_page_size = 2;
    settings.resource_list_pages_before_filter = true;
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "prod").await;
    // Resources sorted before the vault fill the first pages, which the
    // name filter then empties.
    for n in 0..5 {
        env.storage_account(SUB1, "rg-aa-filler", &format!("stfiller{n}"))
            .await;
    }
    let account = account_with_vault_elsewhere(&env, "kv-zz-central").await;

    let audit = audit_json(&env).await;
    assert_eq!(
        destination(&audit, &account)["status"],
        "compliant",
        "{audit:#}"
    );
    let pages = env
        .arm_requests()
        .await
        .iter()
        .filter(|r| r["operation"] == "Resources_List")
        .count();
    assert!(pages > 2, "the lookup read every page ({pages} read)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_right_after_apply_finds_the_vaults_the_index_does_not_list_yet() {
    let mut settings = fast_settings();
    // Recorded at create: everything apply makes stays out of the index for the whole test.
    settings.resource_index_lag_ms = 60_000;
    settings.resource_list_pages_before_filter = true;
    settings.resource_page_size = 3;
    let env = Env::start_with(settings).await;
    let (plain, held, _) = env.plain_and_held_accounts().await;

    let apply = env.tool().run(&["apply", "--yes", "-o", "json"]).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let vaults = env
        .indexed_resources_of_type(SUB1, "Microsoft.KeyVault/vaults")
        .await;
    assert!(vaults.is_empty(), "the index still lags: {vaults:?}");

    let audit = audit_json(&env).await;
    assert_all_compliant(&audit);
    for account in [&plain, &held] {
        assert_eq!(destination(&audit, account)["status"], "compliant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_missing_from_index_and_group_is_still_reported_missing() {
    let mut settings = fast_settings();
    settings.resource_index_lag_ms = 60_000;
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "prod").await;
    // The vault is in another group and not indexed yet: neither the index
    // nor the account's group has it, so the audit cannot see it (and says so).
    let account = account_with_vault_elsewhere(&env, "kv-zz-central").await;
    let audit = audit_json(&env).await;
    let d = destination(&audit, &account);
    assert_eq!(d["status"], "cmk_broken", "{d:#}");
    assert!(d.to_string().contains("vault"), "{d:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_rotation_policies_in_managed_hsm_casing_are_read() {
    let mut settings = fast_settings();
    settings.key_rotation_action_casing = RotationActionCasing::ManagedHsm;
    let env = Env::start_with(settings).await;
    let (plain, held, _) = env.plain_and_held_accounts().await;

    let apply = env
        .tool()
        .run(&[
            "apply",
            "--yes",
            "--key-rotation-days",
            "30",
            "--key-expiry-days",
            "365",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        !apply.stderr.contains("unknown variant"),
        "{}",
        apply.stderr
    );
    let audit = audit_json(&env).await;
    for account in [&plain, &held] {
        assert_eq!(destination(&audit, account)["status"], "compliant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_run_longer_than_a_token_never_sends_an_expired_one() {
    let mut settings = Settings::instant();
    settings.token_lifetime_secs = 3;
    settings.throttling.enabled = false;
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "prod").await;
    let mut accounts = Vec::new();
    for n in 0..4 {
        let a = env
            .cmk_account(
                SUB1,
                "rg-app",
                &format!("stcmk{n}"),
                &format!("kv-cmk-{n}"),
                n % 2 == 0,
            )
            .await;
        env.diagnostic_setting(SUB1, &format!("to-{n}"), &a.account_id, true)
            .await;
        accounts.push(a.account_id);
    }
    // A bucket that lets a request through every 2 s: the audit's ~25 reads
    // queue for tens of seconds, far past a token's 3 s.
    env.patch_settings(
        json!({"throttling": {"enabled": true, "reads": {"capacity": 2, "refillPerSec": 0.5}}}),
    )
    .await;
    env.clear_requests().await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    let requests = env.arm_requests().await;
    let refused: Vec<_> = requests.iter().filter(|r| r["status"] == 401).collect();
    assert!(
        requests.iter().any(|r| r["status"] == 429),
        "the run was throttled"
    );
    assert!(refused.is_empty(), "expired tokens were sent: {refused:#?}");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for account in &accounts {
        assert_eq!(destination(&run.json(), account)["status"], "compliant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_right_after_apply_finds_the_vaults_the_index_does_not_list_yet() {
    let mut settings = fast_settings();
    settings.resource_index_lag_ms = 60_000;
    let env = Env::start_with(settings).await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let apply = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);

    let rollback = env.tool().run(&["rollback", "--yes", "-o", "json"]).await;
    assert_eq!(rollback.code, 0, "{}", rollback.stderr);
    let report = rollback.json();
    assert_eq!(report["summary"]["done"], 2, "{report:#}");
    let audit = audit_json(&env).await;
    for account in [&plain, &held] {
        assert_eq!(destination(&audit, account)["status"], "non_compliant");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_answered_with_values_no_spec_lists_are_audited_and_fixed() {
    let mut settings = fast_settings();
    settings.storage_unknown_values = true;
    let env = Env::start_with(settings).await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let good = env
        .cmk_account(SUB1, "rg-good", "stgood", "kv-good-1", true)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;

    let before = audit_json(&env).await;
    assert_eq!(
        destination(&before, &good.account_id)["status"],
        "compliant"
    );
    for account in [&plain, &held] {
        assert_eq!(destination(&before, account)["status"], "non_compliant");
    }
    let apply = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    assert_all_compliant(&audit_json(&env).await);
}
