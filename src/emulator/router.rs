//! Case-insensitive ARM route table.
//!
//! ARM treats every literal segment of a resource path (`resourceGroups`,
//! `Microsoft.Storage`...) case-insensitively, which off-the-shelf routers do
//! not, so routes are matched here segment by segment. Each provider module
//! contributes its routes; `{name}` captures one segment and a leading
//! `{*scope}` captures everything before the rest of the pattern (role
//! assignments live under any scope).

use super::context::Ctx;
use super::error::ArmError;
use super::reply::Reply;
use hyper::Method;
use std::collections::HashMap;

/// What a caller needs to be allowed to do for a route: reads are open to a
/// read-only principal, writes are not; both count against throttling buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// How ARM reacts to an api-version it does not know for this route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersionPolicy {
    /// ARM's own endpoints (subscriptions, resource groups):
    /// 400 `InvalidApiVersionParameter`.
    Arm,
    /// A resource provider's type: 400 `NoRegisteredProviderFound`, naming the type.
    Provider(&'static str),
}

pub type Handler = fn(&mut Ctx) -> Result<Reply, ArmError>;

pub struct Route {
    pub method: Method,
    pub pattern: &'static str,
    /// The operation's name in Microsoft's specs, e.g. `StorageAccounts_GetProperties`.
    pub operation: &'static str,
    pub api_versions: &'static [&'static str],
    pub api_policy: ApiVersionPolicy,
    pub access: Access,
    pub handler: Handler,
}

pub type Params = HashMap<String, String>;

/// The routes of one resource type: its type and api-versions bound once, so
/// a provider lists only what differs per route.
#[derive(Debug, Clone, Copy)]
pub struct TypeRoutes {
    pub resource_type: &'static str,
    pub api_versions: &'static [&'static str],
}

impl TypeRoutes {
    pub const fn new(resource_type: &'static str, api_versions: &'static [&'static str]) -> Self {
        Self {
            resource_type,
            api_versions,
        }
    }

    /// A route of this type: an unknown api-version answers
    /// `NoRegisteredProviderFound` naming the type.
    pub fn route(
        &self,
        method: Method,
        pattern: &'static str,
        operation: &'static str,
        access: Access,
        handler: Handler,
    ) -> Route {
        Route {
            method,
            pattern,
            operation,
            api_versions: self.api_versions,
            api_policy: ApiVersionPolicy::Provider(self.resource_type),
            access,
            handler,
        }
    }
}

impl Route {
    /// Matches `segments` (the request path split on `/`) against the pattern.
    pub fn matches(&self, segments: &[&str]) -> Option<Params> {
        let pattern: Vec<&str> = self.pattern.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = Params::new();
        let (pattern, segments) = match pattern.first() {
            Some(first) if first.starts_with("{*") => {
                let rest = &pattern[1..];
                if segments.len() <= rest.len() {
                    return None;
                }
                let split = segments.len() - rest.len();
                let name = first.trim_start_matches("{*").trim_end_matches('}');
                params.insert(
                    name.to_string(),
                    format!("/{}", segments[..split].join("/")),
                );
                (rest.to_vec(), &segments[split..])
            }
            _ => (pattern, segments),
        };
        if pattern.len() != segments.len() {
            return None;
        }
        for (p, s) in pattern.iter().zip(segments) {
            if p.starts_with('{') {
                if s.is_empty() {
                    return None;
                }
                params.insert(
                    p.trim_matches(|c| c == '{' || c == '}').to_string(),
                    (*s).to_string(),
                );
            } else if !p.eq_ignore_ascii_case(s) {
                return None;
            }
        }
        Some(params)
    }
}

/// The first route whose method and path match, with its captured parameters;
/// `Err(true)` when only the method differs, `Err(false)` when no path matches.
pub fn find<'a>(
    routes: &'a [Route],
    method: &Method,
    path: &str,
) -> Result<(&'a Route, Params), bool> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut path_matched = false;
    for route in routes {
        if let Some(params) = route.matches(&segments) {
            if route.method == *method {
                return Ok((route, params));
            }
            path_matched = true;
        }
    }
    Err(path_matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pattern: &'static str) -> Route {
        Route {
            method: Method::GET,
            pattern,
            operation: "Test",
            api_versions: &["2023-01-01"],
            api_policy: ApiVersionPolicy::Arm,
            access: Access::Read,
            handler: |_| Ok(Reply::empty(hyper::StatusCode::OK)),
        }
    }

    #[test]
    fn literals_match_case_insensitively_and_capture_params() {
        let r = route("/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}");
        let segs = ["SUBSCRIPTIONS", "abc", "resourcegroups", "My-RG"];
        let p = r.matches(&segs).expect("match");
        assert_eq!(p["subscriptionId"], "abc");
        assert_eq!(p["resourceGroupName"], "My-RG");
        assert!(r.matches(&["subscriptions", "abc"]).is_none());
        assert!(r
            .matches(&["subscriptions", "abc", "groups", "x"])
            .is_none());
    }

    #[test]
    fn scope_wildcard_captures_the_prefix() {
        let r = route("{*scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
        let path = "subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/providers/microsoft.authorization/roleassignments/g";
        let segs: Vec<&str> = path.split('/').collect();
        let p = r.matches(&segs).expect("match");
        assert_eq!(
            p["scope"],
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v"
        );
        assert_eq!(p["name"], "g");
        assert!(r
            .matches(&[
                "providers",
                "Microsoft.Authorization",
                "roleAssignments",
                "g"
            ])
            .is_none());
    }
}
