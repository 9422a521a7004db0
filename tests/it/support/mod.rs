//! Shared helpers for integration tests: an in-process emulator on an
//! ephemeral port, an HTTPS client that trusts only its CA, and a real token
//! from its token endpoint.
#![allow(dead_code)]

pub mod audit_fixtures;
pub mod child;
pub mod cli;
pub mod demo;
pub mod estate;
pub mod loopback_proxy;
pub mod plan_fixtures;
pub mod profile;
pub mod pty;
pub mod reports;
pub mod request_log;
pub mod schemas;

use actlog_cmk::emulator::{self, settings::Settings, Options, RunningEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const SUB1: &str = "11111111-1111-1111-1111-111111111111";
pub const SUB2: &str = "22222222-2222-2222-2222-222222222222";
pub const SUB3: &str = "33333333-3333-3333-3333-333333333333";

pub struct Env {
    pub emu: RunningEmulator,
    pub client: reqwest::Client,
    /// The token taken at start (tests that need a raw token use it).
    pub token: String,
    /// The token `arm` sends: renewed when the emulator says it expired,
    /// as the field profile's tokens do within a test.
    current_token: std::sync::Mutex<String>,
    /// Set once the test profile has been switched on (at the first run of the tool).
    pub(crate) profile_applied: std::sync::Arc<tokio::sync::OnceCell<()>>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The ARM error code, if the body is an error.
    pub fn code(&self) -> &str {
        self.body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Settings for fast tests: no propagation or provisioning delays, no throttling.
pub fn fast_settings() -> Settings {
    Settings::instant()
}

pub fn https_client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA pem"))
        .build()
        .expect("client")
}

impl Env {
    pub async fn start() -> Env {
        Self::start_with(fast_settings()).await
    }

    pub async fn start_with(settings: Settings) -> Env {
        Self::start_with_options(Options {
            settings,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with_options(options: Options) -> Env {
        let emu = emulator::start(options).await.expect("emulator starts");
        let client = https_client(&emu.ca_pem);
        let mut env = Env {
            emu,
            client,
            token: String::new(),
            current_token: std::sync::Mutex::new(String::new()),
            profile_applied: Default::default(),
        };
        env.token = env.own_token().await;
        *env.current_token.lock().unwrap() = env.token.clone();
        env
    }

    pub fn endpoint(&self) -> &str {
        &self.emu.connection.endpoint
    }

    /// A fresh token of the emulator's own service principal.
    async fn own_token(&self) -> String {
        let c = &self.emu.connection;
        self.token_for(&c.client_id.clone(), &c.client_secret.clone())
            .await
    }

    /// A token from the emulator's token endpoint (client-credentials grant).
    pub async fn token_for(&self, client_id: &str, secret: &str) -> String {
        self.token_in(&self.emu.connection.tenant_id.clone(), client_id, secret)
            .await
    }

    pub async fn token_in(&self, tenant: &str, client_id: &str, secret: &str) -> String {
        let c = &self.emu.connection;
        let url = format!("{}/{}/oauth2/v2.0/token", c.authority_host, tenant);
        let response = self
            .client
            .post(url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", c.token_scope.as_str()),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// An ARM call with this env's token. `path` includes the query (api-version).
    /// Under the field profile (tokens that expire within a test) a token
    /// refused as expired is renewed and the call sent again, as any ARM
    /// client does; otherwise the answer is the emulator's, 401s included.
    pub async fn arm(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let token = self.current_token.lock().unwrap().clone();
        let answer = self
            .arm_as(&token, method.clone(), path, body.clone())
            .await;
        if !profile::Profile::is_field() || answer.code() != "ExpiredAuthenticationToken" {
            return answer;
        }
        let token = self.own_token().await;
        *self.current_token.lock().unwrap() = token.clone();
        self.arm_as(&token, method, path, body).await
    }

    pub async fn arm_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.endpoint(), path)
        };
        let mut request = self.client.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("ARM request");
        answer(response).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/_emulator{}", self.endpoint(), path))
            .header("x-emulator-key", &self.emu.connection.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("admin request")).await
    }

    pub async fn add_subscription(&self, id: &str, name: &str) {
        let a = self
            .admin(
                Method::PUT,
                &format!("/subscriptions/{id}"),
                Some(json!({"displayName": name})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    pub async fn put_resource_group(&self, sub: &str, rg: &str, location: &str) {
        let request = actlog_cmk::demo::requests::resource_group(sub, rg, location);
        let a = self.arm(request.method, &request.path, request.body).await;
        assert!(a.status.is_success(), "{:?}", a.body);
    }

    /// The request log (`GET /_emulator/requests`).
    pub async fn requests(&self) -> Vec<Value> {
        let a = self.admin(Method::GET, "/requests", None).await;
        a.body["requests"].as_array().cloned().unwrap_or_default()
    }

    pub async fn patch_settings(&self, patch: Value) {
        let a = self.admin(Method::PATCH, "/settings", Some(patch)).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
        Value::Null
    } else {
        Value::String(text)
    });
    Answer {
        status,
        headers,
        body,
    }
}
