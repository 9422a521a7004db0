//! A small ARM client for building the demo estate in the emulator, the way
//! a user's own tooling would: ordinary ARM calls over HTTPS with a token
//! from the emulator's token endpoint, trusting only the emulator's CA. Only
//! subscriptions (which ARM cannot create) go through the admin API.
//!
//! Every call must succeed; a failure names the call and Azure's answer.

use crate::emulator::Connection;
use anyhow::{anyhow, bail, Context};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use super::requests::{self, Request, ROLE_API};
pub use super::requests::{resource_group_id, storage_account_id, CRYPTO_SERVICE_ENCRYPTION_USER};

/// How long a create may stay in progress before seeding gives up.
const PROVISIONING_TIMEOUT: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(50);

pub struct Seeder {
    http: reqwest::Client,
    endpoint: String,
    tenant_id: String,
    admin_key: String,
    token: String,
    /// The emulated cloud's vault DNS suffix, for the key URIs it sets.
    key_vault_dns: &'static str,
}

/// A storage account on a customer-managed key, and what it depends on.
#[derive(Debug, Clone)]
pub struct CmkSetup {
    pub account_id: String,
    /// The grant that gives the identity the key: a role assignment id on an
    /// RBAC vault, `None` for an access policy.
    pub role_assignment_id: Option<String>,
}

impl Seeder {
    /// Signs in as the emulator's own service principal.
    pub async fn connect(connection: &Connection, ca_pem: &str) -> anyhow::Result<Seeder> {
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
            .context("reading the emulator's CA certificate")?;
        let http = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTPS client for the emulator")?;
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            connection.authority_host, connection.tenant_id
        );
        let response = http
            .post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", connection.client_id.as_str()),
                ("client_secret", connection.client_secret.as_str()),
                ("scope", connection.token_scope.as_str()),
            ])
            .send()
            .await
            .with_context(|| format!("signing in at the emulator's token endpoint {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let token = body["access_token"]
            .as_str()
            .filter(|_| status == StatusCode::OK)
            .ok_or_else(|| {
                anyhow!(
                    "the emulator's token endpoint answered {status}: {}",
                    body["error_description"].as_str().unwrap_or("no token")
                )
            })?
            .to_string();
        Ok(Seeder {
            http,
            endpoint: connection.endpoint.clone(),
            tenant_id: connection.tenant_id.clone(),
            admin_key: connection.admin_key.clone(),
            token,
            key_vault_dns: connection.cloud.key_vault_dns(),
        })
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        admin: bool,
    ) -> anyhow::Result<(StatusCode, reqwest::header::HeaderMap, Value)> {
        let mut request = self.http.request(method.clone(), url);
        request = if admin {
            request.header("x-emulator-key", &self.admin_key)
        } else {
            request.bearer_auth(&self.token)
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let code = body
                .pointer("/error/code")
                .or_else(|| body.get("code"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            bail!("{method} {url} answered {status} {code}: {text}");
        }
        Ok((status, headers, body))
    }

    /// An ARM call; `path` includes the api-version.
    pub async fn arm(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.endpoint);
        Ok(self.send(method, &url, body.as_ref(), false).await?.2)
    }

    /// A call to the emulator's admin API (`/_emulator{path}`).
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/_emulator{path}", self.endpoint);
        Ok(self.send(method, &url, body.as_ref(), true).await?.2)
    }

    /// Sends one of the estate's requests (module `requests`).
    async fn request(&self, request: Request) -> anyhow::Result<Value> {
        self.arm(request.method, &request.path, request.body).await
    }

    pub async fn subscription(&self, id: &str, display_name: &str) -> anyhow::Result<()> {
        self.admin(
            Method::PUT,
            &format!("/subscriptions/{id}"),
            Some(json!({"displayName": display_name, "state": "Enabled"})),
        )
        .await
        .map(drop)
    }

    pub async fn resource_group(
        &self,
        subscription: &str,
        group: &str,
        location: &str,
    ) -> anyhow::Result<()> {
        self.request(requests::resource_group(subscription, group, location))
            .await
            .map(drop)
    }

    /// A StorageV2 account on Microsoft-managed keys (and its resource
    /// group), created as ARM does it: 202, then polled until done.
    pub async fn storage_account(
        &self,
        subscription: &str,
        group: &str,
        name: &str,
        location: &str,
        tags: Value,
    ) -> anyhow::Result<String> {
        self.resource_group(subscription, group, location).await?;
        let id = storage_account_id(subscription, group, name);
        let request = requests::storage_account(&id, location, Some(tags));
        let url = format!("{}{}", self.endpoint, request.path);
        let (mut status, mut headers, _) = self
            .send(request.method, &url, request.body.as_ref(), false)
            .await?;
        let deadline = Instant::now() + PROVISIONING_TIMEOUT;
        while status == StatusCode::ACCEPTED {
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| anyhow!("creating {id}: 202 without a Location to poll"))?;
            let poll = if location.starts_with("http") {
                location.to_string()
            } else {
                format!("{}{location}", self.endpoint)
            };
            if Instant::now() > deadline {
                bail!("creating {id}: still in progress after {PROVISIONING_TIMEOUT:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            (status, headers, _) = self.send(Method::GET, &poll, None, false).await?;
        }
        Ok(id)
    }

    /// Gives an account a system-assigned identity.
    pub async fn system_identity(&self, account_id: &str) -> anyhow::Result<()> {
        self.arm(
            Method::PATCH,
            &format!("{account_id}?{}", requests::STORAGE_API),
            Some(json!({"identity": {"type": "SystemAssigned"}})),
        )
        .await
        .map(drop)
    }

    /// A user-assigned identity: (id, principal id).
    pub async fn identity(
        &self,
        subscription: &str,
        group: &str,
        name: &str,
        location: &str,
    ) -> anyhow::Result<(String, String)> {
        let id = requests::identity_id(subscription, group, name);
        let body = self.request(requests::identity(&id, location)).await?;
        let principal = body["properties"]["principalId"]
            .as_str()
            .ok_or_else(|| anyhow!("the identity {id} came back without a principalId"))?;
        Ok((id, principal.to_string()))
    }

    /// A vault with soft delete and purge protection, waited for until provisioned.
    pub async fn vault(
        &self,
        subscription: &str,
        group: &str,
        name: &str,
        location: &str,
        rbac: bool,
    ) -> anyhow::Result<String> {
        let id = requests::vault_id(subscription, group, name);
        let extra = json!({"enableRbacAuthorization": rbac});
        let request = requests::vault(&id, location, &self.tenant_id, &extra);
        let path = request.path.clone();
        self.request(request).await?;
        let deadline = Instant::now() + PROVISIONING_TIMEOUT;
        loop {
            let vault = self.arm(Method::GET, &path, None).await?;
            if vault["properties"]["provisioningState"] == "Succeeded" {
                return Ok(id);
            }
            if Instant::now() > deadline {
                bail!("the vault {id} is still not provisioned after {PROVISIONING_TIMEOUT:?}");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// An RSA key of `size` bits.
    pub async fn key(&self, vault_id: &str, name: &str, size: u32) -> anyhow::Result<()> {
        let properties = json!({"kty": "RSA", "keySize": size});
        self.request(requests::key(vault_id, name, properties))
            .await
            .map(drop)
    }

    /// get, wrapKey and unwrapKey for `principal` in an access-policy vault.
    pub async fn key_access_policy(&self, vault_id: &str, principal: &str) -> anyhow::Result<()> {
        let keys = requests::STORAGE_KEY_PERMISSIONS;
        self.request(requests::access_policy(
            vault_id,
            &self.tenant_id,
            principal,
            &keys,
        ))
        .await
        .map(drop)
    }

    /// Key Vault Crypto Service Encryption User for `principal` at `scope`; returns its id.
    pub async fn key_role_assignment(
        &self,
        subscription: &str,
        scope: &str,
        principal: &str,
    ) -> anyhow::Result<String> {
        let role = format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}");
        let (id, request) = requests::role_assignment(scope, principal, &role);
        self.request(request).await?;
        Ok(id)
    }

    pub async fn delete_role_assignment(&self, id: &str) -> anyhow::Result<()> {
        self.arm(Method::DELETE, &format!("{id}?{ROLE_API}"), None)
            .await
            .map(drop)
    }

    /// A healthy CMK setup: account, user-assigned identity, vault (RBAC or
    /// access policy), RSA 3072 key `key`, the grant, and the switch.
    #[allow(clippy::too_many_arguments)]
    pub async fn cmk_account(
        &self,
        subscription: &str,
        group: &str,
        name: &str,
        vault_name: &str,
        key: &str,
        location: &str,
        rbac: bool,
        tags: Value,
    ) -> anyhow::Result<CmkSetup> {
        let account_id = self
            .storage_account(subscription, group, name, location, tags)
            .await?;
        let (identity_id, principal_id) = self
            .identity(subscription, group, &format!("id-{name}"), location)
            .await?;
        let vault_id = self
            .vault(subscription, group, vault_name, location, rbac)
            .await?;
        self.key(&vault_id, key, 3072).await?;
        let role_assignment_id = if rbac {
            Some(
                self.key_role_assignment(subscription, &vault_id, &principal_id)
                    .await?,
            )
        } else {
            self.key_access_policy(&vault_id, &principal_id).await?;
            None
        };
        self.request(requests::switch_to_key_at(
            &account_id,
            &format!(
                "https://{}.{}/",
                vault_name.to_ascii_lowercase(),
                self.key_vault_dns
            ),
            key,
            &identity_id,
            "Microsoft.Keyvault",
        ))
        .await?;
        Ok(CmkSetup {
            account_id,
            role_assignment_id,
        })
    }

    /// A subscription diagnostic setting sending the activity log's
    /// Administrative, Security and Policy categories to `storage_id`.
    pub async fn diagnostic_setting(
        &self,
        subscription: &str,
        name: &str,
        storage_id: &str,
    ) -> anyhow::Result<()> {
        let categories = ["Administrative", "Security", "Policy"];
        self.request(requests::diagnostic_setting(
            subscription,
            name,
            storage_id,
            &categories,
            true,
        ))
        .await
        .map(drop)
    }

    /// A management group under the tenant root group, with `subscriptions` moved under it.
    pub async fn management_group(
        &self,
        group: &str,
        display_name: &str,
        subscriptions: &[&str],
    ) -> anyhow::Result<()> {
        self.request(requests::management_group(group, display_name, None))
            .await?;
        for subscription in subscriptions {
            self.request(requests::management_group_subscription(group, subscription))
                .await?;
        }
        Ok(())
    }

    /// A management group's diagnostic setting sending both of its
    /// activity-log categories (Administrative, Policy) to `storage_id`.
    pub async fn management_group_setting(
        &self,
        group: &str,
        name: &str,
        storage_id: &str,
    ) -> anyhow::Result<()> {
        let categories = ["Administrative", "Policy"];
        self.request(requests::management_group_diagnostic_setting(
            group,
            name,
            storage_id,
            &categories,
            true,
        ))
        .await
        .map(drop)
    }

    /// A legacy log profile exporting writes, deletes and actions to `storage_id`.
    pub async fn log_profile(
        &self,
        subscription: &str,
        name: &str,
        storage_id: &str,
    ) -> anyhow::Result<()> {
        let locations = ["global", "westeurope", "northeurope"];
        self.request(requests::log_profile(
            subscription,
            name,
            storage_id,
            &locations,
            365,
        ))
        .await
        .map(drop)
    }

    /// Replaces the emulator's settings (`PUT /_emulator/settings`).
    pub async fn settings(
        &self,
        settings: &crate::emulator::settings::Settings,
    ) -> anyhow::Result<()> {
        self.admin(
            Method::PUT,
            "/settings",
            Some(serde_json::to_value(settings).context("serialising the emulator settings")?),
        )
        .await
        .map(drop)
    }
}
