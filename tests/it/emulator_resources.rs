//! ARM's resource index (`GET /subscriptions/{id}/resources`, `Resources_List`)
//! over real HTTPS: finding a key vault's resource id from its name, type and
//! group filters, paging by `$top` and `nextLink`, and Azure's refusals.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const VAULTS: &str = "Microsoft.KeyVault/vaults";

/// `/subscriptions/{sub}/resources?...` with the options URL-encoded.
fn list_path(sub: &str, options: &[(&str, &str)]) -> String {
    let mut query = vec![("api-version", "2024-03-01")];
    query.extend_from_slice(options);
    format!(
        "/subscriptions/{sub}/resources?{}",
        serde_urlencoded::to_string(&query).unwrap()
    )
}

async fn list(env: &Env, sub: &str, options: &[(&str, &str)]) -> Answer {
    env.arm(Method::GET, &list_path(sub, options), None).await
}

fn names(a: &Answer) -> Vec<String> {
    a.body["value"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn create_vault(env: &Env, sub: &str, rg: &str, name: &str) -> Value {
    let body = json!({
        "location": "westeurope",
        "tags": {"owner": "audit"},
        "properties": {
            "tenantId": env.emu.connection.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
        }
    });
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}?api-version=2023-07-01"),
            Some(body),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body
}

async fn create_account(env: &Env, rg: &str, name: &str) {
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}?api-version=2023-05-01"),
            Some(json!({"location": "northeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{:?}", a.body);
}

async fn create_identity(env: &Env, rg: &str, name: &str) {
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

/// Two vaults and a storage account in three groups of SUB1, an identity,
/// and a vault in SUB2 that SUB1's list must not show.
async fn estate() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.add_subscription(SUB2, "two").await;
    for rg in ["rg-keys", "rg-more-keys", "rg-logs"] {
        env.put_resource_group(SUB1, rg, "westeurope").await;
    }
    env.put_resource_group(SUB2, "rg-other", "westeurope").await;
    create_vault(&env, SUB1, "rg-keys", "kv-audit-one").await;
    create_vault(&env, SUB1, "rg-more-keys", "kv-audit-two").await;
    create_vault(&env, SUB2, "rg-other", "kv-elsewhere").await;
    create_account(&env, "rg-logs", "stactlogs0001").await;
    create_identity(&env, "rg-logs", "uami-audit").await;
    env
}

#[tokio::test]
async fn a_vault_is_found_by_type_and_name_ignoring_case() {
    let env = estate().await;
    let filter = format!("resourceType eq '{VAULTS}' and name eq 'KV-Audit-ONE'");
    let a = list(&env, SUB1, &[("$filter", &filter)]).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert!(a.body.get("nextLink").is_none());
    let items = a.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", a.body);
    let vault = &items[0];
    assert_eq!(
        vault["id"],
        format!("/subscriptions/{SUB1}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-audit-one")
    );
    assert_eq!(vault["name"], "kv-audit-one");
    assert_eq!(vault["type"], VAULTS);
    assert_eq!(vault["location"], "westeurope");
    assert_eq!(vault["tags"], json!({"owner": "audit"}));
    // GenericResourceExpanded is closed: nothing beyond what the spec defines.
    let fields: Vec<&String> = vault.as_object().unwrap().keys().collect();
    assert!(
        fields
            .iter()
            .all(|f| ["id", "name", "type", "location", "tags", "kind"].contains(&f.as_str())),
        "{fields:?}"
    );

    // The property names and the type are read ignoring case too; a name that is not there lists nothing.
    let a = list(
        &env,
        SUB1,
        &[(
            "$filter",
            "resourcetype eq 'microsoft.keyvault/VAULTS' and name eq 'kv-audit-two'",
        )],
    )
    .await;
    assert_eq!(names(&a), ["kv-audit-two"]);
    let a = list(&env, SUB1, &[("$filter", "name eq 'kv-elsewhere'")]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["value"], json!([]));
}

#[tokio::test]
async fn type_group_and_location_filters_select_what_they_name() {
    let env = estate().await;
    let filter = format!("resourceType eq '{VAULTS}'");
    let a = list(&env, SUB1, &[("$filter", &filter)]).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(names(&a), ["kv-audit-one", "kv-audit-two"]);

    let a = list(&env, SUB1, &[("$filter", "resourceGroup eq 'RG-LOGS'")]).await;
    assert_eq!(names(&a), ["uami-audit", "stactlogs0001"]);
    let account = a.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "stactlogs0001")
        .unwrap();
    assert_eq!(account["kind"], "StorageV2");
    assert_eq!(account["type"], "Microsoft.Storage/storageAccounts");
    assert!(account.get("tags").is_none());
    let identity = &a.body["value"][0];
    assert_eq!(
        identity["id"],
        format!("/subscriptions/{SUB1}/resourceGroups/rg-logs/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-audit")
    );

    let a = list(&env, SUB1, &[("$filter", "location eq 'northeurope'")]).await;
    assert_eq!(names(&a), ["stactlogs0001"]);

    // Without a filter: everything in the subscription, nothing from another one.
    let a = list(&env, SUB1, &[]).await;
    assert_eq!(a.body["value"].as_array().unwrap().len(), 4, "{:?}", a.body);
    assert!(!names(&a).contains(&"kv-elsewhere".to_string()));
    let a = list(&env, SUB2, &[]).await;
    assert_eq!(names(&a), ["kv-elsewhere"]);

    // $expand adds the documented members.
    let a = list(
        &env,
        SUB1,
        &[
            ("$filter", "name eq 'kv-audit-one'"),
            ("$expand", "provisioningState,createdTime"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["value"][0]["provisioningState"], "Succeeded");
    assert!(a.body["value"][0]["createdTime"].is_string());
    assert!(a.body["value"][0].get("changedTime").is_none());
}

#[tokio::test]
async fn pages_follow_top_and_next_link() {
    let env = estate().await;
    let filter = format!("resourceType eq '{VAULTS}'");
    let first = list(&env, SUB1, &[("$filter", &filter), ("$top", "1")]).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(names(&first), ["kv-audit-one"]);
    let next = first.body["nextLink"]
        .as_str()
        .expect("nextLink")
        .to_string();
    assert!(next.starts_with(env.endpoint()), "{next}");
    let second = env.arm(Method::GET, &next, None).await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    // The filter travels with the link: the storage account and identity never show up.
    assert_eq!(names(&second), ["kv-audit-two"]);
    assert!(second.body.get("nextLink").is_none(), "{:?}", second.body);

    // Without a filter every resource is reached, one per page.
    let mut seen = Vec::new();
    let mut page = list(&env, SUB1, &[("$top", "1")]).await;
    loop {
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        assert_eq!(page.body["value"].as_array().unwrap().len(), 1);
        seen.extend(names(&page));
        let Some(next) = page.body["nextLink"].as_str().map(str::to_string) else {
            break;
        };
        page = env.arm(Method::GET, &next, None).await;
    }
    assert_eq!(seen.len(), 4, "{seen:?}");

    // The page-size setting caps pages too.
    env.patch_settings(json!({"resourcePageSize": 3})).await;
    let a = list(&env, SUB1, &[]).await;
    assert_eq!(a.body["value"].as_array().unwrap().len(), 3);
    assert!(a.body["nextLink"].is_string());
}

#[tokio::test]
async fn a_soft_deleted_vault_is_not_listed() {
    let env = estate().await;
    let a = env
        .arm(
            Method::DELETE,
            &format!("/subscriptions/{SUB1}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-audit-one?api-version=2023-07-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let filter = format!("resourceType eq '{VAULTS}'");
    let a = list(&env, SUB1, &[("$filter", &filter)]).await;
    assert_eq!(names(&a), ["kv-audit-two"]);
    let a = list(&env, SUB1, &[("$filter", "name eq 'kv-audit-one'")]).await;
    assert_eq!(a.body["value"], json!([]));
}

#[tokio::test]
async fn unsupported_queries_are_refused_with_azures_codes() {
    let env = estate().await;
    for filter in [
        "substringof('kv', name)",
        "tagName eq 'owner' and tagValue eq 'audit'",
        "name ne 'kv-audit-one'",
        "name eq 'kv-audit-one' or name eq 'kv-audit-two'",
        "managedBy eq 'someone'",
        "name eq 'unterminated",
    ] {
        let a = list(&env, SUB1, &[("$filter", filter)]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{filter}: {:?}", a.body);
        assert_eq!(a.code(), "InvalidFilterInQueryString", "{filter}");
        assert_eq!(
            a.body["error"]["message"],
            format!("Invalid $filter '{filter}' specified in the query string.")
        );
    }
    for top in ["0", "1001", "-1", "ten"] {
        let a = list(&env, SUB1, &[("$top", top)]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{top}");
        assert_eq!(a.code(), "InvalidTopInQueryString", "{top}");
    }

    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resources?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "InvalidApiVersionParameter");
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resources"),
            None,
        )
        .await;
    assert_eq!(a.code(), "MissingApiVersionParameter");

    let a = list(&env, SUB3, &[("$filter", "name eq 'kv-audit-one'")]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "SubscriptionNotFound");
}
