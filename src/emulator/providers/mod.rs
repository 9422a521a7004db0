//! The resource providers the emulator serves, one folder each, and the
//! registry that plugs them in. Each folder is laid out alike (see
//! docs/architecture.md, "Add an emulator provider"): `mod.rs` holds the
//! [`Provider`] and its routes, `model.rs` its state and rules, `handlers.rs`
//! the HTTP side, `errors.rs` the errors Azure answers. Providers never import
//! each other: what one service asks another lives in `emulator::rules`.

pub mod authorization;
pub mod common;
pub mod insights;
pub mod keyvault;
pub mod msi;
pub mod resource_groups;
pub mod resources;
pub mod storage;
pub mod subscriptions;

use super::provider::{IndexedResource, Provider};
use super::router::Route;
use super::state::State;
use chrono::{DateTime, Utc};

/// Every provider, in route order: the first route that matches wins, so
/// `/subscriptions/{id}/resources` comes before the resource-group and
/// subscription patterns it would otherwise fall under.
pub static REGISTRY: &[&dyn Provider] = &[
    &storage::Storage,
    &keyvault::KeyVault,
    &msi::ManagedIdentity,
    &insights::Insights,
    &authorization::Authorization,
    &resources::Resources,
    &resource_groups::ResourceGroups,
    &subscriptions::Subscriptions,
];

/// Every ARM route, most specific first (the first match wins).
pub fn routes() -> Vec<Route> {
    REGISTRY.iter().flat_map(|p| p.routes()).collect()
}

/// Admin-only operations under `/_emulator/` that belong to a provider.
pub fn admin_routes() -> Vec<Route> {
    REGISTRY.iter().flat_map(|p| p.admin_routes()).collect()
}

/// Every resource every provider lists in ARM's index, lagging ones included.
pub fn indexed_resources(state: &State, now: DateTime<Utc>) -> Vec<IndexedResource> {
    REGISTRY
        .iter()
        .flat_map(|p| p.indexed_resources(state, now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_unique() {
        let mut names: Vec<&str> = REGISTRY.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
    }

    /// Two routes with one method and pattern would leave the second unreachable.
    #[test]
    fn route_patterns_are_unique_per_method() {
        for routes in [routes(), admin_routes()] {
            for (i, a) in routes.iter().enumerate() {
                for b in &routes[i + 1..] {
                    assert!(
                        !(a.method == b.method && a.pattern.eq_ignore_ascii_case(b.pattern)),
                        "{} {}",
                        a.method,
                        a.pattern
                    );
                }
            }
        }
    }
}
