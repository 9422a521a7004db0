//! Stage 3, routing: the route that matches the method and path (ARM's 405
//! and its answers for an unknown type or path), then the api-version: a
//! missing one is 400 `MissingApiVersionParameter`, an unknown one 400
//! `NoRegisteredProviderFound` for a provider's type and
//! `InvalidApiVersionParameter` for ARM's own endpoints and malformed versions
//! (Azure's codes), with a message saying the list is the emulator's.

use super::request::RawRequest;
use crate::emulator::error::ArmError;
use crate::emulator::router::{self, ApiVersionPolicy, Params, Route};
use hyper::StatusCode;

/// The route the lookup found, or ARM's error for none.
pub fn resolve<'a>(
    found: Result<(&'a Route, Params), bool>,
    incoming: &RawRequest,
) -> Result<(&'a Route, Params), ArmError> {
    match found {
        Ok(found) => Ok(found),
        Err(true) => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HttpMethodNotAllowed",
            format!(
                "The requested resource does not support http method '{}'.",
                incoming.method
            ),
        )),
        Err(false) => Err(no_route(&incoming.path)),
    }
}

/// Looks the request up in `routes` (the first match wins).
pub fn find<'a>(routes: &'a [Route], incoming: &RawRequest) -> Result<(&'a Route, Params), bool> {
    router::find(routes, &incoming.method, &incoming.path)
}

pub fn check_api_version(route: &Route, given: Option<&String>) -> Result<String, ArmError> {
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
    // Azure's codes, so clients react as they would to Azure; the messages say
    // plainly that the list is the emulator's, since Azure may well serve the version.
    let limit = "This is a limit of the actlog-cmk emulator, not of Azure, which may serve it.";
    Err(match route.api_policy {
        ApiVersionPolicy::Provider(resource_type) if well_formed => {
            let ty = resource_type
                .split_once('/')
                .map_or(resource_type, |(_, ty)| ty);
            ArmError::bad_request(
                "NoRegisteredProviderFound",
                format!("No registered resource provider found in the emulator for API version '{version}' for type '{ty}'. The emulator serves api-versions '{supported}' for this type. {limit}"),
            )
        }
        _ if well_formed => ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{version}' is not served by the emulator, which serves '{supported}' here. {limit}"),
        ),
        _ => ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The emulator serves '{supported}' here."
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
