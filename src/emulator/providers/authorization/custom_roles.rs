//! Custom role definitions (`RoleDefinitions_CreateOrUpdate`, `_Delete`; read
//! with the built-in roles by `definitions.rs`): the roles a tenant defines
//! itself, with Azure's rules. The name is a GUID; the role name is unique in
//! the tenant, among built-in roles too (409 `RoleDefinitionWithSameNameExists`);
//! a role still assigned cannot be deleted (409 `RoleDefinitionHasAssignments`).
//! Their permissions decide key access as a built-in role's do (`model.rs`).

use super::errors::{definition_not_valid, invalid_property};
use super::handlers::check_scope;
use super::roles::{built_in_by_guid, definition_guid, BUILT_IN_ROLES};
use crate::azure::role_actions::Permission;
use crate::emulator::context::{format_timestamp, Ctx};
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::is_guid;
use crate::emulator::reply::Reply;
use chrono::{DateTime, Utc};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub(super) const TYPE: &str = "Microsoft.Authorization/roleDefinitions";

/// One custom role, as stored (by its lower-case GUID).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomRole {
    /// The GUID, as the caller wrote it.
    pub name: String,
    pub role_name: String,
    pub description: Option<String>,
    pub permissions: Vec<Permission>,
    pub assignable_scopes: Vec<String>,
    pub created_on: DateTime<Utc>,
    pub updated_on: DateTime<Utc>,
    pub created_by: String,
    pub updated_by: String,
}

impl CustomRole {
    /// The 2022-04-01 shape, with the id of the scope it is read at
    /// (`/subscriptions/{s}/providers/...`, or `/providers/...` at the tenant root).
    pub(super) fn to_json(&self, subscription_prefix: &str) -> Value {
        let mut answer = json!({
            "id": format!("{subscription_prefix}/providers/{TYPE}/{}", self.name),
            "name": self.name,
            "type": TYPE,
            "properties": {
                "roleName": self.role_name,
                "type": "CustomRole",
                "assignableScopes": self.assignable_scopes,
                "permissions": self.permissions,
                "createdOn": format_timestamp(self.created_on),
                "updatedOn": format_timestamp(self.updated_on),
                "createdBy": self.created_by,
                "updatedBy": self.updated_by,
            },
        });
        // Left out rather than null when none was given: the spec's `description` is a string.
        if let Some(description) = &self.description {
            answer["properties"]["description"] = json!(description);
        }
        answer
    }

    /// Visible at `scope` when one of its assignable scopes is at or above it.
    pub(super) fn visible_at(&self, scope: &str) -> bool {
        self.assignable_scopes
            .iter()
            .any(|s| crate::emulator::state::is_within(scope, s))
    }
}

fn strings(value: Option<&Value>, path: &str) -> Result<Vec<String>, ArmError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid_property(path, "an array of strings"))
            })
            .collect(),
        Some(_) => Err(invalid_property(path, "an array of strings")),
    }
}

fn permissions(value: Option<&Value>) -> Result<Vec<Permission>, ArmError> {
    let Some(Value::Array(entries)) = value else {
        return Err(invalid_property("properties.permissions", "an array"));
    };
    entries
        .iter()
        .map(|entry| {
            Ok(Permission {
                actions: strings(entry.get("actions"), "permissions.actions")?,
                not_actions: strings(entry.get("notActions"), "permissions.notActions")?,
                data_actions: strings(entry.get("dataActions"), "permissions.dataActions")?,
                not_data_actions: strings(
                    entry.get("notDataActions"),
                    "permissions.notDataActions",
                )?,
            })
        })
        .collect()
}

/// The role name is unique in the tenant, built-in roles included, in any casing.
fn name_taken(ctx: &Ctx, role_name: &str, guid: &str) -> bool {
    BUILT_IN_ROLES
        .iter()
        .any(|r| r.name.eq_ignore_ascii_case(role_name))
        || ctx.state.authorization.custom_roles().any(|r| {
            r.role_name.eq_ignore_ascii_case(role_name) && !r.name.eq_ignore_ascii_case(guid)
        })
}

/// PUT: create or replace (both 201, as Microsoft's spec and example answer).
pub(super) fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = ctx.param("scope").trim_end_matches('/').to_string();
    let guid = ctx.param("roleDefinitionId").to_string();
    check_scope(ctx, &scope)?;
    if !is_guid(&guid) || built_in_by_guid(&guid).is_some() {
        return Err(definition_not_valid(&guid));
    }
    let body = ctx.body()?;
    let Some(props) = body.get("properties").filter(|p| p.is_object()) else {
        return Err(ArmError::invalid_request_content(
            "Required property 'properties' not found in JSON.",
        ));
    };
    let role_name = props
        .get("roleName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid_property("properties.roleName", "a non-empty string"))?
        .to_string();
    let permissions = permissions(props.get("permissions"))?;
    let assignable_scopes: Vec<String> =
        strings(props.get("assignableScopes"), "assignableScopes")?
            .into_iter()
            .map(|s| s.trim_end_matches('/').to_string())
            .collect();
    if assignable_scopes.is_empty() {
        return Err(invalid_property(
            "properties.assignableScopes",
            "at least one scope",
        ));
    }
    for assignable in &assignable_scopes {
        check_scope(ctx, assignable)?;
    }
    if name_taken(ctx, &role_name, &guid) {
        return Err(ArmError::conflict(
            "RoleDefinitionWithSameNameExists",
            "A custom role with the same name already exists in this directory.",
        ));
    }
    let caller = ctx.caller.object_id.clone();
    let created = ctx.state.authorization.custom_role(&guid).cloned();
    let role = CustomRole {
        name: created.as_ref().map_or(guid.clone(), |r| r.name.clone()),
        role_name,
        description: props
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        permissions,
        assignable_scopes,
        created_on: created.as_ref().map_or(ctx.now, |r| r.created_on),
        updated_on: ctx.now,
        created_by: created.map_or(caller.clone(), |r| r.created_by),
        updated_by: caller,
    };
    let reply = Reply::json(
        StatusCode::CREATED,
        role.to_json(&subscription_prefix(&scope)),
    );
    ctx.state.authorization.insert_custom_role(role);
    Ok(reply)
}

/// DELETE: 200 with the role, 204 when there is none; refused while assigned.
pub(super) fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = ctx.param("scope").trim_end_matches('/').to_string();
    let guid = ctx.param("roleDefinitionId").to_string();
    check_scope(ctx, &scope)?;
    if built_in_by_guid(&guid).is_some() {
        return Err(definition_not_valid(&guid));
    }
    let assigned = ctx.state.authorization.all().any(|a| {
        definition_guid(&a.role_definition_id).is_some_and(|g| g.eq_ignore_ascii_case(&guid))
    });
    if assigned && ctx.state.authorization.custom_role(&guid).is_some() {
        return Err(ArmError::conflict(
            "RoleDefinitionHasAssignments",
            "There are existing role assignments referencing role.",
        ));
    }
    match ctx.state.authorization.remove_custom_role(&guid) {
        Some(role) => Ok(Reply::ok(role.to_json(&subscription_prefix(&scope)))),
        None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
    }
}

/// `/subscriptions/{s}` of a scope, or nothing at the tenant root: role
/// definition ids carry the subscription they were read at, as ARM answers them.
pub(super) fn subscription_prefix(scope: &str) -> String {
    crate::emulator::pipeline::scope::subscription_of(scope)
        .map(|s| format!("/subscriptions/{s}"))
        .unwrap_or_default()
}
