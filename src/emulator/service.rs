//! The running emulator ([`Emulator`]: state, settings, routes, token issuer,
//! throttle, journal) and its front door: one HTTP request in, one answer out.
//! Entra ID's endpoints and the admin API are answered here; every other call
//! is an ARM call and goes through `pipeline`'s stages.

use super::admin;
use super::auth::{self, TokenIssuer};
use super::journal::{Journal, TrafficRecorder};
use super::managed_identity;
use super::pipeline::{self, request::RawRequest, response};
use super::reply::Reply;
use super::router::Route;
use super::settings::Settings;
use super::state::State;
use super::throttle::Throttle;
use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::Mutex;

/// The shared, running emulator: state plus everything around it.
pub struct Emulator {
    pub state: Mutex<State>,
    pub settings: Mutex<Settings>,
    /// Every provider's ARM routes, from the registry.
    pub routes: Vec<Route>,
    /// Every provider's routes under `/_emulator/`.
    pub admin_routes: Vec<Route>,
    pub issuer: TokenIssuer,
    pub admin_key: String,
    pub endpoint: String,
    pub journal: Journal,
    pub throttle: Mutex<Throttle>,
    /// The fault dice, seeded by `faults.seed` to repeat a run.
    pub rng: Mutex<StdRng>,
}

/// The connection is to be closed without an answer (an injected fault).
#[derive(Debug)]
pub struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

impl Emulator {
    pub fn new(
        state: State,
        settings: Settings,
        signing_key: [u8; 32],
        admin_key: String,
        endpoint: String,
        traffic: Option<TrafficRecorder>,
    ) -> Self {
        let rng = match settings.faults.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        Self {
            state: Mutex::new(state),
            settings: Mutex::new(settings),
            routes: super::providers::routes(),
            admin_routes: super::providers::admin_routes(),
            issuer: TokenIssuer::new(signing_key),
            admin_key,
            endpoint,
            journal: Journal::new(traffic),
            throttle: Mutex::new(Throttle::default()),
            rng: Mutex::new(rng),
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub async fn handle(
        &self,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, DropConnection> {
        let incoming = match RawRequest::read(req).await {
            Ok(incoming) => incoming,
            Err(too_large) => return Ok(response::to_response(&response::error_reply(too_large))),
        };
        let reply = match (incoming.method.clone(), incoming.segments().as_slice()) {
            (_, ["_emulator", ..]) => admin::handle(self, &incoming),
            (Method::POST, [tenant, "oauth2", "v2.0", "token"]) => self.token(tenant, &incoming),
            (Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
                Reply::ok(auth::openid_configuration(&self.endpoint, tenant))
            }
            (Method::GET, ["msi", host, "token"]) => managed_identity::token(self, host, &incoming),
            (Method::GET, ["metadata", "endpoints"]) => {
                Reply::ok(auth::metadata_endpoints(&self.endpoint))
            }
            _ => pipeline::run(self, &incoming).await?,
        };
        Ok(response::to_response(&reply))
    }

    fn token(&self, tenant: &str, incoming: &RawRequest) -> Reply {
        let lifetime = lock(&self.settings).token_lifetime_secs;
        let state = lock(&self.state);
        let form = String::from_utf8_lossy(&incoming.body);
        let (status, body) =
            self.issuer
                .token_endpoint(&state, tenant, &form, lifetime, Utc::now());
        Reply::json(status, body).header("cache-control", "no-store, no-cache")
    }
}

/// Locks a mutex, recovering the data if a handler panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
