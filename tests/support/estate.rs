//! Builds Azure estates in the emulator through its ARM API, as a user's
//! own tooling would: accounts, identities, vaults, keys, grants, CMK
//! switches, diagnostic settings and log profiles. Every call must succeed.

use super::Env;
use reqwest::Method;
use serde_json::{json, Value};

pub const STORAGE_API: &str = "api-version=2023-05-01";
pub const VAULT_API: &str = "api-version=2023-07-01";
pub const MSI_API: &str = "api-version=2023-01-31";
pub const CRYPTO_SERVICE_ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

/// An account on a customer-managed key, and what it depends on.
#[derive(Debug, Clone)]
pub struct CmkAccount {
    pub account_id: String,
    pub vault_id: String,
    pub vault_name: String,
    pub identity_id: String,
    pub principal_id: String,
}

pub fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

pub fn account_id(sub: &str, rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Storage/storageAccounts/{name}",
        rg_id(sub, rg)
    )
}

impl Env {
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let a = self.arm(method.clone(), path, body).await;
        assert!(a.status.is_success(), "{method} {path}: {:?}", a.body);
        a.body
    }

    /// A StorageV2 account (and its resource group), Microsoft-managed keys.
    pub async fn storage_account(&self, sub: &str, rg: &str, name: &str) -> String {
        self.put_resource_group(sub, rg, "westeurope").await;
        let id = account_id(sub, rg, name);
        self.ok(
            Method::PUT,
            &format!("{id}?{STORAGE_API}"),
            Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
        id
    }

    /// A user-assigned identity: (id, principal id).
    pub async fn identity(&self, sub: &str, rg: &str, name: &str) -> (String, String) {
        self.put_resource_group(sub, rg, "westeurope").await;
        let id = format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            rg_id(sub, rg)
        );
        let body = self
            .ok(
                Method::PUT,
                &format!("{id}?{MSI_API}"),
                Some(json!({"location": "westeurope"})),
            )
            .await;
        (
            id,
            body["properties"]["principalId"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }

    /// A vault with soft delete and purge protection; `extra` adds properties.
    pub async fn vault(&self, sub: &str, rg: &str, name: &str, extra: Value) -> String {
        self.put_resource_group(sub, rg, "westeurope").await;
        let id = format!(
            "{}/providers/Microsoft.KeyVault/vaults/{name}",
            rg_id(sub, rg)
        );
        let mut properties = json!({
            "tenantId": self.emu.connection.tenant_id,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
            "enableSoftDelete": true,
            "enablePurgeProtection": true,
        });
        for (k, v) in extra.as_object().unwrap() {
            properties[k] = v.clone();
        }
        self.ok(
            Method::PUT,
            &format!("{id}?{VAULT_API}"),
            Some(json!({"location": "westeurope", "properties": properties})),
        )
        .await;
        id
    }

    pub async fn key(&self, vault_id: &str, name: &str, properties: Value) {
        self.ok(
            Method::PUT,
            &format!("{vault_id}/keys/{name}?{VAULT_API}"),
            Some(json!({"properties": properties})),
        )
        .await;
    }

    pub async fn access_policy(&self, vault_id: &str, principal: &str, keys: &[&str]) {
        self.ok(
            Method::PUT,
            &format!("{vault_id}/accessPolicies/add?{VAULT_API}"),
            Some(json!({"properties": {"accessPolicies": [{
                "tenantId": self.emu.connection.tenant_id, "objectId": principal,
                "permissions": {"keys": keys}}]}})),
        )
        .await;
    }

    pub async fn role_assignment(&self, scope: &str, principal: &str, role: &str) -> String {
        let id = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
            uuid::Uuid::new_v4()
        );
        self.ok(
            Method::PUT,
            &format!("{id}?api-version=2022-04-01"),
            Some(json!({"properties": {
                "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": principal, "principalType": "ServicePrincipal"}})),
        )
        .await;
        id
    }

    /// Assigns `identity_id` to the account and switches it to the key,
    /// spelling the key source `key_source` (Azure accepts any casing).
    pub async fn switch_to_cmk(
        &self,
        account_id: &str,
        vault_name: &str,
        key: &str,
        identity_id: &str,
        key_source: &str,
    ) {
        self.ok(
            Method::PATCH,
            &format!("{account_id}?{STORAGE_API}"),
            Some(json!({
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
                "properties": {"encryption": {"keySource": key_source,
                    "keyvaultproperties": {"keyvaulturi": format!("https://{vault_name}.vault.azure.net/"), "keyname": key},
                    "identity": {"userAssignedIdentity": identity_id}}}})),
        )
        .await;
    }

    /// A healthy CMK setup: account, identity, vault (`rbac` or access
    /// policy), RSA 3072 key `cmk`, the grant, and the switch.
    pub async fn cmk_account(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        vault_name: &str,
        rbac: bool,
    ) -> CmkAccount {
        let account_id = self.storage_account(sub, rg, name).await;
        let (identity_id, principal_id) = self.identity(sub, rg, &format!("id-{name}")).await;
        let vault_id = self
            .vault(
                sub,
                rg,
                vault_name,
                json!({"enableRbacAuthorization": rbac}),
            )
            .await;
        self.key(&vault_id, "cmk", json!({"kty": "RSA", "keySize": 3072}))
            .await;
        if rbac {
            self.role_assignment(&vault_id, &principal_id, CRYPTO_SERVICE_ENCRYPTION_USER)
                .await;
        } else {
            self.access_policy(&vault_id, &principal_id, &["get", "wrapKey", "unwrapKey"])
                .await;
        }
        self.switch_to_cmk(
            &account_id,
            vault_name,
            "cmk",
            &identity_id,
            "Microsoft.Keyvault",
        )
        .await;
        CmkAccount {
            account_id,
            vault_id,
            vault_name: vault_name.to_string(),
            identity_id,
            principal_id,
        }
    }

    /// A subscription diagnostic setting sending the Administrative and
    /// Security categories (or none) to `storage_id`.
    pub async fn diagnostic_setting(&self, sub: &str, name: &str, storage_id: &str, enabled: bool) {
        let logs: Vec<Value> = ["Administrative", "Security"]
            .iter()
            .map(|c| json!({"category": c, "enabled": enabled}))
            .collect();
        self.ok(
            Method::PUT,
            &format!("/subscriptions/{sub}/providers/Microsoft.Insights/diagnosticSettings/{name}?api-version=2021-05-01-preview"),
            Some(json!({"properties": {"storageAccountId": storage_id, "logs": logs}})),
        )
        .await;
    }

    pub async fn log_profile(&self, sub: &str, name: &str, storage_id: &str) {
        self.ok(
            Method::PUT,
            &format!("/subscriptions/{sub}/providers/Microsoft.Insights/logprofiles/{name}?api-version=2016-03-01"),
            Some(json!({"location": "westeurope", "properties": {
                "storageAccountId": storage_id,
                "locations": ["global", "westeurope"],
                "categories": ["Write", "Delete", "Action"],
                "retentionPolicy": {"enabled": false, "days": 0}}})),
        )
        .await;
    }

    /// Edits the emulator's state directly, for states Azure's API would
    /// not let a client create (e.g. a vault from before purge protection).
    pub async fn edit_state(&self, edit: impl FnOnce(&mut Value)) {
        let mut state = self.admin(Method::GET, "/state", None).await.body;
        edit(&mut state);
        let a = self.admin(Method::PUT, "/state", Some(state)).await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }

    /// Gives the emulator's own principal 403 on these scopes.
    pub async fn deny(&self, scopes: &[&str]) {
        let c = &self.emu.connection;
        let a = self
            .admin(
                Method::PUT,
                &format!("/principals/{}", c.client_id),
                Some(json!({"clientSecret": c.client_secret, "objectId": c.object_id, "deniedScopes": scopes})),
            )
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }

    /// ARM requests the tool made (token and admin calls excluded).
    pub async fn arm_requests(&self) -> Vec<Value> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                !path.starts_with("/_emulator") && !path.contains("/oauth2/")
            })
            .collect()
    }

    /// Ids (lower case) of the subscription's resources of one type (Resources_List).
    pub async fn resources_of_type(&self, sub: &str, resource_type: &str) -> Vec<String> {
        let filter = format!("resourceType eq '{resource_type}'");
        let query = serde_urlencoded::to_string([
            ("$filter", filter.as_str()),
            ("api-version", "2024-03-01"),
        ])
        .unwrap();
        let a = self
            .arm(
                Method::GET,
                &format!("/subscriptions/{sub}/resources?{query}"),
                None,
            )
            .await;
        assert!(a.status.is_success(), "{:?}", a.body);
        a.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_lowercase())
            .collect()
    }

    /// Forget the request log, so a test sees only what the tool does next.
    pub async fn clear_requests(&self) {
        let a = self.admin(Method::DELETE, "/requests", None).await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }
}
