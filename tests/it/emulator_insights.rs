//! Subscription diagnostic settings and legacy log profiles over real HTTPS:
//! the recorded response shapes, Azure's limits and validation.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const DS_API: &str = "api-version=2021-05-01-preview";
const LP_API: &str = "api-version=2016-03-01";

fn setting_path(name: &str) -> String {
    format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/diagnosticSettings/{name}?{DS_API}")
}

fn settings_list() -> String {
    format!("/subscriptions/{SUB1}/providers/microsoft.insights/diagnosticSettings?{DS_API}")
}

fn profile_path(name: &str) -> String {
    format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/logprofiles/{name}?{LP_API}")
}

fn account(name: &str) -> String {
    format!("/subscriptions/{SUB2}/resourceGroups/central/providers/Microsoft.Storage/storageAccounts/{name}")
}

fn setting_body(storage: &str, categories: &[&str]) -> Value {
    let logs: Vec<Value> = categories
        .iter()
        .map(|c| json!({"category": c, "enabled": true}))
        .collect();
    json!({"properties": {"storageAccountId": storage, "logs": logs}})
}

fn profile_body(storage: &str) -> Value {
    json!({
        "location": "southcentralus",
        "properties": {
            "storageAccountId": storage,
            "locations": ["westus", "southcentralus", "global"],
            "categories": ["Write", "Delete", "Action"],
            "retentionPolicy": {"enabled": false, "days": 100}
        }
    })
}

/// Azure Monitor's own errors are flat `{"code","message"}`, without ARM's envelope.
fn monitor_code(a: &Answer) -> &str {
    assert!(a.body.get("error").is_none(), "{:?}", a.body);
    assert!(a.body["message"].is_string(), "{:?}", a.body);
    a.body["code"].as_str().unwrap_or_default()
}

async fn env() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env
}

#[tokio::test]
async fn diagnostic_setting_lifecycle_has_the_recorded_shapes() {
    let env = env().await;
    let empty = env.arm(Method::GET, &settings_list(), None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, json!({"value": []}));

    let body = setting_body(&account("central01"), &["Administrative", "Security"]);
    let created = env
        .arm(Method::PUT, &setting_path("to-central"), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    assert_eq!(
        created.body["id"],
        format!("subscriptions/{SUB1}/providers/microsoft.insights/diagnosticSettings/to-central")
    );
    assert_eq!(
        created.body["type"],
        "Microsoft.Insights/diagnosticSettings"
    );
    assert_eq!(created.body["location"], "global");
    assert_eq!(
        created.body["properties"]["storageAccountId"],
        account("central01")
    );
    assert_eq!(
        created.body["properties"]["logs"][0],
        json!({"category": "Administrative", "enabled": true, "categoryGroup": null})
    );
    assert!(created.body["properties"].get("workspaceId").is_none());

    let got = env
        .arm(Method::GET, &setting_path("TO-CENTRAL"), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body);
    let listed = env.arm(Method::GET, &settings_list(), None).await;
    assert_eq!(listed.body["value"], json!([created.body]));

    let mut update = setting_body(&account("central01"), &["Administrative"]);
    update["location"] = json!("global");
    update["properties"]["workspaceId"] = json!(format!(
        "/subscriptions/{SUB1}/resourcegroups/rg/providers/microsoft.operationalinsights/workspaces/ws"
    ));
    let updated = env
        .arm(Method::PUT, &setting_path("to-central"), Some(update))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert!(updated.body["properties"]["workspaceId"].is_string());
    assert_eq!(
        updated.body["properties"]["logs"].as_array().unwrap().len(),
        1
    );

    let deleted = env
        .arm(Method::DELETE, &setting_path("to-central"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let again = env
        .arm(Method::DELETE, &setting_path("to-central"), None)
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let gone = env
        .arm(Method::GET, &setting_path("to-central"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(monitor_code(&gone), "ResourceNotFound");
}

#[tokio::test]
async fn category_groups_are_accepted() {
    let env = env().await;
    let body = json!({"properties": {"storageAccountId": account("central01"), "logs": [{"categoryGroup": "allLogs", "enabled": true}]}});
    let a = env.arm(Method::PUT, &setting_path("all"), Some(body)).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        a.body["properties"]["logs"][0],
        json!({"category": null, "enabled": true, "categoryGroup": "allLogs"})
    );
}

#[tokio::test]
async fn diagnostic_settings_are_validated_as_azure_does() {
    let env = env().await;
    let cases = [
        (
            json!({"properties": {"logs": [{"category": "Administrative", "enabled": true}]}}),
            "BadRequest",
        ),
        (
            json!({"properties": {"storageAccountId": "", "workspaceId": "", "logs": []}}),
            "BadRequest",
        ),
        (setting_body("central01", &["Administrative"]), "LinkedInvalidPropertyId"),
        (
            setting_body(
                &format!("/subscriptions/{SUB2}/resourceGroups/central/providers/Microsoft.KeyVault/vaults/kv"),
                &["Administrative"],
            ),
            "LinkedInvalidPropertyId",
        ),
        (setting_body(&account("central01"), &["StorageWrite"]), "BadRequest"),
        (
            json!({"properties": {"storageAccountId": account("central01"), "logs": [{"category": "Policy"}]}}),
            "InvalidRequestContent",
        ),
        (
            json!({"location": "westus", "properties": {"storageAccountId": account("central01"), "logs": []}}),
            "BadRequest",
        ),
        (json!({"location": "global"}), "InvalidRequestContent"),
    ];
    for (body, code) in cases {
        let a = env
            .arm(Method::PUT, &setting_path("bad"), Some(body.clone()))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(monitor_code(&a), code, "{body}");
    }
    let a = env
        .arm(
            Method::PUT,
            &setting_path("bad%3Fname"),
            Some(setting_body(&account("central01"), &["Administrative"])),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let listed = env.arm(Method::GET, &settings_list(), None).await;
    assert_eq!(listed.body, json!({"value": []}));
}

#[tokio::test]
async fn at_most_five_settings_and_no_sink_reuse_per_category() {
    let env = env().await;
    for i in 0..5 {
        let body = setting_body(&account(&format!("sink{i}")), &["Administrative"]);
        let a = env
            .arm(Method::PUT, &setting_path(&format!("s{i}")), Some(body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
    let sixth = env
        .arm(
            Method::PUT,
            &setting_path("s5"),
            Some(setting_body(&account("sink5"), &["Administrative"])),
        )
        .await;
    assert_eq!(sixth.status, StatusCode::BAD_REQUEST);
    assert_eq!(monitor_code(&sixth), "BadRequest");
    // Updating one of the five is still allowed.
    let update = env
        .arm(
            Method::PUT,
            &setting_path("s4"),
            Some(setting_body(&account("sink4"), &["Security"])),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK);
    // The same sink for the same category in another setting is refused;
    // for a different category it is fine.
    let reuse = env
        .arm(
            Method::PUT,
            &setting_path("s3"),
            Some(setting_body(&account("sink4"), &["Security"])),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert!(reuse.body["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    let other = env
        .arm(
            Method::PUT,
            &setting_path("s3"),
            Some(setting_body(&account("sink4"), &["Policy"])),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.body);
}

#[tokio::test]
async fn diagnostic_settings_need_a_known_subscription_and_api_version() {
    let env = env().await;
    let other =
        format!("/subscriptions/{SUB3}/providers/Microsoft.Insights/diagnosticSettings?{DS_API}");
    let a = env.arm(Method::GET, &other, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "SubscriptionNotFound");
    let a = env
        .arm(
            Method::GET,
            &settings_list().replace(DS_API, "api-version=2015-07-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "NoRegisteredProviderFound");
}

#[tokio::test]
async fn log_profile_lifecycle_has_the_recorded_nulls() {
    let env = env().await;
    let list = format!("/subscriptions/{SUB1}/providers/Microsoft.Insights/logprofiles?{LP_API}");
    let empty = env.arm(Method::GET, &list, None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body, json!({"value": []}));

    let created = env
        .arm(
            Method::PUT,
            &profile_path("default"),
            Some(profile_body(&account("central01"))),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let b = &created.body;
    assert_eq!(
        b["id"],
        format!("/subscriptions/{SUB1}/providers/microsoft.insights/logprofiles/default")
    );
    assert_eq!(b["location"], "southcentralus");
    for null in ["type", "kind", "tags", "identity"] {
        assert!(b.get(null).is_some_and(Value::is_null), "{null}");
    }
    assert!(b["properties"]["serviceBusRuleId"].is_null());
    assert_eq!(b["properties"]["storageAccountId"], account("central01"));
    assert_eq!(
        b["properties"]["retentionPolicy"],
        json!({"enabled": false, "days": 100})
    );

    let got = env.arm(Method::GET, &profile_path("default"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body["location"].is_null());
    assert_eq!(got.body["properties"], created.body["properties"]);
    let listed = env.arm(Method::GET, &list, None).await;
    assert_eq!(listed.body["value"], json!([got.body]));

    let mut update = profile_body(&account("central02"));
    update["properties"]["retentionPolicy"]["enabled"] = json!(true);
    let updated = env
        .arm(Method::PUT, &profile_path("default"), Some(update))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(
        updated.body["properties"]["storageAccountId"],
        account("central02")
    );

    let second = env
        .arm(
            Method::PUT,
            &profile_path("another"),
            Some(profile_body(&account("central01"))),
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(monitor_code(&second), "Conflict");

    let deleted = env
        .arm(Method::DELETE, &profile_path("default"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let gone = env.arm(Method::GET, &profile_path("default"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(monitor_code(&gone), "NotFound");
    let now_allowed = env
        .arm(
            Method::PUT,
            &profile_path("another"),
            Some(profile_body(&account("central01"))),
        )
        .await;
    assert_eq!(now_allowed.status, StatusCode::OK);
}

#[tokio::test]
async fn log_profiles_are_validated_as_azure_does() {
    let env = env().await;
    let valid = profile_body(&account("central01"));
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut body = valid.clone();
        f(&mut body);
        body
    };
    let cases = [
        (
            mutate(&|b| {
                b.as_object_mut().unwrap().remove("location");
            }),
            "LocationRequired",
        ),
        (
            mutate(&|b| {
                b["properties"].as_object_mut().unwrap().remove("locations");
            }),
            "InvalidRequestContent",
        ),
        (
            mutate(&|b| b["properties"]["locations"] = json!(["moon"])),
            "BadRequest",
        ),
        (
            mutate(&|b| b["properties"]["categories"] = json!(["Read"])),
            "BadRequest",
        ),
        (
            mutate(&|b| b["properties"]["categories"] = json!([])),
            "BadRequest",
        ),
        (
            mutate(&|b| {
                b["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("retentionPolicy");
            }),
            "InvalidRequestContent",
        ),
        (
            mutate(&|b| b["properties"]["retentionPolicy"]["days"] = json!(400)),
            "BadRequest",
        ),
        (
            mutate(&|b| {
                b["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("storageAccountId");
            }),
            "BadRequest",
        ),
        (
            mutate(&|b| b["properties"]["storageAccountId"] = json!("central01")),
            "LinkedInvalidPropertyId",
        ),
    ];
    for (body, code) in cases {
        let a = env
            .arm(Method::PUT, &profile_path("default"), Some(body.clone()))
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(monitor_code(&a), code, "{body}");
    }
    let a = env
        .arm(
            Method::GET,
            &profile_path("default").replace(LP_API, "api-version=2021-05-01-preview"),
            None,
        )
        .await;
    assert_eq!(a.code(), "NoRegisteredProviderFound");
    // A service bus rule alone is a destination too.
    let bus = mutate(&|b| {
        b["properties"] = json!({
            "serviceBusRuleId": format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/ns/authorizationrules/RootManageSharedAccessKey"),
            "locations": ["global"],
            "categories": ["Write"],
            "retentionPolicy": {"enabled": false, "days": 0}
        })
    });
    let a = env
        .arm(Method::PUT, &profile_path("default"), Some(bus))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert!(a.body["properties"]["storageAccountId"].is_null());
}
