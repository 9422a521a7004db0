//! Test doubles for the Azure layer (compiled for unit tests only): a
//! credential that counts what it hands out, and an ARM that answers from a
//! script and records what it was sent. Nothing here touches the network.

use azure_core::auth::{AccessToken, Secret, TokenCredential};
use azure_core::HttpClient;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Hands out `token-1`, `token-2`, ...: a new one after each cache clear.
#[derive(Debug, Default)]
pub struct CountingCredential {
    pub issued: AtomicUsize,
    pub cleared: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenCredential for CountingCredential {
    async fn get_token(&self, _scopes: &[&str]) -> azure_core::Result<AccessToken> {
        let n = self.cleared.load(Ordering::SeqCst) + 1;
        self.issued.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(
            Secret::new(format!("token-{n}")),
            azure_core::date::parse_rfc3339("2999-01-01T00:00:00Z").expect("a date"),
        ))
    }

    async fn clear_cache(&self) -> azure_core::Result<()> {
        self.cleared.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Answers `(status, body)` in order, recording each request's path and
/// query and its bearer token.
#[derive(Debug)]
pub struct ScriptedArm {
    answers: Mutex<Vec<(u16, String)>>,
    requests: Mutex<Vec<(String, String)>>,
}

impl ScriptedArm {
    pub fn new(answers: Vec<(u16, impl Into<String>)>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().map(|(s, b)| (s, b.into())).collect()),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// The `Authorization` header of each request, in order.
    pub fn tokens_seen(&self) -> Vec<String> {
        let requests = self.requests.lock().expect("not poisoned");
        requests.iter().map(|(_, t)| t.clone()).collect()
    }

    /// The path and query of each request, in order.
    pub fn paths(&self) -> Vec<String> {
        let requests = self.requests.lock().expect("not poisoned");
        requests.iter().map(|(p, _)| p.clone()).collect()
    }
}

#[async_trait::async_trait]
impl HttpClient for ScriptedArm {
    async fn execute_request(
        &self,
        request: &azure_core::Request,
    ) -> azure_core::Result<azure_core::Response> {
        let url = request.url();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let auth = request
            .headers()
            .get_optional_str(&azure_core::headers::AUTHORIZATION)
            .unwrap_or_default()
            .to_string();
        self.requests
            .lock()
            .expect("not poisoned")
            .push((path, auth));
        let (status, body) = {
            let mut answers = self.answers.lock().expect("not poisoned");
            assert!(!answers.is_empty(), "more requests than scripted answers");
            answers.remove(0)
        };
        Ok(azure_core::Response::new(
            azure_core::StatusCode::try_from(status).expect("a status"),
            azure_core::headers::Headers::new(),
            Box::pin(azure_core::BytesStream::new(body)),
        ))
    }
}
