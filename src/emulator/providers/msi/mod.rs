//! User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`,
//! api-version 2023-01-31): PUT, GET and DELETE. Creating an identity also
//! creates its service principal in the directory, so role assignments and
//! access policies can name it; deleting it removes the principal again.

use super::common::{key, required_location, resource_id, subscription_and_group, tags};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::provider::{IndexedResource, Provider};
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, Route};
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const API: &[&str] = &["2023-01-31"];
const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

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
    /// When ARM's index (Resources_List) shows it; `None` means at once.
    #[serde(default)]
    pub indexed_at: Option<chrono::DateTime<chrono::Utc>>,
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

    /// Every identity as ARM's index lists it: ids spell `resourceGroups`
    /// canonically there, whatever this provider answers on a GET.
    pub fn indexed_resources(&self) -> Vec<IndexedResource> {
        self.by_id
            .values()
            .filter_map(|identity| {
                let (subscription, group) = subscription_and_group(&identity.id)?;
                Some(IndexedResource {
                    id: resource_id(&subscription, &group, TYPE, &identity.name),
                    subscription_id: subscription,
                    resource_group: group,
                    name: identity.name.clone(),
                    resource_type: TYPE,
                    location: identity.location.clone(),
                    tags: identity.tags.clone().unwrap_or_default(),
                    kind: None,
                    provisioning_state: "Succeeded",
                    created: None,
                    changed: None,
                    indexed_at: identity.indexed_at,
                })
            })
            .collect()
    }

    /// The identity whose service principal has this object id, if any.
    pub fn by_principal(&self, principal_id: &str) -> Option<&Identity> {
        self.by_id
            .values()
            .find(|i| i.principal_id.eq_ignore_ascii_case(principal_id))
    }
}

/// The id as ARM returns it for identities: `resourcegroups` in lower case
/// (recorded: the response differs from the request path's casing).
pub fn identity_id(subscription: &str, resource_group: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourcegroups/{resource_group}/providers/{TYPE}/{name}")
}

/// Azure's rule: 3-128 characters of letters, digits, hyphens and
/// underscores, starting with a letter or digit.
fn valid_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn invalid_name(name: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceName",
        format!("Resource name '{name}' is invalid. The name can be between 3 and 128 characters long. It can contain only letters, numbers, hyphens and underscores, and must start with a letter or number."),
    )
}

fn to_json(identity: &Identity) -> Value {
    json!({
        "id": identity.id,
        "name": identity.name,
        "type": TYPE,
        "location": identity.location,
        "tags": identity.tags.clone().unwrap_or_default(),
        "properties": {
            "tenantId": identity.tenant_id,
            "principalId": identity.principal_id,
            "clientId": identity.client_id,
        },
    })
}

fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    let resource_group = ctx.param("resourceGroupName").to_string();
    let name = ctx.param("resourceName").to_string();
    if !valid_name(&name) {
        return Err(invalid_name(&name));
    }
    let body = ctx.body()?;
    let location = required_location(body, TYPE)?;
    let tags = tags(body)?;
    let id = identity_id(&subscription, &resource_group, &name);
    if let Some(existing) = ctx.state.msi.by_id.get(&key(&id)) {
        // Location is fixed at creation; ARM refuses to "move" a resource by PUT.
        if existing.location != location {
            return Err(ArmError::conflict(
                "InvalidResourceLocation",
                format!("The resource '{}' already exists in location '{}' in resource group '{resource_group}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.", existing.name, existing.location),
            ));
        }
        let mut updated = existing.clone();
        updated.tags = tags;
        let reply = Reply::ok(to_json(&updated));
        ctx.state.msi.by_id.insert(key(&id), updated);
        return Ok(reply);
    }
    let identity = Identity {
        id: id.clone(),
        name,
        location,
        tags,
        principal_id: ctx.new_guid(),
        client_id: ctx.new_guid(),
        tenant_id: ctx.state.tenant_id.clone(),
        indexed_at: Some(ctx.settings.indexed_at(ctx.now)),
    };
    let now = ctx.now;
    ctx.state
        .add_directory_object(&identity.principal_id, "ManagedIdentity", now);
    let reply = Reply::json(StatusCode::CREATED, to_json(&identity)).header("location", id.clone());
    ctx.state.msi.by_id.insert(key(&id), identity);
    Ok(reply)
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = identity_id(
        ctx.param("subscriptionId"),
        ctx.param("resourceGroupName"),
        ctx.param("resourceName"),
    );
    ctx.state
        .msi
        .get(&id)
        .map(|identity| Reply::ok(to_json(identity)))
        .ok_or_else(|| {
            ArmError::resource_not_found(
                TYPE,
                ctx.param("resourceName"),
                ctx.param("resourceGroupName"),
            )
        })
}

fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = identity_id(
        ctx.param("subscriptionId"),
        ctx.param("resourceGroupName"),
        ctx.param("resourceName"),
    );
    match ctx.state.msi.by_id.remove(&key(&id)) {
        Some(identity) => {
            // The identity's service principal goes with it.
            ctx.state
                .directory
                .remove(&identity.principal_id.to_ascii_lowercase());
            Ok(Reply::empty(StatusCode::OK))
        }
        None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
    }
}

/// Managed identities: user-assigned identities.
pub struct ManagedIdentity;

impl Provider for ManagedIdentity {
    fn name(&self) -> &'static str {
        "msi"
    }

    fn routes(&self) -> Vec<Route> {
        let pattern = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}";
        let route = |method, operation, access, handler| {
            Route::provider(TYPE, API, method, pattern, operation, access, handler)
        };
        vec![
            route(
                Method::PUT,
                "UserAssignedIdentities_CreateOrUpdate",
                Access::Write,
                put,
            ),
            route(Method::GET, "UserAssignedIdentities_Get", Access::Read, get),
            route(
                Method::DELETE,
                "UserAssignedIdentities_Delete",
                Access::Write,
                delete,
            ),
        ]
    }

    fn indexed_resources(&self, state: &State, _now: DateTime<Utc>) -> Vec<IndexedResource> {
        state.msi.indexed_resources()
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_azure_rules() {
        assert!(valid_name("id-cmk_01"));
        assert!(valid_name("9ab"));
        assert!(valid_name(&"a".repeat(128)));
        assert!(!valid_name("ab"));
        assert!(!valid_name(&"a".repeat(129)));
        assert!(!valid_name("-abc"));
        assert!(!valid_name("_abc"));
        assert!(!valid_name("a.bc"));
        assert!(!valid_name("a bc"));
    }
}
