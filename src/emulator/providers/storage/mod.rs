//! Storage accounts (Microsoft.Storage, api-version 2023-05-01): create as a
//! long-running operation polled through `Location`, get, list, synchronous
//! PATCH with Azure's identity and customer-managed-key rules, delete, and
//! the global name check. Account names are unique across all subscriptions.

mod errors;
mod handlers;

mod encryption;
pub mod model;
mod request;

pub use model::{Account, AccountIdentity, KeySource, Model};

use crate::emulator::provider::{IndexedResource, Provider};
use crate::emulator::router::{Access, Route, TypeRoutes};
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use handlers::{
    check_name_availability, create, delete, get, list, list_by_resource_group, poll, update,
};
use hyper::Method;
use model::RESOURCE_TYPE;

/// 2023-05-01 as the tool sends it; 2025-08-01 (Azure CLI 2.91) and 2026-09-01
/// (azure-mgmt-storage 25.3) answer the same model for what the emulator holds.
const API: &[&str] = &["2023-05-01", "2025-08-01", "2026-09-01"];

const ACCOUNT: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts/{accountName}";

/// Every route here is of the one resource type.
const ROUTES: TypeRoutes = TypeRoutes::new(RESOURCE_TYPE, API);

/// Azure Storage: storage accounts.
pub struct Storage;

impl Provider for Storage {
    fn name(&self) -> &'static str {
        "storage"
    }

    /// Most specific first; the patterns differ in length, so none shadows another.
    fn routes(&self) -> Vec<Route> {
        use Access::{Read, Write};
        vec![
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/locations/{location}/asyncoperations/{operationId}",
                "StorageAccounts_AsyncOperation",
                Read,
                poll,
            ),
            ROUTES.route(
                Method::POST,
                "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/checkNameAvailability",
                "StorageAccounts_CheckNameAvailability",
                Read,
                check_name_availability,
            ),
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts",
                "StorageAccounts_List",
                Read,
                list,
            ),
            ROUTES.route(
                Method::GET,
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts",
                "StorageAccounts_ListByResourceGroup",
                Read,
                list_by_resource_group,
            ),
            ROUTES.route(Method::PUT, ACCOUNT, "StorageAccounts_Create", Write, create),
            ROUTES.route(Method::GET, ACCOUNT, "StorageAccounts_GetProperties", Read, get),
            ROUTES.route(Method::PATCH, ACCOUNT, "StorageAccounts_Update", Write, update),
            ROUTES.route(Method::DELETE, ACCOUNT, "StorageAccounts_Delete", Write, delete),
        ]
    }

    fn indexed_resources(&self, state: &State, now: DateTime<Utc>) -> Vec<IndexedResource> {
        state
            .storage
            .accounts()
            .map(|account| IndexedResource {
                id: account.id.clone(),
                subscription_id: account.subscription_id.clone(),
                resource_group: account.resource_group.clone(),
                name: account.name.clone(),
                resource_type: RESOURCE_TYPE,
                location: account.location.clone(),
                tags: account.tags.clone(),
                kind: Some(account.kind.clone()),
                provisioning_state: if account.is_provisioning(now) {
                    "Creating"
                } else {
                    "Succeeded"
                },
                created: Some(account.created_at),
                changed: None,
                indexed_at: account.indexed_at,
            })
            .collect()
    }
}
