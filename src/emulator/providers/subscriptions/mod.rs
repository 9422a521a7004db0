//! `GET /subscriptions` (paged), `GET /subscriptions/{id}`, its locations and
//! `GET /tenants`, api-version 2022-12-01.
//! Subscriptions themselves are added through the admin API, as in Azure they
//! come from billing, not from ARM.

mod handlers;
mod locations;
mod model;

pub use model::{Model, Subscription};

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use handlers::{get, list};
use hyper::Method;
use locations::{list_locations, list_tenants};

const API: &[&str] = &["2022-12-01"];

/// ARM subscriptions.
pub struct Subscriptions;

impl Provider for Subscriptions {
    fn name(&self) -> &'static str {
        "subscriptions"
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route {
                method: Method::GET,
                pattern: "/subscriptions",
                operation: "Subscriptions_List",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: list,
            },
            Route {
                method: Method::GET,
                pattern: "/subscriptions/{subscriptionId}",
                operation: "Subscriptions_Get",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: get,
            },
            Route {
                method: Method::GET,
                pattern: "/subscriptions/{subscriptionId}/locations",
                operation: "Subscriptions_ListLocations",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: list_locations,
            },
            Route {
                method: Method::GET,
                pattern: "/tenants",
                operation: "Tenants_List",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: list_tenants,
            },
        ]
    }
}
