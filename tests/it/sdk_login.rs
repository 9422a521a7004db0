//! The Azure SDK signs in to the emulator exactly as it would to Entra ID:
//! azure_identity's environment credential, pointed at the emulator's token
//! endpoint by `AZURE_AUTHORITY_HOST`, over HTTPS trusting the emulator's CA.
//! The test sets process environment variables, which every thread of the
//! test binary shares: its body runs in a child process of the binary.

use crate::support;

use actlog_cmk::azure::id::StorageAccountId;
use actlog_cmk::azure::{monitor, storage, subscriptions};
use actlog_cmk::azure::{Arm, AuthKind, AzureError, ConnectionOptions};
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

/// Set in the child process that runs the body; the parent only checks the child passed.
const IN_CHILD: &str = "ACTLOG_CMK_TEST_SDK_LOGIN_CHILD";

#[test]
fn azure_identity_logs_in_and_the_pipeline_reaches_arm() {
    if std::env::var_os(IN_CHILD).is_some() {
        return tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(logs_in_and_reaches_arm());
    }
    let name = format!(
        "{}::azure_identity_logs_in_and_the_pipeline_reaches_arm",
        child::in_binary(module_path!())
    );
    let run = child::run_test(&name, &[(IN_CHILD, Some("1"))]);
    assert!(run.passed, "the child process failed:\n{}", run.text);
}

async fn logs_in_and_reaches_arm() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &env.emu.ca_pem).unwrap();
    let c = &env.emu.connection;
    std::env::set_var("AZURE_TENANT_ID", &c.tenant_id);
    std::env::set_var("AZURE_CLIENT_ID", &c.client_id);
    std::env::set_var("AZURE_CLIENT_SECRET", &c.client_secret);
    std::env::set_var("AZURE_AUTHORITY_HOST", &c.endpoint);

    let options = ConnectionOptions {
        arm_endpoint: c.endpoint.clone(),
        ca_file: Some(ca.clone()),
        auth: AuthKind::Environment,
        ..ConnectionOptions::default()
    };
    let arm = Arm::connect(&options).await.expect("connect");
    let list: Value = arm
        .get_json(
            "/subscriptions?api-version=2022-12-01",
            "the subscription list",
        )
        .await
        .expect("list");
    assert_eq!(list["value"][0]["subscriptionId"], SUB1);

    readers_see_what_the_emulator_holds(&env, &arm).await;

    // An ARM error keeps its status and code and names the resource.
    let err = arm
        .get_json::<Value>(
            "/subscriptions/44444444-4444-4444-4444-444444444444?api-version=2022-12-01",
            "subscription 4444",
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("SubscriptionNotFound"))
    );
    assert!(err.to_string().contains("subscription 4444"));

    // Without the emulator's CA the TLS handshake fails, and the message says what to check.
    let untrusted = Arm::connect(&ConnectionOptions {
        ca_file: None,
        max_retries: 0,
        ..options.clone()
    })
    .await
    .unwrap();
    let err = untrusted
        .get_json::<Value>(
            "/subscriptions?api-version=2022-12-01",
            "the subscription list",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AzureError::Credential(_) | AzureError::Unreachable { .. }
        ),
        "{err:?}"
    );

    // A wrong secret is a sign-in failure that does not echo the secret.
    std::env::set_var("AZURE_CLIENT_SECRET", "wrong-secret-value");
    let wrong = Arm::connect(&options).await.unwrap();
    let err = wrong
        .get_json::<Value>(
            "/subscriptions?api-version=2022-12-01",
            "the subscription list",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::Credential(_)), "{err:?}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!err.to_string().contains(&c.client_secret));
}

/// The typed readers (subscriptions with paging, diagnostic settings, log
/// profiles, storage accounts through azure_mgmt_storage) against real answers.
async fn readers_see_what_the_emulator_holds(env: &Env, arm: &Arm) {
    env.add_subscription(SUB2, "two").await;
    env.add_subscription(SUB3, "three").await;
    env.patch_settings(json!({"subscriptionPageSize": 2})).await;
    let (subs, pages) = subscriptions::list(arm).await.expect("subscriptions");
    assert_eq!((subs.len(), pages), (3, 2));

    env.put_resource_group(SUB2, "rg-logs", "westeurope").await;
    let account = format!("/subscriptions/{SUB2}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stcentral01");
    let created = env
        .arm(Method::PUT, &format!("{account}?api-version=2023-05-01"), Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})))
        .await;
    assert_eq!(created.status, 202);
    let diag = format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/diagnosticSettings/to-central?api-version=2021-05-01-preview");
    let put = env
        .arm(Method::PUT, &diag, Some(json!({"properties": {"storageAccountId": account, "logs": [{"category": "Administrative", "enabled": true}, {"category": "Policy", "enabled": false}]}})))
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let settings = monitor::diagnostic_settings(arm, SUB1)
        .await
        .expect("settings");
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[0].name, "to-central");
    assert_eq!(settings[0].enabled_categories, vec!["Administrative"]);
    let id = StorageAccountId::parse(settings[0].storage_account_id.as_deref().unwrap()).unwrap();
    assert_eq!(id, StorageAccountId::parse(&account).unwrap());
    assert!(monitor::log_profiles(arm, SUB1)
        .await
        .expect("profiles")
        .is_empty());

    let read = storage::get(arm, &id).await.expect("storage account");
    assert_eq!(read.key_source, "Microsoft.Storage");
    assert!(!read.uses_key_vault());
    let missing = StorageAccountId::parse(&account.replace("stcentral01", "stgone01")).unwrap();
    let err = storage::get(arm, &missing).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("stgone01"));
}
