//! The managed-identity endpoint of an App Service, Functions or Container
//! Apps host, as the emulator plays one: `GET /msi/{host}/token` speaks the
//! 2019-08-01 protocol those hosts serve at `IDENTITY_ENDPOINT` (query
//! `resource`, `api-version`, optional `client_id`; the `X-IDENTITY-HEADER`
//! header carrying `IDENTITY_HEADER`). `{host}` is the client id of the
//! service principal that is the host's system-assigned identity; a
//! `client_id` naming one of the emulator's user-assigned identities gets
//! that identity's token instead. The tokens are the emulator's own, so ARM
//! calls made with them are logged under the identity that asked.

use super::pipeline::request::RawRequest;
use super::reply::Reply;
use super::service::{lock, Emulator};
use super::state::{Principal, State};
use chrono::Utc;
use hyper::StatusCode;
use serde_json::json;

/// The only protocol version App Service's `IDENTITY_ENDPOINT` speaks here.
pub const API_VERSION: &str = "2019-08-01";

/// What a host's environment holds: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
#[derive(Debug, Clone)]
pub struct Host {
    pub endpoint: String,
    pub header: String,
}

/// The endpoint and secret header of the host whose system-assigned
/// identity is the service principal `system_client_id`.
pub fn host(emu: &Emulator, system_client_id: &str) -> Host {
    Host {
        endpoint: format!("{}/msi/{system_client_id}/token", emu.endpoint),
        header: emu.issuer.identity_header(system_client_id),
    }
}

/// App Service's error body: `statusCode` and `message`.
fn refuse(status: StatusCode, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"statusCode": status.as_u16(), "message": message}),
    )
}

/// `GET /msi/{host}/token`: a token for the host's system-assigned identity,
/// or for the user-assigned identity `client_id` names.
pub fn token(emu: &Emulator, host: &str, incoming: &RawRequest) -> Reply {
    let expected = emu.issuer.identity_header(host);
    match incoming.header("x-identity-header") {
        Some(sent) if sent == expected => {}
        Some(_) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "The X-IDENTITY-HEADER is not valid.",
            )
        }
        None => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "The X-IDENTITY-HEADER header is missing.",
            )
        }
    }
    if incoming.query.get("api-version").map(String::as_str) != Some(API_VERSION) {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("The api-version must be {API_VERSION}."),
        );
    }
    let resource = incoming.query.get("resource").cloned().unwrap_or_default();
    let lifetime = lock(&emu.settings).token_lifetime_secs;
    let state = lock(&emu.state);
    if !state.cloud.accepts_audience(&resource) {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("No token can be issued for the resource '{resource}'."),
        );
    }
    let Some(principal) = identity(&state, host, incoming.query.get("client_id")) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "No MSI found for specified ClientId/ResourceId.",
        );
    };
    let now = Utc::now();
    let audience = resource.trim_end_matches('/');
    let token = emu
        .issuer
        .issue(&state, &principal, audience, lifetime, now);
    Reply::ok(json!({
        "access_token": token,
        // A string of seconds since the epoch, as App Service sends it.
        "expires_on": (now.timestamp() + lifetime as i64).to_string(),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": principal.client_id,
    }))
    .header("cache-control", "no-store, no-cache")
}

/// The identity a request asks for: the user-assigned one `client_id`
/// names, else the host's system-assigned service principal.
fn identity(state: &State, host: &str, client_id: Option<&String>) -> Option<Principal> {
    let system = state
        .principals
        .values()
        .find(|p| p.client_id.eq_ignore_ascii_case(host));
    match client_id {
        Some(id) if system.is_some_and(|p| p.client_id.eq_ignore_ascii_case(id)) => system.cloned(),
        Some(id) => state.msi.by_client_id(id).map(|identity| Principal {
            client_id: identity.client_id.clone(),
            object_id: identity.principal_id.clone(),
            ..Principal::default()
        }),
        None => system.cloned(),
    }
}
