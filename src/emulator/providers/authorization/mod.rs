//! PLACEHOLDER: being written; see the provider's routes below.

use crate::emulator::router::Route;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {}

pub fn routes() -> Vec<Route> {
    Vec::new()
}

/// True when an effective (propagated) role assignment at or above `resource_id`
/// gives `principal_id` get/wrapKey/unwrapKey on keys.
pub fn grants_key_access(
    _state: &crate::emulator::state::State,
    _principal_id: &str,
    _resource_id: &str,
    _now: chrono::DateTime<chrono::Utc>,
) -> bool {
    false
}
