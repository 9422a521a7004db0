//! `GET /subscriptions/{subscriptionId}/resources` (`Resources_List`),
//! api-version 2024-03-01: ARM's own index of a subscription's resources, so a
//! client can go from a name (a key vault's, read off a `keyvaulturi`) to a
//! resource id. It lists what the providers contribute through
//! [`Provider::indexed_resources`](crate::emulator::provider::Provider):
//! storage accounts, live key vaults (soft-deleted ones are not resources any
//! more) and user-assigned identities, as `GenericResourceExpanded` items.
//!
//! Query options, as ARM documents them for this call:
//! - `$filter`: `eq` comparisons of `resourceType`, `name`, `resourceGroup`
//!   and `location`, joined by `and` (what `az resource list` sends). Values
//!   are compared ignoring case, as ARM does. Anything else (`ne`, `or`,
//!   `substringof`, tags, `identity`, `plan`, a malformed expression) is
//!   refused with ARM's 400 `InvalidFilterInQueryString`, never ignored: an
//!   ignored filter would answer with everything and read as a result.
//! - `$top`: the page size (1-1000, ARM's limit; more is 400
//!   `InvalidTopInQueryString`); pages are linked by `nextLink`, the last has none.
//!   With `resourceListPagesBeforeFilter` a page is cut from the unfiltered
//!   list and filtered afterwards, as ARM does: a filtered page may be short
//!   or empty and still carry `nextLink`.
//! - A new resource is listed only `resourceIndexLagMs` after its create
//!   (recorded on the resource at create), while a GET by id finds it at once.
//! - `$expand`: `createdTime`, `changedTime`, `provisioningState`, each shown
//!   where the emulator records it.

mod errors;
mod handlers;
mod query;

use crate::emulator::provider::Provider;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use handlers::list;
use hyper::Method;

/// 2024-03-01 as the tool sends it; 2024-11-01 (Azure CLI 2.91), 2025-04-01
/// (azure-mgmt-resource 26) and 2015-11-01
/// (the Key Vault SDKs' `vaults.list`, az's vault lookup by name).
const API: &[&str] = &["2024-03-01", "2024-11-01", "2025-04-01", "2015-11-01"];

/// ARM's resource index (`Resources_List`).
pub struct Resources;

impl Provider for Resources {
    fn name(&self) -> &'static str {
        "resources"
    }

    fn routes(&self) -> Vec<Route> {
        vec![Route {
            method: Method::GET,
            pattern: "/subscriptions/{subscriptionId}/resources",
            operation: "Resources_List",
            api_versions: API,
            api_policy: ApiVersionPolicy::Arm,
            access: Access::Read,
            handler: list,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::router;

    #[test]
    fn no_other_route_shadows_the_list() {
        let routes = crate::emulator::providers::routes();
        let (route, params) = router::find(
            &routes,
            &Method::GET,
            "/subscriptions/11111111-1111-1111-1111-111111111111/RESOURCES",
        )
        .unwrap_or_else(|_| panic!("no route"));
        assert_eq!(route.operation, "Resources_List");
        assert_eq!(
            params["subscriptionId"],
            "11111111-1111-1111-1111-111111111111"
        );
    }
}
