//! The emulator's ARM pipeline over real HTTPS: tokens, api-versions,
//! subscriptions and paging, resource groups, throttling, faults, locks,
//! permissions and the admin API.

use crate::support;

use actlog_cmk::emulator::settings::Settings;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn every_arm_call_needs_a_valid_token() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let path = format!("/subscriptions/{SUB1}?api-version=2022-12-01");
    let ok = env.arm(Method::GET, &path, None).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["subscriptionId"], SUB1);

    let none = env
        .client
        .get(format!("{}{}", env.endpoint(), path))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers().get("www-authenticate").is_some());

    let bad = env.arm_as("not-a-token", Method::GET, &path, None).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.code(), "InvalidAuthenticationToken");
    assert!(bad
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    // In every profile: the field profile's short-lived tokens end the same way.
    for base in [fast_settings(), Settings::field()] {
        let settings = Settings {
            token_lifetime_secs: 1,
            ..base
        };
        let env = Env::start_with(settings).await;
        env.add_subscription(SUB1, "one").await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let a = env
            .arm(
                Method::GET,
                &format!("/subscriptions/{SUB1}?api-version=2022-12-01"),
                None,
            )
            .await;
        // ARM's own code for it, its message shape and the challenge header.
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.code(), "ExpiredAuthenticationToken");
        let message = a.body["error"]["message"].as_str().unwrap();
        let shape = is_expired_token_message(message);
        assert!(shape, "{message}");
        let challenge = a.header("www-authenticate").unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(
            challenge.contains("is earlier than current UTC time"),
            "{challenge}"
        );
    }
}

/// `The access token expiry UTC time 'M/D/YYYY h:mm:ss AM' is earlier than
/// current UTC time '...'.`, Azure's words with .NET's en-US times.
fn is_expired_token_message(message: &str) -> bool {
    let Some(rest) = message.strip_prefix("The access token expiry UTC time '") else {
        return false;
    };
    let Some((expiry, rest)) = rest.split_once("' is earlier than current UTC time '") else {
        return false;
    };
    let Some(now) = rest.strip_suffix("'.") else {
        return false;
    };
    [expiry, now].iter().all(|t| {
        chrono::NaiveDateTime::parse_from_str(t, "%m/%d/%Y %I:%M:%S %p").is_ok()
            && (t.ends_with(" AM") || t.ends_with(" PM"))
    })
}

#[tokio::test]
async fn token_endpoint_refuses_a_wrong_secret_and_serves_discovery() {
    let env = Env::start().await;
    let c = &env.emu.connection;
    let r = env
        .client
        .post(format!("{}/{}/oauth2/v2.0/token", c.endpoint, c.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", "wrong"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(!body.to_string().contains(&c.client_secret));

    let oidc: serde_json::Value = env
        .client
        .get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            c.endpoint, c.tenant_id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        oidc["token_endpoint"],
        format!("{}/{}/oauth2/v2.0/token", c.endpoint, c.tenant_id)
    );
    let meta: serde_json::Value = env
        .client
        .get(format!("{}/metadata/endpoints", c.endpoint))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["resourceManager"], format!("{}/", c.endpoint));
}

#[tokio::test]
async fn api_versions_are_checked_like_arm() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let a = env
        .arm(Method::GET, &format!("/subscriptions/{SUB1}"), None)
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=2016-06-01"),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "InvalidApiVersionParameter")
    );
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=garbage"),
            None,
        )
        .await;
    assert_eq!(a.code(), "InvalidApiVersionParameter");
}

#[tokio::test]
async fn subscriptions_are_paged_with_next_link_and_unknown_ones_are_404() {
    let mut settings = fast_settings();
    settings.subscription_page_size = 2;
    let env = Env::start_with(settings).await;
    for (i, id) in [SUB1, SUB2, SUB3].iter().enumerate() {
        env.add_subscription(id, &format!("sub {i}")).await;
    }
    let first = env
        .arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["value"].as_array().unwrap().len(), 2);
    let next = first.body["nextLink"]
        .as_str()
        .expect("nextLink on a full page");
    let second = env.arm(Method::GET, next, None).await;
    assert_eq!(second.body["value"].as_array().unwrap().len(), 1);
    assert!(
        second.body.get("nextLink").is_none(),
        "the last page has no nextLink"
    );
    let mut ids: Vec<String> = first.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second.body["value"].as_array().unwrap())
        .map(|s| s["subscriptionId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![SUB1, SUB2, SUB3]);

    let missing = env
        .arm(
            Method::GET,
            "/subscriptions/44444444-4444-4444-4444-444444444444?api-version=2022-12-01",
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "SubscriptionNotFound")
    );
}

#[tokio::test]
async fn resource_groups_are_created_validated_and_read_case_insensitively() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let path = format!("/subscriptions/{SUB1}/resourcegroups/Rg-Logs?api-version=2024-03-01");
    let a = env
        .arm(
            Method::PUT,
            &path,
            Some(json!({"location": "West Europe", "tags": {"a": "b"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["location"], "westeurope");
    let again = env
        .arm(Method::PUT, &path, Some(json!({"location": "westeurope"})))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let moved = env
        .arm(Method::PUT, &path, Some(json!({"location": "eastus"})))
        .await;
    assert_eq!(
        (moved.status, moved.code()),
        (StatusCode::CONFLICT, "InvalidResourceGroupLocation")
    );
    let get = env
        .arm(
            Method::GET,
            &format!("/SUBSCRIPTIONS/{SUB1}/resourceGroups/rg-logs?api-version=2024-03-01"),
            None,
        )
        .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body["name"], "Rg-Logs");
    let nolocation = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourcegroups/x?api-version=2024-03-01"),
            Some(json!({})),
        )
        .await;
    assert_eq!(nolocation.code(), "LocationRequired");
    let badname = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourcegroups/x.?api-version=2024-03-01"),
            Some(json!({"location": "eastus"})),
        )
        .await;
    assert_eq!(badname.code(), "InvalidResourceGroupName");
    let missing = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourcegroups/nope?api-version=2024-03-01"),
            None,
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "ResourceGroupNotFound")
    );
    let malformed = env
        .client
        .put(format!("{}{}", env.endpoint(), path))
        .bearer_auth(&env.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn read_only_and_denied_principals_get_authorization_failed() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.add_subscription(SUB2, "two").await;
    let r = env.admin(Method::PUT, "/principals/reader-app", Some(json!({"clientSecret": "reader-secret", "readOnly": true, "deniedScopes": [format!("/subscriptions/{SUB2}")]}))).await;
    assert_eq!(r.status, StatusCode::OK);
    let token = env.token_for("reader-app", "reader-secret").await;
    let read = env
        .arm_as(
            &token,
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let write = env
        .arm_as(
            &token,
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourcegroups/rg?api-version=2024-03-01"),
            Some(json!({"location": "eastus"})),
        )
        .await;
    assert_eq!(
        (write.status, write.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
    assert!(write.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Microsoft.Resources/subscriptions/resourceGroups/write"));
    let denied = env
        .arm_as(
            &token,
            Method::GET,
            &format!("/subscriptions/{SUB2}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, "AuthorizationFailed")
    );
    let list = env
        .arm_as(
            &token,
            Method::GET,
            "/subscriptions?api-version=2022-12-01",
            None,
        )
        .await;
    let ids: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SUB1]);
}

#[tokio::test]
async fn locks_refuse_writes_with_scope_locked() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg", "eastus").await;
    let scope = format!("/subscriptions/{SUB1}/resourceGroups/rg");
    let l = env
        .admin(
            Method::PUT,
            "/locks/freeze",
            Some(json!({"scope": scope, "level": "ReadOnly"})),
        )
        .await;
    assert_eq!(l.status, StatusCode::OK);
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourcegroups/RG?api-version=2024-03-01"),
            Some(json!({"location": "eastus"})),
        )
        .await;
    assert_eq!((a.status, a.code()), (StatusCode::CONFLICT, "ScopeLocked"));
    let read = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourcegroups/rg?api-version=2024-03-01"),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    env.admin(Method::DELETE, "/locks/freeze", None).await;
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourcegroups/rg?api-version=2024-03-01"),
            Some(json!({"location": "eastus"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_and_remaining_headers() {
    let mut settings = fast_settings();
    settings.throttling.enabled = true;
    settings.throttling.reads = actlog_cmk::emulator::settings::Bucket {
        capacity: 3.0,
        refill_per_sec: 0.5,
    };
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "one").await;
    let path = format!("/subscriptions/{SUB1}?api-version=2022-12-01");
    let first = env.arm(Method::GET, &path, None).await;
    assert_eq!(
        first.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("2")
    );
    env.arm(Method::GET, &path, None).await;
    env.arm(Method::GET, &path, None).await;
    let throttled = env.arm(Method::GET, &path, None).await;
    assert_eq!(
        (throttled.status, throttled.code()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled"
        )
    );
    assert_eq!(throttled.header("retry-after"), Some("2"));
    // Another subscription has its own bucket.
    env.add_subscription(SUB2, "two").await;
    let other = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB2}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn faults_inject_errors_and_dropped_connections() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let path = format!("/subscriptions/{SUB1}?api-version=2022-12-01");
    env.patch_settings(json!({"faults": {"errorRate": 1.0, "seed": 7}}))
        .await;
    let a = env.arm(Method::GET, &path, None).await;
    assert!(
        a.status == StatusCode::INTERNAL_SERVER_ERROR
            || a.status == StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        a.status
    );
    env.patch_settings(json!({"faults": {"errorRate": 0.0, "dropRate": 1.0}}))
        .await;
    let dropped = env
        .client
        .get(format!("{}{}", env.endpoint(), path))
        .bearer_auth(&env.token)
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer"
    );
    env.patch_settings(json!({"faults": {"dropRate": 0.0, "latencyMs": 300}}))
        .await;
    let started = std::time::Instant::now();
    let a = env.arm(Method::GET, &path, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let log = env.requests().await;
    assert!(
        log.iter().any(|r| r["status"] == 0),
        "dropped calls are logged with status 0"
    );
}

#[tokio::test]
async fn admin_api_needs_the_emulator_key_and_logs_requests() {
    let env = Env::start().await;
    let denied = env
        .client
        .get(format!("{}/_emulator/requests", env.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    let wrong = env
        .client
        .get(format!("{}/_emulator/state", env.endpoint()))
        .header("x-emulator-key", "guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    env.add_subscription(SUB1, "one").await;
    env.arm(
        Method::GET,
        &format!("/subscriptions/{SUB1}?api-version=2022-12-01"),
        None,
    )
    .await;
    let log = env.requests().await;
    let last = log.last().unwrap();
    assert_eq!(last["method"], "GET");
    assert_eq!(last["apiVersion"], "2022-12-01");
    assert_eq!(last["status"], 200);
    assert_eq!(last["operation"], "Subscriptions_Get");
    env.admin(Method::DELETE, "/requests", None).await;
    assert!(env.requests().await.is_empty());
}

#[tokio::test]
async fn state_can_be_saved_and_loaded() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg", "eastus").await;
    let saved = env.admin(Method::GET, "/state", None).await.body;
    let other = Env::start().await;
    let loaded = other.admin(Method::PUT, "/state", Some(saved)).await;
    assert_eq!(loaded.status, StatusCode::NO_CONTENT);
    // The loaded state brings its own tenant and principals: log in with them.
    let c = &env.emu.connection;
    let token = other
        .token_in(&c.tenant_id, &c.client_id, &c.client_secret)
        .await;
    let a = other
        .arm_as(
            &token,
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourcegroups/rg?api-version=2024-03-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
}
