//! How the tool reaches ARM: which endpoint and CA to trust, which cloud it
//! is (`cloud.rs`: where to sign in, the token's audience, the vault DNS
//! suffix), which credential to sign in with, the request timeout and the
//! retry policy. One `Arm` serves every provider module, so all calls share
//! credential and transport. The credential is `sign_in.rs`'s, the transport
//! `transport.rs`'s, the retry policy `retry.rs`'s.

use super::cloud::{self, Cloud};
use super::error::AzureError;
use super::transport::WaitOutThrottling;
use super::{retry, sign_in};
use azure_core::auth::TokenCredential;
use azure_core::{ClientOptions, HttpClient, Pipeline, RetryOptions, TransportOptions, Url};
use azure_identity::TokenCredentialOptions;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const PUBLIC_CLOUD: &str = "https://management.azure.com";
pub const KEYVAULT_API: &str = super::keyvault::API;

/// Which credential signs the tool in (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthKind {
    /// azure_identity's chain: environment, managed identity, Azure CLI.
    /// Against a loopback endpoint (the emulator) only the environment credential is tried.
    Default,
    /// `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` (or a federated token file).
    Environment,
    /// The signed-in Azure CLI (`az login`).
    AzureCli,
    /// The managed identity of the VM or container the tool runs on.
    ManagedIdentity,
    /// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`), e.g. in CI pipelines.
    WorkloadIdentity,
}

#[derive(Debug, Clone)]
pub struct ConnectionOptions {
    pub arm_endpoint: String,
    /// Where tokens come from; `None` uses `AZURE_AUTHORITY_HOST`, else the
    /// cloud's sign-in host (`cloud.rs`).
    pub authority_host: Option<String>,
    /// An extra root certificate (PEM) to trust, e.g. the emulator's or a proxy's.
    pub ca_file: Option<PathBuf>,
    pub auth: AuthKind,
    /// Sign in to this tenant instead of the credential's own
    /// (`AZURE_TENANT_ID`): `--tenant`, `--all-tenants`.
    pub tenant_id: Option<String>,
    /// Token scopes; `None` is the cloud's management audience.
    pub scopes: Option<Vec<String>>,
    pub timeout: Duration,
    pub max_retries: u32,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            arm_endpoint: PUBLIC_CLOUD.into(),
            authority_host: None,
            ca_file: None,
            auth: AuthKind::Default,
            tenant_id: None,
            scopes: None,
            timeout: Duration::from_secs(60),
            max_retries: 8,
        }
    }
}

/// How long one request may keep being retried (throttling included).
const RETRY_WINDOW: Duration = Duration::from_secs(300);

/// A connection to ARM: endpoint, credential and the shared pipeline. A
/// clone shares the pipeline (tokens, pacing) with the original.
#[derive(Clone)]
pub struct Arm {
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    pipeline: Pipeline,
    transport: TransportOptions,
    retry: RetryOptions,
    scopes: Vec<String>,
    cloud: Cloud,
    // The generated client, built once: building one costs a fresh default
    // HTTP client inside the crate (tens of milliseconds), per call otherwise.
    keyvault_client: OnceLock<azure_mgmt_keyvault::package_preview_2022_02::Client>,
    storage_client: OnceLock<azure_mgmt_storage::Client>,
    msi_client: OnceLock<azure_mgmt_msi::Client>,
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Bearer tokens travel over https only, or plain http to this machine.
fn check_transport(url: &Url, what: &str) -> Result<(), AzureError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(AzureError::Config(format!(
            "refusing to send credentials over plain http to the {what} {url}: use https (plain http is only allowed to a loopback address)"
        ))),
        other => Err(AzureError::Config(format!("the {what} {url} has an unsupported scheme '{other}': use https"))),
    }
}

fn parse_url(text: &str, what: &str) -> Result<Url, AzureError> {
    Url::parse(text)
        .map_err(|e| AzureError::Config(format!("the {what} '{text}' is not a valid URL ({e})")))
}

/// [`Arm::same_host_path`] for `endpoint`.
fn same_host_path(endpoint: &Url, link: &str, resource: &str) -> Result<String, AzureError> {
    let url = endpoint.join(link).map_err(|e| AzureError::Unexpected {
        resource: resource.to_string(),
        detail: format!("bad nextLink {link}: {e}"),
    })?;
    if url.origin() != endpoint.origin() {
        return Err(AzureError::Unexpected {
            resource: resource.to_string(),
            detail: format!(
                "nextLink points to another host ({}); not following it",
                url.origin().ascii_serialization()
            ),
        });
    }
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    })
}

/// Every certificate of a PEM file (a single CA or a bundle). rustls parses
/// them lazily, so an unreadable file is caught here, where it can be named.
fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, AzureError> {
    let pem = std::fs::read(path).map_err(|e| {
        AzureError::Config(format!("cannot read the CA file {}: {e}", path.display()))
    })?;
    let not_pem = |detail: String| {
        AzureError::Config(format!(
            "the CA file {} is not a PEM certificate{detail}",
            path.display()
        ))
    };
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| not_pem(format!(": {e}")))?;
    if certificates.is_empty() {
        return Err(not_pem(String::new()));
    }
    Ok(certificates)
}

impl Arm {
    pub async fn connect(options: &ConnectionOptions) -> Result<Self, AzureError> {
        let endpoint = parse_url(options.arm_endpoint.trim_end_matches('/'), "ARM endpoint")?;
        check_transport(&endpoint, "ARM endpoint")?;
        let explicit = options
            .authority_host
            .clone()
            .or_else(|| std::env::var(cloud::AUTHORITY_VARIABLE).ok())
            .filter(|host| !host.trim().is_empty());
        if let Some(host) = &explicit {
            let url = parse_url(host, "authority host")?;
            check_transport(&url, "authority host")?;
        }

        // rustls trusting the operating system's store (so a TLS-inspecting
        // proxy whose CA the machine trusts keeps working) plus --ca-file;
        // not the webpki bundle azure_core's rustls feature also compiles in.
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_webpki_certs(false)
            .tls_built_in_native_certs(true)
            .timeout(options.timeout)
            .connect_timeout(Duration::from_secs(10));
        if let Some(path) = &options.ca_file {
            for certificate in read_ca_file(path)? {
                http = http.add_root_certificate(certificate);
            }
        }
        let http = http
            .build()
            .map_err(|e| AzureError::Config(format!("cannot set up the HTTPS client: {e}")))?;

        let cloud = cloud::resolve(
            &http,
            &endpoint,
            options.timeout,
            explicit.as_deref(),
            options.auth,
        )
        .await?;
        let authority = match explicit {
            Some(host) => host,
            None => {
                let url = parse_url(&cloud.login_endpoint, "cloud's sign-in host")?;
                check_transport(&url, "cloud's sign-in host")?;
                cloud.login_endpoint.clone()
            }
        };
        let http: Arc<dyn HttpClient> = Arc::new(http);
        let mut token_options = TokenCredentialOptions::from(http.clone());
        // Always set: azure_identity would otherwise fall back to the public
        // cloud's host, a wrong (and, in tests, non-loopback) place to sign in.
        token_options.set_authority_host(authority);
        let credential = match &options.tenant_id {
            None => sign_in::credential(options.auth, token_options, is_loopback(&endpoint))?,
            Some(tenant) => {
                sign_in::credential_in(tenant, options.auth, token_options, is_loopback(&endpoint))?
            }
        };
        let scopes = options
            .scopes
            .clone()
            .unwrap_or_else(|| vec![cloud.scope()]);
        Ok(Self::assemble(
            endpoint,
            credential,
            http,
            scopes,
            cloud,
            options.max_retries,
        ))
    }

    /// An `Arm` over a transport and credential of the caller's (tests: a
    /// scripted ARM that never touches the network).
    #[cfg(test)]
    pub(crate) fn over(http: Arc<dyn HttpClient>, credential: Arc<dyn TokenCredential>) -> Self {
        let endpoint = Url::parse("https://127.0.0.1:1").expect("a URL");
        let cloud = Cloud::public();
        Self::assemble(endpoint, credential, http, vec![cloud.scope()], cloud, 0)
    }

    fn assemble(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        http: Arc<dyn HttpClient>,
        scopes: Vec<String>,
        cloud: Cloud,
        max_retries: u32,
    ) -> Self {
        let transport = TransportOptions::new_custom_policy(Arc::new(WaitOutThrottling {
            http,
            patience: RETRY_WINDOW,
            credential: credential.clone(),
            scopes: scopes.clone(),
            pacer: Default::default(),
        }));
        let retry = RetryOptions::custom(Arc::new(retry::Retries {
            max_retries,
            window: RETRY_WINDOW,
        }));
        let client_options = ClientOptions::new(transport.clone()).retry(retry.clone());
        let pipeline = Pipeline::new(
            option_env!("CARGO_PKG_NAME"),
            option_env!("CARGO_PKG_VERSION"),
            client_options.clone(),
            Vec::new(),
            Vec::new(),
        );
        Self {
            scopes,
            cloud,
            endpoint,
            credential,
            pipeline,
            transport,
            retry,
            keyvault_client: OnceLock::new(),
            storage_client: OnceLock::new(),
            msi_client: OnceLock::new(),
        }
    }

    /// The cached client, built on first use.
    fn cached<C: Clone>(
        cell: &OnceLock<C>,
        build: impl FnOnce() -> Result<C, AzureError>,
    ) -> Result<C, AzureError> {
        if let Some(client) = cell.get() {
            return Ok(client.clone());
        }
        let client = build()?;
        Ok(cell.get_or_init(|| client).clone())
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    pub fn credential(&self) -> Arc<dyn TokenCredential> {
        self.credential.clone()
    }

    /// The cloud this endpoint belongs to (its vault DNS suffix, audience, sign-in host).
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }

    /// The generated key vault management client (keys need a preview tag's models;
    /// callers pin the stable api-version in the URL, see `keyvault.rs`).
    pub fn keyvault(
        &self,
    ) -> Result<azure_mgmt_keyvault::package_preview_2022_02::Client, AzureError> {
        // The crate's compiling tag defaults to 2022-02-01-preview but keeps an
        // api-version already on the endpoint: pin the stable one there.
        Self::cached(&self.keyvault_client, || {
            let mut endpoint = self.endpoint.clone();
            endpoint
                .query_pairs_mut()
                .append_pair("api-version", KEYVAULT_API);
            azure_mgmt_keyvault::package_preview_2022_02::Client::builder(self.credential())
                .endpoint(endpoint)
                .scopes(&self.scopes())
                .transport(self.transport.clone())
                .retry(self.retry.clone())
                .build()
                .map_err(|e| AzureError::Config(format!("cannot set up the key vault client: {e}")))
        })
    }

    /// The generated storage management client (2023-05-01), on this connection.
    pub fn storage(&self) -> Result<azure_mgmt_storage::Client, AzureError> {
        Self::cached(&self.storage_client, || {
            azure_mgmt_storage::Client::builder(self.credential())
                .endpoint(self.endpoint.clone())
                .scopes(&self.scopes())
                .transport(self.transport.clone())
                .retry(self.retry.clone())
                .build()
                .map_err(|e| AzureError::Config(format!("cannot set up the storage client: {e}")))
        })
    }

    /// The generated managed-identity client (2023-01-31), on this connection.
    pub fn msi(&self) -> Result<azure_mgmt_msi::Client, AzureError> {
        Self::cached(&self.msi_client, || {
            azure_mgmt_msi::Client::builder(self.credential())
                .endpoint(self.endpoint.clone())
                .scopes(&self.scopes())
                .transport(self.transport.clone())
                .retry(self.retry.clone())
                .build()
                .map_err(|e| AzureError::Config(format!("cannot set up the identity client: {e}")))
        })
    }

    /// The JSON of an answer to a request a generated client sent (its URL,
    /// api-version, credential and this connection's transport and retries).
    /// Only the request is theirs: their models match enums case-sensitively
    /// and reject values newer Azure answers, so the answer is read tolerantly
    /// (`answer.rs`) by the caller.
    pub async fn generated_answer(
        &self,
        sent: azure_core::Result<azure_core::Response>,
        resource: &str,
    ) -> Result<Value, AzureError> {
        let endpoint = self.endpoint.as_str();
        let body = sent
            .map_err(|e| AzureError::from_core(e, resource, endpoint))?
            .into_body()
            .collect()
            .await
            .map_err(|e| AzureError::from_core(e, resource, endpoint))?;
        serde_json::from_slice(&body).map_err(|e| AzureError::Unexpected {
            resource: resource.to_string(),
            detail: format!("the answer is not JSON: {e}"),
        })
    }

    /// Sends one ARM request through the shared pipeline (retries included).
    /// `path_and_query` starts with `/`; `resource` names what the call is about in errors.
    pub async fn send(
        &self,
        method: azure_core::Method,
        path_and_query: &str,
        body: Option<&Value>,
        resource: &str,
    ) -> Result<(u16, azure_core::headers::Headers, Bytes), AzureError> {
        let url = self
            .endpoint
            .join(path_and_query)
            .map_err(|e| AzureError::Config(format!("bad request path {path_and_query}: {e}")))?;
        let endpoint = self.endpoint.as_str();
        let token = self
            .credential
            .get_token(&self.scopes())
            .await
            .map_err(|e| AzureError::from_core(e, resource, endpoint))?;
        let mut request = azure_core::Request::new(url, method);
        request.insert_header(
            azure_core::headers::AUTHORIZATION,
            format!("Bearer {}", token.token.secret()),
        );
        match body {
            Some(value) => {
                request.insert_header(azure_core::headers::CONTENT_TYPE, "application/json");
                request.set_body(serde_json::to_vec(value).unwrap_or_default());
            }
            None => request.set_body(azure_core::EMPTY_BODY),
        }
        // The path names the resource; the token never reaches a log.
        tracing::debug!(method = %request.method(), path = path_and_query, "ARM request");
        let response = self
            .pipeline
            .send(&azure_core::Context::default(), &mut request)
            .await
            .map_err(|e| {
                tracing::debug!(path = path_and_query, "ARM request failed");
                AzureError::from_core(e, resource, endpoint)
            })?;
        let (status, headers, body) = response.deconstruct();
        tracing::debug!(
            status = u16::from(status),
            path = path_and_query,
            "ARM answer"
        );
        let bytes = body
            .collect()
            .await
            .map_err(|e| AzureError::from_core(e, resource, endpoint))?;
        Ok((u16::from(status), headers, bytes))
    }

    /// The path and query of a `nextLink`, refused when it points to another
    /// host: the token must not travel there.
    pub fn same_host_path(&self, link: &str, resource: &str) -> Result<String, AzureError> {
        same_host_path(&self.endpoint, link, resource)
    }

    /// GET and decode a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        resource: &str,
    ) -> Result<T, AzureError> {
        let (_, _, body) = self
            .send(azure_core::Method::Get, path_and_query, None, resource)
            .await?;
        serde_json::from_slice(&body).map_err(|e| AzureError::Unexpected {
            resource: resource.to_string(),
            detail: format!("the answer is not the expected JSON: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_followed_on_the_endpoint_only() {
        let endpoint = Url::parse("https://127.0.0.1:8443").unwrap();
        let follow = |link: &str| same_host_path(&endpoint, link, "the list");
        assert_eq!(
            follow("https://127.0.0.1:8443/subscriptions/s/resources?api-version=1&$skiptoken=a")
                .unwrap(),
            "/subscriptions/s/resources?api-version=1&$skiptoken=a"
        );
        assert_eq!(follow("/subscriptions?x=1").unwrap(), "/subscriptions?x=1");
        for foreign in [
            "https://evil.example.com/subscriptions?api-version=1",
            "https://127.0.0.1:9999/subscriptions",
            "http://127.0.0.1:8443/subscriptions",
            "//evil.example.com/subscriptions",
        ] {
            let refused = follow(foreign).unwrap_err().to_string();
            assert!(refused.contains("another host"), "{foreign}: {refused}");
        }
    }

    #[test]
    fn tokens_never_travel_over_plain_http_to_other_hosts() {
        let ok = |u: &str| check_transport(&Url::parse(u).unwrap(), "ARM endpoint").is_ok();
        assert!(ok("https://management.azure.com"));
        assert!(ok("http://127.0.0.1:8080"));
        assert!(ok("http://localhost:8080"));
        assert!(ok("http://[::1]:8080"));
        assert!(!ok("http://management.azure.com"));
        assert!(!ok("http://10.0.0.5:8080"));
        assert!(!ok("ftp://127.0.0.1"));
    }
}
