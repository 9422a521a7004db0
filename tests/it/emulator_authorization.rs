//! Role assignments over real HTTPS: create (201) with the recorded nulls,
//! get, list with filters, delete, and Azure's checks (GUID names, built-in
//! roles, directory lookup with its replication delay, duplicates).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const API: &str = "api-version=2022-04-01";
const CRYPTO_SERVICE: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

fn rg_scope() -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/rg-kv")
}

fn vault_scope() -> String {
    format!("{}/providers/Microsoft.KeyVault/vaults/kv-cmk", rg_scope())
}

fn assignment(scope: &str, name: &str) -> String {
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?{API}")
}

fn list_at(scope: &str, filter: Option<&str>) -> String {
    let mut path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments?{API}");
    if let Some(filter) = filter {
        path.push_str("&$filter=");
        path.push_str(&filter.replace(' ', "%20").replace('\'', "%27"));
    }
    path
}

fn role(guid: &str) -> String {
    format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
}

fn body(role_id: &str, principal: &str, principal_type: Option<&str>) -> Value {
    let mut props = json!({"roleDefinitionId": role_id, "principalId": principal});
    if let Some(t) = principal_type {
        props["principalType"] = json!(t);
    }
    json!({ "properties": props })
}

fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn env() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, "rg-kv", "westeurope").await;
    env
}

/// A new user-assigned identity's principal id.
async fn new_identity(env: &Env, name: &str) -> String {
    let a = env
        .arm(
            Method::PUT,
            &format!("{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31", rg_scope()),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn create_get_list_delete_with_the_recorded_shapes() {
    let env = env().await;
    let principal = new_identity(&env, "id-cmk").await;
    let name = guid();
    let path = assignment(&vault_scope(), &name);
    let created = env
        .arm(
            Method::PUT,
            &path,
            Some(body(
                &role(CRYPTO_SERVICE),
                &principal,
                Some("ServicePrincipal"),
            )),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let p = &created.body["properties"];
    assert_eq!(p["scope"], vault_scope());
    assert_eq!(p["principalType"], "ServicePrincipal");
    assert_eq!(p["roleDefinitionId"], role(CRYPTO_SERVICE));
    for null in [
        "condition",
        "conditionVersion",
        "createdBy",
        "delegatedManagedIdentityResourceId",
        "description",
    ] {
        assert!(p.get(null).is_some_and(Value::is_null), "{null}");
    }
    assert_eq!(p["updatedBy"], env.emu.connection.object_id.as_str());
    let created_on = p["createdOn"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_on).is_ok());
    assert_eq!(
        created.body["id"],
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
            vault_scope()
        )
    );
    assert_eq!(
        created.body["type"],
        "Microsoft.Authorization/roleAssignments"
    );
    assert_eq!(created.body["name"], name.as_str());

    let got = env
        .arm(
            Method::GET,
            &path.to_uppercase().replace("API-VERSION", "api-version"),
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK, "{:?}", got.body);
    assert_eq!(
        got.body["properties"]["createdBy"],
        env.emu.connection.object_id.as_str()
    );

    // Listing: below the subscription, at the vault, and above the vault's key.
    let sub_scope = format!("/subscriptions/{SUB1}");
    let at_sub = env.arm(Method::GET, &list_at(&sub_scope, None), None).await;
    assert_eq!(at_sub.status, StatusCode::OK);
    assert_eq!(at_sub.body["value"].as_array().unwrap().len(), 1);
    let at_scope_only = env
        .arm(Method::GET, &list_at(&sub_scope, Some("atScope()")), None)
        .await;
    assert_eq!(at_scope_only.body["value"], json!([]));
    let key_scope = format!("{}/keys/cmk", vault_scope());
    let above = env
        .arm(Method::GET, &list_at(&key_scope, Some("atScope()")), None)
        .await;
    assert_eq!(above.body["value"][0]["name"], name.as_str());
    let mine = env
        .arm(
            Method::GET,
            &list_at(&sub_scope, Some(&format!("principalId eq '{principal}'"))),
            None,
        )
        .await;
    assert_eq!(mine.body["value"].as_array().unwrap().len(), 1);
    let others = env
        .arm(
            Method::GET,
            &list_at(&sub_scope, Some(&format!("assignedTo('{}')", guid()))),
            None,
        )
        .await;
    assert_eq!(others.body["value"], json!([]));

    let deleted = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["name"], name.as_str());
    let again = env.arm(Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let gone = env.arm(Method::GET, &path, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "RoleAssignmentNotFound");
}

#[tokio::test]
async fn names_roles_and_principals_are_validated() {
    let env = env().await;
    let principal = new_identity(&env, "id-val").await;
    let scope = rg_scope();
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, "not-a-guid"),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "InvalidRoleAssignmentId");

    for role_id in [
        role("00000000-0000-0000-0000-000000000001"),
        CRYPTO_SERVICE.to_string(),
        format!("{scope}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE}"),
    ] {
        let a = env
            .arm(
                Method::PUT,
                &assignment(&scope, &guid()),
                Some(body(&role_id, &principal, None)),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{role_id}");
        assert_eq!(a.code(), "RoleDefinitionDoesNotExist", "{role_id}");
    }
    // The tenant-level form of a built-in role id is accepted.
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(
                &format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                &principal,
                None,
            )),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["properties"]["principalType"], "ServicePrincipal");

    let unknown = "33333333-0000-0000-0000-000000000099";
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(&role(READER), unknown, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "PrincipalNotFound");
    let expected = format!(
        "Principal 33333333000000000000000000000099 does not exist in the directory {}. Check that you have the correct principal ID.",
        env.emu.connection.tenant_id
    );
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.ends_with("or Group.  See https://aka.ms/docs-principaltype"));

    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(&role(READER), "someone", None)),
        )
        .await;
    assert_eq!(a.code(), "InvalidPrincipalId");
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(&role(READER), &principal, Some("User"))),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "UnmatchedPrincipalType");
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(json!({"properties": {"principalId": principal}})),
        )
        .await;
    assert_eq!(a.code(), "InvalidRequestContent");
}

#[tokio::test]
async fn a_new_principal_needs_principal_type_until_replicated() {
    let env = env().await;
    env.patch_settings(json!({"principalReplicationMs": 60_000}))
        .await;
    let principal = new_identity(&env, "id-fresh").await;
    let scope = vault_scope();
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(&role(CRYPTO_SERVICE), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "PrincipalNotFound");
    let a = env
        .arm(
            Method::PUT,
            &assignment(&scope, &guid()),
            Some(body(
                &role(CRYPTO_SERVICE),
                &principal,
                Some("ServicePrincipal"),
            )),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
}

#[tokio::test]
async fn duplicates_and_updates_follow_azure() {
    let env = env().await;
    let principal = new_identity(&env, "id-dup").await;
    let scope = vault_scope();
    let name = guid();
    let first = env
        .arm(
            Method::PUT,
            &assignment(&scope, &name),
            Some(body(&role(CRYPTO_SERVICE), &principal, None)),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let dup = env
        .arm(
            Method::PUT,
            &assignment(&scope.to_lowercase(), &guid()),
            Some(body(
                &format!("/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE}"),
                &principal,
                None,
            )),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "RoleAssignmentExists");

    let other_role = env
        .arm(
            Method::PUT,
            &assignment(&scope, &name),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(other_role.status, StatusCode::CONFLICT);
    assert_eq!(other_role.code(), "RoleAssignmentUpdateNotPermitted");

    let mut described = body(&role(CRYPTO_SERVICE), &principal, None);
    described["properties"]["description"] = json!("CMK for activity logs");
    described["properties"]["condition"] =
        json!("@Resource[Microsoft.KeyVault/vaults/keys:KeyName] StringEquals 'cmk'");
    let updated = env
        .arm(Method::PUT, &assignment(&scope, &name), Some(described))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(
        updated.body["properties"]["description"],
        "CMK for activity logs"
    );
    assert_eq!(updated.body["properties"]["conditionVersion"], "2.0");
    assert_eq!(
        updated.body["properties"]["createdOn"],
        first.body["properties"]["createdOn"]
    );

    let mut bad_version = body(&role(CRYPTO_SERVICE), &principal, None);
    bad_version["properties"]["condition"] = json!("true");
    bad_version["properties"]["conditionVersion"] = json!("1.0");
    let a = env
        .arm(Method::PUT, &assignment(&scope, &name), Some(bad_version))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "InvalidConditionVersion");
}

#[tokio::test]
async fn scopes_subscriptions_filters_and_api_versions_are_checked() {
    let env = env().await;
    let principal = env.emu.connection.object_id.clone();
    let missing_rg = format!("/subscriptions/{SUB1}/resourceGroups/rg-none");
    let a = env
        .arm(
            Method::PUT,
            &assignment(&missing_rg, &guid()),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "ResourceGroupNotFound");
    let a = env
        .arm(Method::GET, &list_at(&missing_rg, None), None)
        .await;
    assert_eq!(a.code(), "ResourceGroupNotFound");

    let unknown_sub = format!("/subscriptions/{SUB3}");
    let a = env
        .arm(
            Method::PUT,
            &assignment(&unknown_sub, &guid()),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "SubscriptionNotFound");

    let a = env
        .arm(
            Method::PUT,
            &assignment(
                "/providers/Microsoft.Management/managementGroups/mg",
                &guid(),
            ),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "MissingSubscription");

    let sub_scope = format!("/subscriptions/{SUB1}");
    let a = env
        .arm(
            Method::GET,
            &list_at(&sub_scope, Some("roleDefinitionId eq 'x'")),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "UnsupportedQuery");

    let a = env
        .arm(
            Method::GET,
            &list_at(&sub_scope, None).replace(API, "api-version=2015-07-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "NoRegisteredProviderFound");

    // The caller's own service principal is in the directory; a subscription
    // scope assignment works and shows up in the list.
    let a = env
        .arm(
            Method::PUT,
            &assignment(&sub_scope, &guid()),
            Some(body(&role(READER), &principal, None)),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let listed = env.arm(Method::GET, &list_at(&sub_scope, None), None).await;
    assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
}
