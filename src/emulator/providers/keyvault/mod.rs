//! Key Vault (management plane, api-version 2023-07-01): vaults, their access
//! policies, soft-deleted vaults and purge, and keys. The check Azure Storage
//! makes before it accepts a customer-managed key reads this model from
//! `emulator::rules::cmk_key`.
//!
//! Azure behaviour imitated (see the recordings and AZURE_NOTES §3):
//! - vault names are global across subscriptions, soft-deleted ones included
//!   (409 `VaultAlreadyExists`); invalid names are 400 `VaultNameNotValid`;
//! - a create answers 200 with `provisioningState: RegisteringDns` and turns
//!   `Succeeded` after `vault_provisioning_ms`; keys can only be created after;
//! - soft delete is always on; `enablePurgeProtection: false` is 400 `BadRequest`;
//! - DELETE soft-deletes; a purge-protected deleted vault cannot be purged
//!   (405 `MethodNotAllowed`);
//! - every access-policy permission takes effect `grant_propagation_ms` after
//!   it was granted.
//!
//! Admin operations (under `/_emulator/keyvault/`, `x-emulator-key` header),
//! standing in for the Key Vault data plane so tests can break a CMK setup:
//! - `PATCH /_emulator/keyvault/vaults/{vaultName}/keys/{keyName}` with any of
//!   `{"enabled": bool, "exp": unix-seconds|null, "nbf": unix-seconds|null}`
//!   updates the current key version (disable or expire a key);
//! - `POST /_emulator/keyvault/vaults/{vaultName}/keys/{keyName}/rotate` adds
//!   a new current version;
//! - `DELETE /_emulator/keyvault/vaults/{vaultName}/keys/{keyName}` deletes the
//!   key (recoverable: its name stays taken). 204.

mod errors;
mod keys;
pub mod model;
mod policies;
mod properties;
mod rotation;
mod vaults;

pub use model::{Model, Vault};

use crate::emulator::provider::{IndexedResource, Provider};
use crate::emulator::router::{Access, Route, TypeRoutes};
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use hyper::Method;

/// 2023-07-01 as the tool sends it; 2026-02-01 (Azure CLI 2.91) and 2026-05-15
/// (azure-mgmt-keyvault 14.1) answer the same model for what the emulator holds.
const API: &[&str] = &["2023-07-01", "2026-02-01", "2026-05-15"];
const VAULT: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}";
const KEYS: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys";
const KEY: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}";

/// Every route here is of the one resource type.
const ROUTES: TypeRoutes = TypeRoutes::new("Microsoft.KeyVault/vaults", API);

/// Key Vault (management plane): vaults, access policies, keys.
pub struct KeyVault;

impl Provider for KeyVault {
    fn name(&self) -> &'static str {
        "keyvault"
    }

    /// Most specific patterns first.
    fn routes(&self) -> Vec<Route> {
        use Access::{Read, Write};
        vec![
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}/versions/{keyVersion}",
                "Keys_GetVersion",
                Read,
                keys::get_version,
            ),
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}/versions",
                "Keys_ListVersions",
                Read,
                keys::list_versions,
            ),
            ROUTES.route(Method::PUT, KEY, "Keys_CreateIfNotExist", Write, keys::create_if_not_exist),
            ROUTES.route(Method::GET, KEY, "Keys_Get", Read, keys::get),
            ROUTES.route(Method::GET, KEYS, "Keys_List", Read, keys::list),
            ROUTES.route(
                Method::PUT,
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}/accessPolicies/{operationKind}",
                "Vaults_UpdateAccessPolicy",
                Write,
                policies::update_access_policy,
            ),
            ROUTES.route(Method::PUT, VAULT, "Vaults_CreateOrUpdate", Write, vaults::create_or_update),
            ROUTES.route(Method::GET, VAULT, "Vaults_Get", Read, vaults::get),
            ROUTES.route(Method::PATCH, VAULT, "Vaults_Update", Write, vaults::update),
            ROUTES.route(Method::DELETE, VAULT, "Vaults_Delete", Write, vaults::delete),
            ROUTES.route(
                Method::POST,
                "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/checkNameAvailability",
                "Vaults_CheckNameAvailability",
                Read,
                vaults::check_name_availability,
            ),
            ROUTES.route(
                Method::POST,
                "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}/purge",
                "Vaults_PurgeDeleted",
                Write,
                vaults::purge,
            ),
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{vaultName}",
                "Vaults_GetDeleted",
                Read,
                vaults::get_deleted,
            ),
            // The purge's Location; not an operation of the spec (the LRO poll).
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault/locations/{location}/operationResults/{operationId}",
                "Vaults_PurgeDeleted_OperationResult",
                Read,
                vaults::purge_result,
            ),
        ]
    }

    fn admin_routes(&self) -> Vec<Route> {
        const ADMIN_KEY: &str = "/_emulator/keyvault/vaults/{vaultName}/keys/{keyName}";
        vec![
            ROUTES.route(
                Method::POST,
                "/_emulator/keyvault/vaults/{vaultName}/keys/{keyName}/rotate",
                "Admin_KeyRotate",
                Access::Write,
                keys::admin_rotate,
            ),
            ROUTES.route(
                Method::PATCH,
                ADMIN_KEY,
                "Admin_KeyUpdate",
                Access::Write,
                keys::admin_update,
            ),
            ROUTES.route(
                Method::DELETE,
                ADMIN_KEY,
                "Admin_KeyDelete",
                Access::Write,
                keys::admin_delete,
            ),
        ]
    }

    fn indexed_resources(&self, state: &State, now: DateTime<Utc>) -> Vec<IndexedResource> {
        state
            .keyvault
            .live_vaults()
            .map(|vault| IndexedResource {
                id: vault.id.clone(),
                subscription_id: vault.subscription_id.clone(),
                resource_group: vault.resource_group.clone(),
                name: vault.name.clone(),
                resource_type: model::VAULT_TYPE,
                location: vault.location.clone(),
                tags: vault.tags.clone(),
                kind: None,
                provisioning_state: vault.provisioning_state(now),
                created: Some(vault.created_at),
                changed: Some(vault.modified_at),
                indexed_at: vault.indexed_at,
            })
            .collect()
    }
}
