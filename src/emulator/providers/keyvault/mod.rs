//! PLACEHOLDER: being written; see the provider's routes below.

use crate::emulator::router::Route;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {}

pub fn routes() -> Vec<Route> {
    Vec::new()
}

/// What storage learns about a usable customer-managed key.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    /// `https://{vault}.vault.azure.net/keys/{name}/{version}` of the current version.
    pub current_versioned_key_id: String,
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
}

/// Checks, as Azure Storage does when `keySource` becomes `Microsoft.Keyvault`, that
/// the key at `vault_uri`/`key_name` can serve as the account's key for `principal_id`.
pub fn check_cmk_key(
    _state: &crate::emulator::state::State,
    _vault_uri: &str,
    _key_name: &str,
    _principal_id: &str,
    _now: chrono::DateTime<chrono::Utc>,
) -> Result<ResolvedKey, crate::emulator::error::ArmError> {
    Err(crate::emulator::error::ArmError::bad_request(
        "KeyVaultAuthenticationFailure",
        "not yet",
    ))
}

pub fn admin_routes() -> Vec<Route> {
    Vec::new()
}
