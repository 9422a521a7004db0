//! Management groups (`Microsoft.Management/managementGroups`, api-version
//! 2023-04-01): the hierarchy above subscriptions. List (paged by
//! `@nextLink`, as the spec names it), get (with `$expand=children` and
//! `$recurse`), create or update, and moving a subscription under a group.
//! The tenant root group appears with the first group created; reads are
//! refused when the caller is denied at the group or above
//! (`rules::scope::check_management_group_access`). Their diagnostic
//! settings are Azure Monitor's, served by the insights provider.

mod errors;
mod handlers;
mod model;

pub use model::{group_resource_id, valid_group_id, ManagementGroup, Model, ROOT_DISPLAY_NAME};

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, Route, TypeRoutes};
use hyper::Method;

const API: &[&str] = &["2023-04-01"];
const TYPE: &str = "Microsoft.Management/managementGroups";

/// The management-group hierarchy.
pub struct ManagementGroups;

impl Provider for ManagementGroups {
    fn name(&self) -> &'static str {
        "management_groups"
    }

    fn routes(&self) -> Vec<Route> {
        let group = "/providers/Microsoft.Management/managementGroups/{groupId}";
        let routes = TypeRoutes::new(TYPE, API);
        vec![
            routes.route(
                Method::PUT,
                "/providers/Microsoft.Management/managementGroups/{groupId}/subscriptions/{subscriptionId}",
                "ManagementGroupSubscriptions_Create",
                Access::Write,
                handlers::put_subscription,
            ),
            routes.route(
                Method::PUT,
                group,
                "ManagementGroups_CreateOrUpdate",
                Access::Write,
                handlers::put,
            ),
            routes.route(
                Method::GET,
                group,
                "ManagementGroups_Get",
                Access::Read,
                handlers::get,
            ),
            routes.route(
                Method::GET,
                "/providers/Microsoft.Management/managementGroups",
                "ManagementGroups_List",
                Access::Read,
                handlers::list,
            ),
        ]
    }
}
