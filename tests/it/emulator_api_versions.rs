//! The api-versions Azure CLI 2.91 and the current Python SDK packages send
//! (issue 18): each type answers them, in that version's shape where the
//! shapes differ, and refuses others with a message that says the limit is
//! the emulator's, not Azure's.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

/// Every version each client sends, read on the same resources.
#[tokio::test]
async fn every_clients_version_reads_the_same_resources() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "one").await;
    let account = env.storage_account(SUB1, "rg", "stversions").await;
    let (identity, principal) = env.identity(SUB1, "rg", "id-versions").await;
    let vault = env.vault(SUB1, "rg", "kv-versions", json!({})).await;
    env.key(&vault, "cmk", json!({"kty": "RSA", "keySize": 2048}))
        .await;
    let ds =
        format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/diagnosticSettings/export");
    let put = env
        .arm(
            Method::PUT,
            &format!("{ds}?api-version=2021-05-01-preview"),
            Some(json!({"properties": {"storageAccountId": account, "logs": [{"category": "Administrative", "enabled": true}]}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);

    for api in ["2023-05-01", "2025-08-01", "2026-09-01"] {
        let a = env
            .arm(Method::GET, &format!("{account}?api-version={api}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "storage {api}: {}", a.body);
        assert_eq!(
            a.body["properties"]["encryption"]["keySource"],
            "Microsoft.Storage"
        );
    }
    for api in ["2023-07-01", "2026-02-01", "2026-05-15"] {
        let a = env
            .arm(Method::GET, &format!("{vault}?api-version={api}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "vault {api}: {}", a.body);
        assert_eq!(a.body["properties"]["enablePurgeProtection"], true);
        let k = env
            .arm(
                Method::GET,
                &format!("{vault}/keys/cmk?api-version={api}"),
                None,
            )
            .await;
        assert_eq!(k.status, StatusCode::OK, "key {api}: {}", k.body);
    }
    for api in [
        "2023-01-31",
        "2024-11-30",
        "2025-01-31-preview",
        "2025-05-31-preview",
    ] {
        let a = env
            .arm(Method::GET, &format!("{identity}?api-version={api}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "identity {api}: {}", a.body);
        assert_eq!(a.body["properties"]["principalId"], principal.as_str());
    }
    for api in ["2024-03-01", "2024-11-01", "2015-11-01"] {
        // What the Key Vault SDKs' vaults.list (az's vault lookup) sends.
        let a = env
            .arm(
                Method::GET,
                &format!("/subscriptions/{SUB1}/resources?$filter=resourceType%20eq%20'Microsoft.KeyVault/vaults'&api-version={api}"),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "resources {api}: {}", a.body);
        assert_eq!(a.body["value"][0]["name"], "kv-versions");
    }
    for api in ["2024-03-01", "2024-11-01"] {
        let a = env
            .arm(
                Method::GET,
                &format!("/subscriptions/{SUB1}/resourcegroups/rg?api-version={api}"),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "group {api}: {}", a.body);
    }
    for api in ["2021-05-01-preview", "2017-05-01-preview"] {
        let a = env
            .arm(Method::GET, &format!("{ds}?api-version={api}"), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "settings {api}: {}", a.body);
        assert_eq!(a.body["properties"]["storageAccountId"], account.as_str());
    }
}

/// 2024-11-30 and later answer `isolationScope`; 2023-01-31 does not know it.
#[tokio::test]
async fn identities_answer_isolation_scope_from_2024_11_30_on() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg", "westeurope").await;
    let id = format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-scope");
    let created = env
        .arm(
            Method::PUT,
            &format!("{id}?api-version=2025-05-31-preview"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["properties"]["isolationScope"], "None");
    let new = env
        .arm(Method::GET, &format!("{id}?api-version=2024-11-30"), None)
        .await;
    assert_eq!(new.body["properties"]["isolationScope"], "None");
    let old = env
        .arm(Method::GET, &format!("{id}?api-version=2023-01-31"), None)
        .await;
    assert!(
        old.body["properties"].get("isolationScope").is_none(),
        "{}",
        old.body
    );
}

/// 2017-05-01-preview predates category groups and marketplace partners.
#[tokio::test]
async fn old_diagnostic_settings_answer_categories_only() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "one").await;
    let account = env.storage_account(SUB1, "rg", "stgroups").await;
    let ds =
        format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/diagnosticSettings/groups");
    let body = json!({"properties": {"storageAccountId": account, "logs": [
        {"categoryGroup": "allLogs", "enabled": true},
        {"category": "Administrative", "enabled": true}]}});
    let put = env
        .arm(
            Method::PUT,
            &format!("{ds}?api-version=2021-05-01-preview"),
            Some(body),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let new = env
        .arm(
            Method::GET,
            &format!("{ds}?api-version=2021-05-01-preview"),
            None,
        )
        .await;
    assert_eq!(
        new.body["properties"]["logs"][0]["categoryGroup"],
        "allLogs"
    );
    let old = env
        .arm(
            Method::GET,
            &format!("{ds}?api-version=2017-05-01-preview"),
            None,
        )
        .await;
    let logs = old.body["properties"]["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 8, "{}", old.body);
    assert!(logs
        .iter()
        .all(|l| l.get("categoryGroup").is_none() && l["enabled"] == true));
    assert_eq!(logs[0]["category"], "Administrative");
    let list = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/diagnosticSettings?api-version=2017-05-01-preview"),
            None,
        )
        .await;
    assert_eq!(
        list.body["value"][0]["properties"]["logs"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
}

/// The storage create's poll URL keeps the version of the create.
#[tokio::test]
async fn storage_polls_keep_the_creates_version() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg", "westeurope").await;
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stpoll?api-version=2025-08-01"),
            Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert!(a
        .header("location")
        .unwrap()
        .ends_with("api-version=2025-08-01"));
}

/// A version the emulator does not serve: Azure's code, the emulator's limit in words.
#[tokio::test]
async fn unserved_versions_are_named_the_emulators_limit() {
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "one").await;
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x?api-version=2022-09-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "NoRegisteredProviderFound");
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("limit of the actlog-cmk emulator, not of Azure"),
        "{message}"
    );
    assert!(
        message.contains("'2023-05-01, 2025-08-01, 2026-09-01'"),
        "{message}"
    );
    assert!(
        !message.contains("The supported api-versions are"),
        "{message}"
    );
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=2016-06-01"),
            None,
        )
        .await;
    assert_eq!(a.code(), "InvalidApiVersionParameter");
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("limit of the actlog-cmk emulator"),
        "{message}"
    );
}
