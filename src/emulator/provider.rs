//! The contract every resource provider of the emulator fulfils, as moto's
//! services do: the ARM routes it answers, the admin routes it adds under
//! `/_emulator/` (if any), and what it contributes to ARM's resource index
//! (`Resources_List`). The registry in `providers/mod.rs` lists them; the
//! pipeline and the index only ever talk to providers through this trait.

use super::router::Route;
use super::state::State;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// One resource as ARM's index (`GET /subscriptions/{id}/resources`) shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedResource {
    /// The id with `resourceGroups` spelled canonically, as the index does.
    pub id: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub resource_type: &'static str,
    pub location: String,
    pub tags: Map<String, Value>,
    pub kind: Option<String>,
    pub provisioning_state: &'static str,
    pub created: Option<DateTime<Utc>>,
    pub changed: Option<DateTime<Utc>>,
    /// When the index shows it (`resourceIndexLagMs` after its create); `None` at once.
    pub indexed_at: Option<DateTime<Utc>>,
}

/// A resource provider: a folder under `providers/` and one line in the registry.
pub trait Provider: Sync {
    /// Its name in logs and docs, e.g. `"keyvault"`.
    fn name(&self) -> &'static str;

    /// Its ARM routes, most specific first (the first match wins).
    fn routes(&self) -> Vec<Route>;

    /// Operations under `/_emulator/` that ARM cannot make, such as
    /// data-plane changes to keys. Most providers have none.
    fn admin_routes(&self) -> Vec<Route> {
        Vec::new()
    }

    /// Its resources as ARM's index lists them, every subscription's, in any
    /// order, including those still waiting out `resourceIndexLagMs` (the
    /// index hides them). Providers of ARM's own objects list nothing.
    fn indexed_resources(&self, _state: &State, _now: DateTime<Utc>) -> Vec<IndexedResource> {
        Vec::new()
    }
}
