//! ARM's request pipeline: the stages every ARM call passes, in the order
//! Azure applies them, before the provider's handler sees it (the list in
//! docs/emulator.md, "The request pipeline"):
//!
//! 1. [`faults`]: injected latency, dropped connection, transient 500/503;
//! 2. [`authentication`]: the bearer token (401);
//! 3. [`routing`]: route and api-version;
//! 4. [`scope`]: the subscription exists and, for writes, is enabled; the
//!    token is of its tenant (`emulator::tenants`, 401);
//! 5. [`authorization`]: the principal's denied scopes, and for a
//!    subscription those of the management groups above it (403);
//! 6. [`throttling`]: token buckets (429);
//! 7. [`authorization`]: read-only principals on writes (403);
//! 8. [`locks`]: management locks (409);
//! 9. [`scope`]: the resource group exists (404);
//! 10. [`body`]: the body is JSON (400);
//!
//! then the handler, [`response`] (ARM's headers) and the journal
//! (`emulator::journal`). [`request`] reads the call off the wire first.

pub mod authentication;
pub mod authorization;
pub mod body;
pub mod faults;
pub mod locks;
pub mod request;
pub mod response;
pub mod routing;
pub mod scope;
pub mod throttling;

use super::context::Ctx;
use super::error::ArmError;
use super::journal::Outcome;
use super::reply::Reply;
use super::router::{Params, Route};
use super::service::{lock, DropConnection, Emulator};
use super::settings::Settings;
use chrono::Utc;
use request::RawRequest;

/// Runs one ARM call through every stage; `Err` when a fault drops the connection.
pub async fn run(emu: &Emulator, incoming: &RawRequest) -> Result<Reply, DropConnection> {
    let route = routing::find(&emu.routes, incoming);
    let operation = route.as_ref().ok().map(|(r, _)| r.operation);
    let settings = emu.settings();

    let rolled = faults::Rolled::roll(&settings.faults, operation, &mut lock(&emu.rng));
    if !rolled.delay.is_zero() {
        tokio::time::sleep(rolled.delay).await;
    }
    let outcome = |status, error_code, headers, body, client_id| Outcome {
        operation,
        status,
        error_code,
        headers,
        body,
        client_id,
    };
    if rolled.drop {
        emu.journal
            .record(incoming, outcome(0, None, &[], None, None));
        return Err(DropConnection);
    }
    let answered = match rolled.error() {
        Some(fault) => Err(fault),
        None => checks_and_handler(emu, incoming, route, &settings),
    };
    let mut reply = answered.unwrap_or_else(response::error_reply);
    response::finish(&mut reply);
    let client_id = {
        let state = lock(&emu.state);
        authentication::authenticate(&emu.issuer, &state, incoming, Utc::now(), &emu.endpoint)
            .ok()
            .map(|caller| caller.client_id)
    };
    emu.journal.record(
        incoming,
        outcome(
            reply.status.as_u16(),
            response::error_code(&reply),
            &reply.headers,
            reply.body.as_ref(),
            client_id,
        ),
    );
    Ok(reply)
}

/// Stages 2 to 10, then the route's handler, under the state lock.
fn checks_and_handler(
    emu: &Emulator,
    incoming: &RawRequest,
    route: Result<(&Route, Params), bool>,
    settings: &Settings,
) -> Result<Reply, ArmError> {
    let now = Utc::now();
    let mut state = lock(&emu.state);
    let caller = authentication::authenticate(&emu.issuer, &state, incoming, now, &emu.endpoint)?;
    let (route, params) = routing::resolve(route, incoming)?;
    let api_version = routing::check_api_version(route, incoming.query.get("api-version"))?;

    let subscription = scope::subscription_of_call(&params);
    if let Some(sub) = &subscription {
        scope::check_subscription(&state, sub, route.access)?;
        crate::emulator::tenants::check_token_tenant(&state, &caller, sub)?;
    }
    let principal = authorization::principal_of(&state, &caller);
    authorization::check_denied_scopes(&principal, &caller, incoming, &params)?;
    if let Some(sub) = &subscription {
        authorization::check_denied_through_groups(&state, &caller, incoming, sub)?;
    }
    let remaining = throttling::take(
        &mut lock(&emu.throttle),
        &settings.throttling,
        subscription.as_deref(),
        route.access,
        incoming,
    )?;
    authorization::check_read_only(&principal, &caller, incoming, route.access)?;
    locks::check_locks(&state, incoming, route.access)?;
    scope::check_resource_group(&state, route, subscription.as_deref(), &params)?;
    let body = body::parse_body(&incoming.body)?;

    let mut ctx = Ctx {
        state: &mut state,
        settings,
        now,
        method: incoming.method.clone(),
        path: incoming.path.clone(),
        params,
        query: incoming.query.clone(),
        body,
        api_version,
        caller,
        endpoint: emu.endpoint.clone(),
    };
    let mut reply = (route.handler)(&mut ctx)?;
    let (header, value) = remaining;
    reply.headers.push((header.into(), value));
    Ok(reply)
}
