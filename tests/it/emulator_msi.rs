//! User-assigned managed identities over real HTTPS: create (201), update,
//! get, delete, and Azure's validation.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const API: &str = "api-version=2023-01-31";

fn identity_path(rg: &str, name: &str) -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?{API}")
}

async fn env_with_group() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg-cmk", "westeurope").await;
    env
}

fn is_guid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 36 && uuid::Uuid::parse_str(s).is_ok())
}

#[tokio::test]
async fn create_answers_201_then_updates_answer_200() {
    let env = env_with_group().await;
    let path = identity_path("rg-cmk", "id-cmk");
    let created = env
        .arm(Method::PUT, &path, Some(json!({"location": "westeurope"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = format!("/subscriptions/{SUB1}/resourcegroups/rg-cmk/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk");
    assert_eq!(created.body["id"], id);
    assert_eq!(created.header("location"), Some(id.as_str()));
    assert_eq!(created.body["name"], "id-cmk");
    assert_eq!(
        created.body["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    assert_eq!(created.body["location"], "westeurope");
    assert_eq!(created.body["tags"], json!({}));
    let props = &created.body["properties"];
    assert!(is_guid(&props["principalId"]) && is_guid(&props["clientId"]));
    assert_eq!(props["tenantId"], env.emu.connection.tenant_id.as_str());
    assert_eq!(props.as_object().unwrap().len(), 3);

    let got = env.arm(Method::GET, &path, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, created.body);

    let updated = env
        .arm(
            Method::PUT,
            &identity_path("RG-CMK", "ID-CMK"),
            Some(json!({"location": "westeurope", "tags": {"tool": "actlog-cmk"}})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["name"], "id-cmk");
    assert_eq!(updated.body["tags"]["tool"], "actlog-cmk");
    assert_eq!(updated.body["properties"], created.body["properties"]);

    let moved = env
        .arm(Method::PUT, &path, Some(json!({"location": "eastus"})))
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    assert_eq!(moved.code(), "InvalidResourceLocation");
}

#[tokio::test]
async fn the_identity_becomes_a_directory_principal_until_deleted() {
    let env = env_with_group().await;
    let path = identity_path("rg-cmk", "id-dir");
    let created = env
        .arm(Method::PUT, &path, Some(json!({"location": "westeurope"})))
        .await;
    let principal = created.body["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let state = env.admin(Method::GET, "/state", None).await;
    assert_eq!(
        state.body["directory"][&principal]["kind"],
        "ManagedIdentity"
    );

    let deleted = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body, Value::Null);
    let state = env.admin(Method::GET, "/state", None).await;
    assert!(state.body["directory"].get(&principal).is_none());

    let again = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let gone = env.arm(Method::GET, &path, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "ResourceNotFound");
}

#[tokio::test]
async fn names_location_and_tags_are_validated() {
    let env = env_with_group().await;
    let body = Some(json!({"location": "westeurope"}));
    for bad in ["ab", "-starts-with-hyphen", "has.dot", &"x".repeat(129)] {
        let a = env
            .arm(Method::PUT, &identity_path("rg-cmk", bad), body.clone())
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.code(), "InvalidResourceName", "{bad}");
    }
    let path = identity_path("rg-cmk", "id-valid_1");
    let a = env.arm(Method::PUT, &path, Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "LocationRequired");
    let a = env
        .arm(Method::PUT, &path, Some(json!({"location": "atlantis"})))
        .await;
    assert_eq!(a.code(), "LocationNotAvailableForResourceType");
    let a = env
        .arm(
            Method::PUT,
            &path,
            Some(json!({"location": "westeurope", "tags": {"n": 1}})),
        )
        .await;
    assert_eq!(a.code(), "InvalidTagValue");
    let a = env.arm(Method::PUT, &path, None).await;
    assert_eq!(a.code(), "InvalidRequestContent");
    // Nothing was created by the failed calls.
    let a = env.arm(Method::GET, &path, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_group_and_unknown_api_version_are_refused() {
    let env = env_with_group().await;
    let a = env
        .arm(
            Method::PUT,
            &identity_path("rg-none", "id-cmk"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "ResourceGroupNotFound");
    let path = identity_path("rg-cmk", "id-cmk").replace(API, "api-version=2015-08-31-preview");
    let a = env.arm(Method::GET, &path, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "NoRegisteredProviderFound");
}
