//! Azure's customer-managed-key rules, end to end over HTTPS: an account is
//! switched to `Microsoft.Keyvault` only when the key is healthy and the
//! account's identity really holds get/wrapKey/unwrapKey under the vault's
//! permission model, and only once the grant has propagated.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const RG: &str = "rg-cmk";

struct Estate {
    env: Env,
    identity_id: String,
    principal_id: String,
}

fn base() -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/{RG}")
}

async fn estate(settings: actlog_cmk::emulator::settings::Settings) -> Estate {
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "one").await;
    env.put_resource_group(SUB1, RG, "westeurope").await;
    let uami = env
        .arm(
            Method::PUT,
            &format!("{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami?api-version=2023-01-31", base()),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    let account = env
        .arm(
            Method::PUT,
            &format!("{}/providers/Microsoft.Storage/storageAccounts/stcmk01?api-version=2023-05-01", base()),
            Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
    assert_eq!(account.status, StatusCode::ACCEPTED);
    Estate {
        identity_id: uami.body["id"].as_str().unwrap().to_string(),
        principal_id: uami.body["properties"]["principalId"]
            .as_str()
            .unwrap()
            .to_string(),
        env,
    }
}

impl Estate {
    /// A purge-protected vault (optionally RBAC, optionally with a firewall) holding key `k`.
    async fn vault(&self, name: &str, extra: Value, key: Value) {
        let mut properties = json!({
            "tenantId": self.env.emu.connection.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
            "enableSoftDelete": true,
            "enablePurgeProtection": true,
        });
        for (k, v) in extra.as_object().unwrap() {
            properties[k] = v.clone();
        }
        let v = self
            .env
            .arm(
                Method::PUT,
                &format!(
                    "{}/providers/Microsoft.KeyVault/vaults/{name}?api-version=2023-07-01",
                    base()
                ),
                Some(json!({"location": "westeurope", "properties": properties})),
            )
            .await;
        assert!(v.status.is_success(), "{:?}", v.body);
        let k = self
            .env
            .arm(
                Method::PUT,
                &format!(
                    "{}/providers/Microsoft.KeyVault/vaults/{name}/keys/k?api-version=2023-07-01",
                    base()
                ),
                Some(json!({"properties": key})),
            )
            .await;
        assert!(k.status.is_success(), "{:?}", k.body);
    }

    async fn access_policy(&self, vault: &str, keys: &[&str]) {
        let a = self
            .env
            .arm(
                Method::PUT,
                &format!("{}/providers/Microsoft.KeyVault/vaults/{vault}/accessPolicies/add?api-version=2023-07-01", base()),
                Some(json!({"properties": {"accessPolicies": [{"tenantId": self.env.emu.connection.tenant_id, "objectId": self.principal_id, "permissions": {"keys": keys}}]}})),
            )
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }

    async fn role(&self, vault: &str, role_guid: &str) {
        let scope = format!("{}/providers/Microsoft.KeyVault/vaults/{vault}", base());
        let a = self
            .env
            .arm(
                Method::PUT,
                &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{}?api-version=2022-04-01", uuid_for(vault, role_guid)),
                Some(json!({"properties": {
                    "roleDefinitionId": format!("/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
                    "principalId": self.principal_id, "principalType": "ServicePrincipal"}})),
            )
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }

    async fn switch_to(&self, vault: &str) -> (StatusCode, String) {
        let a = self
            .env
            .arm(
                Method::PATCH,
                &format!("{}/providers/Microsoft.Storage/storageAccounts/stcmk01?api-version=2023-05-01", base()),
                Some(json!({
                    "identity": {"type": "UserAssigned", "userAssignedIdentities": {self.identity_id.clone(): {}}},
                    "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                        "keyvaultproperties": {"keyvaulturi": format!("https://{vault}.vault.azure.net/"), "keyname": "k"},
                        "identity": {"userAssignedIdentity": self.identity_id}}}})),
            )
            .await;
        (a.status, a.code().to_string())
    }

    async fn admin_key(&self, vault: &str, method: Method, body: Option<Value>) {
        let a = self
            .env
            .admin(method, &format!("/keyvault/vaults/{vault}/keys/k"), body)
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }
}

fn uuid_for(vault: &str, role: &str) -> String {
    let seed = format!("{vault}{role}")
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        (seed >> 32) as u32,
        seed & 0xffff_ffff_ffff
    )
}

/// A data-plane change to the key, through the emulator's admin API.
type KeyChange = (Method, Option<Value>);

fn rsa() -> Value {
    json!({"kty": "RSA", "keySize": 3072})
}
const CRYPTO_SERVICE_ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

#[tokio::test]
async fn a_healthy_key_with_get_wrap_unwrap_is_accepted() {
    let e = estate(fast_settings()).await;
    e.vault("kv-good", json!({}), rsa()).await;
    e.access_policy("kv-good", &["get", "wrapKey", "unwrapKey"])
        .await;
    assert_eq!(
        e.switch_to("kv-good").await,
        (StatusCode::OK, String::new())
    );
}

#[tokio::test]
async fn missing_key_permissions_are_refused() {
    let e = estate(fast_settings()).await;
    e.vault("kv-partial", json!({}), rsa()).await;
    e.access_policy("kv-partial", &["get", "wrapKey"]).await;
    assert_eq!(
        e.switch_to("kv-partial").await,
        (
            StatusCode::BAD_REQUEST,
            "KeyVaultAuthenticationFailure".into()
        )
    );
}

#[tokio::test]
async fn disabled_expired_deleted_and_weak_keys_are_refused() {
    let e = estate(fast_settings()).await;
    let cases: Vec<(&str, Value, Option<KeyChange>)> = vec![
        (
            "kv-disabled",
            rsa(),
            Some((Method::PATCH, Some(json!({"enabled": false})))),
        ),
        (
            "kv-expired",
            rsa(),
            Some((Method::PATCH, Some(json!({"exp": 1_000_000_000})))),
        ),
        ("kv-deleted", rsa(), Some((Method::DELETE, None))),
        ("kv-ec", json!({"kty": "EC", "curveName": "P-256"}), None),
    ];
    for (vault, key, change) in cases {
        e.vault(vault, json!({}), key).await;
        e.access_policy(vault, &["get", "wrapKey", "unwrapKey"])
            .await;
        if let Some((method, body)) = change {
            e.admin_key(vault, method, body).await;
        }
        assert_eq!(
            e.switch_to(vault).await,
            (
                StatusCode::BAD_REQUEST,
                "KeyVaultAuthenticationFailure".into()
            ),
            "{vault}"
        );
    }
}

#[tokio::test]
async fn a_vault_firewall_closed_to_trusted_services_is_refused() {
    let e = estate(fast_settings()).await;
    e.vault(
        "kv-closed",
        json!({"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}),
        rsa(),
    )
    .await;
    e.access_policy("kv-closed", &["get", "wrapKey", "unwrapKey"])
        .await;
    assert_eq!(
        e.switch_to("kv-closed").await,
        (
            StatusCode::BAD_REQUEST,
            "KeyVaultAuthenticationFailure".into()
        )
    );
    e.vault(
        "kv-trusted",
        json!({"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}),
        rsa(),
    )
    .await;
    e.access_policy("kv-trusted", &["get", "wrapKey", "unwrapKey"])
        .await;
    assert_eq!(e.switch_to("kv-trusted").await.0, StatusCode::OK);
}

#[tokio::test]
async fn rbac_vaults_need_a_key_role_and_ignore_access_policies() {
    let e = estate(fast_settings()).await;
    e.vault("kv-rbac", json!({"enableRbacAuthorization": true}), rsa())
        .await;
    e.access_policy("kv-rbac", &["get", "wrapKey", "unwrapKey"])
        .await;
    assert_eq!(
        e.switch_to("kv-rbac").await.1,
        "KeyVaultAuthenticationFailure",
        "access policies do nothing on an RBAC vault"
    );
    e.role("kv-rbac", OWNER).await;
    assert_eq!(
        e.switch_to("kv-rbac").await.1,
        "KeyVaultAuthenticationFailure",
        "Owner is a control-plane role"
    );
    e.role("kv-rbac", CRYPTO_SERVICE_ENCRYPTION_USER).await;
    assert_eq!(
        e.switch_to("kv-rbac").await,
        (StatusCode::OK, String::new())
    );
}

#[tokio::test]
async fn grants_take_effect_only_after_propagation() {
    let mut settings = fast_settings();
    settings.grant_propagation_ms = 1500;
    let e = estate(settings).await;
    e.vault("kv-slow", json!({}), rsa()).await;
    e.access_policy("kv-slow", &["get", "wrapKey", "unwrapKey"])
        .await;
    assert_eq!(
        e.switch_to("kv-slow").await,
        (
            StatusCode::BAD_REQUEST,
            "KeyVaultAuthenticationFailure".into()
        ),
        "right after the grant"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert_eq!(
        e.switch_to("kv-slow").await.0,
        StatusCode::OK,
        "once the grant has propagated"
    );
}

#[tokio::test]
async fn per_operation_latency_applies_to_the_named_operation() {
    let e = estate(fast_settings()).await;
    e.env
        .patch_settings(json!({"faults": {"operationLatencyMs": {"Vaults_Get": 400}}}))
        .await;
    e.vault("kv-lat", json!({}), rsa()).await;
    let timed = |path: String| {
        let env = &e.env;
        async move {
            let started = std::time::Instant::now();
            let a = env.arm(Method::GET, &path, None).await;
            assert!(a.status.is_success(), "{:?}", a.body);
            started.elapsed()
        }
    };
    let slow = timed(format!(
        "{}/providers/Microsoft.KeyVault/vaults/kv-lat?api-version=2023-07-01",
        base()
    ))
    .await;
    assert!(slow >= std::time::Duration::from_millis(400), "{slow:?}");
    let log = e.env.requests().await;
    let last = log.last().unwrap();
    assert_eq!(last["operation"], "Vaults_Get");
}
