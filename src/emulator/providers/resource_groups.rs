//! Resource groups (PUT, GET), api-version 2024-03-01. Every resource the
//! other providers create must live in an existing group.

use super::common::{key, normalize_location, tags, REGIONS};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::provider::Provider;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const API: &[&str] = &["2024-03-01"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    pub subscription_id: String,
    pub name: String,
    pub location: String,
    pub tags: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Model {
    by_id: BTreeMap<String, ResourceGroup>,
}

fn group_id(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{name}")
}

impl Model {
    pub fn get(&self, subscription: &str, name: &str) -> Option<&ResourceGroup> {
        self.by_id.get(&key(&group_id(subscription, name)))
    }

    pub fn exists(&self, subscription: &str, name: &str) -> bool {
        self.get(subscription, name).is_some()
    }
}

/// Names: 1-90 characters of letters, digits, `_ - . ( )`, not ending in a period.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
}

fn to_json(rg: &ResourceGroup) -> Value {
    let mut body = json!({
        "id": group_id(&rg.subscription_id, &rg.name),
        "name": rg.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": rg.location,
        "properties": {"provisioningState": "Succeeded"},
    });
    if let Some(tags) = &rg.tags {
        body["tags"] = Value::Object(tags.clone());
    }
    body
}

fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    let name = ctx.param("resourceGroupName").to_string();
    if !valid_name(&name) {
        return Err(ArmError::bad_request(
            "InvalidResourceGroupName",
            format!("The resource group name '{name}' is invalid. It can contain only letters, digits, underscores, hyphens, periods and parentheses, and must not end in a period."),
        ));
    }
    let body = ctx.body()?;
    let Some(location) = body.get("location").and_then(Value::as_str) else {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let location = normalize_location(location);
    if !REGIONS.contains(&location.as_str()) {
        return Err(ArmError::bad_request(
            "LocationNotAvailableForResourceGroup",
            format!("The provided location '{location}' is not available for resource group. List of available regions is '{}'.", REGIONS.join(",")),
        ));
    }
    let tags = tags(body)?;
    let id = key(&group_id(&subscription, &name));
    let status = match ctx.state.resource_groups.by_id.get(&id) {
        Some(existing) if existing.location != location => {
            return Err(ArmError::conflict(
                "InvalidResourceGroupLocation",
                format!("Invalid resource group location '{location}'. The Resource group already exists in location '{}'.", existing.location),
            ))
        }
        Some(_) => StatusCode::OK,
        None => StatusCode::CREATED,
    };
    let stored_name = ctx
        .state
        .resource_groups
        .by_id
        .get(&id)
        .map_or(name, |rg| rg.name.clone());
    let group = ResourceGroup {
        subscription_id: subscription,
        name: stored_name,
        location,
        tags,
    };
    let reply = Reply::json(status, to_json(&group));
    ctx.state.resource_groups.by_id.insert(id, group);
    Ok(reply)
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("resourceGroupName");
    ctx.state
        .resource_groups
        .get(ctx.param("subscriptionId"), name)
        .map(|rg| Reply::ok(to_json(rg)))
        .ok_or_else(|| ArmError::resource_group_not_found(name))
}

/// ARM resource groups.
pub struct ResourceGroups;

impl Provider for ResourceGroups {
    fn name(&self) -> &'static str {
        "resource_groups"
    }

    fn routes(&self) -> Vec<Route> {
        let pattern = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}";
        vec![
            Route {
                method: Method::PUT,
                pattern,
                operation: "ResourceGroups_CreateOrUpdate",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Write,
                handler: put,
            },
            Route {
                method: Method::GET,
                pattern,
                operation: "ResourceGroups_Get",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: get,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_arm_rules() {
        assert!(valid_name("rg-logs_(prod).1"));
        assert!(!valid_name("rg."));
        assert!(!valid_name(""));
        assert!(!valid_name(&"a".repeat(91)));
        assert!(!valid_name("rg/x"));
    }
}
