//! Resource groups (PUT, GET, list), api-versions in `API`. Every resource the
//! other providers create must live in an existing group.

mod handlers;
mod model;

pub use model::{Model, ResourceGroup};

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use handlers::{get, list, put};
use hyper::Method;

/// 2024-03-01 as the tool sends it; 2024-11-01 (Azure CLI 2.91); 2025-04-01
/// (azure-mgmt-resource 26).
const API: &[&str] = &["2024-03-01", "2024-11-01", "2025-04-01"];

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
            Route {
                method: Method::GET,
                pattern: "/subscriptions/{subscriptionId}/resourcegroups",
                operation: "ResourceGroups_List",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: list,
            },
        ]
    }
}
