//! How the tool reaches ARM: which endpoint and CA to trust, which credential
//! to sign in with, the request timeout and the retry policy. One `Arm`
//! serves every provider module, so all calls share credential and transport.

use super::error::AzureError;
use azure_core::auth::TokenCredential;
use azure_core::{
    ClientOptions, ExponentialRetryOptions, HttpClient, Pipeline, RetryOptions, TransportOptions,
    Url,
};
use azure_identity::{
    AzureCliCredential, DefaultAzureCredentialBuilder, EnvironmentCredential,
    TokenCredentialOptions, VirtualMachineManagedIdentityCredential, WorkloadIdentityCredential,
};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const PUBLIC_CLOUD: &str = "https://management.azure.com";
const PUBLIC_SCOPE: &str = "https://management.azure.com/.default";
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
    /// Where tokens come from; `None` uses `AZURE_AUTHORITY_HOST` or the public cloud.
    pub authority_host: Option<String>,
    /// An extra root certificate (PEM) to trust, e.g. the emulator's or a proxy's.
    pub ca_file: Option<PathBuf>,
    pub auth: AuthKind,
    /// Token scopes; `None` derives them from the endpoint.
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
            scopes: None,
            timeout: Duration::from_secs(60),
            max_retries: 8,
        }
    }
}

/// How long one request may keep being retried (throttling included).
const RETRY_WINDOW: Duration = Duration::from_secs(300);

/// The transport: signs each attempt with a current token, re-signs once
/// when ARM refuses the token, and waits out throttling.
///
/// Tokens: the generated clients and `Arm::send` take a token once, before
/// the pipeline, and the retry policy and the throttling loop below send the
/// same request again for up to `RETRY_WINDOW`. A token that expires during
/// those waits would then be sent expired (401 `ExpiredAuthenticationToken`),
/// so every attempt that carries a bearer token gets one from the credential
/// here. That is cheap: azure_identity 0.21 caches tokens and fetches a new
/// one only within 20 s of expiry (`token_credentials/cache.rs`). If ARM still
/// refuses the token (`ExpiredAuthenticationToken`, `InvalidAuthenticationToken`:
/// a clock skew, a token revoked), the cache is cleared and the request sent
/// once more with a fresh token; a second refusal is the answer.
///
/// Throttling: a 429 is sent again after its `Retry-After` (plus up to 25 %
/// jitter, so parallel requests spread out) until `patience` has passed; only
/// then does the exponential retry policy see it. azure_core's policy alone
/// waits the longer of `Retry-After` and its own backoff (up to 30 s) and gives
/// up after `--max-retries` (8) attempts: with a hundred or more accounts in
/// one subscription (benches/scale.rs, docs/benchmarks.md) accounts failed
/// with 429 while Azure only asked for a second's wait, and the bucket stood
/// idle while requests slept. Server errors and dropped connections still go
/// to that policy and its `--max-retries`.
#[derive(Debug)]
struct WaitOutThrottling {
    http: Arc<dyn HttpClient>,
    patience: Duration,
    credential: Arc<dyn TokenCredential>,
    scopes: Vec<String>,
}

/// ARM's codes for a bearer token it will not take, and a new one may fix.
const REFUSED_TOKEN_CODES: &[&str] = &["ExpiredAuthenticationToken", "InvalidAuthenticationToken"];

/// Whether a 401 answer's body says the token itself was refused.
fn token_refused(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/code")
                .or_else(|| v.get("code"))
                .and_then(Value::as_str)
                .map(|code| {
                    REFUSED_TOKEN_CODES
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(code))
                })
        })
        .unwrap_or(false)
}

impl WaitOutThrottling {
    /// `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds); 1 s without one.
    fn retry_after(headers: &azure_core::headers::Headers) -> Duration {
        use azure_core::headers::{RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
        let number = |name: &azure_core::headers::HeaderName| {
            headers
                .get_optional_str(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        number(&RETRY_AFTER_MS)
            .or_else(|| number(&X_MS_RETRY_AFTER_MS))
            .map(Duration::from_millis)
            .or_else(|| number(&RETRY_AFTER).map(Duration::from_secs))
            .unwrap_or(Duration::from_secs(1))
    }

    /// Puts a current token on a request that carries one (ARM's); others are left alone.
    async fn sign(&self, request: &mut azure_core::Request) -> azure_core::Result<()> {
        use azure_core::headers::AUTHORIZATION;
        if request.headers().get_optional_str(&AUTHORIZATION).is_none() {
            return Ok(());
        }
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let token = self.credential.get_token(&scopes).await?;
        request.insert_header(AUTHORIZATION, format!("Bearer {}", token.token.secret()));
        Ok(())
    }

    async fn send(
        &self,
        request: &mut azure_core::Request,
    ) -> azure_core::Result<azure_core::Response> {
        let start = std::time::Instant::now();
        // A streamed body cannot be sent twice from here.
        let resendable = !matches!(request.body(), azure_core::Body::SeekableStream(_));
        let mut signed_again = false;
        loop {
            self.sign(request).await?;
            let response = self.http.execute_request(request).await?;
            let status = response.status();
            if status == azure_core::StatusCode::Unauthorized && resendable && !signed_again {
                let (status, headers, body) = response.deconstruct();
                let body = body.collect().await?;
                if !token_refused(&body) {
                    return Ok(azure_core::Response::new(
                        status,
                        headers,
                        Box::pin(azure_core::BytesStream::new(body)),
                    ));
                }
                tracing::debug!(path = %request.url().path(), "token refused (401): signing in again, once");
                signed_again = true;
                // A credential without a cache has nothing to clear.
                let _ = self.credential.clear_cache().await;
                continue;
            }
            if status != azure_core::StatusCode::TooManyRequests || !resendable {
                return Ok(response);
            }
            let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 1.0..1.25);
            let wait = Self::retry_after(response.headers()).mul_f64(jitter);
            if start.elapsed() + wait > self.patience {
                return Ok(response);
            }
            // Read the answer to the end so its connection can be reused.
            let _ = response.into_body().collect().await;
            tracing::debug!(path = %request.url().path(), wait_ms = wait.as_millis() as u64, "throttled (429): waiting as Azure asks");
            tokio::time::sleep(wait).await;
        }
    }
}

impl azure_core::Policy for WaitOutThrottling {
    // What `#[async_trait]` expands the trait's method to.
    fn send<'s, 'c, 'r, 'n, 'f>(
        &'s self,
        _ctx: &'c azure_core::Context,
        request: &'r mut azure_core::Request,
        _next: &'n [Arc<dyn azure_core::Policy>],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = azure_core::PolicyResult> + Send + 'f>>
    where
        's: 'f,
        'c: 'f,
        'r: 'f,
        'n: 'f,
        Self: 'f,
    {
        Box::pin(WaitOutThrottling::send(self, request))
    }
}

/// A connection to ARM: endpoint, credential and the shared pipeline.
pub struct Arm {
    endpoint: Url,
    credential: Arc<dyn TokenCredential>,
    pipeline: Pipeline,
    transport: TransportOptions,
    retry: RetryOptions,
    scopes: Vec<String>,
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

/// The scope of a management token: the endpoint's own for Azure's clouds,
/// the public cloud's for anything else (emulators, proxies).
fn default_scopes(endpoint: &Url) -> Vec<String> {
    const CLOUDS: &[&str] = &[
        "management.azure.com",
        "management.usgovcloudapi.net",
        "management.chinacloudapi.cn",
    ];
    match endpoint.host_str() {
        Some(host) if CLOUDS.contains(&host) => vec![format!("https://{host}/.default")],
        _ => vec![PUBLIC_SCOPE.to_string()],
    }
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
    pub fn connect(options: &ConnectionOptions) -> Result<Self, AzureError> {
        let endpoint = parse_url(options.arm_endpoint.trim_end_matches('/'), "ARM endpoint")?;
        check_transport(&endpoint, "ARM endpoint")?;
        let authority = match options
            .authority_host
            .clone()
            .or_else(|| std::env::var("AZURE_AUTHORITY_HOST").ok())
        {
            Some(host) => {
                let url = parse_url(&host, "authority host")?;
                check_transport(&url, "authority host")?;
                Some(host)
            }
            None => None,
        };

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
        let http: Arc<dyn HttpClient> = Arc::new(
            http.build()
                .map_err(|e| AzureError::Config(format!("cannot set up the HTTPS client: {e}")))?,
        );

        let mut token_options = TokenCredentialOptions::from(http.clone());
        if let Some(host) = authority {
            token_options.set_authority_host(host);
        }
        let credential =
            Self::make_credential(options.auth, token_options, is_loopback(&endpoint))?;
        let scopes = options
            .scopes
            .clone()
            .unwrap_or_else(|| default_scopes(&endpoint));
        Ok(Self::assemble(
            endpoint,
            credential,
            http,
            scopes,
            options.max_retries,
        ))
    }

    /// An `Arm` over a transport and credential of the caller's (tests: a
    /// scripted ARM that never touches the network).
    #[cfg(test)]
    pub(crate) fn over(http: Arc<dyn HttpClient>, credential: Arc<dyn TokenCredential>) -> Self {
        let endpoint = Url::parse("https://127.0.0.1:1").expect("a URL");
        Self::assemble(endpoint, credential, http, vec![PUBLIC_SCOPE.into()], 0)
    }

    fn assemble(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        http: Arc<dyn HttpClient>,
        scopes: Vec<String>,
        max_retries: u32,
    ) -> Self {
        let transport = TransportOptions::new_custom_policy(Arc::new(WaitOutThrottling {
            http,
            patience: RETRY_WINDOW,
            credential: credential.clone(),
            scopes: scopes.clone(),
        }));
        let retry = RetryOptions::exponential(
            ExponentialRetryOptions::default()
                .max_retries(max_retries)
                .max_total_elapsed(RETRY_WINDOW),
        );
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

    fn make_credential(
        kind: AuthKind,
        options: TokenCredentialOptions,
        loopback: bool,
    ) -> Result<Arc<dyn TokenCredential>, AzureError> {
        let fail = |e: azure_core::Error| {
            AzureError::Credential(format!(
                "{e}: set the variables the --auth kind needs (see docs/usage.md)"
            ))
        };
        Ok(match kind {
            // Never let the chain fall through to the managed-identity probe or
            // the CLI when the target is a local endpoint.
            AuthKind::Environment | AuthKind::Default if loopback => {
                Arc::new(EnvironmentCredential::create(options).map_err(fail)?)
            }
            AuthKind::Environment => {
                Arc::new(EnvironmentCredential::create(options).map_err(fail)?)
            }
            AuthKind::Default => Arc::new(
                DefaultAzureCredentialBuilder::default()
                    .with_options(options)
                    .build()
                    .map_err(fail)?,
            ),
            AuthKind::AzureCli => Arc::new(AzureCliCredential::create().map_err(fail)?),
            AuthKind::ManagedIdentity => {
                Arc::new(VirtualMachineManagedIdentityCredential::new(options))
            }
            AuthKind::WorkloadIdentity => {
                Arc::new(WorkloadIdentityCredential::create(options).map_err(fail)?)
            }
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    pub fn credential(&self) -> Arc<dyn TokenCredential> {
        self.credential.clone()
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
    use crate::azure::fake::{CountingCredential, ScriptedArm};
    use std::sync::atomic::Ordering;

    async fn run(answers: Vec<(u16, &'static str)>) -> (u16, Vec<String>, usize) {
        let credential = Arc::new(CountingCredential::default());
        let arm = Arc::new(ScriptedArm::new(answers));
        let transport = WaitOutThrottling {
            http: arm.clone(),
            patience: Duration::from_secs(5),
            credential: credential.clone(),
            scopes: vec![PUBLIC_SCOPE.into()],
        };
        let mut request = azure_core::Request::new(
            Url::parse("https://127.0.0.1:1/subscriptions?api-version=2022-12-01").unwrap(),
            azure_core::Method::Get,
        );
        // As the generated clients and `Arm::send` do: a token taken before the pipeline.
        request.insert_header(azure_core::headers::AUTHORIZATION, "Bearer token-0");
        let status = transport.send(&mut request).await.unwrap().status();
        let seen = arm.tokens_seen();
        (
            u16::from(status),
            seen,
            credential.cleared.load(Ordering::SeqCst),
        )
    }

    const EXPIRED: &str = r#"{"error":{"code":"ExpiredAuthenticationToken","message":"The access token expiry UTC time is earlier than current UTC time."}}"#;

    #[tokio::test]
    async fn a_refused_token_is_replaced_and_the_request_sent_once_more() {
        let (status, seen, cleared) = run(vec![(401, EXPIRED), (200, "{}")]).await;
        assert_eq!(status, 200);
        assert_eq!(seen, ["Bearer token-1", "Bearer token-2"]);
        assert_eq!(cleared, 1);

        let invalid = r#"{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}"#;
        let (status, _, cleared) = run(vec![(401, invalid), (200, "{}")]).await;
        assert_eq!((status, cleared), (200, 1));
    }

    #[tokio::test]
    async fn a_second_refusal_and_other_401s_are_the_answer() {
        let (status, seen, _) = run(vec![(401, EXPIRED), (401, EXPIRED), (200, "{}")]).await;
        assert_eq!(status, 401);
        assert_eq!(seen.len(), 2, "signed in again once only");
        let foreign =
            r#"{"error":{"code":"InvalidAuthenticationTokenTenant","message":"wrong tenant"}}"#;
        let (status, seen, cleared) = run(vec![(401, foreign), (200, "{}")]).await;
        assert_eq!((status, seen.len(), cleared), (401, 1, 0));
    }

    #[tokio::test]
    async fn every_attempt_after_throttling_carries_a_current_token() {
        let (status, seen, _) = run(vec![(429, "{}"), (200, "{}")]).await;
        assert_eq!(status, 200);
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|t| t != "Bearer token-0"), "{seen:?}");
    }

    #[test]
    fn throttled_requests_wait_as_long_as_azure_asks() {
        use azure_core::headers::{Headers, RETRY_AFTER, RETRY_AFTER_MS};
        let wait = |pairs: &[(azure_core::headers::HeaderName, &'static str)]| {
            let mut headers = Headers::new();
            for (k, v) in pairs {
                headers.insert(k.clone(), *v);
            }
            WaitOutThrottling::retry_after(&headers)
        };
        assert_eq!(wait(&[(RETRY_AFTER, "3")]), Duration::from_secs(3));
        assert_eq!(
            wait(&[(RETRY_AFTER, "3"), (RETRY_AFTER_MS, "1500")]),
            Duration::from_millis(1500)
        );
        assert_eq!(wait(&[]), Duration::from_secs(1));
        assert_eq!(wait(&[(RETRY_AFTER, "soon")]), Duration::from_secs(1));
    }

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

    #[test]
    fn scopes_follow_the_cloud_and_default_to_public() {
        let scopes = |u: &str| default_scopes(&Url::parse(u).unwrap());
        assert_eq!(
            scopes("https://management.azure.com"),
            vec!["https://management.azure.com/.default"]
        );
        assert_eq!(
            scopes("https://management.usgovcloudapi.net"),
            vec!["https://management.usgovcloudapi.net/.default"]
        );
        assert_eq!(scopes("https://127.0.0.1:8443"), vec![PUBLIC_SCOPE]);
    }
}
