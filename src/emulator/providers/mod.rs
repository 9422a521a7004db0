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
pub mod management_groups;
pub mod msi;
pub mod resource_groups;
pub mod resources;
pub mod storage;
pub mod subscriptions;

use super::provider::{IndexedResource, Provider};
use super::router::{ApiVersionPolicy, Route};
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
    &management_groups::ManagementGroups,
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

/// The api-versions served, one Markdown table row per resource type (or
/// ARM endpoint), in registry order: docs/emulator.md holds this table, and a
/// test keeps it equal to the routes.
pub fn api_version_table() -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    for provider in REGISTRY {
        for route in provider.routes() {
            let what = match route.api_policy {
                ApiVersionPolicy::Provider(resource_type) => format!("`{resource_type}`"),
                ApiVersionPolicy::Arm => format!("ARM: `{}`", route.pattern),
            };
            let versions = route
                .api_versions
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if !rows.iter().any(|(w, _)| *w == what) {
                rows.push((what, versions));
            }
        }
    }
    let mut table = String::from("| type or endpoint | api-versions served |\n| --- | --- |\n");
    for (what, versions) in rows {
        table.push_str(&format!("| {what} | {versions} |\n"));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/emulator.md's table of served api-versions is the routes' own.
    #[test]
    fn the_docs_table_of_api_versions_matches_the_routes() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/emulator.md"),
        )
        .expect("docs/emulator.md");
        let table = api_version_table();
        assert!(
            docs.contains(&table),
            "docs/emulator.md must hold this table (the routes' api-versions):\n{table}"
        );
    }

    /// Every type answers each version the same way on all its routes (a
    /// row of the table stands for all of them).
    #[test]
    fn a_type_serves_one_set_of_versions() {
        for a in routes() {
            for b in routes() {
                if let (ApiVersionPolicy::Provider(x), ApiVersionPolicy::Provider(y)) =
                    (a.api_policy, b.api_policy)
                {
                    if x == y {
                        assert_eq!(a.api_versions, b.api_versions, "{x}");
                    }
                }
            }
        }
    }

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
