//! Stage 6, throttling: one token bucket pair per subscription (and one for
//! tenant-level calls), as `throttling.*` configures them. A call over the
//! limit is 429 `SubscriptionRequestsThrottled` (or `TenantRequestsThrottled`)
//! with `Retry-After`; an allowed one carries
//! `x-ms-ratelimit-remaining-subscription-reads`/`-writes`, or for a
//! tenant-level call `x-ms-ratelimit-remaining-tenant-reads`/`-writes`, the
//! names Microsoft's request-limits page gives ("Remaining requests").

use super::request::RawRequest;
use crate::emulator::error::ArmError;
use crate::emulator::router::Access;
use crate::emulator::settings::Throttling;
use crate::emulator::throttle::{Decision, Kind, Throttle};
use hyper::{Method, StatusCode};
use std::time::Instant;

/// The header an allowed call carries: its name and the tokens left.
pub type Remaining = (&'static str, String);

/// Takes a token for the call from `subscription`'s bucket (the tenant's without one).
pub fn take(
    throttle: &mut Throttle,
    config: &Throttling,
    subscription: Option<&str>,
    access: Access,
    incoming: &RawRequest,
) -> Result<Remaining, ArmError> {
    let kind = match access {
        Access::Read => Kind::Read,
        Access::Write => Kind::Write,
    };
    match throttle.take(
        subscription.unwrap_or("tenant"),
        kind,
        config,
        Instant::now(),
    ) {
        Decision::Allowed { remaining } => Ok((
            remaining_header(kind, subscription.is_some()),
            remaining.to_string(),
        )),
        Decision::Throttled { retry_after_secs } => {
            let code = if subscription.is_some() {
                "SubscriptionRequestsThrottled"
            } else {
                "TenantRequestsThrottled"
            };
            Err(ArmError::new(
                StatusCode::TOO_MANY_REQUESTS,
                code,
                format!(
                    "Number of {} requests for subscription '{}' and operation '{}' exceeded the backend storage limit. Please try again after '{retry_after_secs}' seconds.",
                    if kind == Kind::Read { "read" } else { "write" },
                    subscription.unwrap_or_default(),
                    operation_template(&incoming.method, &incoming.path),
                ),
            )
            .with_header("retry-after", retry_after_secs.to_string())
            .with_header(remaining_header(kind, subscription.is_some()), "0"))
        }
    }
}

fn remaining_header(kind: Kind, in_subscription: bool) -> &'static str {
    match (kind, in_subscription) {
        (Kind::Read, true) => "x-ms-ratelimit-remaining-subscription-reads",
        (Kind::Write, true) => "x-ms-ratelimit-remaining-subscription-writes",
        (Kind::Read, false) => "x-ms-ratelimit-remaining-tenant-reads",
        (Kind::Write, false) => "x-ms-ratelimit-remaining-tenant-writes",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_derived_from_the_path() {
        let p = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        assert_eq!(
            operation_template(&Method::GET, p),
            "GET/SUBSCRIPTIONS/RESOURCEGROUPS/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS"
        );
    }
}
