//! The resource providers the emulator serves, one module each. A module
//! holds its state model (validation, side effects) and its routes.

pub mod authorization;
pub mod common;
pub mod insights;
pub mod keyvault;
pub mod msi;
pub mod resource_groups;
pub mod resources;
pub mod storage;
pub mod subscriptions;

use super::router::Route;

/// Every ARM route, most specific first (the first match wins).
pub fn routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(storage::routes());
    routes.extend(keyvault::routes());
    routes.extend(msi::routes());
    routes.extend(insights::routes());
    routes.extend(authorization::routes());
    // `/subscriptions/{id}/resources`: before the subscription and group patterns.
    routes.extend(resources::routes());
    routes.extend(resource_groups::routes());
    routes.extend(subscriptions::routes());
    routes
}

/// Admin-only operations under `/_emulator/` that belong to a provider, such as
/// data-plane changes to keys that ARM itself cannot make.
pub fn admin_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(keyvault::admin_routes());
    routes
}
