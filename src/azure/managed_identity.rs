//! `--auth managed-identity` on every host azure_identity 0.21 misses. Its
//! App Service credential reads `IDENTITY_ENDPOINT` but cannot ask for a
//! user-assigned identity (its `client_id` choice is crate-private), and its
//! VM credential only knows the instance metadata service. This credential
//! asks the host's endpoint itself: `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`
//! (App Service, Functions, Container Apps; protocol 2019-08-01) when both
//! are set, else the instance metadata service (VMs, scale sets, AKS);
//! `AZURE_CLIENT_ID` selects a user-assigned identity on either. Requests go
//! through the connection's own HTTP client, so `--ca-file` and proxies apply.

use azure_core::auth::{AccessToken, TokenCredential};
use azure_core::error::ErrorKind;
use azure_core::{HttpClient, Method, Request, Url};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const IMDS: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
const IMDS_API_VERSION: &str = "2018-02-01";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
/// Tokens this close to expiry are asked for again.
const REFRESH_MARGIN_SECS: i64 = 300;

/// Where the host hands out tokens.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    AppService { endpoint: String, header: String },
    Imds,
}

#[derive(Debug)]
pub struct ManagedIdentity {
    http: Arc<dyn HttpClient>,
    source: Source,
    client_id: Option<String>,
    /// Tokens by resource, with their expiry in seconds since the epoch.
    cache: Mutex<HashMap<String, (AccessToken, i64)>>,
}

/// The host's answer; `expires_on` is a string of epoch seconds (App
/// Service) or a number (some IMDS versions).
#[derive(Deserialize)]
struct Answer {
    access_token: String,
    expires_on: serde_json::Value,
}

impl ManagedIdentity {
    /// The credential the variables `var` reads select.
    pub fn from_env(http: Arc<dyn HttpClient>, var: &dyn Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let source = match (set("IDENTITY_ENDPOINT"), set("IDENTITY_HEADER")) {
            (Some(endpoint), Some(header)) => Source::AppService { endpoint, header },
            _ => Source::Imds,
        };
        Self {
            http,
            source,
            client_id: set("AZURE_CLIENT_ID"),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The endpoint asked, as error messages name it.
    fn described(&self) -> String {
        match &self.source {
            Source::AppService { endpoint, .. } => format!("the IDENTITY_ENDPOINT {endpoint}"),
            Source::Imds => format!("the instance metadata service at {IMDS}"),
        }
    }

    fn request(&self, resource: &str) -> azure_core::Result<Request> {
        let (endpoint, api_version) = match &self.source {
            Source::AppService { endpoint, .. } => (endpoint.as_str(), APP_SERVICE_API_VERSION),
            Source::Imds => (IMDS, IMDS_API_VERSION),
        };
        let mut url = Url::parse(endpoint).map_err(|e| {
            azure_core::Error::message(
                ErrorKind::Credential,
                format!("IDENTITY_ENDPOINT is not a URL ({e}): {endpoint}"),
            )
        })?;
        url.query_pairs_mut()
            .append_pair("api-version", api_version)
            .append_pair("resource", resource);
        if let Some(client_id) = &self.client_id {
            url.query_pairs_mut().append_pair("client_id", client_id);
        }
        let mut request = Request::new(url, Method::Get);
        match &self.source {
            Source::AppService { header, .. } => {
                request.insert_header("x-identity-header", header.clone())
            }
            Source::Imds => request.insert_header("metadata", "true"),
        }
        Ok(request)
    }

    async fn fetch(&self, resource: &str) -> azure_core::Result<(AccessToken, i64)> {
        let request = self.request(resource)?;
        let failed = |got: String| {
            azure_core::Error::message(
                ErrorKind::Credential,
                format!(
                    "no managed identity endpoint answered ({} gave: {got}). Run on an Azure VM, scale set, App Service, Functions app or container that has a managed identity, or choose another --auth",
                    self.described()
                ),
            )
        };
        let answer = self
            .http
            .execute_request(&request)
            .await
            .map_err(|e| failed(super::retry::deepest(&e)))?;
        let (status, _, body) = answer.deconstruct();
        let body = body.collect().await?;
        if status == azure_core::StatusCode::BadRequest {
            // What azure_identity says for a host without the identity asked for.
            let which = match self.client_id {
                Some(_) => "the identity AZURE_CLIENT_ID names",
                None => "a system-assigned identity",
            };
            return Err(azure_core::Error::message(
                ErrorKind::Credential,
                format!(
                    "the requested identity has not been assigned to this resource ({} has no {which})",
                    self.described()
                ),
            ));
        }
        if !status.is_success() {
            return Err(failed(format!("HTTP {}", u16::from(status))));
        }
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|e| failed(format!("an answer that is not a token ({e})")))?;
        let expires = match &answer.expires_on {
            serde_json::Value::String(s) => s.parse::<i64>().ok(),
            other => other.as_i64(),
        }
        .ok_or_else(|| failed("a token without a readable expires_on".into()))?;
        let when = chrono::DateTime::from_timestamp(expires, 0)
            .ok_or_else(|| failed("a token without a readable expires_on".into()))?;
        let expires_on = azure_core::date::parse_rfc3339(&when.to_rfc3339())?;
        Ok((AccessToken::new(answer.access_token, expires_on), expires))
    }

    async fn token(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        let [scope] = scopes else {
            return Err(azure_core::Error::message(
                ErrorKind::Credential,
                "a managed identity signs in for one scope at a time",
            ));
        };
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        let now = chrono::Utc::now().timestamp();
        if let Some((token, expires)) = lock(&self.cache).get(resource) {
            if *expires - REFRESH_MARGIN_SECS > now {
                return Ok(token.clone());
            }
        }
        let (token, expires) = self.fetch(resource).await?;
        lock(&self.cache).insert(resource.to_string(), (token.clone(), expires));
        Ok(token)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl TokenCredential for ManagedIdentity {
    async fn get_token(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        self.token(scopes).await
    }

    async fn clear_cache(&self) -> azure_core::Result<()> {
        lock(&self.cache).clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> ManagedIdentity {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let http: Arc<dyn HttpClient> = Arc::new(reqwest::Client::new());
        ManagedIdentity::from_env(http, &|name| vars.get(name).cloned())
    }

    #[test]
    fn identity_endpoint_with_header_wins_over_imds() {
        let app = from(&[
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]);
        let request = app.request("https://management.azure.com").unwrap();
        assert_eq!(request.url().path(), "/msi/token");
        assert!(request
            .url()
            .query()
            .unwrap()
            .contains("api-version=2019-08-01"));
        assert_eq!(
            request
                .headers()
                .get_optional_str(&azure_core::headers::HeaderName::from_static(
                    "x-identity-header"
                )),
            Some("h")
        );
        // An endpoint without its header is not App Service's: IMDS is asked.
        let half = from(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token")]);
        assert_eq!(half.source, Source::Imds);
    }

    #[test]
    fn azure_client_id_selects_a_user_assigned_identity() {
        let imds = from(&[("AZURE_CLIENT_ID", "c-1")]);
        let request = imds.request("https://management.azure.com").unwrap();
        assert_eq!(request.url().as_str().split('?').next(), Some(IMDS));
        let query = request.url().query().unwrap();
        assert!(
            query.contains("client_id=c-1") && query.contains("api-version=2018-02-01"),
            "{query}"
        );
        let system = from(&[]);
        let query = system
            .request("https://management.azure.com")
            .unwrap()
            .url()
            .query()
            .unwrap()
            .to_string();
        assert!(!query.contains("client_id"), "{query}");
    }
}
