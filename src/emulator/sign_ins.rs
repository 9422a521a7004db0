//! The sign-in log (`GET /_emulator/sign-ins`): every request a client
//! made to learn where and how to sign in (`/metadata/endpoints`, OpenID
//! discovery) and to sign in (the token endpoint), so a test can show which
//! sign-in host a client found by itself. ARM's request log (`journal.rs`)
//! counts ARM calls only and stays as it was.

use chrono::Utc;
use serde::Serialize;

/// One request a client made to find out where and how to sign in: the
/// token endpoint, OpenID discovery or `/metadata/endpoints`. Kept apart from
/// ARM's request log, which counts ARM calls only.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    pub time: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The `client_id` of a token request.
    pub client_id: Option<String>,
}

/// Every [`SignInRequest`] so far (`GET /_emulator/sign-ins`).
#[derive(Default)]
pub struct SignInLog(std::sync::Mutex<Vec<SignInRequest>>);

impl SignInLog {
    pub fn record(&self, method: &str, path: &str, status: u16, client_id: Option<String>) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.push(SignInRequest {
            time: super::context::format_timestamp(Utc::now()),
            method: method.to_string(),
            path: path.to_string(),
            status,
            client_id,
        });
    }

    pub fn requests(&self) -> Vec<SignInRequest> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The `client_id` field of a token request's form body, if any.
pub fn form_client_id(form: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(form)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "client_id")
        .map(|(_, v)| v)
}
