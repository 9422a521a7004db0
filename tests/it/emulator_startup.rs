//! The calls Azure CLI and Microsoft's SDKs make at start-up, which the tool
//! itself never sends (issue 18): `GET /tenants`, a subscription's locations,
//! its resource groups (paged), and the built-in role definitions by id and by
//! `$filter=roleName eq '…'` (`az role assignment create --role NAME`).

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::*;

const SUBS_API: &str = "api-version=2022-12-01";
const ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

async fn env_with_subscription() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env
}

#[tokio::test]
async fn tenants_list_the_emulators_home_tenant() {
    let env = env_with_subscription().await;
    let a = env
        .arm(Method::GET, &format!("/tenants?{SUBS_API}"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let tenant = &env.emu.connection.tenant_id;
    let value = a.body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["id"], format!("/tenants/{tenant}"));
    assert_eq!(value[0]["tenantId"], tenant.as_str());
    assert_eq!(value[0]["tenantCategory"], "Home");
    assert!(a.body.get("nextLink").is_none());
    let wrong = env
        .arm(Method::GET, "/tenants?api-version=2016-06-01", None)
        .await;
    assert_eq!(wrong.code(), "InvalidApiVersionParameter");
}

#[tokio::test]
async fn locations_are_the_emulators_regions_with_display_names() {
    let env = env_with_subscription().await;
    let a = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/locations?{SUBS_API}"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let value = a.body["value"].as_array().unwrap();
    let west = value
        .iter()
        .find(|l| l["name"] == "westeurope")
        .expect("westeurope");
    assert_eq!(
        west["id"],
        format!("/subscriptions/{SUB1}/locations/westeurope")
    );
    assert_eq!(west["displayName"], "West Europe");
    assert_eq!(west["regionalDisplayName"], "(Europe) West Europe");
    assert_eq!(west["type"], "Region");
    assert_eq!(value.len(), 41);
    let missing = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB2}/locations?{SUBS_API}"),
            None,
        )
        .await;
    assert_eq!(missing.code(), "SubscriptionNotFound");
}

#[tokio::test]
async fn resource_groups_are_listed_in_pages() {
    let env = env_with_subscription().await;
    for rg in ["rg-c", "rg-a", "RG-b"] {
        env.put_resource_group(SUB1, rg, "westeurope").await;
    }
    env.add_subscription(SUB2, "two").await;
    env.put_resource_group(SUB2, "rg-other", "westeurope").await;
    let list = format!("/subscriptions/{SUB1}/resourcegroups?api-version=2024-11-01");
    let all = env.arm(Method::GET, &list, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let names = |body: &Value| -> Vec<String> {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&all.body), ["rg-a", "RG-b", "rg-c"]);
    assert!(all.body.get("nextLink").is_none());
    assert_eq!(
        all.body["value"][0]["id"],
        format!("/subscriptions/{SUB1}/resourceGroups/rg-a")
    );
    assert_eq!(
        all.body["value"][0]["properties"]["provisioningState"],
        "Succeeded"
    );

    // Two per page: the next link carries the rest, the last page has none.
    let first = env.arm(Method::GET, &format!("{list}&$top=2"), None).await;
    assert_eq!(names(&first.body), ["rg-a", "RG-b"]);
    let next = first.body["nextLink"].as_str().expect("nextLink");
    let next = next.strip_prefix(env.endpoint()).expect("on the emulator");
    let second = env.arm(Method::GET, next, None).await;
    assert_eq!(names(&second.body), ["rg-c"]);
    assert!(second.body.get("nextLink").is_none());

    let bad_top = env.arm(Method::GET, &format!("{list}&$top=0"), None).await;
    assert_eq!(bad_top.code(), "InvalidTopInQueryString");
    let filtered = env
        .arm(
            Method::GET,
            &format!("{list}&$filter=tagName%20eq%20'env'"),
            None,
        )
        .await;
    assert_eq!(filtered.code(), "InvalidFilterInQueryString");
}

#[tokio::test]
async fn role_definitions_are_read_by_id_and_by_name() {
    let env = env_with_subscription().await;
    env.put_resource_group(SUB1, "rg", "westeurope").await;
    for api in ["2022-04-01", "2022-05-01-preview"] {
        let by_id = env
            .arm(
                Method::GET,
                &format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{ENCRYPTION_USER}?api-version={api}"),
                None,
            )
            .await;
        assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
        assert_eq!(
            by_id.body["id"],
            format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{ENCRYPTION_USER}")
        );
        let props = &by_id.body["properties"];
        assert_eq!(
            props["roleName"],
            "Key Vault Crypto Service Encryption User"
        );
        assert_eq!(props["type"], "BuiltInRole");
        let data: Vec<&str> = props["permissions"][0]["dataActions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(data.contains(&"Microsoft.KeyVault/vaults/keys/wrap/action"));

        // What az sends for --role NAME, at a resource group scope.
        let by_name = env
            .arm(
                Method::GET,
                &format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'Key%20Vault%20Crypto%20Service%20Encryption%20User'&api-version={api}"),
                None,
            )
            .await;
        assert_eq!(by_name.status, StatusCode::OK, "{}", by_name.body);
        let value = by_name.body["value"].as_array().unwrap();
        assert_eq!(value.len(), 1);
        assert_eq!(value[0]["name"], ENCRYPTION_USER);
    }
    let all = env
        .arm(
            Method::GET,
            "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01",
            None,
        )
        .await;
    let all = all.body["value"].as_array().unwrap();
    assert!(all.len() >= 10);
    assert!(all[0]["id"]
        .as_str()
        .unwrap()
        .starts_with("/providers/Microsoft.Authorization/roleDefinitions/"));
    let none = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'No%20Such%20Role'&api-version=2022-04-01"),
            None,
        )
        .await;
    assert_eq!(none.body["value"].as_array().unwrap().len(), 0);
    let unknown = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000?api-version=2022-04-01"),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "RoleDefinitionDoesNotExist");
    let no_group = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourceGroups/nope/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01"),
            None,
        )
        .await;
    assert_eq!(no_group.code(), "ResourceGroupNotFound");
}
