//! Builds Azure estates in the emulator through its ARM API, as a user's
//! own tooling would: accounts, identities, vaults, keys, grants, CMK
//! switches, diagnostic settings and log profiles. Every call must succeed.
//! The requests themselves are the demo's (`actlog_cmk::demo::requests`):
//! this module sends them as a test does, asserting each one.

use super::{Env, SUB1, SUB2};
use actlog_cmk::demo::requests::{self, Request};
pub use actlog_cmk::demo::requests::{
    CRYPTO_SERVICE_ENCRYPTION_USER, MSI_API, STORAGE_API, VAULT_API,
};
use reqwest::Method;
use serde_json::{json, Value};

/// An account on a customer-managed key, and what it depends on.
#[derive(Debug, Clone)]
pub struct CmkAccount {
    pub account_id: String,
    pub vault_id: String,
    pub vault_name: String,
    pub identity_id: String,
    pub principal_id: String,
    /// The grant's id, on an RBAC vault (an access policy has none).
    pub role_assignment_id: Option<String>,
}

/// The parts of a CMK setup, for tests that name them or need another key
/// size or key source spelling than `cmk_account`'s.
pub struct CmkSetup<'a> {
    pub sub: &'a str,
    pub rg: &'a str,
    pub account: &'a str,
    pub identity: &'a str,
    pub vault: &'a str,
    /// Role assignment on an RBAC vault, else an access policy.
    pub rbac: bool,
    pub key_size: u32,
    /// Azure accepts any casing of `Microsoft.Keyvault`; the audit must too.
    pub key_source: &'a str,
}

pub fn rg_id(sub: &str, rg: &str) -> String {
    requests::resource_group_id(sub, rg)
}

/// The user-assigned identities in an `identity` block, lower case.
pub fn user_assigned(identity: &Value) -> Vec<String> {
    identity["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().map(|k| k.to_lowercase()).collect())
        .unwrap_or_default()
}

pub fn account_id(sub: &str, rg: &str, name: &str) -> String {
    requests::storage_account_id(sub, rg, name)
}

impl Env {
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let a = self.arm(method.clone(), path, body).await;
        assert!(a.status.is_success(), "{method} {path}: {:?}", a.body);
        a.body
    }

    /// Sends one of the estate's requests; it must succeed.
    async fn send(&self, request: Request) -> Value {
        self.ok(request.method, &request.path, request.body).await
    }

    /// A StorageV2 account (and its resource group), Microsoft-managed keys.
    pub async fn storage_account(&self, sub: &str, rg: &str, name: &str) -> String {
        self.put_resource_group(sub, rg, "westeurope").await;
        let id = account_id(sub, rg, name);
        self.send(requests::storage_account(&id, "westeurope", None))
            .await;
        id
    }

    /// A user-assigned identity: (id, principal id).
    pub async fn identity(&self, sub: &str, rg: &str, name: &str) -> (String, String) {
        self.put_resource_group(sub, rg, "westeurope").await;
        let id = requests::identity_id(sub, rg, name);
        let body = self.send(requests::identity(&id, "westeurope")).await;
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
        let id = requests::vault_id(sub, rg, name);
        let tenant = &self.emu.connection.tenant_id;
        self.send(requests::vault(&id, "westeurope", tenant, &extra))
            .await;
        id
    }

    pub async fn key(&self, vault_id: &str, name: &str, properties: Value) {
        self.send(requests::key(vault_id, name, properties)).await;
    }

    pub async fn access_policy(&self, vault_id: &str, principal: &str, keys: &[&str]) {
        let tenant = &self.emu.connection.tenant_id;
        self.send(requests::access_policy(vault_id, tenant, principal, keys))
            .await;
    }

    pub async fn role_assignment(&self, scope: &str, principal: &str, role: &str) -> String {
        let role = format!("/providers/Microsoft.Authorization/roleDefinitions/{role}");
        let (id, request) = requests::role_assignment(scope, principal, &role);
        self.send(request).await;
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
        self.send(requests::switch_to_cmk(
            account_id,
            vault_name,
            key,
            identity_id,
            key_source,
        ))
        .await;
    }

    /// A healthy CMK setup: account, identity `id-{name}`, vault (`rbac` or
    /// access policy), RSA 3072 key `cmk`, the grant, and the switch.
    pub async fn cmk_account(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        vault_name: &str,
        rbac: bool,
    ) -> CmkAccount {
        self.cmk_account_with(&CmkSetup {
            sub,
            rg,
            account: name,
            identity: &format!("id-{name}"),
            vault: vault_name,
            rbac,
            key_size: 3072,
            key_source: "Microsoft.Keyvault",
        })
        .await
    }

    /// A healthy CMK setup as `setup` says: account, identity, vault, RSA key
    /// `cmk`, the grant, and the switch.
    pub async fn cmk_account_with(&self, setup: &CmkSetup<'_>) -> CmkAccount {
        let CmkSetup { sub, rg, .. } = *setup;
        let account_id = self.storage_account(sub, rg, setup.account).await;
        let (identity_id, principal_id) = self.identity(sub, rg, setup.identity).await;
        let vault_id = self
            .vault(
                sub,
                rg,
                setup.vault,
                json!({"enableRbacAuthorization": setup.rbac}),
            )
            .await;
        self.key(
            &vault_id,
            "cmk",
            json!({"kty": "RSA", "keySize": setup.key_size}),
        )
        .await;
        let role_assignment_id = if setup.rbac {
            Some(
                self.role_assignment(&vault_id, &principal_id, CRYPTO_SERVICE_ENCRYPTION_USER)
                    .await,
            )
        } else {
            self.access_policy(&vault_id, &principal_id, &requests::STORAGE_KEY_PERMISSIONS)
                .await;
            None
        };
        self.switch_to_cmk(
            &account_id,
            setup.vault,
            "cmk",
            &identity_id,
            setup.key_source,
        )
        .await;
        CmkAccount {
            account_id,
            vault_id,
            vault_name: setup.vault.to_string(),
            identity_id,
            principal_id,
            role_assignment_id,
        }
    }

    /// Gives the account a system-assigned identity and the user-assigned
    /// `identity_id`: identities that apply and rollback must keep.
    pub async fn give_system_and_user_identity(&self, account_id: &str, identity_id: &str) {
        self.ok(
            Method::PATCH,
            &format!("{account_id}?{STORAGE_API}"),
            Some(json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {identity_id: {}}}})),
        )
        .await;
    }

    /// The estate apply and rollback start from, in two subscriptions: a
    /// plain account, and one with a system-assigned identity and another
    /// user-assigned identity. Returns (plain, held, other identity).
    pub async fn plain_and_held_accounts(&self) -> (String, String, String) {
        self.add_subscription(SUB1, "prod").await;
        self.add_subscription(SUB2, "dev").await;
        let plain = self.storage_account(SUB1, "rg-app", "stplain").await;
        self.diagnostic_setting(SUB1, "to-plain", &plain, true)
            .await;
        let held = self.storage_account(SUB2, "rg-held", "stheld").await;
        let (other, _) = self.identity(SUB2, "rg-held", "id-other").await;
        self.give_system_and_user_identity(&held, &other).await;
        self.diagnostic_setting(SUB2, "to-held", &held, true).await;
        (plain, held, other)
    }

    /// The account's `identity` block, as ARM answers it.
    pub async fn identities_of(&self, account_id: &str) -> Value {
        self.ok(Method::GET, &format!("{account_id}?{STORAGE_API}"), None)
            .await["identity"]
            .clone()
    }

    /// A subscription diagnostic setting sending the Administrative and
    /// Security categories (or none) to `storage_id`.
    pub async fn diagnostic_setting(&self, sub: &str, name: &str, storage_id: &str, enabled: bool) {
        let categories = ["Administrative", "Security"];
        self.send(requests::diagnostic_setting(
            sub,
            name,
            storage_id,
            &categories,
            enabled,
        ))
        .await;
    }

    /// A management group under `parent` (the root group when `None`).
    pub async fn management_group(&self, group: &str, parent: Option<&str>) {
        self.send(requests::management_group(group, group, parent))
            .await;
    }

    /// Moves `sub` under management group `group`.
    pub async fn move_subscription(&self, group: &str, sub: &str) {
        self.send(requests::management_group_subscription(group, sub))
            .await;
    }

    /// A management group's diagnostic setting sending its Administrative
    /// and Policy categories to `storage_id`.
    pub async fn management_group_setting(&self, group: &str, name: &str, storage_id: &str) {
        let categories = ["Administrative", "Policy"];
        self.send(requests::management_group_diagnostic_setting(
            group,
            name,
            storage_id,
            &categories,
            true,
        ))
        .await;
    }

    pub async fn log_profile(&self, sub: &str, name: &str, storage_id: &str) {
        let locations = ["global", "westeurope"];
        self.send(requests::log_profile(sub, name, storage_id, &locations, 0))
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

    /// Takes purge protection off a vault, as on one from before it was
    /// required (Azure's API cannot turn it off).
    pub async fn without_purge_protection(&self, vault_name: &str) {
        self.edit_state(|state| {
            for v in state["keyvault"]["vaults"]
                .as_object_mut()
                .unwrap()
                .values_mut()
            {
                if v["name"] == vault_name {
                    v["enablePurgeProtection"] = json!(false);
                }
            }
        })
        .await;
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

    /// The ids of a subscription's live resources of one type, lower case,
    /// as the emulator holds them. Not through Resources_List: under the
    /// field profile ARM's index lags creates by seconds, and a test that
    /// checks "nothing was created twice" must see everything that exists.
    pub async fn resources_of_type(&self, sub: &str, resource_type: &str) -> Vec<String> {
        let section = match resource_type {
            "Microsoft.KeyVault/vaults" => "/keyvault/vaults",
            "Microsoft.ManagedIdentity/userAssignedIdentities" => "/msi/by_id",
            "Microsoft.Storage/storageAccounts" => "/storage/accounts",
            other => panic!("resources_of_type: no emulator state for {other}"),
        };
        let state = self.admin(Method::GET, "/state", None).await;
        assert!(state.status.is_success(), "{:?}", state.body);
        let prefix = format!("/subscriptions/{sub}/").to_lowercase();
        let mut ids: Vec<String> = state
            .body
            .pointer(section)
            .and_then(Value::as_object)
            .map(|resources| {
                resources
                    .values()
                    .filter_map(|r| r["id"].as_str())
                    .map(str::to_lowercase)
                    .filter(|id| id.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// The ids of a subscription's resources of one type as ARM's index
    /// (Resources_List, first page) lists them now, lower case: what a
    /// client that trusts the index would see.
    pub async fn indexed_resources_of_type(&self, sub: &str, resource_type: &str) -> Vec<String> {
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
