//! The emulator's own API under `/_emulator/`, for tests and rehearsals:
//! subscriptions and principals (which ARM cannot create), settings and
//! faults, locks, the request log, and saving or loading the whole state.
//! Everything else is built with ordinary ARM calls.
//!
//! Every call needs the `x-emulator-key` header with the key printed at start.

use super::context::{Caller, Ctx};
use super::error::ArmError;
use super::pipeline::request::RawRequest;
use super::reply::Reply;
use super::router;
use super::service::{lock, Emulator};
use super::settings::Settings;
use super::state::{Lock, LockLevel, Principal, State};
use chrono::Utc;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

pub const KEY_HEADER: &str = "x-emulator-key";

pub fn handle(emu: &Emulator, req: &RawRequest) -> Reply {
    if req.header(KEY_HEADER) != Some(emu.admin_key.as_str()) {
        return error(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "EmulatorKeyRequired",
            format!("The admin API needs the '{KEY_HEADER}' header with the key the emulator printed at start."),
        ));
    }
    route(emu, req).unwrap_or_else(error)
}

fn error(e: ArmError) -> Reply {
    Reply::json(e.status, e.body())
}

fn parse<T: for<'de> Deserialize<'de>>(req: &RawRequest) -> Result<T, ArmError> {
    serde_json::from_slice(&req.body).map_err(ArmError::invalid_request_content)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscriptionBody {
    display_name: String,
    #[serde(default = "enabled")]
    state: String,
}

fn enabled() -> String {
    "Enabled".into()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PrincipalBody {
    client_secret: String,
    object_id: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    denied_scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LockBody {
    scope: String,
    level: LockLevel,
}

fn route(emu: &Emulator, req: &RawRequest) -> Result<Reply, ArmError> {
    let segments: Vec<&str> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
    match (&req.method, segments.as_slice()) {
        (&Method::PUT, ["subscriptions", id]) => {
            let body: SubscriptionBody = parse(req)?;
            let mut state = lock(&emu.state);
            let sub = state
                .subscriptions
                .upsert(id, &body.display_name, &body.state)?;
            Ok(Reply::ok(serde_json::to_value(sub).unwrap_or_default()))
        }
        (&Method::PUT, ["principals", client_id]) => {
            let body: PrincipalBody = parse(req)?;
            let mut state = lock(&emu.state);
            let object_id = body
                .object_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let principal = Principal {
                client_id: client_id.to_string(),
                client_secret: body.client_secret,
                object_id: object_id.clone(),
                read_only: body.read_only,
                denied_scopes: body.denied_scopes,
            };
            state.principals.insert(client_id.to_string(), principal);
            state.add_directory_object(&object_id, "ServicePrincipal", Utc::now());
            Ok(Reply::ok(
                json!({"clientId": client_id, "objectId": object_id}),
            ))
        }
        (&Method::GET, ["settings"]) => Ok(Reply::ok(
            serde_json::to_value(emu.settings()).unwrap_or_default(),
        )),
        (&Method::PUT, ["settings"]) => {
            let settings: Settings = parse(req)?;
            *lock(&emu.settings) = settings.clone();
            Ok(Reply::ok(
                serde_json::to_value(settings).unwrap_or_default(),
            ))
        }
        (&Method::PATCH, ["settings"]) => {
            let patch: Value = parse(req)?;
            let settings = emu
                .settings()
                .merged(&patch)
                .map_err(ArmError::invalid_request_content)?;
            *lock(&emu.settings) = settings.clone();
            Ok(Reply::ok(
                serde_json::to_value(settings).unwrap_or_default(),
            ))
        }
        (&Method::GET, ["requests"]) => Ok(Reply::ok(json!({"requests": emu.journal.requests()}))),
        (&Method::GET, ["sign-ins"]) => Ok(Reply::ok(json!({"requests": emu.sign_ins.requests()}))),
        (&Method::DELETE, ["requests"]) => {
            emu.journal.clear();
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (&Method::GET, ["state"]) => Ok(Reply::ok(
            serde_json::to_value(&*lock(&emu.state)).unwrap_or_default(),
        )),
        (&Method::PUT, ["state"]) => {
            let state: State = parse(req)?;
            *lock(&emu.state) = state;
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (&Method::GET, ["locks"]) => Ok(Reply::ok(json!({"value": lock(&emu.state).locks}))),
        (&Method::PUT, ["locks", name]) => {
            let body: LockBody = parse(req)?;
            let mut state = lock(&emu.state);
            state.locks.retain(|l| !l.name.eq_ignore_ascii_case(name));
            let new = Lock {
                scope: body.scope,
                name: name.to_string(),
                level: body.level,
            };
            state.locks.push(new.clone());
            Ok(Reply::ok(serde_json::to_value(new).unwrap_or_default()))
        }
        (&Method::DELETE, ["locks", name]) => {
            lock(&emu.state)
                .locks
                .retain(|l| !l.name.eq_ignore_ascii_case(name));
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        _ => provider_admin(emu, req),
    }
}

/// Admin operations that providers define themselves (e.g. data-plane changes to keys).
fn provider_admin(emu: &Emulator, req: &RawRequest) -> Result<Reply, ArmError> {
    let (route, params) =
        router::find(&emu.admin_routes, &req.method, &req.path).map_err(|_| {
            ArmError::not_found(
                "NotFound",
                format!("No admin operation {} {}.", req.method, req.path),
            )
        })?;
    let body = if req.body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&req.body).map_err(ArmError::invalid_request_content)?)
    };
    let settings = emu.settings();
    let mut state = lock(&emu.state);
    let tenant_id = state.tenant_id.clone();
    let mut ctx = Ctx {
        state: &mut state,
        settings: &settings,
        now: Utc::now(),
        method: req.method.clone(),
        path: req.path.clone(),
        params,
        query: req.query.clone(),
        body,
        api_version: String::new(),
        caller: Caller {
            object_id: "emulator-admin".into(),
            client_id: "emulator-admin".into(),
            tenant_id,
        },
        endpoint: emu.endpoint.clone(),
    };
    (route.handler)(&mut ctx)
}

/// JSON merge patch (RFC 7396).
pub fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
