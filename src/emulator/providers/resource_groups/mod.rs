//! Resource groups (PUT, GET), api-version 2024-03-01. Every resource the
//! other providers create must live in an existing group.

mod handlers;
mod model;

pub use model::{Model, ResourceGroup};

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use handlers::{get, put};
use hyper::Method;

const API: &[&str] = &["2024-03-01"];

/// ARM resource groups.
pub struct ResourceGroups;

impl Provider for ResourceGroups {
    fn name(&self) -> &'static str {
        "resource_groups"
    }

    fn routes(&self) -> Vec<Route> {
        let pattern = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}";
        vec![
            Route {
                method: Method::PUT,
                pattern,
                operation: "ResourceGroups_CreateOrUpdate",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Write,
                handler: put,
            },
            Route {
                method: Method::GET,
                pattern,
                operation: "ResourceGroups_Get",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: get,
            },
        ]
    }
}
