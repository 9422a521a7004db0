//! Azure RBAC role assignments (`Microsoft.Authorization/roleAssignments`,
//! api-version 2022-04-01) at any subscription, resource group or resource
//! scope, with Azure's checks (GUID names, built-in role definitions, the
//! directory lookup and its replication delay, duplicates), and the question
//! the CMK rule (`emulator::rules::cmk_key`) asks of them: does this principal
//! have key access yet? And the role definitions they name (`definitions.rs`):
//! the built-in roles, read by id or by role name, and the tenant's custom
//! roles (`custom_roles.rs`), created, read, listed and deleted.

mod custom_roles;
mod definitions;
mod errors;
mod model;

mod handlers;
pub mod roles;

pub use custom_roles::CustomRole;
pub use model::{grants_key_access, Model, RoleAssignment};

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, Route, TypeRoutes};
use hyper::Method;

const API: &[&str] = &["2022-04-01"];
/// Role definitions: 2022-04-01, and 2022-05-01-preview, which Azure CLI 2.91
/// sends (`az role assignment create --role NAME`); the built-in roles read alike.
const DEFINITIONS_API: &[&str] = &["2022-04-01", "2022-05-01-preview"];

const TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// Azure RBAC: role assignments at any scope.
pub struct Authorization;

impl Provider for Authorization {
    fn name(&self) -> &'static str {
        "authorization"
    }

    fn routes(&self) -> Vec<Route> {
        let item =
            "{*scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}";
        let list = "{*scope}/providers/Microsoft.Authorization/roleAssignments";
        let routes = TypeRoutes::new(TYPE, API);
        let mut all = definitions::routes(DEFINITIONS_API);
        all.extend([
            routes.route(
                Method::PUT,
                item,
                "RoleAssignments_Create",
                Access::Write,
                handlers::put,
            ),
            routes.route(
                Method::GET,
                item,
                "RoleAssignments_Get",
                Access::Read,
                handlers::get,
            ),
            routes.route(
                Method::DELETE,
                item,
                "RoleAssignments_Delete",
                Access::Write,
                handlers::delete,
            ),
            routes.route(
                Method::GET,
                list,
                "RoleAssignments_ListForScope",
                Access::Read,
                handlers::list,
            ),
        ]);
        all
    }
}
