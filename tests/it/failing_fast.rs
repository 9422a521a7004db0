//! What the operator sees when ARM cannot be reached (issue 15 item 1), the
//! real binary signed in at the emulator: a refused port, a name that does
//! not resolve, plain http spoken to the HTTPS port and HTTPS spoken to a
//! plain-http port each fail at once (no eight retries, about 82 s of
//! silence) with a hint naming the endpoint; errors a retry may cure are
//! retried and each retry is logged at `-v` with its attempt and wait.
//! Timings are not asserted (machines are noisy), only a generous bound
//! that the old 82 s of retries cannot meet.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::cli::Run;
use support::*;

/// Far above a fast failure, far below eight retries.
const BOUND: Duration = Duration::from_secs(30);

/// Runs `cmd`, killing it (and failing the test) if it outlives [`BOUND`].
async fn run_bounded(mut cmd: std::process::Command) -> Run {
    tokio::task::spawn_blocking(move || {
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > BOUND {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "still retrying after {BOUND:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Run::from_output(&child.wait_with_output().unwrap())
    })
    .await
    .unwrap()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A loopback plain-HTTP server that answers whatever it is sent with 400,
/// as web servers answer a TLS handshake.
fn plain_http_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    url
}

/// `audit` against `endpoint` (the default 8 retries), signed in at the emulator.
async fn audit_at(env: &Env, endpoint: &str) -> Run {
    let tool = env.tool();
    tool.ready().await;
    run_bounded(tool.command(&["audit", "-s", SUB1, "--arm-endpoint", endpoint])).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_fails_at_once_naming_the_endpoint() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let endpoint = format!("https://127.0.0.1:{}", closed_port());
    let run = audit_at(&env, &endpoint).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot reach {endpoint}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(run.stderr.contains("--arm-endpoint"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("retry policy expired"),
        "{}",
        run.stderr
    );
}

/// A name no lookup can succeed for: its first label is longer than the 63
/// octets a DNS label may have. A name that fails at a DNS server is not
/// tried end to end, because the query would leave this machine (tests stay
/// on loopback); `azure::retry`'s unit tests hold that a DNS failure fails
/// at once.
fn unresolvable_host() -> String {
    format!("{}.invalid", "a".repeat(64))
}

/// rustls refuses such a name before any lookup (seen with strace: no
/// packet leaves the machine): no retry can change that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_is_no_host_name_fails_at_once() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let host = unresolvable_host();
    let run = audit_at(&env, &format!("https://{host}")).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{host} is not a valid host name")),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_the_https_port_says_use_https() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let http = env.endpoint().replacen("https://", "http://", 1);
    let run = audit_at(&env, &http).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the port answered with TLS: it speaks HTTPS"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Use https:// in --arm-endpoint"),
        "{}",
        run.stderr
    );
    assert!(env.arm_requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_says_it_does_not_speak_tls() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let https = plain_http_server().replacen("http://", "https://", 1);
    let run = audit_at(&env, &https).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("does not speak TLS"), "{}", run.stderr);
}

/// Server errors are worth retrying: each retry is told at `-v`, with its
/// attempt number and wait, and the request count is what `--max-retries` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_of_server_errors_are_logged_with_attempt_and_wait() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    env.patch_settings(json!({"faults": {"errorRate": 1.0}}))
        .await;
    let tool = env.tool();
    tool.ready().await;
    env.clear_requests().await;
    let run = run_bounded(tool.command(&["audit", "--max-retries", "2", "-v"])).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    for attempt in ["attempt 1 of 3", "attempt 2 of 3"] {
        assert!(run.stderr.contains(attempt), "{attempt}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("attempt 3 of 3"), "{}", run.stderr);
    assert!(run.stderr.contains("trying again in"), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 5"), "{}", run.stderr);
    assert_eq!(env.arm_requests().await.len(), 3);

    // Without -v the retries stay quiet.
    let quiet = run_bounded(tool.command(&["audit", "--max-retries", "1"])).await;
    assert!(!quiet.stderr.contains("trying again"), "{}", quiet.stderr);
}
