//! The tool's one TLS stack (rustls, no OpenSSL) end to end: which roots it
//! trusts (the operating system's store, which `SSL_CERT_FILE` stands in for
//! here, plus every certificate of `--ca-file`), and the messages a wrong CA,
//! an expired certificate and a certificate for another name give.
//! The failing servers are impostors on loopback that only do the handshake.

use crate::support;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::cli::Run;
use support::*;

/// A certificate authority of the test's own, unrelated to the emulator's.
struct TestCa {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        TestCa { key, cert }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate (and its key) for `names`; `expired` makes it
    /// valid for 2020 only (otherwise rcgen's default span, 1975 to 4096).
    fn issue(
        &self,
        names: &[&str],
        expired: bool,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.to_string().try_into().unwrap()),
            })
            .collect();
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (
            CertificateDer::from(cert.der().to_vec()),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }
}

/// A loopback HTTPS "server" that presents `cert` and does nothing else:
/// the tool must refuse it during the handshake. Stops when dropped.
struct Impostor {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Impostor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn impostor(cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> Impostor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            // The client aborts the handshake; nothing is served either way.
            tokio::spawn(async move { drop(acceptor.accept(socket).await) });
        }
    });
    Impostor { url, task }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `audit` with only the environment credential, pointed at `endpoint`
/// for both sign-in and ARM, trusting `ca_file` (if any) and the roots in
/// `ssl_cert_file` (if any) standing for the system store.
async fn audit_at(endpoint: &str, ca_file: Option<&Path>, ssl_cert_file: Option<&Path>) -> Run {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_")
            || k.starts_with("ACTLOG_CMK_")
            || k.starts_with("SSL_CERT_")
            || k == "IDENTITY_ENDPOINT"
            || k == "MSI_ENDPOINT"
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("ACTLOG_CMK_ARM_ENDPOINT", endpoint)
        .env("ACTLOG_CMK_AUTH", "environment")
        .env("AZURE_AUTHORITY_HOST", endpoint)
        .env("AZURE_TENANT_ID", "00000000-0000-0000-0000-00000000000a")
        .env("AZURE_CLIENT_ID", "00000000-0000-0000-0000-00000000000b")
        .env("AZURE_CLIENT_SECRET", "impostor-test-secret")
        .env("NO_COLOR", "1")
        .args(["audit", "-s", SUB1, "--max-retries", "0", "--timeout", "20"]);
    if let Some(path) = ca_file {
        cmd.env("ACTLOG_CMK_CA_FILE", path);
    }
    if let Some(path) = ssl_cert_file {
        // rustls-native-certs reads the system store from here when it is set.
        cmd.env("SSL_CERT_FILE", path);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The emulator, signed in to and audited, with its CA found either in the
/// system store or as the second certificate of a `--ca-file` bundle.
#[tokio::test]
async fn the_system_store_and_every_certificate_of_the_ca_file_are_trusted() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let dir = tempfile::tempdir().unwrap();
    let emulator_ca = write(dir.path(), "emulator-ca.pem", &env.emu.ca_pem);
    let other = TestCa::new("some other CA").pem();
    let bundle = write(
        dir.path(),
        "bundle.pem",
        &format!("{other}{}", env.emu.ca_pem),
    );
    let tool = env.tool();
    tool.ready().await;
    let with = |cmd: &mut std::process::Command, ca: Option<&Path>, system: Option<&Path>| {
        cmd.env_remove("ACTLOG_CMK_CA_FILE")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        if let Some(ca) = ca {
            cmd.env("ACTLOG_CMK_CA_FILE", ca);
        }
        if let Some(system) = system {
            cmd.env("SSL_CERT_FILE", system);
        }
    };
    for (what, ca, system) in [
        (
            "the CA in the system store",
            None,
            Some(emulator_ca.as_path()),
        ),
        ("the CA second in a bundle", Some(bundle.as_path()), None),
    ] {
        let mut cmd = tool.command(&["audit", "-s", SUB1, "--output", "json"]);
        with(&mut cmd, ca, system);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["summary"]["subscriptions"], 1, "{what}: {report}");
    }

    // Neither: the emulator's certificate is not trusted, nothing reaches ARM.
    let seen = env.arm_requests().await.len();
    let mut cmd = tool.command(&["audit", "-s", SUB1, "--max-retries", "0"]);
    with(
        &mut cmd,
        None,
        Some(&write(dir.path(), "other.pem", &other)),
    );
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");
    assert_eq!(env.arm_requests().await.len(), seen);
}

#[tokio::test]
async fn a_certificate_from_a_ca_not_given_is_refused_naming_ca_file() {
    let ca = TestCa::new("the impostor's CA");
    let (cert, key) = ca.issue(&["127.0.0.1"], false);
    let server = impostor(cert, key).await;
    let dir = tempfile::tempdir().unwrap();
    let wrong_ca = write(dir.path(), "wrong.pem", &TestCa::new("wrong CA").pem());

    let run = audit_at(&server.url, Some(&wrong_ca), None).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("UnknownIssuer"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca-file"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("impostor-test-secret"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_saying_it_expired() {
    let ca = TestCa::new("the impostor's CA");
    let (cert, key) = ca.issue(&["127.0.0.1"], true);
    let server = impostor(cert, key).await;
    let dir = tempfile::tempdir().unwrap();
    let trusted = write(dir.path(), "ca.pem", &ca.pem());

    let run = audit_at(&server.url, Some(&trusted), None).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("certificate expired"), "{}", run.stderr);
    // A CA that is given already: --ca-file is not the fix.
    assert!(!run.stderr.contains("not trusted"), "{}", run.stderr);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_naming_both() {
    let ca = TestCa::new("the impostor's CA");
    let (cert, key) = ca.issue(&["wrong.example.invalid"], false);
    let server = impostor(cert, key).await;
    let dir = tempfile::tempdir().unwrap();
    let trusted = write(dir.path(), "ca.pem", &ca.pem());

    let run = audit_at(&server.url, Some(&trusted), None).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("not valid for name \"127.0.0.1\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("wrong.example.invalid"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not trusted"), "{}", run.stderr);
}

#[tokio::test]
async fn a_ca_file_without_a_certificate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = write(dir.path(), "not-a-ca.pem", "no certificate here\n");
    let run = audit_at("https://127.0.0.1:9", Some(&not_pem), None).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!(
            "the CA file {} is not a PEM certificate",
            not_pem.display()
        )),
        "{}",
        run.stderr
    );
}

/// Signed in at the emulator, ARM at an impostor whose certificate names
/// another host: the audit fails at once (a retry cannot change a
/// certificate; the default eight retries took about 82 s), saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arm_certificate_for_another_name_fails_at_once_with_a_hint() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let ca = TestCa::new("the impostor's CA");
    let (cert, key) = ca.issue(&["wrong.example.invalid"], false);
    let server = impostor(cert, key).await;
    let dir = tempfile::tempdir().unwrap();
    let both = write(
        dir.path(),
        "both.pem",
        &format!("{}{}", ca.pem(), env.emu.ca_pem),
    );
    let tool = env.tool();
    tool.ready().await;
    let mut cmd = tool.command(&["audit", "-s", SUB1, "--arm-endpoint", &server.url]);
    cmd.env("ACTLOG_CMK_CA_FILE", &both);
    let start = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach {}", server.url)),
        "{stderr}"
    );
    assert!(stderr.contains("not valid for name"), "{stderr}");
    assert!(stderr.contains("for another host"), "{stderr}");
    assert!(!stderr.contains("retry policy expired"), "{stderr}");
    // Generous: a fast failure takes a second or two, eight retries about 82 s.
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}
