//! PLACEHOLDER: being written; see the provider's routes below.

use crate::emulator::router::Route;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A user-assigned managed identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Canonical id as ARM returns it.
    pub id: String,
    pub name: String,
    pub location: String,
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    pub principal_id: String,
    pub client_id: String,
    pub tenant_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {
    by_id: BTreeMap<String, Identity>,
}

impl Model {
    /// The identity with this resource id (any casing).
    pub fn get(&self, id: &str) -> Option<&Identity> {
        self.by_id.get(&super::common::key(id))
    }
}

pub fn routes() -> Vec<Route> {
    Vec::new()
}
