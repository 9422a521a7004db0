//! The running emulator ([`Emulator`]: state, settings, routes, token issuer,
//! throttle, journal) and its front door: one HTTP request in, one answer out.
//! Entra ID's endpoints and the admin API are answered here; every other call
//! is an ARM call and goes through `pipeline`'s stages.

use super::admin;
use super::auth::{self, TokenIssuer};
use super::cloud::EmulatedCloud;
use super::journal::{Journal, TrafficRecorder};
use super::managed_identity;
use super::pipeline::{self, request::RawRequest, response};
use super::reply::Reply;
use super::router::Route;
use super::settings::Settings;
use super::sign_ins::{self, SignInLog};
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
    /// Requests to the sign-in and discovery endpoints (`GET /_emulator/sign-ins`).
    pub sign_ins: SignInLog,
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
            sign_ins: SignInLog::default(),
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
        let cloud = lock(&self.state).cloud;
        let segments = incoming.segments();
        if let Some(reply) = self.sign_in_route(cloud, &segments, &incoming) {
            let client_id = (incoming.method == Method::POST)
                .then(|| sign_ins::form_client_id(&String::from_utf8_lossy(&incoming.body)))
                .flatten();
            self.sign_ins.record(
                incoming.method.as_str(),
                &incoming.path,
                reply.status.as_u16(),
                client_id,
            );
            return Ok(response::to_response(&reply));
        }
        let reply = match (incoming.method.clone(), segments.as_slice()) {
            (_, ["_emulator", ..]) => admin::handle(self, &incoming),
            (Method::GET, ["msi", host, "token"]) => managed_identity::token(self, host, &incoming),
            _ => pipeline::run(self, &incoming).await?,
        };
        Ok(response::to_response(&reply))
    }

    /// Entra ID's endpoints, under the cloud's sign-in path (`cloud.rs`), and
    /// ARM's `/metadata/endpoints`: what a client asks before it signs in.
    fn sign_in_route(
        &self,
        cloud: EmulatedCloud,
        segments: &[&str],
        incoming: &RawRequest,
    ) -> Option<Reply> {
        if let (&Method::GET, ["metadata", "endpoints"]) = (&incoming.method, segments) {
            return Some(Reply::ok(cloud.metadata_endpoints(&self.endpoint)));
        }
        let below = match cloud.authority_path().trim_start_matches('/') {
            "" => segments,
            host => match segments {
                [first, rest @ ..] if first.eq_ignore_ascii_case(host) => rest,
                // The root stands for another cloud's Entra, which does not
                // know this cloud's tenants (as login.microsoftonline.com
                // answers a US Government tenant).
                [tenant, "oauth2", "v2.0", "token"] if incoming.method == Method::POST => {
                    let (status, body) = auth::oauth_error(
                        hyper::StatusCode::BAD_REQUEST,
                        "invalid_request",
                        &auth::tenant_not_found(tenant),
                    );
                    return Some(Reply::json(status, body));
                }
                _ => return None,
            },
        };
        let authority = cloud.authority_host(&self.endpoint);
        match (&incoming.method, below) {
            (&Method::POST, [tenant, "oauth2", "v2.0", "token"]) => {
                Some(self.token(tenant, incoming))
            }
            (&Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
                Some(Reply::ok(auth::openid_configuration(&authority, tenant)))
            }
            _ => None,
        }
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
