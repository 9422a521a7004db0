//! Which failed ARM requests are sent again, and what the operator hears
//! about it. A refused connection, a name that does not resolve, a
//! certificate that is not trusted or plain http spoken to an HTTPS port fail
//! the same way on every attempt: they end the request at once with a hint
//! ([`unfixable`]), instead of the eight retries (about 82 s of silence)
//! azure_core's policy gives every I/O error. Server errors, throttling,
//! dropped connections and timeouts are retried with azure_core's
//! exponential backoff, and each retry is logged at `-v` with its attempt
//! number and wait ([`Retries`]).

use azure_core::error::ErrorKind;
use azure_core::Url;
use std::time::Duration;

/// A failure no retry can fix, told in the operator's terms.
#[derive(Debug, thiserror::Error)]
#[error("{problem}. {hint}")]
pub struct Unfixable {
    pub problem: String,
    pub hint: String,
}

/// The error and its causes, lower-cased, one per entry.
fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        out.push(e.to_string().to_ascii_lowercase());
        next = e.source();
    }
    out
}

/// Whether any cause is an I/O error of `kind`.
fn has_io_kind(error: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// The deepest cause that still says something (rustls' and hyper's own words).
pub(crate) fn deepest(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !text.trim().is_empty() {
            last = text;
        }
        next = e.source();
    }
    last
}

/// What about a failed request to `url` no retry can change, if anything.
pub fn unfixable(error: &(dyn std::error::Error + 'static), url: &Url) -> Option<Unfixable> {
    let text = causes(error).join(": ");
    let has = |needle: &str| text.contains(needle);
    let host = url.host_str().unwrap_or("?");
    let found = |problem: String, hint: &str| {
        Some(Unfixable {
            problem,
            hint: hint.to_string(),
        })
    };
    if has_io_kind(error, std::io::ErrorKind::ConnectionRefused) || has("connection refused") {
        return found(
            "connection refused: nothing listens on that host and port".to_string(),
            "Check the host and port of --arm-endpoint (or ACTLOG_CMK_ARM_ENDPOINT) and that the service is running; retrying cannot help",
        );
    }
    if has("dns error")
        || has("failed to lookup address")
        || has("name or service not known")
        || has("no such host")
    {
        return found(
            format!("the host name {host} does not resolve (DNS lookup failed)"),
            "Check the host name in --arm-endpoint (or ACTLOG_CMK_ARM_ENDPOINT), and this machine's DNS or proxy settings",
        );
    }
    // rustls refuses to start a handshake for a name that is not a DNS name
    // (a label over 63 octets, say): the same name fails every time.
    if has("invalid dns name") {
        return found(
            format!("{host} is not a valid host name"),
            "Check the host name in --arm-endpoint (or ACTLOG_CMK_ARM_ENDPOINT)",
        );
    }
    if url.scheme() == "http" && has("invalid http version") {
        return found(
            "the port answered with TLS: it speaks HTTPS".to_string(),
            "Use https:// in --arm-endpoint",
        );
    }
    if has("corrupt message") || has("invalidcontenttype") {
        return found(
            format!("the port does not speak TLS (HTTPS): {}", deepest(error)),
            "Check the port in --arm-endpoint; a plain-http service on this machine takes http://",
        );
    }
    if has("invalid peer certificate") || has("unknownissuer") {
        let detail = deepest(error);
        let hint = if has("unknownissuer") || has("unknown issuer") {
            "The endpoint's certificate is not trusted: pass its CA with --ca-file (or ACTLOG_CMK_CA_FILE)"
        } else if has("expired") {
            "The endpoint's certificate has expired (or this machine's clock is wrong): renew the certificate"
        } else if has("not valid for name") {
            "The endpoint's certificate is for another host: use the host name it names in --arm-endpoint"
        } else {
            "The endpoint's certificate could not be verified: check --arm-endpoint and --ca-file"
        };
        return found(format!("TLS handshake with {host} refused: {detail}"), hint);
    }
    None
}

/// `error` as the retry policy should see it: an I/O error no retry can fix
/// becomes a non-I/O one carrying [`Unfixable`], which azure_core's retry
/// loop returns at once; everything else is left as it is.
pub fn fail_fast(error: azure_core::Error, url: &Url) -> azure_core::Error {
    if error.kind() != &ErrorKind::Io {
        return error;
    }
    match unfixable(&error, url) {
        Some(why) => azure_core::Error::new(ErrorKind::Other, why),
        None => error,
    }
}

/// The [`Unfixable`] somewhere in an error's causes.
pub fn find_unfixable<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Unfixable> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<Unfixable>() {
            return Some(found);
        }
        if let Some(core) = e.downcast_ref::<azure_core::Error>() {
            if let Some(found) = core.downcast_ref::<Unfixable>() {
                return Some(found);
            }
        }
        next = e.source();
    }
    None
}

/// azure_core's exponential policy (200 ms doubling, plus up to 255 ms of
/// jitter, at most 30 s a wait, within `window`), retrying the same statuses
/// (408, 429, 500, 502, 503, 504) and I/O errors, but saying so at `-v`.
#[derive(Debug, Clone)]
pub struct Retries {
    pub max_retries: u32,
    pub window: Duration,
}

const INITIAL_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(30);

/// Why an attempt failed, in a few words (a status and code, or the cause).
fn reason(error: &azure_core::Error) -> String {
    match error.kind() {
        ErrorKind::HttpResponse { status, error_code } => match error_code {
            Some(code) => format!("HTTP {} {code}", u16::from(*status)),
            None => format!("HTTP {}", u16::from(*status)),
        },
        _ => deepest(error),
    }
}

#[async_trait::async_trait]
impl azure_core::RetryPolicy for Retries {
    fn is_expired(&self, since_start: Duration, retry_count: u32) -> bool {
        retry_count >= self.max_retries || since_start >= self.window
    }

    fn sleep_duration(&self, retry_count: u32) -> Duration {
        let factor = 1u32.checked_shl(retry_count).unwrap_or(u32::MAX);
        let jitter = Duration::from_millis(u64::from(rand::random::<u8>()));
        INITIAL_DELAY
            .saturating_mul(factor)
            .saturating_add(jitter)
            .min(MAX_DELAY)
    }

    async fn wait(
        &self,
        error: &azure_core::Error,
        retry_count: u32,
        retry_after: Option<Duration>,
    ) {
        let wait = retry_after
            .unwrap_or_default()
            .max(self.sleep_duration(retry_count));
        tracing::info!(
            attempt = retry_count,
            attempts = self.max_retries.saturating_add(1),
            wait_ms = wait.as_millis() as u64,
            "ARM request failed ({}): attempt {retry_count} of {}, trying again in {:.1} s",
            reason(error),
            self.max_retries.saturating_add(1),
            wait.as_secs_f64()
        );
        tokio::time::sleep(wait).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: std::io::ErrorKind, text: &str) -> azure_core::Error {
        azure_core::Error::full(
            ErrorKind::Io,
            std::io::Error::new(kind, text.to_string()),
            "failed to execute `reqwest` request",
        )
    }

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn errors_no_retry_can_fix_are_told_apart_from_the_others() {
        let refused = io(std::io::ErrorKind::ConnectionRefused, "tcp connect error");
        let why = unfixable(&refused, &url("https://127.0.0.1:1")).unwrap();
        assert!(why.problem.contains("connection refused"), "{why}");

        let dns = io(
            std::io::ErrorKind::Other,
            "dns error: failed to lookup address information",
        );
        let why = unfixable(&dns, &url("https://example.invalid")).unwrap();
        assert!(
            why.problem.contains("example.invalid does not resolve"),
            "{why}"
        );

        let http = io(std::io::ErrorKind::Other, "invalid HTTP version parsed");
        let why = unfixable(&http, &url("http://127.0.0.1:8443")).unwrap();
        assert!(
            why.problem.contains("speaks HTTPS") && why.hint.contains("https://"),
            "{why}"
        );

        let name = io(
            std::io::ErrorKind::Other,
            "invalid peer certificate: certificate not valid for name \"127.0.0.1\"",
        );
        let why = unfixable(&name, &url("https://127.0.0.1:8443")).unwrap();
        assert!(why.hint.contains("another host"), "{why}");

        for retryable in [
            io(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ),
            io(std::io::ErrorKind::TimedOut, "operation timed out"),
        ] {
            assert!(unfixable(&retryable, &url("https://127.0.0.1:1")).is_none());
            assert_eq!(
                fail_fast(retryable, &url("https://127.0.0.1:1")).kind(),
                &ErrorKind::Io
            );
        }
    }

    #[test]
    fn a_fast_failure_is_no_longer_an_io_error_and_is_found_again() {
        let refused = io(std::io::ErrorKind::ConnectionRefused, "tcp connect error");
        let failed = fail_fast(refused, &url("https://127.0.0.1:1"));
        assert_ne!(
            failed.kind(),
            &ErrorKind::Io,
            "the retry loop would retry it"
        );
        let wrapped = failed.context("non-io error occurred which will not be retried");
        assert!(find_unfixable(&wrapped).is_some());
    }

    #[test]
    fn backoff_grows_to_a_ceiling_without_overflowing() {
        use azure_core::RetryPolicy;
        let retries = Retries {
            max_retries: 8,
            window: Duration::from_secs(300),
        };
        assert!(retries.sleep_duration(1) < Duration::from_secs(1));
        assert_eq!(retries.sleep_duration(40), MAX_DELAY);
        assert!(retries.is_expired(Duration::ZERO, 8));
        assert!(!retries.is_expired(Duration::ZERO, 7));
        assert!(retries.is_expired(Duration::from_secs(300), 0));
    }
}
