//! The Key Vault provider over real HTTPS: vaults (create, get, patch,
//! delete, name availability, deleted vaults, purge), access policies, keys,
//! and the admin operations that stand in for the data plane.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const API: &str = "api-version=2023-07-01";
const OBJECT: &str = "44444444-4444-4444-4444-444444444444";
const OTHER: &str = "55555555-5555-5555-5555-555555555555";

fn vault_path(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}?{API}"
    )
}

fn sub_path(sub: &str, rest: &str) -> String {
    format!("/subscriptions/{sub}/providers/Microsoft.KeyVault/{rest}?{API}")
}

fn key_path(vault: &str, rest: &str) -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/{vault}/{rest}?{API}")
}

fn tenant(env: &Env) -> String {
    env.emu.connection.tenant_id.clone()
}

fn vault_body(env: &Env, extra: Value) -> Value {
    let mut body = json!({
        "location": "westeurope",
        "properties": {
            "tenantId": tenant(env),
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
        }
    });
    if let (Some(props), Some(extra)) = (body["properties"].as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            props.insert(k.clone(), v.clone());
        }
    }
    body
}

async fn env() -> Env {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.add_subscription(SUB2, "two").await;
    env.put_resource_group(SUB1, "rg", "westeurope").await;
    env.put_resource_group(SUB2, "rg2", "westeurope").await;
    env
}

async fn create_vault(env: &Env, name: &str, extra: Value) -> Answer {
    let a = env
        .arm(
            Method::PUT,
            &vault_path(SUB1, "rg", name),
            Some(vault_body(env, extra)),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a
}

fn policy(env: &Env, object: &str, keys: &[&str]) -> Value {
    json!({"tenantId": tenant(env), "objectId": object, "permissions": {"keys": keys}})
}

#[tokio::test]
async fn a_vault_is_created_registering_dns_then_succeeds() {
    let env = env().await;
    env.patch_settings(json!({"vaultProvisioningMs": 400}))
        .await;
    let a = create_vault(&env, "Kv-Logs-1", json!({})).await;
    assert!(a.header("location").is_none() && a.header("azure-asyncoperation").is_none());
    let p = &a.body["properties"];
    assert_eq!(p["provisioningState"], "RegisteringDns");
    assert_eq!(p["vaultUri"], "https://Kv-Logs-1.vault.azure.net");
    assert_eq!(p["enableSoftDelete"], true);
    assert_eq!(p["softDeleteRetentionInDays"], 90);
    assert!(p.get("enablePurgeProtection").is_none());
    assert!(p.get("enableRbacAuthorization").is_none());
    assert_eq!(a.body["type"], "Microsoft.KeyVault/vaults");
    assert_eq!(
        a.body["id"],
        format!(
            "/subscriptions/{SUB1}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/Kv-Logs-1"
        )
    );

    // Keys wait for DNS.
    let key = env
        .arm(
            Method::PUT,
            &key_path("Kv-Logs-1", "keys/cmk"),
            Some(json!({"properties": {"kty": "RSA"}})),
        )
        .await;
    assert_eq!(key.status, StatusCode::CONFLICT);
    assert_eq!(key.code(), "Conflict");

    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let g = env
        .arm(Method::GET, &vault_path(SUB1, "rg", "kv-logs-1"), None)
        .await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        g.body["properties"]["vaultUri"],
        "https://kv-logs-1.vault.azure.net/"
    );
    assert_eq!(g.body["name"], "Kv-Logs-1");
}

#[tokio::test]
async fn vault_names_are_validated() {
    let env = env().await;
    for name in [
        "ab",
        "1vault",
        "vault-",
        "va--ult",
        "a234567890123456789012345",
    ] {
        let a = env
            .arm(
                Method::PUT,
                &vault_path(SUB1, "rg", name),
                Some(vault_body(&env, json!({}))),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}");
        assert_eq!(a.code(), "VaultNameNotValid", "{name}");
    }
}

#[tokio::test]
async fn required_and_forbidden_properties_are_refused() {
    let env = env().await;
    let path = vault_path(SUB1, "rg", "kv-rules");
    let cases = [
        (json!({"tenantId": null}), "BadRequest"),
        (json!({"tenantId": OTHER}), "BadRequest"),
        (
            json!({"sku": {"family": "A", "name": "gold"}}),
            "BadRequest",
        ),
        (json!({"sku": {"name": "standard"}}), "BadRequest"),
        (json!({"accessPolicies": null}), "BadRequest"),
        (json!({"enablePurgeProtection": false}), "BadRequest"),
        (json!({"enableSoftDelete": false}), "BadRequest"),
        (json!({"softDeleteRetentionInDays": 6}), "BadRequest"),
        (
            json!({"networkAcls": {"defaultAction": "Block"}}),
            "BadRequest",
        ),
        (
            json!({"accessPolicies": [{"tenantId": OTHER, "objectId": OBJECT, "permissions": {}}]}),
            "BadRequest",
        ),
        (
            json!({"accessPolicies": [{"objectId": "not-a-guid", "permissions": {}}]}),
            "BadRequest",
        ),
    ];
    for (extra, code) in cases {
        let mut body = vault_body(&env, json!({}));
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body["properties"].as_object_mut().unwrap().remove(k);
            } else {
                body["properties"][k] = v.clone();
            }
        }
        if let Some(list) = body["properties"]["accessPolicies"].as_array_mut() {
            for p in list.iter_mut().filter(|p| p.get("tenantId").is_none()) {
                p["tenantId"] = json!(tenant(&env));
            }
        }
        let a = env.arm(Method::PUT, &path, Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{extra}: {:?}", a.body);
        assert_eq!(a.code(), code, "{extra}");
    }
    let a = env
        .arm(
            Method::PUT,
            &path,
            Some(vault_body(&env, json!({"enablePurgeProtection": false}))),
        )
        .await;
    assert_eq!(
        a.body["error"]["message"],
        "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action."
    );
    let mut body = vault_body(&env, json!({}));
    body.as_object_mut().unwrap().remove("location");
    let a = env.arm(Method::PUT, &path, Some(body)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "LocationRequired");
    // Nothing was created by the refused calls.
    let g = env.arm(Method::GET, &path, None).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert_eq!(g.code(), "ResourceNotFound");
}

#[tokio::test]
async fn purge_protection_once_on_stays_on() {
    let env = env().await;
    create_vault(
        &env,
        "kv-pp",
        json!({"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}),
    )
    .await;
    let path = vault_path(SUB1, "rg", "kv-pp");
    let a = env.arm(Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["properties"]["networkAcls"]["defaultAction"], "Deny");
    assert_eq!(
        a.body["properties"]["networkAcls"]["bypass"],
        "AzureServices"
    );
    let a = env
        .arm(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"enablePurgeProtection": true}, "tags": {"a": "b"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["properties"]["enablePurgeProtection"], true);
    assert_eq!(a.body["tags"]["a"], "b");
    let a = env
        .arm(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"enablePurgeProtection": false}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "BadRequest");
    let a = env
        .arm(
            Method::PUT,
            &path,
            Some(vault_body(&env, json!({"enablePurgeProtection": false}))),
        )
        .await;
    assert_eq!(a.code(), "BadRequest");
    // A full PUT without the flag keeps it, and answers Succeeded (an update).
    let a = env
        .arm(Method::PUT, &path, Some(vault_body(&env, json!({}))))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["properties"]["enablePurgeProtection"], true);
    assert_eq!(a.body["properties"]["provisioningState"], "Succeeded");
    let a = env
        .arm(
            Method::PATCH,
            &path,
            Some(json!({"properties": {"softDeleteRetentionInDays": 30}})),
        )
        .await;
    assert_eq!(a.code(), "BadRequest");
    let missing = env
        .arm(
            Method::PATCH,
            &vault_path(SUB1, "rg", "kv-none"),
            Some(json!({})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "ResourceNotFound");
}

#[tokio::test]
async fn names_are_global_and_soft_deleted_names_stay_taken() {
    let env = env().await;
    create_vault(&env, "kv-global", json!({})).await;
    let elsewhere = env
        .arm(
            Method::PUT,
            &vault_path(SUB2, "rg2", "KV-GLOBAL"),
            Some(vault_body(&env, json!({}))),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT);
    assert_eq!(elsewhere.code(), "VaultAlreadyExists");
    assert!(elsewhere.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with(
            "The vault name 'KV-GLOBAL' is already in use. Vault names are globally unique"
        ));

    let check = |name: &str| {
        let name = name.to_string();
        let env = &env;
        async move {
            let a = env
                .arm(
                    Method::POST,
                    &sub_path(SUB2, "checkNameAvailability"),
                    Some(json!({"name": name, "type": "Microsoft.KeyVault/vaults"})),
                )
                .await;
            assert_eq!(a.status, StatusCode::OK);
            a.body
        }
    };
    let taken = check("kv-global").await;
    assert_eq!(
        taken,
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": "The name 'kv-global' is already in use."})
    );
    assert_eq!(check("kv-free").await, json!({"nameAvailable": true}));
    assert_eq!(check("9bad").await["reason"], "AccountNameInvalid");
    let bad_type = env
        .arm(
            Method::POST,
            &sub_path(SUB1, "checkNameAvailability"),
            Some(json!({"name": "x", "type": "Microsoft.Storage/storageAccounts"})),
        )
        .await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);

    let d = env
        .arm(Method::DELETE, &vault_path(SUB1, "rg", "kv-global"), None)
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(check("kv-global").await["reason"], "AlreadyExists");
    let again = env
        .arm(
            Method::PUT,
            &vault_path(SUB1, "rg", "kv-global"),
            Some(vault_body(&env, json!({}))),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "VaultAlreadyExists");
}

#[tokio::test]
async fn deleted_vaults_can_be_read_and_purged_unless_protected() {
    let env = env().await;
    create_vault(&env, "kv-del", json!({})).await;
    create_vault(
        &env,
        "kv-prot",
        json!({"enablePurgeProtection": true, "softDeleteRetentionInDays": 7}),
    )
    .await;
    for name in ["kv-del", "kv-prot"] {
        let d = env
            .arm(Method::DELETE, &vault_path(SUB1, "rg", name), None)
            .await;
        assert_eq!(d.status, StatusCode::OK);
        assert_eq!(d.body, Value::Null);
        let g = env
            .arm(Method::GET, &vault_path(SUB1, "rg", name), None)
            .await;
        assert_eq!(g.status, StatusCode::NOT_FOUND);
        assert_eq!(g.code(), "ResourceNotFound");
    }
    let gone = env
        .arm(Method::DELETE, &vault_path(SUB1, "rg", "kv-del"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);

    let g = env
        .arm(
            Method::GET,
            &sub_path(SUB1, "locations/westeurope/deletedVaults/kv-prot"),
            None,
        )
        .await;
    assert_eq!(g.status, StatusCode::OK, "{:?}", g.body);
    assert_eq!(g.body["type"], "Microsoft.KeyVault/deletedVaults");
    let p = &g.body["properties"];
    assert_eq!(p["purgeProtectionEnabled"], true);
    assert_eq!(p["location"], "westeurope");
    let deleted =
        chrono::DateTime::parse_from_rfc3339(p["deletionDate"].as_str().unwrap()).unwrap();
    let purge =
        chrono::DateTime::parse_from_rfc3339(p["scheduledPurgeDate"].as_str().unwrap()).unwrap();
    assert_eq!((purge - deleted).num_days(), 7);

    let wrong = env
        .arm(
            Method::GET,
            &sub_path(SUB1, "locations/eastus/deletedVaults/kv-prot"),
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(wrong.code(), "ResourceNotFound");

    let refused = env
        .arm(
            Method::POST,
            &sub_path(SUB1, "locations/westeurope/deletedVaults/kv-prot/purge"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(refused.code(), "MethodNotAllowed");

    let g = env
        .arm(
            Method::GET,
            &sub_path(SUB1, "locations/westeurope/deletedVaults/kv-del"),
            None,
        )
        .await;
    assert_eq!(g.body["properties"]["purgeProtectionEnabled"], false);
    let purged = env
        .arm(
            Method::POST,
            &sub_path(SUB1, "locations/westeurope/deletedVaults/kv-del/purge"),
            None,
        )
        .await;
    assert_eq!(purged.status, StatusCode::ACCEPTED);
    let location = purged.header("location").unwrap().to_string();
    assert!(
        location.contains("/providers/Microsoft.KeyVault/locations/westeurope/operationResults/")
    );
    let poll = env.arm(Method::GET, &location, None).await;
    assert_eq!(poll.status, StatusCode::OK);
    assert_eq!(poll.body["status"], "Succeeded");
    let g = env
        .arm(
            Method::GET,
            &sub_path(SUB1, "locations/westeurope/deletedVaults/kv-del"),
            None,
        )
        .await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    // The purged name is free again, the protected one is not.
    create_vault(&env, "kv-del", json!({})).await;
    let a = env
        .arm(
            Method::PUT,
            &vault_path(SUB1, "rg", "kv-prot"),
            Some(vault_body(&env, json!({}))),
        )
        .await;
    assert_eq!(a.code(), "VaultAlreadyExists");
    // Recovery brings the protected vault back where it was.
    let a = env
        .arm(
            Method::PUT,
            &vault_path(SUB1, "rg", "kv-prot"),
            Some(json!({"location": "westeurope", "properties": {"createMode": "recover"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["properties"]["enablePurgeProtection"], true);
}

#[tokio::test]
async fn access_policies_add_replace_and_remove() {
    let env = env().await;
    create_vault(
        &env,
        "kv-ap",
        json!({"accessPolicies": [policy(&env, OBJECT, &["get", "list"])]}),
    )
    .await;
    let base = key_path("kv-ap", "accessPolicies");
    let put = |kind: &str, entries: Value| {
        let path = base.replace("accessPolicies?", &format!("accessPolicies/{kind}?"));
        let env = &env;
        async move {
            env.arm(
                Method::PUT,
                &path,
                Some(json!({"properties": {"accessPolicies": entries}})),
            )
            .await
        }
    };
    let a = put(
        "add",
        json!([
            policy(&env, OBJECT, &["wrapKey", "get"]),
            policy(&env, OTHER, &["get"])
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["type"], "Microsoft.KeyVault/vaults/accessPolicies");
    assert!(a.body["id"]
        .as_str()
        .unwrap()
        .ends_with("/vaults/kv-ap/accessPolicies/"));
    let list = &a.body["properties"]["accessPolicies"];
    assert_eq!(list[0]["objectId"], OBJECT);
    assert_eq!(
        list[0]["permissions"]["keys"],
        json!(["get", "list", "wrapKey"])
    );
    assert_eq!(list[1]["objectId"], OTHER);

    let a = put(
        "remove",
        json!([
            policy(&env, OBJECT, &["list"]),
            policy(&env, OTHER, &["get"])
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let list = a.body["properties"]["accessPolicies"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["permissions"]["keys"], json!(["get", "wrapKey"]));

    let a = put("replace", json!([policy(&env, OTHER, &["all"])])).await;
    assert_eq!(a.status, StatusCode::OK);
    let list = a.body["properties"]["accessPolicies"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["objectId"], OTHER);
    let g = env
        .arm(Method::GET, &vault_path(SUB1, "rg", "kv-ap"), None)
        .await;
    assert_eq!(g.body["properties"]["accessPolicies"], json!(list));

    let bad = put(
        "add",
        json!([{"tenantId": tenant(&env), "objectId": "nope", "permissions": {"keys": ["get"]}}]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "BadRequest");
    let bad = put("add", json!([policy(&env, OBJECT, &["fly"])])).await;
    assert_eq!(bad.code(), "BadRequest");
    let bad = put("merge", json!([policy(&env, OBJECT, &["get"])])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = env
        .arm(
            Method::PUT,
            &key_path("kv-none", "accessPolicies/add"),
            Some(json!({"properties": {"accessPolicies": []}})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "ResourceNotFound");
}

#[tokio::test]
async fn keys_are_created_once_and_read_by_version() {
    let env = env().await;
    create_vault(&env, "kv-keys", json!({})).await;
    let body = json!({"properties": {"kty": "RSA", "keyOps": ["wrapKey", "unwrapKey"], "attributes": {"exp": 4102444800_i64}}});
    let a = env
        .arm(Method::PUT, &key_path("kv-keys", "keys/cmk"), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["type"], "Microsoft.KeyVault/vaults/keys");
    assert_eq!(a.body["location"], "westeurope");
    let p = &a.body["properties"];
    assert_eq!(p["keySize"], 2048);
    assert_eq!(p["keyOps"], json!(["wrapKey", "unwrapKey"]));
    assert_eq!(p["attributes"]["enabled"], true);
    assert_eq!(p["attributes"]["exp"], 4102444800_i64);
    assert_eq!(p["attributes"]["recoveryLevel"], "Recoverable+Purgeable");
    assert_eq!(p["keyUri"], "https://kv-keys.vault.azure.net:443/keys/cmk");
    let versioned = p["keyUriWithVersion"].as_str().unwrap().to_string();
    let version = versioned.rsplit('/').next().unwrap().to_string();
    assert_eq!(version.len(), 32);
    assert!(version.bytes().all(|b| b.is_ascii_hexdigit()));

    // An existing key comes back unchanged.
    let again = env
        .arm(
            Method::PUT,
            &key_path("kv-keys", "keys/cmk"),
            Some(json!({"properties": {"kty": "RSA", "keySize": 4096}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, a.body);

    let g = env
        .arm(Method::GET, &key_path("kv-keys", "keys/CMK"), None)
        .await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.body, a.body);
    let l = env
        .arm(Method::GET, &key_path("kv-keys", "keys"), None)
        .await;
    assert_eq!(l.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(l.body["value"][0]["name"], "cmk");
    let v = env
        .arm(Method::GET, &key_path("kv-keys", "keys/cmk/versions"), None)
        .await;
    assert_eq!(v.body["value"][0]["name"], version.as_str());
    assert_eq!(
        v.body["value"][0]["type"],
        "Microsoft.KeyVault/vaults/keys/versions"
    );
    let gv = env
        .arm(
            Method::GET,
            &key_path("kv-keys", &format!("keys/cmk/versions/{version}")),
            None,
        )
        .await;
    assert_eq!(gv.status, StatusCode::OK);
    assert_eq!(gv.body["properties"]["kty"], "RSA");
    let nv = env
        .arm(
            Method::GET,
            &key_path("kv-keys", &format!("keys/cmk/versions/{}", "0".repeat(32))),
            None,
        )
        .await;
    assert_eq!(nv.status, StatusCode::NOT_FOUND);
    assert_eq!(nv.code(), "ResourceNotFound");
    let nk = env
        .arm(Method::GET, &key_path("kv-keys", "keys/nope"), None)
        .await;
    assert_eq!(nk.status, StatusCode::NOT_FOUND);
    assert_eq!(nk.code(), "ResourceNotFound");
    let nvault = env
        .arm(
            Method::PUT,
            &key_path("kv-nowhere", "keys/cmk"),
            Some(json!({"properties": {"kty": "RSA"}})),
        )
        .await;
    assert_eq!(nvault.status, StatusCode::NOT_FOUND);
    assert_eq!(nvault.code(), "ResourceNotFound");
}

#[tokio::test]
async fn invalid_keys_are_refused() {
    let env = env().await;
    create_vault(&env, "kv-badkeys", json!({})).await;
    for props in [
        json!({}),
        json!({"kty": "AES"}),
        json!({"kty": "RSA-HSM"}),
        json!({"kty": "RSA", "keySize": 1024}),
        json!({"kty": "RSA", "keyOps": ["fly"]}),
        json!({"kty": "EC", "curveName": "P-1"}),
        json!({"kty": "RSA", "attributes": {"nbf": 10, "exp": 5}}),
        json!({"kty": "RSA", "rotationPolicy": {"lifetimeActions": [{"action": {"type": "explode"}, "trigger": {"timeAfterCreate": "P30D"}}]}}),
    ] {
        let a = env
            .arm(
                Method::PUT,
                &key_path("kv-badkeys", "keys/k1"),
                Some(json!({"properties": props})),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{props}: {:?}", a.body);
        assert_eq!(a.code(), "BadRequest", "{props}");
    }
    let a = env
        .arm(
            Method::PUT,
            &key_path("kv-badkeys", "keys/bad.name"),
            Some(json!({"properties": {"kty": "RSA"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Premium vaults take HSM keys; rotation policies are echoed with their times.
    create_vault(
        &env,
        "kv-premium",
        json!({"sku": {"family": "A", "name": "premium"}}),
    )
    .await;
    let policy = json!({"attributes": {"expiryTime": "P1Y"}, "lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}]});
    let a = env
        .arm(Method::PUT, &key_path("kv-premium", "keys/k1"), Some(json!({"properties": {"kty": "RSA-HSM", "keySize": 3072, "rotationPolicy": policy}})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.body["properties"]["keySize"], 3072);
    let rp = &a.body["properties"]["rotationPolicy"];
    assert_eq!(rp["attributes"]["expiryTime"], "P1Y");
    assert!(rp["attributes"]["created"].is_i64());
    // Key Vault answers the action type capitalised, whatever was sent.
    assert_eq!(rp["lifetimeActions"][0]["action"]["type"], "Rotate");
}

#[tokio::test]
async fn admin_operations_break_keys_like_the_data_plane() {
    let env = env().await;
    create_vault(&env, "kv-admin", json!({"enablePurgeProtection": true})).await;
    let created = env
        .arm(
            Method::PUT,
            &key_path("kv-admin", "keys/cmk"),
            Some(json!({"properties": {"kty": "RSA"}})),
        )
        .await;
    assert_eq!(
        created.body["properties"]["attributes"]["recoveryLevel"],
        "Recoverable"
    );
    let a = env
        .admin(
            Method::PATCH,
            "/keyvault/vaults/kv-admin/keys/cmk",
            Some(json!({"enabled": false, "exp": 1700000000})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let g = env
        .arm(Method::GET, &key_path("kv-admin", "keys/cmk"), None)
        .await;
    assert_eq!(g.body["properties"]["attributes"]["enabled"], false);
    assert_eq!(g.body["properties"]["attributes"]["exp"], 1700000000);
    let bad = env
        .admin(
            Method::PATCH,
            "/keyvault/vaults/kv-admin/keys/cmk",
            Some(json!({"color": "red"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let r = env
        .admin(
            Method::POST,
            "/keyvault/vaults/kv-admin/keys/cmk/rotate",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(
        r.body["properties"]["keyUriWithVersion"],
        created.body["properties"]["keyUriWithVersion"]
    );
    let v = env
        .arm(
            Method::GET,
            &key_path("kv-admin", "keys/cmk/versions"),
            None,
        )
        .await;
    assert_eq!(v.body["value"].as_array().unwrap().len(), 2);

    let d = env
        .admin(Method::DELETE, "/keyvault/vaults/kv-admin/keys/cmk", None)
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let g = env
        .arm(Method::GET, &key_path("kv-admin", "keys/cmk"), None)
        .await;
    assert_eq!(g.code(), "ResourceNotFound");
    let again = env
        .arm(
            Method::PUT,
            &key_path("kv-admin", "keys/cmk"),
            Some(json!({"properties": {"kty": "RSA"}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let missing = env
        .admin(Method::DELETE, "/keyvault/vaults/kv-admin/keys/cmk", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_vault = env
        .admin(Method::DELETE, "/keyvault/vaults/kv-nowhere/keys/cmk", None)
        .await;
    assert_eq!(no_vault.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_api_version_names_the_vault_type() {
    let env = env().await;
    let path = vault_path(SUB1, "rg", "kv-api").replace("2023-07-01", "2019-09-01");
    let a = env.arm(Method::GET, &path, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "NoRegisteredProviderFound");
    assert!(a.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("for type 'vaults'"));
    let rg = env
        .arm(
            Method::PUT,
            &vault_path(SUB1, "nogroup", "kv-api"),
            Some(vault_body(&env, json!({}))),
        )
        .await;
    assert_eq!(rg.status, StatusCode::NOT_FOUND);
    assert_eq!(rg.code(), "ResourceGroupNotFound");
}
