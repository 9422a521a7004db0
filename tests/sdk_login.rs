//! The Azure SDK signs in to the emulator exactly as it would to Entra ID:
//! azure_identity's environment credential, pointed at the emulator's token
//! endpoint by `AZURE_AUTHORITY_HOST`, over HTTPS trusting the emulator's CA.
//! (One test in this binary: it sets process environment variables.)

mod support;

use actlog_cmk::azure::{Arm, AuthKind, AzureError, ConnectionOptions};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn azure_identity_logs_in_and_the_pipeline_reaches_arm() {
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
    let arm = Arm::connect(&options).expect("connect");
    let list: Value = arm
        .get_json(
            "/subscriptions?api-version=2022-12-01",
            "the subscription list",
        )
        .await
        .expect("list");
    assert_eq!(list["value"][0]["subscriptionId"], SUB1);

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
    let wrong = Arm::connect(&options).unwrap();
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
