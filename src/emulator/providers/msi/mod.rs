//! User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`,
//! api-version 2023-01-31): PUT, GET and DELETE. Creating an identity also
//! creates its service principal in the directory, so role assignments and
//! access policies can name it; deleting it removes the principal again.

mod errors;
mod handlers;
mod model;

pub use model::{identity_id, Identity, Model};

use crate::emulator::provider::{IndexedResource, Provider};
use crate::emulator::router::{Access, Route, TypeRoutes};
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use handlers::{delete, get, put};
use hyper::Method;

/// 2023-01-31 as the tool sends it; 2024-11-30 (the Python SDK's default and
/// Azure CLI's profile) and 2025-05-31-preview (`az identity`) add `isolationScope`.
const API: &[&str] = &[
    "2023-01-31",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
];

const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// Managed identities: user-assigned identities.
pub struct ManagedIdentity;

impl Provider for ManagedIdentity {
    fn name(&self) -> &'static str {
        "msi"
    }

    fn routes(&self) -> Vec<Route> {
        let pattern = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}";
        let routes = TypeRoutes::new(TYPE, API);
        let route = |method, operation, access, handler| {
            routes.route(method, pattern, operation, access, handler)
        };
        vec![
            route(
                Method::PUT,
                "UserAssignedIdentities_CreateOrUpdate",
                Access::Write,
                put,
            ),
            route(Method::GET, "UserAssignedIdentities_Get", Access::Read, get),
            route(
                Method::DELETE,
                "UserAssignedIdentities_Delete",
                Access::Write,
                delete,
            ),
        ]
    }

    fn indexed_resources(&self, state: &State, _now: DateTime<Utc>) -> Vec<IndexedResource> {
        state.msi.indexed_resources()
    }
}
