//! Rollback as a plan: `rollback --out undo.json` saves the undo without
//! writing anything, and `apply undo.json` carries it out with a saved
//! plan's checks. Applying the saved undo leaves the emulator as a direct
//! `rollback` leaves an identical estate (the same writes, the same accounts
//! afterwards); an edited undo plan is refused whole, and an account that
//! changed after `--out` is refused alone.

use crate::support;

use reqwest::Method;
use serde_json::Value;
use std::path::Path;
use support::estate::*;
use support::request_log::writes;
use support::*;

/// An estate apply remediated: the plain and the held account of
/// `plain_and_held_accounts`, both on the tool's key.
async fn remediated_estate() -> (Env, String, String) {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let run = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    (env, plain, held)
}

/// The writes since the log was cleared, as (operation, method, path) in
/// lower case and sorted: comparable across two emulators.
async fn written(env: &Env) -> Vec<(String, String, String)> {
    let requests = env.arm_requests().await;
    let mut out: Vec<(String, String, String)> = writes(&requests)
        .iter()
        .map(|r| {
            (
                r["operation"].as_str().unwrap_or_default().to_string(),
                r["method"].as_str().unwrap_or_default().to_string(),
                r["path"].as_str().unwrap_or_default().to_lowercase(),
            )
        })
        .collect();
    out.sort();
    out
}

/// What rollback decides about an account: its key source and identities.
async fn account_state(env: &Env, account: &str) -> Value {
    let a = env
        .arm(Method::GET, &format!("{account}?{STORAGE_API}"), None)
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    serde_json::json!({
        "key_source": a.body["properties"]["encryption"]["keySource"],
        "identity_type": a.body["identity"]["type"],
        "user_assigned": user_assigned(&a.body["identity"]),
    })
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_rollback_applied_leaves_what_rollback_alone_leaves() {
    let (saved_env, plain, held) = remediated_estate().await;
    let (direct_env, _, _) = remediated_estate().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("undo.json");

    saved_env.clear_requests().await;
    let out = saved_env
        .tool()
        .run(&["rollback", "--remove-grants", "--out", path_str(&file)])
        .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("  ~ storage_account"), "{}", out.stdout);
    assert!(out.stderr.contains("actlog-cmk apply"), "{}", out.stderr);
    assert!(written(&saved_env).await.is_empty(), "--out writes nothing");
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["format"], "actlog-cmk-plan");
    assert_eq!(saved["plan"]["mode"], "rollback");
    assert!(
        saved["plan"]["tenant_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{saved:#}"
    );

    let applied = saved_env.tool().run(&["apply", path_str(&file)]).await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    direct_env.clear_requests().await;
    let direct = direct_env
        .tool()
        .run(&["rollback", "--yes", "--remove-grants"])
        .await;
    assert_eq!(direct.code, 0, "{}\n{}", direct.stdout, direct.stderr);

    let (from_file, from_rollback) = (written(&saved_env).await, written(&direct_env).await);
    assert!(
        from_file.iter().any(|w| w.0 == "RoleAssignments_Delete"),
        "{from_file:#?}"
    );
    assert_eq!(from_file, from_rollback);
    for account in [&plain, &held] {
        let state = account_state(&saved_env, account).await;
        assert_eq!(state["key_source"], "Microsoft.Storage", "{state:#}");
        assert_eq!(state, account_state(&direct_env, account).await);
    }
    // Applied again, the same file finds every account changed since.
    let again = saved_env.tool().run(&["apply", path_str(&file)]).await;
    assert_eq!(again.code, 3, "{}\n{}", again.stdout, again.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_or_stale_rollback_plan_is_refused() {
    let (env, plain, held) = remediated_estate().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("undo.json");
    let tool = env.tool();
    let out = tool.run(&["rollback", "--out", path_str(&file)]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    env.clear_requests().await;

    // Tampered: --remove-grants switched on by hand.
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = dir.path().join("tampered.json");
    let edited = text.replacen("\"remove_grants\": false", "\"remove_grants\": true", 1);
    assert_ne!(edited, text);
    std::fs::write(&tampered, edited).unwrap();
    let refused = tool.run(&["apply", path_str(&tampered)]).await;
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("checksum"), "{}", refused.stderr);
    assert!(written(&env).await.is_empty());

    // Stale: the held account gets another identity after --out.
    let (extra, _) = env.identity(SUB2, "rg-held", "id-later").await;
    let before = env.identities_of(&held).await;
    let mut ids = user_assigned(&before);
    ids.push(extra.clone());
    let assigned: serde_json::Map<String, Value> = ids
        .iter()
        .map(|i| (i.clone(), serde_json::json!({})))
        .collect();
    let patched = env
        .arm(
            Method::PATCH,
            &format!("{held}?{STORAGE_API}"),
            Some(serde_json::json!({"identity": {"type": before["type"], "userAssignedIdentities": assigned}})),
        )
        .await;
    assert!(patched.status.is_success(), "{:?}", patched.body);
    env.clear_requests().await;

    let run = tool.run(&["apply", "-o", "json", path_str(&file)]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let outcome = |id: &str| {
        report["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                a["storage_account_id"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(id)
            })
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome(&held), "refused", "{report:#}");
    assert_eq!(outcome(&plain), "done", "{report:#}");
    // Nothing was written to the stale account.
    assert!(written(&env)
        .await
        .iter()
        .all(|w| !w.2.contains("/rg-held/")));
    assert_eq!(
        account_state(&env, &held).await["key_source"],
        "Microsoft.Keyvault"
    );
}
