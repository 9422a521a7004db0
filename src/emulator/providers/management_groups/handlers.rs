//! HTTP to the hierarchy and back: `ManagementGroups_List`, `_Get`,
//! `_CreateOrUpdate` and `ManagementGroupSubscriptions_Create`, in the
//! shapes of the 2023-04-01 spec.

use super::errors::{cycle, invalid_group_id, invalid_skip_token, parent_not_found};
use super::model::{group_resource_id, valid_group_id, ManagementGroup, ROOT_DISPLAY_NAME};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use crate::emulator::rules::{self, scope::denied_at_group_or_above};
use crate::emulator::state::State;
use serde_json::{json, Value};

const TYPE: &str = "Microsoft.Management/managementGroups";
const READ: &str = "Microsoft.Management/managementGroups/read";
const WRITE: &str = "Microsoft.Management/managementGroups/write";

/// `ManagementGroupInfo`: what the list shows of a group.
fn info_json(group: &ManagementGroup, tenant: &str) -> Value {
    json!({
        "id": group_resource_id(&group.name),
        "type": TYPE,
        "name": group.name,
        "properties": {"tenantId": tenant, "displayName": group.display_name},
    })
}

fn parent_json(state: &State, parent: &str) -> Value {
    let group = state.management_groups.group(parent);
    json!({
        "id": group_resource_id(group.map_or(parent, |g| g.name.as_str())),
        "name": group.map_or(parent, |g| g.name.as_str()),
        "displayName": group.map_or(parent, |g| g.display_name.as_str()),
    })
}

/// `ManagementGroup`: the group with its details, and its children when asked.
fn group_json(state: &State, group: &ManagementGroup, children: Option<bool>) -> Value {
    let mut details = json!({
        "version": group.version,
        "updatedTime": crate::emulator::context::format_timestamp(group.updated_time),
        "updatedBy": group.updated_by,
    });
    if let Some(parent) = &group.parent {
        details["parent"] = parent_json(state, parent);
    }
    let mut body = json!({
        "id": group_resource_id(&group.name),
        "type": TYPE,
        "name": group.name,
        "properties": {
            "tenantId": state.tenant_id,
            "displayName": group.display_name,
            "details": details,
        },
    });
    if let Some(recurse) = children {
        body["properties"]["children"] = Value::Array(children_json(state, group, recurse));
    }
    body
}

/// `ManagementGroupChildInfo`s: child groups, then the subscriptions directly
/// under `group`; with `recurse`, each child group's own children too.
fn children_json(state: &State, group: &ManagementGroup, recurse: bool) -> Vec<Value> {
    let model = &state.management_groups;
    let mut out: Vec<Value> = model
        .child_groups(&group.name)
        .into_iter()
        .map(|child| {
            let mut entry = json!({
                "type": TYPE,
                "id": group_resource_id(&child.name),
                "name": child.name,
                "displayName": child.display_name,
            });
            if recurse {
                entry["children"] = Value::Array(children_json(state, child, true));
            }
            entry
        })
        .collect();
    for (id, display_name) in rules::scope::subscriptions(state) {
        if model
            .parent_of_subscription(&id)
            .is_some_and(|p| p.name.eq_ignore_ascii_case(&group.name))
        {
            out.push(json!({
                "type": "/subscriptions",
                "id": format!("/subscriptions/{id}"),
                "name": id,
                "displayName": display_name,
            }));
        }
    }
    out
}

/// `$expand=children` (with `$recurse=true` for the whole tree); other
/// expansions and filters are refused rather than ignored: the emulator
/// answers only what it evaluates.
fn expansion(ctx: &Ctx) -> Result<Option<bool>, ArmError> {
    if let Some(filter) = ctx.query.get("$filter") {
        return Err(ArmError::bad_request(
            "InvalidFilter",
            format!("The emulator does not evaluate $filter '{filter}' on management groups."),
        ));
    }
    let recurse = ctx
        .query
        .get("$recurse")
        .is_some_and(|r| r.eq_ignore_ascii_case("true"));
    match ctx.query.get("$expand").map(|e| e.to_ascii_lowercase()) {
        None if recurse => Err(ArmError::bad_request(
            "InvalidRecurse",
            "$recurse=true requires $expand=children.",
        )),
        None => Ok(None),
        Some(e) if e == "children" => Ok(Some(recurse)),
        Some(e) => Err(ArmError::bad_request(
            "InvalidExpand",
            format!("The emulator expands children only, not '{e}'."),
        )),
    }
}

/// The groups the caller may read, by id, cut into pages of
/// `managementGroupPageSize` linked by `@nextLink` (the spec's name) with
/// `$skiptoken`, the offset; the last page has none. No group at all (no
/// hierarchy yet, or none readable) is an empty list, as in Azure.
pub(super) fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let object_id = ctx.caller.object_id.clone();
    let visible: Vec<&ManagementGroup> = ctx
        .state
        .management_groups
        .groups()
        .filter(|g| !denied_at_group_or_above(ctx.state, &object_id, &g.name))
        .collect();
    let offset = match ctx.query.get("$skiptoken") {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| invalid_skip_token(token))?,
        None => 0,
    };
    let size = ctx.settings.management_group_page_size.max(1);
    let page: Vec<Value> = visible
        .iter()
        .skip(offset)
        .take(size)
        .map(|g| info_json(g, &ctx.state.tenant_id))
        .collect();
    let mut body = json!({ "value": page });
    if offset + size < visible.len() {
        body["@nextLink"] = json!(ctx.url(&format!(
            "/providers/Microsoft.Management/managementGroups?api-version={}&%24skiptoken={}",
            ctx.api_version,
            offset + size
        )));
    }
    Ok(Reply::ok(body))
}

pub(super) fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = ctx.param("groupId").to_string();
    rules::check_management_group_access(ctx.state, &ctx.caller, &id, &ctx.path, READ)?;
    let children = expansion(ctx)?;
    let group = ctx
        .state
        .management_groups
        .group(&id)
        .ok_or_else(|| rules::management_group_not_found(&id))?;
    Ok(Reply::ok(group_json(ctx.state, group, children)))
}

/// The parent a create names (`properties.details.parent.id`, a full group
/// id), else the root.
fn requested_parent(ctx: &Ctx) -> Result<Option<String>, ArmError> {
    let body = ctx.body()?;
    let parent = body
        .get("properties")
        .and_then(|p| p.get("details"))
        .and_then(|d| d.get("parent"))
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str);
    let Some(parent) = parent else {
        return Ok(None);
    };
    let prefix = "/providers/microsoft.management/managementgroups/";
    let lower = parent.to_ascii_lowercase();
    match lower.strip_prefix(prefix) {
        Some(rest) if !rest.is_empty() && !rest.contains('/') => {
            Ok(Some(parent[prefix.len()..].to_string()))
        }
        _ => Err(parent_not_found(parent)),
    }
}

/// Creates the root group, named after the tenant, when the hierarchy does
/// not exist yet: Azure makes it with the first group.
fn ensure_root(ctx: &mut Ctx) -> String {
    if let Some(root) = ctx.state.management_groups.root() {
        return root.name.clone();
    }
    let root = ManagementGroup {
        name: ctx.state.tenant_id.clone(),
        display_name: ROOT_DISPLAY_NAME.to_string(),
        parent: None,
        version: 1,
        updated_time: ctx.now,
        updated_by: ctx.caller.object_id.clone(),
    };
    let name = root.name.clone();
    ctx.state.management_groups.insert(root);
    name
}

/// Creates or updates a group (display name, parent), synchronously: the
/// spec allows 200 as well as 202. A refused request leaves the hierarchy
/// as it was (the root group a first create brings included).
pub(super) fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let before = ctx.state.management_groups.clone();
    let answer = create_or_update(ctx);
    if answer.is_err() {
        ctx.state.management_groups = before;
    }
    answer
}

fn create_or_update(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = ctx.param("groupId").to_string();
    if !valid_group_id(&id) {
        return Err(invalid_group_id(&id));
    }
    let display_name = ctx
        .body()?
        .get("properties")
        .and_then(|p| p.get("displayName"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let requested = requested_parent(ctx)?;
    let root = ensure_root(ctx);
    if ctx.state.management_groups.group(&id).is_some() {
        rules::check_management_group_access(ctx.state, &ctx.caller, &id, &ctx.path, WRITE)?;
    }
    let existing = ctx.state.management_groups.group(&id).cloned();
    let is_root = id.eq_ignore_ascii_case(&root);
    let parent = if is_root {
        None
    } else {
        let parent = requested
            .or_else(|| existing.as_ref().and_then(|g| g.parent.clone()))
            .unwrap_or_else(|| root.clone());
        let Some(found) = ctx.state.management_groups.group(&parent) else {
            return Err(parent_not_found(&group_resource_id(&parent)));
        };
        let parent = found.name.clone();
        // Creating or moving a group under another needs access to that one.
        rules::check_management_group_access(ctx.state, &ctx.caller, &parent, &ctx.path, WRITE)?;
        if ctx
            .state
            .management_groups
            .lineage(&parent)
            .iter()
            .any(|g| g.name.eq_ignore_ascii_case(&id))
        {
            return Err(cycle(&id, &parent));
        }
        Some(parent)
    };
    let group = ManagementGroup {
        name: existing.as_ref().map_or(id.clone(), |g| g.name.clone()),
        display_name: display_name
            .or_else(|| existing.as_ref().map(|g| g.display_name.clone()))
            .unwrap_or_else(|| id.clone()),
        parent,
        version: existing.as_ref().map_or(1, |g| g.version + 1),
        updated_time: ctx.now,
        updated_by: ctx.caller.object_id.clone(),
    };
    ctx.state.management_groups.insert(group.clone());
    Ok(Reply::ok(group_json(ctx.state, &group, None)))
}

/// Moves a subscription under a group (`SubscriptionUnderManagementGroup`).
pub(super) fn put_subscription(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = ctx.param("groupId").to_string();
    let subscription = ctx.param("subscriptionId").to_string();
    rules::check_management_group_access(ctx.state, &ctx.caller, &id, &ctx.path, WRITE)?;
    let group = ctx
        .state
        .management_groups
        .group(&id)
        .cloned()
        .ok_or_else(|| rules::management_group_not_found(&id))?;
    ctx.state
        .management_groups
        .move_subscription(&subscription, &group.name);
    let display_name =
        rules::scope::subscription_display_name(ctx.state, &subscription).unwrap_or_default();
    Ok(Reply::ok(json!({
        "id": format!("{}/subscriptions/{subscription}", group_resource_id(&group.name)),
        "type": "Microsoft.Management/managementGroups/subscriptions",
        "name": subscription,
        "properties": {
            "displayName": display_name,
            "parent": {"id": group_resource_id(&group.name)},
            "state": "Active",
            "tenant": ctx.state.tenant_id,
        },
    })))
}
