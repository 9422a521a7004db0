//! The transport under every ARM request: it paces each attempt to the
//! rate ARM's buckets grant (`pacer.rs`, from the remaining counts ARM
//! answers with), signs it with a current token, signs in again once when
//! ARM refuses the token, waits out throttling as Azure asks (visibly,
//! `crate::logging::throttled`), and turns a failure no retry can fix into
//! one the retry policy gives up on at once (`retry::fail_fast`).

use super::pacer::Pacer;
use super::pacing::Answer;
use super::retry;
use azure_core::auth::TokenCredential;
use azure_core::HttpClient;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

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
///
/// Pacing: before that, each attempt waits for its place in its bucket's
/// lane (`pacer.rs`), so that the tool sends at the rate the bucket grants
/// and 429s stay rare instead of being most of the answers.
#[derive(Debug)]
pub(super) struct WaitOutThrottling {
    pub(super) http: Arc<dyn HttpClient>,
    pub(super) patience: Duration,
    pub(super) credential: Arc<dyn TokenCredential>,
    pub(super) scopes: Vec<String>,
    pub(super) pacer: Pacer,
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

    /// What an answer says about its bucket: throttled, or how much is left.
    fn bucket_answer(response: &azure_core::Response, remaining_header: &str) -> Answer {
        let headers = response.headers();
        if response.status() == azure_core::StatusCode::TooManyRequests {
            return Answer::Throttled(Self::retry_after(headers));
        }
        let name = azure_core::headers::HeaderName::from(remaining_header.to_string());
        match headers
            .get_optional_str(&name)
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(left) => Answer::Remaining(left),
            None => Answer::Silent,
        }
    }

    async fn send(
        &self,
        request: &mut azure_core::Request,
    ) -> azure_core::Result<azure_core::Response> {
        let start = std::time::Instant::now();
        // A streamed body cannot be sent twice from here.
        let resendable = !matches!(request.body(), azure_core::Body::SeekableStream(_));
        let mut signed_again = false;
        let mut throttled = 0u32;
        // Only ARM's requests (those carrying a token) count against its buckets.
        let to_arm = request
            .headers()
            .get_optional_str(&azure_core::headers::AUTHORIZATION)
            .is_some();
        loop {
            let place = match to_arm {
                true => {
                    let method = request.method().to_string();
                    Some(self.pacer.admit(&method, request.url().path()).await)
                }
                false => None,
            };
            self.sign(request).await?;
            let response = self
                .http
                .execute_request(request)
                .await
                .map_err(|e| retry::fail_fast(e, request.url()))?;
            if let Some(place) = place {
                let answer = Self::bucket_answer(&response, place.remaining_header());
                self.pacer.answered(place, answer);
            }
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
            throttled += 1;
            tracing::info!(
                path = %request.url().path(),
                attempt = throttled,
                wait_ms = wait.as_millis() as u64,
                "throttled (429) at attempt {throttled}: waiting {:.1} s as Azure asks",
                wait.as_secs_f64()
            );
            crate::logging::throttled(wait).await;
        }
    }
}

#[async_trait::async_trait]
impl azure_core::Policy for WaitOutThrottling {
    async fn send(
        &self,
        _ctx: &azure_core::Context,
        request: &mut azure_core::Request,
        _next: &[Arc<dyn azure_core::Policy>],
    ) -> azure_core::PolicyResult {
        WaitOutThrottling::send(self, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::fake::{CountingCredential, ScriptedArm};
    use azure_core::Url;
    use std::sync::atomic::Ordering;

    async fn run(answers: Vec<(u16, &'static str)>) -> (u16, Vec<String>, usize) {
        let credential = Arc::new(CountingCredential::default());
        let arm = Arc::new(ScriptedArm::new(answers));
        let transport = WaitOutThrottling {
            http: arm.clone(),
            patience: Duration::from_secs(5),
            credential: credential.clone(),
            scopes: vec!["https://management.azure.com/.default".into()],
            pacer: Pacer::default(),
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
}
