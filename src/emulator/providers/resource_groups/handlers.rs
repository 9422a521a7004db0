//! `ResourceGroups_CreateOrUpdate` (201 create / 200 update, region rules)
//! and `ResourceGroups_Get`.

use super::model::{group_id, valid_name, ResourceGroup};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{key, normalize_location, tags, REGIONS};
use crate::emulator::reply::Reply;
use hyper::StatusCode;
use serde_json::{json, Value};

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

pub(super) fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
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

pub(super) fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("resourceGroupName");
    ctx.state
        .resource_groups
        .get(ctx.param("subscriptionId"), name)
        .map(|rg| Reply::ok(to_json(rg)))
        .ok_or_else(|| ArmError::resource_group_not_found(name))
}

/// ARM's most and default groups per page.
const MAX_TOP: usize = 1000;

/// `ResourceGroups_List`: the subscription's groups by name, cut into pages of
/// `$top` (default and most 1000) linked by `nextLink` (with `$skiptoken`, the
/// offset); the last page has none. A tag `$filter` is refused rather than
/// ignored: the emulator answers only what it can evaluate.
pub(super) fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    if let Some(filter) = ctx.query.get("$filter") {
        return Err(ArmError::bad_request(
            "InvalidFilterInQueryString",
            format!("Invalid $filter '{filter}' specified in the query string (the emulator lists resource groups without a filter)."),
        ));
    }
    let top = match ctx.query.get("$top") {
        Some(top) => match top.parse::<usize>() {
            Ok(n) if (1..=MAX_TOP).contains(&n) => n,
            _ => {
                return Err(ArmError::bad_request(
                    "InvalidTopInQueryString",
                    format!(
                        "The value '{top}' of $top is invalid. It must be between 1 and {MAX_TOP}."
                    ),
                ))
            }
        },
        None => MAX_TOP,
    };
    let offset = match ctx.query.get("$skiptoken") {
        Some(token) => token.parse::<usize>().map_err(|_| {
            ArmError::bad_request(
                "InvalidSkipToken",
                format!("The skip token '{token}' is invalid."),
            )
        })?,
        None => 0,
    };
    let groups = ctx
        .state
        .resource_groups
        .in_subscription(ctx.param("subscriptionId"));
    let page: Vec<Value> = groups
        .iter()
        .skip(offset)
        .take(top)
        .map(|g| to_json(g))
        .collect();
    let mut body = json!({ "value": page });
    if offset + top < groups.len() {
        body["nextLink"] = json!(ctx.url(&format!(
            "/subscriptions/{}/resourcegroups?api-version={}&%24top={top}&%24skiptoken={}",
            ctx.param("subscriptionId"),
            ctx.api_version,
            offset + top
        )));
    }
    Ok(Reply::ok(body))
}
