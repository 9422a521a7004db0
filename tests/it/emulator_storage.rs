//! The storage provider over real HTTPS: the create LRO, reads and lists,
//! name rules, identity PATCHes, and every customer-managed-key path
//! (errors and successes) against real vaults, keys and identities.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const API: &str = "api-version=2023-05-01";

fn account_path(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}?{API}")
}

fn new_account() -> Value {
    json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})
}

async fn env_with_groups() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.add_subscription(SUB2, "two").await;
    env.put_resource_group(SUB1, "rg1", "westeurope").await;
    env.put_resource_group(SUB1, "rg2", "westeurope").await;
    env.put_resource_group(SUB2, "rg1", "westeurope").await;
    env
}

/// Creates an account and polls its `Location` until the final 200.
async fn create(env: &Env, sub: &str, rg: &str, name: &str, body: Value) -> Answer {
    let a = env
        .arm(Method::PUT, &account_path(sub, rg, name), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{:?}", a.body);
    let mut location = a.header("location").expect("Location").to_string();
    for _ in 0..50 {
        let poll = env.arm(Method::GET, &location, None).await;
        if poll.status != StatusCode::ACCEPTED {
            return poll;
        }
        location = poll.header("location").expect("new Location").to_string();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("create of {name} never finished");
}

async fn patch(env: &Env, name: &str, body: Value) -> Answer {
    env.arm(Method::PATCH, &account_path(SUB1, "rg1", name), Some(body))
        .await
}

async fn get(env: &Env, name: &str) -> Answer {
    env.arm(Method::GET, &account_path(SUB1, "rg1", name), None)
        .await
}

/// A user-assigned identity in SUB1/rg1: (resource id, principal id).
async fn identity(env: &Env, name: &str) -> (String, String) {
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2023-01-31"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    (
        a.body["id"].as_str().unwrap().to_string(),
        a.body["properties"]["principalId"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// A vault (with or without purge protection) holding an RSA key `k`; returns its URI.
async fn vault_with_key(env: &Env, vault: &str, purge_protection: bool) -> String {
    let mut properties = json!({
        "tenantId": env.emu.connection.tenant_id,
        "sku": {"family": "A", "name": "standard"},
        "accessPolicies": [],
        "enableSoftDelete": true,
    });
    if purge_protection {
        properties["enablePurgeProtection"] = json!(true);
    }
    let base = format!(
        "/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/{vault}"
    );
    let a = env
        .arm(
            Method::PUT,
            &format!("{base}?api-version=2023-07-01"),
            Some(json!({"location": "westeurope", "properties": properties})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    let k = env
        .arm(
            Method::PUT,
            &format!("{base}/keys/k?api-version=2023-07-01"),
            Some(json!({"properties": {"kty": "RSA", "keySize": 3072}})),
        )
        .await;
    assert!(k.status.is_success(), "{:?}", k.body);
    format!("https://{vault}.vault.azure.net/")
}

async fn grant(env: &Env, vault: &str, principal: &str) {
    let a = env
        .arm(
            Method::PUT,
            &format!("/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/{vault}/accessPolicies/add?api-version=2023-07-01"),
            Some(json!({"properties": {"accessPolicies": [{
                "tenantId": env.emu.connection.tenant_id,
                "objectId": principal,
                "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}
            }]}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

fn cmk(uri: &str, uai: Option<&str>) -> Value {
    let mut encryption = json!({
        "keySource": "Microsoft.Keyvault",
        "keyvaultproperties": {"keyvaulturi": uri, "keyname": "k"},
    });
    if let Some(uai) = uai {
        encryption["identity"] = json!({"userAssignedIdentity": uai});
    }
    encryption
}

#[tokio::test]
async fn create_is_a_long_running_operation_polled_through_location() {
    let env = env_with_groups().await;
    env.patch_settings(json!({"storageProvisioningMs": 600}))
        .await;
    let put = env
        .arm(
            Method::PUT,
            &account_path(SUB1, "rg1", "logs1"),
            Some(new_account()),
        )
        .await;
    assert_eq!(put.status, StatusCode::ACCEPTED);
    assert_eq!(put.body, Value::Null);
    let location = put.header("location").unwrap().to_string();
    assert!(location.starts_with(env.endpoint()));
    assert!(location.contains(&format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Storage/locations/westeurope/asyncoperations/"
    )));
    assert!(location.contains("monitor=true&api-version=2023-05-01"));

    let during = get(&env, "logs1").await;
    assert_eq!(during.status, StatusCode::OK);
    assert_eq!(during.body["properties"]["provisioningState"], "Creating");
    let early = patch(&env, "logs1", json!({"tags": {"a": "b"}})).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "StorageAccountIsNotProvisioned");
    let poll = env.arm(Method::GET, &location, None).await;
    assert_eq!(poll.status, StatusCode::ACCEPTED);
    assert!(poll.header("location").unwrap().contains("asyncoperations"));

    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let done = env.arm(Method::GET, &location, None).await;
    assert_eq!(done.status, StatusCode::OK);
    let body = &done.body;
    assert_eq!(body["name"], "logs1");
    assert_eq!(body["type"], "Microsoft.Storage/storageAccounts");
    assert_eq!(
        body["sku"],
        json!({"name": "Standard_LRS", "tier": "Standard"})
    );
    assert!(body.get("identity").is_none());
    assert_eq!(body["tags"], json!({}));
    let props = &body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["encryption"]["keySource"], "Microsoft.Storage");
    assert_eq!(
        props["encryption"]["services"]["blob"]["keyType"],
        "Account"
    );
    assert_eq!(
        props["primaryEndpoints"]["blob"],
        "https://logs1.blob.core.windows.net/"
    );

    // A PUT on the existing account in the same place answers synchronously.
    let again = env
        .arm(
            Method::PUT,
            &account_path(SUB1, "rg1", "logs1"),
            Some(new_account()),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.body["properties"]["creationTime"],
        props["creationTime"]
    );
    let moved = env
        .arm(
            Method::PUT,
            &account_path(SUB1, "rg1", "logs1"),
            Some(
                json!({"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}),
            ),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    assert_eq!(moved.code(), "InvalidResourceLocation");
}

#[tokio::test]
async fn accounts_are_read_listed_and_deleted() {
    let env = env_with_groups().await;
    for (sub, rg, name) in [
        (SUB1, "rg1", "logsa"),
        (SUB1, "rg2", "logsb"),
        (SUB2, "rg1", "logsc"),
    ] {
        assert_eq!(
            create(&env, sub, rg, name, new_account()).await.status,
            StatusCode::OK
        );
    }
    let all = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/providers/Microsoft.Storage/storageAccounts?{API}"),
            None,
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);
    let names: Vec<&str> = all.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["logsa", "logsb"]);
    let by_group = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}/resourceGroups/RG2/providers/Microsoft.Storage/storageAccounts?{API}"),
            None,
        )
        .await;
    assert_eq!(by_group.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(by_group.body["value"][0]["name"], "logsb");

    let got = env
        .arm(
            Method::GET,
            &account_path(SUB1, "RG1", "logsa").replace("storageAccounts", "storageaccounts"),
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.body["id"],
        format!("/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/logsa")
    );

    let missing = get(&env, "nosuch").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "ResourceNotFound");
    let no_group = env
        .arm(Method::GET, &account_path(SUB1, "rg9", "logsa"), None)
        .await;
    assert_eq!(no_group.code(), "ResourceGroupNotFound");

    let deleted = env
        .arm(Method::DELETE, &account_path(SUB1, "rg1", "logsa"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(get(&env, "logsa").await.code(), "ResourceNotFound");
    let again = env
        .arm(Method::DELETE, &account_path(SUB1, "rg1", "logsa"), None)
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn names_are_validated_and_globally_unique() {
    let env = env_with_groups().await;
    for bad in ["ab", "Logs1", "logs-1", "abcdefghijklmnopqrstuvwxy"] {
        let a = env
            .arm(
                Method::PUT,
                &account_path(SUB1, "rg1", bad),
                Some(new_account()),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.code(), "AccountNameInvalid", "{bad}");
    }
    create(&env, SUB1, "rg1", "central", new_account()).await;
    let other_sub = env
        .arm(
            Method::PUT,
            &account_path(SUB2, "rg1", "central"),
            Some(new_account()),
        )
        .await;
    assert_eq!(other_sub.status, StatusCode::CONFLICT);
    assert_eq!(other_sub.code(), "StorageAccountAlreadyTaken");
    let other_group = env
        .arm(
            Method::PUT,
            &account_path(SUB1, "rg2", "central"),
            Some(new_account()),
        )
        .await;
    assert_eq!(other_group.status, StatusCode::CONFLICT);
    assert_eq!(other_group.code(), "StorageAccountAlreadyExists");

    let check_path =
        format!("/subscriptions/{SUB2}/providers/Microsoft.Storage/checkNameAvailability?{API}");
    let check = |name: &str| {
        env.arm(
            Method::POST,
            &check_path,
            Some(json!({"name": name, "type": "Microsoft.Storage/storageAccounts"})),
        )
    };
    assert_eq!(check("freename").await.body, json!({"nameAvailable": true}));
    let taken = check("central").await;
    assert_eq!(taken.body["nameAvailable"], false);
    assert_eq!(taken.body["reason"], "AlreadyExists");
    assert_eq!(check("Bad-Name").await.body["reason"], "AccountNameInvalid");
}

#[tokio::test]
async fn create_bodies_are_checked_like_azure() {
    let env = env_with_groups().await;
    let path = account_path(SUB1, "rg1", "shapes");
    let put = |body: Value| env.arm(Method::PUT, &path, Some(body));
    let cases = [
        (
            json!({"location": "westeurope", "kind": "StorageV2"}),
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({"location": "westeurope", "sku": {"name": "Standard_LRS"}}),
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({"location": "westeurope", "kind": "StorageV3", "sku": {"name": "Standard_LRS"}}),
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Gold"}}),
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({"location": "westeurope", "kind": "BlockBlobStorage", "sku": {"name": "Standard_LRS"}}),
            "InvalidValuesForRequestParameters",
        ),
        (
            json!({"kind": "StorageV2", "sku": {"name": "Standard_LRS"}}),
            "LocationRequired",
        ),
        (
            json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "colour": "red"}),
            "InvalidRequestContent",
        ),
        (
            json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"encryption": {"keySource": "Microsoft.Vault"}}}),
            "InvalidValuesForRequestParameters",
        ),
    ];
    for (body, code) in cases {
        let a = put(body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), code, "{body}");
    }
    let old_api = env
        .arm(
            Method::GET,
            &account_path(SUB1, "rg1", "shapes").replace("2023-05-01", "2019-01-01"),
            None,
        )
        .await;
    assert_eq!(old_api.code(), "NoRegisteredProviderFound");
    let created = create(&env, SUB1, "rg1", "shapes", new_account()).await;
    assert_eq!(created.status, StatusCode::OK);
    let unknown = patch(&env, "shapes", json!({"location": "westeurope"})).await;
    assert_eq!(unknown.code(), "InvalidRequestContent");
    let create_only = patch(
        &env,
        "shapes",
        json!({"properties": {"isHnsEnabled": true}}),
    )
    .await;
    assert_eq!(create_only.code(), "InvalidRequestContent");
    let tier = patch(
        &env,
        "shapes",
        json!({"properties": {"accessTier": "Cool"}}),
    )
    .await;
    assert_eq!(tier.status, StatusCode::OK);
    assert_eq!(tier.body["properties"]["accessTier"], "Cool");
    assert_eq!(
        get(&env, "shapes").await.body["properties"]["accessTier"],
        "Cool"
    );
}

#[tokio::test]
async fn identity_patches_follow_azure() {
    let env = env_with_groups().await;
    create(&env, SUB1, "rg1", "ids", new_account()).await;
    let (uai, uai_principal) = identity(&env, "uai1").await;
    let (uai2, _) = identity(&env, "uai2").await;

    let system = patch(&env, "ids", json!({"identity": {"type": "SystemAssigned"}})).await;
    assert_eq!(system.status, StatusCode::OK);
    let principal = system.body["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        system.body["identity"]["tenantId"],
        env.emu.connection.tenant_id
    );
    assert!(system.body["identity"]
        .get("userAssignedIdentities")
        .is_none());

    let both = patch(
        &env,
        "ids",
        json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uai.clone(): {}, uai2.clone(): {}}}}),
    )
    .await;
    assert_eq!(both.status, StatusCode::OK, "{:?}", both.body);
    assert_eq!(both.body["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(both.body["identity"]["principalId"], principal);
    assert_eq!(
        both.body["identity"]["userAssignedIdentities"][&uai]["principalId"],
        uai_principal
    );
    assert!(both.body["identity"]["userAssignedIdentities"][&uai]["clientId"].is_string());

    // The type alone keeps the attached identities; a null entry removes one.
    let kept = patch(
        &env,
        "ids",
        json!({"identity": {"type": "SystemAssigned,UserAssigned"}}),
    )
    .await;
    assert_eq!(
        kept.body["identity"]["userAssignedIdentities"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    let removed = patch(
        &env,
        "ids",
        json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uai2.clone(): null}}}),
    )
    .await;
    let left = removed.body["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap();
    assert_eq!(left.keys().collect::<Vec<_>>(), [&uai]);

    let ghost = format!("/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ghost");
    let errors = [
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {ghost: {}}}}),
        json!({"identity": {"type": "SystemAssigned", "userAssignedIdentities": {uai.clone(): {}}}}),
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): null}}}),
    ];
    for body in errors {
        let a = patch(&env, "ids", body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(a.code(), "FailedIdentityOperation", "{body}");
    }
    let bad_type = patch(&env, "ids", json!({"identity": {"type": "Everything"}})).await;
    assert_eq!(bad_type.code(), "InvalidValuesForRequestParameters");
    // Failed PATCHes changed nothing.
    assert_eq!(
        get(&env, "ids").await.body["identity"],
        removed.body["identity"]
    );

    let user_only = patch(&env, "ids", json!({"identity": {"type": "UserAssigned"}})).await;
    assert_eq!(user_only.body["identity"]["type"], "UserAssigned");
    assert!(user_only.body["identity"].get("principalId").is_none());
    let none = patch(&env, "ids", json!({"identity": {"type": "None"}})).await;
    assert_eq!(none.body["identity"], json!({"type": "None"}));
    let fresh = patch(&env, "ids", json!({"identity": {"type": "SystemAssigned"}})).await;
    assert_ne!(fresh.body["identity"]["principalId"], principal);
}

#[tokio::test]
async fn every_cmk_prerequisite_is_enforced_and_failures_change_nothing() {
    let env = env_with_groups().await;
    create(&env, SUB1, "rg1", "cmkerr", new_account()).await;
    let uri = vault_with_key(&env, "vaultok", true).await;
    let weak = vault_with_key(&env, "vaultweak", false).await;
    let (uai, uai_principal) = identity(&env, "uaicmk").await;
    let (other, _) = identity(&env, "uaiother").await;
    let attach = json!({"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}});

    let expect = |a: Answer, code: &str| {
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{code}: {:?}", a.body);
        assert_eq!(a.code(), code, "{:?}", a.body);
        a
    };
    // No identity at all.
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"properties": {"encryption": cmk(&uri, None)}}),
        )
        .await,
        "MissingMsiHeaders",
    );
    // A user-assigned identity, but none named for the key.
    let a = expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": cmk(&uri, None)}}),
        )
        .await,
        "BadRequest",
    );
    assert!(a.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Missing pre-requisites"));
    // The named identity is not attached to the account.
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": cmk(&uri, Some(&other))}}),
        )
        .await,
        "BadRequest",
    );
    // A system identity created by the same request cannot have been granted anything.
    expect(
        patch(&env, "cmkerr", json!({"identity": {"type": "SystemAssigned"}, "properties": {"encryption": cmk(&uri, None)}})).await,
        "BadRequest",
    );
    // No key name.
    let mut nameless = cmk(&uri, Some(&uai));
    nameless["keyvaultproperties"]
        .as_object_mut()
        .unwrap()
        .remove("keyname");
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": nameless}}),
        )
        .await,
        "InvalidValuesForRequestParameters",
    );
    // A vault without purge protection.
    grant(&env, "vaultweak", &uai_principal).await;
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": cmk(&weak, Some(&uai))}}),
        )
        .await,
        "KeyVaultPolicyError",
    );
    // No grant for the identity, then a missing key and a missing vault.
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": cmk(&uri, Some(&uai))}}),
        )
        .await,
        "KeyVaultAuthenticationFailure",
    );
    grant(&env, "vaultok", &uai_principal).await;
    let mut wrong_key = cmk(&uri, Some(&uai));
    wrong_key["keyvaultproperties"]["keyname"] = json!("nokey");
    expect(
        patch(
            &env,
            "cmkerr",
            json!({"identity": attach, "properties": {"encryption": wrong_key}}),
        )
        .await,
        "KeyVaultAuthenticationFailure",
    );
    expect(
        patch(&env, "cmkerr", json!({"identity": attach, "properties": {"encryption": cmk("https://novault.vault.azure.net/", Some(&uai))}})).await,
        "KeyVaultAuthenticationFailure",
    );

    let after = get(&env, "cmkerr").await.body;
    assert!(after.get("identity").is_none(), "{after}");
    assert_eq!(
        after["properties"]["encryption"]["keySource"],
        "Microsoft.Storage"
    );
    assert!(after["properties"]["encryption"].get("identity").is_none());
}

#[tokio::test]
async fn cmk_with_a_user_assigned_identity_succeeds_and_reverts() {
    let env = env_with_groups().await;
    create(&env, SUB1, "rg1", "cmkuai", new_account()).await;
    let uri = vault_with_key(&env, "vaultuai", true).await;
    let (uai, principal) = identity(&env, "uaiok").await;
    grant(&env, "vaultuai", &principal).await;

    let mut encryption = cmk(&uri, Some(&uai));
    encryption["keySource"] = json!("Microsoft.KeyVault");
    let a = patch(
        &env,
        "cmkuai",
        json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}},
               "properties": {"encryption": encryption}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let enc = &a.body["properties"]["encryption"];
    assert_eq!(enc["keySource"], "Microsoft.Keyvault");
    assert_eq!(enc["identity"]["userAssignedIdentity"], uai);
    let kv = &enc["keyvaultproperties"];
    assert_eq!(kv["keyvaulturi"], uri);
    assert_eq!(kv["keyname"], "k");
    assert!(kv.get("keyversion").is_none());
    assert!(kv["currentVersionedKeyIdentifier"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{uri}keys/k/")));
    assert_eq!(
        kv["currentVersionedKeyExpirationTimestamp"],
        "1970-01-01T00:00:00.0000000Z"
    );
    let rotated = kv["lastKeyRotationTimestamp"].clone();
    assert_eq!(
        get(&env, "cmkuai").await.body["properties"]["encryption"],
        *enc
    );

    // Re-sending the same configuration is no rotation.
    let same = patch(
        &env,
        "cmkuai",
        json!({"properties": {"encryption": cmk(&uri, Some(&uai))}}),
    )
    .await;
    assert_eq!(
        same.body["properties"]["encryption"]["keyvaultproperties"]["lastKeyRotationTimestamp"],
        rotated
    );

    let back = patch(
        &env,
        "cmkuai",
        json!({"properties": {"encryption": {"keySource": "Microsoft.Storage"}}}),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK);
    let enc = &back.body["properties"]["encryption"];
    assert_eq!(enc["keySource"], "Microsoft.Storage");
    assert!(enc.get("keyvaultproperties").is_none());
    assert_eq!(enc["identity"]["userAssignedIdentity"], uai);
}

#[tokio::test]
async fn cmk_at_create_needs_an_attached_user_assigned_identity() {
    let env = env_with_groups().await;
    let uri = vault_with_key(&env, "vaultnew", true).await;
    let (uai, principal) = identity(&env, "uainew").await;
    grant(&env, "vaultnew", &principal).await;
    let mut body = new_account();
    body["properties"] = json!({"encryption": cmk(&uri, None)});
    body["identity"] = json!({"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}});
    let refused = env
        .arm(
            Method::PUT,
            &account_path(SUB1, "rg1", "cmknew"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Missing pre-requisites"));
    assert_eq!(get(&env, "cmknew").await.code(), "ResourceNotFound");

    body["properties"] = json!({"encryption": cmk(&uri, Some(&uai))});
    let done = create(&env, SUB1, "rg1", "cmknew", body).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(
        done.body["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );
    assert_eq!(done.body["identity"]["type"], "UserAssigned");
}

#[tokio::test]
async fn azure_lets_an_account_drop_the_identity_its_key_depends_on() {
    let env = env_with_groups().await;
    create(&env, SUB1, "rg1", "trap", new_account()).await;
    let uri = vault_with_key(&env, "vaulttrap", true).await;
    let (uai, uai_principal) = identity(&env, "uaitrap").await;
    grant(&env, "vaulttrap", &uai_principal).await;

    let system = patch(
        &env,
        "trap",
        json!({"identity": {"type": "SystemAssigned"}}),
    )
    .await;
    let system_principal = system.body["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    grant(&env, "vaulttrap", &system_principal).await;
    let on = patch(
        &env,
        "trap",
        json!({"properties": {"encryption": cmk(&uri, None)}}),
    )
    .await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    assert!(on.body["properties"]["encryption"]
        .get("identity")
        .is_none());

    // Switch to the user-assigned identity, then drop it with the same CMK configuration.
    let switched = patch(
        &env,
        "trap",
        json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uai.clone(): {}}},
               "properties": {"encryption": cmk(&uri, Some(&uai))}}),
    )
    .await;
    assert_eq!(switched.status, StatusCode::OK, "{:?}", switched.body);
    let dropped = patch(
        &env,
        "trap",
        json!({"identity": {"type": "SystemAssigned"}, "properties": {"encryption": cmk(&uri, Some(&uai))}}),
    )
    .await;
    assert_eq!(dropped.status, StatusCode::OK, "{:?}", dropped.body);
    assert!(dropped.body["identity"]
        .get("userAssignedIdentities")
        .is_none());
    assert_eq!(
        dropped.body["properties"]["encryption"]["identity"]["userAssignedIdentity"],
        uai
    );
    assert_eq!(
        dropped.body["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );

    let none = patch(&env, "trap", json!({"identity": {"type": "None"}})).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["identity"], json!({"type": "None"}));
    assert_eq!(
        none.body["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );
}
