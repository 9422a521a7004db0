//! One HTTP request in, one answer out: ARM's pipeline of checks in the order
//! Azure applies them (faults, authentication, api-version, subscription,
//! throttling, authorization, locks, resource group), then the route handler.

use super::admin;
use super::auth::{self, TokenIssuer};
use super::context::{format_timestamp, Ctx};
use super::error::ArmError;
use super::journal::{Exchange, LoggedRequest, TrafficRecorder};
use super::reply::Reply;
use super::router::{self, Access, ApiVersionPolicy, Route};
use super::settings::Settings;
use super::state::{is_within, State};
use super::throttle::{Decision, Kind, Throttle};
use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The shared, running emulator: state plus everything around it.
pub struct Emulator {
    pub state: Mutex<State>,
    pub settings: Mutex<Settings>,
    pub routes: Vec<Route>,
    pub issuer: TokenIssuer,
    pub admin_key: String,
    pub endpoint: String,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub throttle: Mutex<Throttle>,
    pub rng: Mutex<StdRng>,
    pub traffic: Option<TrafficRecorder>,
    seq: AtomicU64,
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

/// A request read off the wire, before routing.
pub struct RawRequest {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

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
            issuer: TokenIssuer::new(signing_key),
            admin_key,
            endpoint,
            log: Mutex::new(Vec::new()),
            throttle: Mutex::new(Throttle::default()),
            rng: Mutex::new(rng),
            traffic,
            seq: AtomicU64::new(1),
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub async fn handle(
        &self,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, DropConnection> {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Ok(to_response(&Reply::json(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ArmError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestEntityTooLarge",
                        "The request body is too large or could not be read.",
                    )
                    .body(),
                )))
            }
        };
        let raw_query = parts.uri.query().unwrap_or_default().to_string();
        let query = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw_query)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let incoming = RawRequest {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query,
            raw_query,
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            body,
        };
        let segments: Vec<&str> = incoming.path.split('/').filter(|s| !s.is_empty()).collect();
        let reply = match (incoming.method.clone(), segments.as_slice()) {
            (_, ["_emulator", ..]) => admin::handle(self, &incoming),
            (Method::POST, [tenant, "oauth2", "v2.0", "token"]) => self.token(tenant, &incoming),
            (Method::GET, [tenant, "v2.0", ".well-known", "openid-configuration"]) => {
                Reply::ok(auth::openid_configuration(&self.endpoint, tenant))
            }
            (Method::GET, ["metadata", "endpoints"]) => {
                Reply::ok(auth::metadata_endpoints(&self.endpoint))
            }
            _ => return self.arm(&incoming).await.map(|r| to_response(&r)),
        };
        Ok(to_response(&reply))
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

    async fn arm(&self, incoming: &RawRequest) -> Result<Reply, DropConnection> {
        let route = router::find(&self.routes, &incoming.method, &incoming.path);
        let operation = route.as_ref().ok().map(|(r, _)| r.operation);
        let settings = self.settings();

        // Faults come first: in Azure they happen before (and regardless of) the request's merit.
        let (delay, drop, fail) = {
            let mut rng = lock(&self.rng);
            let faults = &settings.faults;
            let base = operation
                .and_then(|op| faults.operation_latency_ms.get(op).copied())
                .unwrap_or(faults.latency_ms);
            let jitter = if faults.jitter_ms > 0 {
                rng.gen_range(0..=faults.jitter_ms)
            } else {
                0
            };
            let drop = faults.drop_rate > 0.0 && rng.gen_bool(faults.drop_rate.clamp(0.0, 1.0));
            let fail = (faults.error_rate > 0.0 && rng.gen_bool(faults.error_rate.clamp(0.0, 1.0)))
                .then(|| rng.gen_bool(0.5));
            (base + jitter, drop, fail)
        };
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if drop {
            self.journal(incoming, operation, 0, None, &[], None, None);
            return Err(DropConnection);
        }

        let mut reply = match fail {
            Some(service_unavailable) => Err(if service_unavailable {
                ArmError::new(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "The service is temporarily unavailable. Please try again later.")
                    .with_header("retry-after", "1")
            } else {
                ArmError::internal("Encountered internal server error. Diagnostic information: timestamp '', subscription id '', tracking id '', request correlation id ''.")
            }),
            None => self.process(incoming, route, &settings),
        }
        .unwrap_or_else(|e| {
            let mut reply = Reply::json(e.status, e.body());
            reply.headers.extend(e.headers);
            reply
        });
        if reply.body.is_some() {
            reply.headers.push((
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            ));
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        reply
            .headers
            .push(("x-ms-request-id".into(), request_id.clone()));
        reply
            .headers
            .push(("x-ms-correlation-request-id".into(), request_id.clone()));
        reply.headers.push((
            "x-ms-routing-request-id".into(),
            format!("LOCAL:{request_id}"),
        ));
        let client_id = self.caller_client_id(incoming);
        let code = reply
            .body
            .as_ref()
            .and_then(|b| b.pointer("/error/code").or_else(|| b.get("code")))
            .and_then(Value::as_str)
            .map(str::to_string);
        self.journal(
            incoming,
            operation,
            reply.status.as_u16(),
            code,
            &reply.headers,
            reply.body.as_ref(),
            client_id,
        );
        Ok(reply)
    }

    fn caller_client_id(&self, incoming: &RawRequest) -> Option<String> {
        let state = lock(&self.state);
        self.issuer
            .validate(
                &state,
                incoming.header("authorization"),
                Utc::now(),
                &self.endpoint,
            )
            .ok()
            .map(|c| c.client_id)
    }

    #[allow(clippy::too_many_arguments)]
    fn journal(
        &self,
        incoming: &RawRequest,
        operation: Option<&str>,
        status: u16,
        error_code: Option<String>,
        response_headers: &[(String, String)],
        response_body: Option<&Value>,
        client_id: Option<String>,
    ) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        lock(&self.log).push(LoggedRequest {
            seq,
            time: format_timestamp(Utc::now()),
            method: incoming.method.to_string(),
            path: incoming.path.clone(),
            api_version: incoming.query.get("api-version").cloned(),
            status,
            operation: operation.map(str::to_string),
            error_code,
            client_id,
        });
        if let (Some(recorder), true) = (&self.traffic, status != 0) {
            let request_body: Option<Value> = serde_json::from_slice(&incoming.body).ok();
            let url = if incoming.raw_query.is_empty() {
                format!("https://management.azure.com{}", incoming.path)
            } else {
                format!(
                    "https://management.azure.com{}?{}",
                    incoming.path, incoming.raw_query
                )
            };
            recorder.record(&Exchange {
                method: incoming.method.as_str(),
                url: &url,
                request_headers: &incoming.headers,
                request_body: request_body.as_ref(),
                status,
                response_headers,
                response_body,
            });
        }
    }

    fn process(
        &self,
        incoming: &RawRequest,
        route: Result<(&Route, router::Params), bool>,
        settings: &Settings,
    ) -> Result<Reply, ArmError> {
        let now = Utc::now();
        let mut state = lock(&self.state);
        let caller = self.issuer.validate(
            &state,
            incoming.header("authorization"),
            now,
            &self.endpoint,
        )?;
        let (route, params) = match route {
            Ok(found) => found,
            Err(true) => {
                return Err(ArmError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "HttpMethodNotAllowed",
                    format!(
                        "The requested resource does not support http method '{}'.",
                        incoming.method
                    ),
                ))
            }
            Err(false) => return Err(no_route(&incoming.path)),
        };
        let api_version = check_api_version(route, incoming.query.get("api-version"))?;

        // The subscription the call is about (its own, or the one inside a role assignment's scope).
        let subscription_id = params
            .get("subscriptionId")
            .cloned()
            .or_else(|| params.get("scope").and_then(|s| subscription_of(s)));
        let principal = state
            .principals
            .values()
            .find(|p| p.object_id.eq_ignore_ascii_case(&caller.object_id))
            .cloned()
            .unwrap_or_default();
        if let Some(sub) = &subscription_id {
            let Some(subscription) = state.subscriptions.get(sub) else {
                return Err(ArmError::subscription_not_found(sub));
            };
            if route.access == Access::Write && !subscription.state.eq_ignore_ascii_case("Enabled")
            {
                return Err(ArmError::conflict(
                    "ReadOnlyDisabledSubscription",
                    format!("The subscription '{sub}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled."),
                ));
            }
        }
        // For role assignments the permission is checked on the scope they are made at.
        let target = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| incoming.path.clone());
        let action = action_name(&incoming.path, &incoming.method);
        if principal
            .denied_scopes
            .iter()
            .any(|scope| is_within(&target, scope) || is_within(&incoming.path, scope))
        {
            return Err(ArmError::authorization_failed(
                &caller.object_id,
                &caller.client_id,
                &action,
                &incoming.path,
            ));
        }

        let bucket_scope = subscription_id.clone().unwrap_or_else(|| "tenant".into());
        let kind = match route.access {
            Access::Read => Kind::Read,
            Access::Write => Kind::Write,
        };
        let decision =
            lock(&self.throttle).take(&bucket_scope, kind, &settings.throttling, Instant::now());
        let remaining = match decision {
            Decision::Allowed { remaining } => remaining,
            Decision::Throttled { retry_after_secs } => {
                let code = if subscription_id.is_some() {
                    "SubscriptionRequestsThrottled"
                } else {
                    "TenantRequestsThrottled"
                };
                return Err(ArmError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    code,
                    format!(
                        "Number of {} requests for subscription '{}' and operation '{}' exceeded the backend storage limit. Please try again after '{retry_after_secs}' seconds.",
                        if kind == Kind::Read { "read" } else { "write" },
                        subscription_id.as_deref().unwrap_or_default(),
                        operation_template(&incoming.method, &incoming.path),
                    ),
                )
                .with_header("retry-after", retry_after_secs.to_string())
                .with_header(remaining_header(kind), "0"));
            }
        };

        if route.access == Access::Write && principal.read_only {
            return Err(ArmError::authorization_failed(
                &caller.object_id,
                &caller.client_id,
                &action,
                &incoming.path,
            ));
        }
        if route.access == Access::Write {
            let locks = state.blocking_locks(&incoming.path, incoming.method == Method::DELETE);
            if !locks.is_empty() {
                let names: Vec<String> = locks
                    .iter()
                    .map(|l| {
                        format!(
                            "{}/providers/Microsoft.Authorization/locks/{}",
                            l.scope, l.name
                        )
                    })
                    .collect();
                return Err(ArmError::scope_locked(&incoming.path, &names.join(",")));
            }
        }
        if let (Some(sub), Some(rg)) = (&subscription_id, params.get("resourceGroupName")) {
            if !route.operation.starts_with("ResourceGroups_")
                && !state.resource_groups.exists(sub, rg)
            {
                return Err(ArmError::resource_group_not_found(rg));
            }
        }
        let body = if incoming.body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(
                serde_json::from_slice::<Value>(&incoming.body)
                    .map_err(ArmError::invalid_request_content)?,
            )
        };
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
            endpoint: self.endpoint.clone(),
        };
        let mut reply = (route.handler)(&mut ctx)?;
        reply
            .headers
            .push((remaining_header(kind).into(), remaining.to_string()));
        Ok(reply)
    }
}

fn remaining_header(kind: Kind) -> &'static str {
    match kind {
        Kind::Read => "x-ms-ratelimit-remaining-subscription-reads",
        Kind::Write => "x-ms-ratelimit-remaining-subscription-writes",
    }
}

/// `/subscriptions/{id}/...` -> `id`.
fn subscription_of(scope: &str) -> Option<String> {
    let mut segs = scope.split('/').filter(|s| !s.is_empty());
    match (segs.next(), segs.next()) {
        (Some(first), Some(id)) if first.eq_ignore_ascii_case("subscriptions") => {
            Some(id.to_string())
        }
        _ => None,
    }
}

fn check_api_version(route: &Route, given: Option<&String>) -> Result<String, ArmError> {
    let Some(version) = given else {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    if route
        .api_versions
        .iter()
        .any(|v| v.eq_ignore_ascii_case(version))
    {
        return Ok(version.clone());
    }
    let supported = route.api_versions.join(", ");
    let well_formed = version.len() >= 10
        && version[..10].chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    Err(match route.api_policy {
        ApiVersionPolicy::Provider(resource_type) if well_formed => {
            let ty = resource_type
                .split_once('/')
                .map_or(resource_type, |(_, ty)| ty);
            ArmError::bad_request(
                "NoRegisteredProviderFound",
                format!("No registered resource provider found for location 'global' and API version '{version}' for type '{ty}'. The supported api-versions are '{supported}'. The supported locations are '{}'.", super::providers::common::REGIONS.join(", ")),
            )
        }
        _ => ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are '{supported}'."
            ),
        ),
    })
}

fn no_route(path: &str) -> ArmError {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    {
        Some(i) if i + 2 <= segments.len() => {
            let namespace = segments.get(i + 1).copied().unwrap_or_default();
            let ty = segments.get(i + 2).copied().unwrap_or_default();
            ArmError::bad_request(
                "InvalidResourceType",
                format!("The resource type '{ty}' could not be found in the namespace '{namespace}' for this emulator."),
            )
        }
        _ => ArmError::not_found(
            "NotFound",
            format!("No HTTP resource was found that matches the request URI '{path}'."),
        ),
    }
}

/// The RBAC action a call needs, e.g. `Microsoft.Storage/storageAccounts/write`.
fn action_name(path: &str, method: &Method) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.last().copied().unwrap_or_default();
    let verb = match *method {
        Method::GET => "read",
        Method::DELETE => "delete",
        // Name checks are reads in Azure's action catalogue.
        Method::POST if last.eq_ignore_ascii_case("checkNameAvailability") => "read",
        Method::POST => "action",
        _ => "write",
    };
    match segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    {
        Some(i) => {
            let mut parts = vec![segments.get(i + 1).copied().unwrap_or_default()];
            parts.extend(segments[i + 2..].iter().step_by(2));
            format!("{}/{verb}", parts.join("/"))
        }
        None if segments
            .iter()
            .any(|s| s.eq_ignore_ascii_case("resourceGroups")) =>
        {
            format!("Microsoft.Resources/subscriptions/resourceGroups/{verb}")
        }
        None if segments.len() == 3 && last.eq_ignore_ascii_case("resources") => {
            format!("Microsoft.Resources/subscriptions/resources/{verb}")
        }
        None => format!("Microsoft.Resources/subscriptions/{verb}"),
    }
}

/// ARM's rendering of an operation in throttling messages: method and path with names removed.
fn operation_template(method: &Method, path: &str) -> String {
    let mut kept = Vec::new();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    while let Some(segment) = segments.next() {
        kept.push(segment.to_ascii_uppercase());
        if segment.eq_ignore_ascii_case("providers") {
            // The namespace is part of the operation, not a name.
            if let Some(namespace) = segments.next() {
                kept.push(namespace.to_ascii_uppercase());
            }
        } else {
            segments.next();
        }
    }
    format!("{}/{}", method, kept.join("/"))
}

pub fn to_response(reply: &Reply) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status);
    let body = match &reply.body {
        Some(value) => {
            if !reply
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                builder = builder.header("content-type", "application/json; charset=utf-8");
            }
            Bytes::from(serde_json::to_vec(value).unwrap_or_default())
        }
        None => Bytes::new(),
    };
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(
            b"{\"error\":{\"code\":\"InternalServerError\",\"message\":\"bad header\"}}",
        )));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// Locks a mutex, recovering the data if a handler panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_templates_are_derived_from_the_path() {
        let p = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        assert_eq!(
            action_name(p, &Method::PATCH),
            "Microsoft.Storage/storageAccounts/write"
        );
        assert_eq!(
            action_name("/subscriptions/s/resourcegroups/rg", &Method::PUT),
            "Microsoft.Resources/subscriptions/resourceGroups/write"
        );
        let kv = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/accessPolicies/add";
        assert_eq!(
            action_name(kv, &Method::PUT),
            "Microsoft.KeyVault/vaults/accessPolicies/write"
        );
        assert_eq!(
            action_name(
                "/subscriptions/s/providers/Microsoft.KeyVault/checkNameAvailability",
                &Method::POST
            ),
            "Microsoft.KeyVault/checkNameAvailability/read"
        );
        assert_eq!(
            action_name("/subscriptions/s/resources", &Method::GET),
            "Microsoft.Resources/subscriptions/resources/read"
        );
        assert_eq!(
            action_name("/subscriptions/s", &Method::GET),
            "Microsoft.Resources/subscriptions/read"
        );
        assert_eq!(
            operation_template(&Method::GET, p),
            "GET/SUBSCRIPTIONS/RESOURCEGROUPS/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS"
        );
    }

    #[test]
    fn subscription_is_found_inside_a_scope() {
        assert_eq!(
            subscription_of("/subscriptions/abc/resourceGroups/x"),
            Some("abc".into())
        );
        assert_eq!(subscription_of("/providers/Microsoft.Management/x"), None);
    }
}
