//! A local Azure Resource Manager for the few resource types actlog-cmk
//! touches, as strict as Azure: same paths and api-versions, same validation
//! and error codes, tokens from its own Entra ID endpoint, throttling,
//! eventual consistency and injected faults.
//!
//! Start it in-process with [`start`] (tests) or as `actlog-cmk emulator`.
//! Layout follows moto: `providers/*` hold each provider's model and routes,
//! `service` runs ARM's request pipeline, `auth` is Entra ID, `admin` is the
//! emulator's own API.

pub mod admin;
pub mod auth;
pub mod cloud;
pub mod connection;
pub mod context;
pub mod error;
pub mod journal;
pub mod managed_identity;
pub mod pipeline;
pub mod provider;
pub mod providers;
pub mod reply;
pub mod router;
pub mod rules;
pub mod service;
pub mod settings;
pub mod sign_ins;
pub mod state;
pub mod throttle;
pub mod tls;

use anyhow::Context as _;
pub use connection::Connection;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::RngCore;
use service::Emulator;
use settings::Settings;
use state::{Principal, State};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    /// 0 picks any free port.
    pub port: u16,
    /// Serve plain http instead of HTTPS (only for clients that cannot do TLS).
    pub insecure_http: bool,
    /// Where to write the CA certificate clients should trust.
    pub ca_out: Option<PathBuf>,
    pub settings: Settings,
    /// A state saved with `GET /_emulator/state`, to start from.
    pub initial_state: Option<State>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Write every ARM exchange as an `oav validate-traffic` file into this folder.
    pub traffic_dir: Option<PathBuf>,
    /// The name clients use to reach the emulator (a DNS name or an
    /// address): the reported endpoint uses it and the certificate covers it.
    /// Without it, an unspecified bind address is reported as loopback.
    pub hostname: Option<String>,
    /// The Azure cloud it presents itself as (`cloud.rs`).
    pub cloud: cloud::EmulatedCloud,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            insecure_http: false,
            ca_out: None,
            settings: Settings::default(),
            initial_state: None,
            tenant_id: None,
            client_id: None,
            client_secret: None,
            traffic_dir: None,
            hostname: None,
            cloud: cloud::EmulatedCloud::Public,
        }
    }
}

pub struct RunningEmulator {
    pub connection: Connection,
    pub ca_pem: String,
    pub addr: SocketAddr,
    emulator: Arc<Emulator>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// The in-process emulator, for tests that inspect it directly.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Resolves when the server stops (never, unless `stop` is called elsewhere).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn start(options: Options) -> anyhow::Result<RunningEmulator> {
    let listener = TcpListener::bind(SocketAddr::new(options.bind, options.port))
        .await
        .with_context(|| format!("binding the emulator to {}:{}", options.bind, options.port))?;
    let addr = listener.local_addr()?;
    let scheme = if options.insecure_http {
        "http"
    } else {
        "https"
    };
    let host = connection::reachable_host(addr.ip(), options.hostname.as_deref());
    let endpoint = format!("{scheme}://{host}:{}", addr.port());

    let mut names = vec![host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()];
    if !addr.ip().is_unspecified() {
        names.push(addr.ip().to_string());
    }
    let certificates = tls::generate(&names)?;
    if let Some(path) = &options.ca_out {
        std::fs::write(path, &certificates.ca_pem)
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }

    let mut state = options.initial_state.unwrap_or_default();
    state.cloud = options.cloud;
    if state.tenant_id.is_empty() {
        state.tenant_id = options
            .tenant_id
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    }
    let client_id = options
        .client_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let existing = state.principals.get(&client_id).cloned();
    let principal = Principal {
        client_id: client_id.clone(),
        client_secret: options
            .client_secret
            .or_else(|| existing.as_ref().map(|p| p.client_secret.clone()))
            .unwrap_or_else(random_secret),
        object_id: existing
            .as_ref()
            .map(|p| p.object_id.clone())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        read_only: false,
        denied_scopes: Vec::new(),
    };
    state.add_directory_object(&principal.object_id, "ServicePrincipal", chrono::Utc::now());
    state
        .principals
        .insert(client_id.clone(), principal.clone());

    let traffic = match &options.traffic_dir {
        Some(dir) => Some(
            journal::TrafficRecorder::new(dir.clone())
                .with_context(|| format!("creating {}", dir.display()))?,
        ),
        None => None,
    };
    let mut signing_key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut signing_key);
    let admin_key = random_secret();
    let connection = Connection {
        endpoint: endpoint.clone(),
        authority_host: options.cloud.authority_host(&endpoint),
        token_scope: options.cloud.scope(),
        cloud: options.cloud,
        ca_file: if options.insecure_http {
            None
        } else {
            options.ca_out.clone()
        },
        tenant_id: state.tenant_id.clone(),
        client_id,
        client_secret: principal.client_secret.clone(),
        object_id: principal.object_id.clone(),
        admin_key: admin_key.clone(),
    };
    let emulator = Arc::new(Emulator::new(
        state,
        options.settings,
        signing_key,
        admin_key,
        endpoint,
        traffic,
    ));
    let acceptor = (!options.insecure_http)
        .then(|| tokio_rustls::TlsAcceptor::from(certificates.server_config.clone()));
    let (stop, mut stopped) = watch::channel(false);
    let served = emulator.clone();
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.changed() => break,
            };
            let Ok((stream, _)) = accepted else { continue };
            let emulator = served.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let emulator = emulator.clone();
                    async move { emulator.handle(req).await }
                });
                let result = match acceptor {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => {
                            http1::Builder::new()
                                .serve_connection(TokioIo::new(tls), service)
                                .await
                        }
                        Err(e) => {
                            tracing::debug!("TLS handshake failed: {e}");
                            return;
                        }
                    },
                    None => {
                        http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                };
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
            });
        }
    });
    Ok(RunningEmulator {
        connection,
        ca_pem: certificates.ca_pem,
        addr,
        emulator,
        stop,
        task,
    })
}
