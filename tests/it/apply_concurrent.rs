//! Two apply processes on the same estate at the same time end with one set
//! of resources per account, and both report every account done.

use crate::support;

use reqwest::Method;
use serde_json::json;
use support::estate::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_at_once_create_one_set_of_resources() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let mut accounts = Vec::new();
    for name in ["stconca", "stconcb", "stconcc"] {
        let id = env.storage_account(SUB1, &format!("rg-{name}"), name).await;
        env.diagnostic_setting(SUB1, &format!("to-{name}"), &id, true)
            .await;
        accounts.push(id);
    }
    // Some latency, so the two runs overlap.
    env.patch_settings(json!({"faults": {"latencyMs": 15, "jitterMs": 30, "seed": 5}}))
        .await;
    let tool = env.tool();
    let (first, second) = tokio::join!(
        tool.run(&["apply", "--yes", "-o", "json"]),
        tool.run(&["apply", "--yes", "-o", "json"])
    );
    env.patch_settings(json!({"faults": {"latencyMs": 0, "jitterMs": 0}}))
        .await;
    for run in [&first, &second] {
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let report = run.json();
        for a in report["accounts"].as_array().unwrap() {
            assert_eq!(a["outcome"], "done", "{a:#}");
        }
    }
    assert_eq!(
        env.resources_of_type(SUB1, "Microsoft.ManagedIdentity/userAssignedIdentities")
            .await
            .len(),
        3
    );
    assert_eq!(
        env.resources_of_type(SUB1, "Microsoft.KeyVault/vaults")
            .await
            .len(),
        3
    );
    for id in &accounts {
        let account = env
            .arm(Method::GET, &format!("{id}?{STORAGE_API}"), None)
            .await;
        assert_eq!(
            account.body["identity"]["userAssignedIdentities"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
        let vault = account.body["properties"]["encryption"]["keyvaultproperties"]["keyvaulturi"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!vault.is_empty());
    }
    let audit = tool.run(&["audit"]).await;
    assert_eq!(audit.code, 0, "{}", audit.stdout);
}
