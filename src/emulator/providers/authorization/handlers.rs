//! The role assignment operations: create, get, delete and list at a scope.

use super::errors::{not_found, principal_not_found};
use super::roles::{definition_guid, role_guid};
use super::{RoleAssignment, TYPE};
use crate::emulator::context::{format_timestamp, Ctx};
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{is_guid, key};
use crate::emulator::reply::Reply;
use crate::emulator::rules;
use crate::emulator::state::is_within;
use chrono::Duration;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

const PRINCIPAL_TYPES: &[&str] = &[
    "User",
    "Group",
    "ServicePrincipal",
    "ForeignGroup",
    "Device",
];

fn assignment_id(scope: &str, name: &str) -> String {
    format!("{}/providers/{TYPE}/{name}", scope.trim_end_matches('/'))
}

/// The 2022-04-01 shape: every property present, unset ones as explicit nulls
/// (recorded). `created_by` is null in the create response only (recorded).
fn to_json(a: &RoleAssignment, show_created_by: bool) -> Value {
    json!({
        "properties": {
            "roleDefinitionId": a.role_definition_id,
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": a.condition,
            "conditionVersion": a.condition_version,
            "createdOn": format_timestamp(a.created_on),
            "updatedOn": format_timestamp(a.updated_on),
            "createdBy": show_created_by.then(|| a.created_by.clone()),
            "updatedBy": a.updated_by,
            "delegatedManagedIdentityResourceId": a.delegated_managed_identity_resource_id,
            "description": a.description,
        },
        "id": a.id,
        "type": TYPE,
        "name": a.name,
    })
}

/// Checks the scope the way ARM does before the authorization provider sees
/// it: only subscription-rooted scopes here, and a resource group must exist.
pub(super) fn check_scope(ctx: &Ctx, scope: &str) -> Result<(), ArmError> {
    let segments: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [subs, _, ..] if subs.eq_ignore_ascii_case("subscriptions") => {}
        _ => return Err(ArmError::bad_request(
            "MissingSubscription",
            "The request did not have a subscription or a valid tenant level resource provider.",
        )),
    }
    if let [_, sub, groups, rg, ..] = segments.as_slice() {
        if groups.eq_ignore_ascii_case("resourceGroups")
            && !rules::resource_group_exists(ctx.state, sub, rg)
        {
            return Err(ArmError::resource_group_not_found(rg));
        }
    }
    Ok(())
}

fn optional_string(props: &Map<String, Value>, name: &str) -> Result<Option<String>, ArmError> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ArmError::invalid_request_content(format!(
            "properties.{name} must be a string"
        ))),
    }
}

fn required_string(props: &Map<String, Value>, name: &str) -> Result<String, ArmError> {
    optional_string(props, name)?.ok_or_else(|| {
        ArmError::invalid_request_content(format!(
            "Required property '{name}' not found in JSON. Path 'properties'"
        ))
    })
}

/// The principal type the directory knows the object as.
fn directory_type(kind: &str) -> &'static str {
    match kind {
        "User" => "User",
        "Group" => "Group",
        // Managed identities are service principals in Entra ID.
        _ => "ServicePrincipal",
    }
}

/// Resolves `principalType` the way Azure does: without it, the principal
/// must be visible in the directory, which a new one is not until replication
/// completes; with it, the replication wait is skipped but the type must match.
fn resolve_principal_type(
    ctx: &Ctx,
    principal_id: &str,
    given: Option<&str>,
) -> Result<String, ArmError> {
    let tenant = &ctx.state.tenant_id;
    let Some(object) = ctx.state.directory_object(principal_id) else {
        return Err(principal_not_found(principal_id, tenant));
    };
    let actual = directory_type(&object.kind);
    match given {
        Some(given) => {
            let Some(given) = PRINCIPAL_TYPES
                .iter()
                .find(|t| t.eq_ignore_ascii_case(given))
            else {
                return Err(ArmError::bad_request(
                    "InvalidPrincipalType",
                    format!(
                        "The principal type '{given}' is not valid. Valid values are {}.",
                        PRINCIPAL_TYPES.join(", ")
                    ),
                ));
            };
            if *given != actual {
                return Err(ArmError::bad_request(
                    "UnmatchedPrincipalType",
                    format!("The PrincipalId '{}' has type '{actual}' , which is different from specified PrincipalType '{given}'.", principal_id.replace('-', "")),
                ));
            }
            Ok(actual.to_string())
        }
        None => {
            let visible_at = object.created_at
                + Duration::milliseconds(ctx.settings.principal_replication_ms as i64);
            if ctx.now < visible_at {
                return Err(principal_not_found(principal_id, tenant));
            }
            Ok(actual.to_string())
        }
    }
}

/// What a PUT asks for, validated.
struct Request {
    role_definition_id: String,
    principal_id: String,
    principal_type: String,
    description: Option<String>,
    condition: Option<String>,
    condition_version: Option<String>,
    delegated_managed_identity_resource_id: Option<String>,
}

fn parse_request(ctx: &Ctx) -> Result<Request, ArmError> {
    let body = ctx.body()?;
    let Some(Value::Object(props)) = body.get("properties") else {
        return Err(ArmError::invalid_request_content(
            "Required property 'properties' not found in JSON.",
        ));
    };
    let role_definition_id = required_string(props, "roleDefinitionId")?;
    let principal_id = required_string(props, "principalId")?;
    if !is_guid(&principal_id) {
        return Err(ArmError::bad_request(
            "InvalidPrincipalId",
            "A valid principal ID must be provided for role assignment.",
        ));
    }
    // A built-in role or one of the tenant's custom roles.
    if ctx
        .state
        .authorization
        .permissions_of(&role_definition_id)
        .is_none()
    {
        return Err(ArmError::bad_request(
            "RoleDefinitionDoesNotExist",
            format!(
                "The specified role definition with ID '{}' does not exist.",
                role_guid(&role_definition_id)
            ),
        ));
    }
    let given_type = optional_string(props, "principalType")?;
    let principal_type = resolve_principal_type(ctx, &principal_id, given_type.as_deref())?;
    let condition = optional_string(props, "condition")?;
    let mut condition_version = optional_string(props, "conditionVersion")?;
    if condition.is_some() && condition_version.is_none() {
        // Azure fills in the only condition language version it accepts.
        condition_version = Some("2.0".into());
    }
    if let Some(version) = &condition_version {
        if version != "2.0" || condition.is_none() {
            return Err(ArmError::bad_request(
                "InvalidConditionVersion",
                format!("The condition version '{version}' is not supported, or no condition was given. Supported condition version is '2.0'."),
            ));
        }
    }
    Ok(Request {
        role_definition_id,
        principal_id,
        principal_type,
        description: optional_string(props, "description")?,
        condition,
        condition_version,
        delegated_managed_identity_resource_id: optional_string(
            props,
            "delegatedManagedIdentityResourceId",
        )?,
    })
}

pub fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = ctx.param("scope").trim_end_matches('/').to_string();
    let name = ctx.param("roleAssignmentName").to_string();
    check_scope(ctx, &scope)?;
    if !is_guid(&name) {
        return Err(ArmError::bad_request(
            "InvalidRoleAssignmentId",
            format!("The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."),
        ));
    }
    let request = parse_request(ctx)?;
    let id = assignment_id(&scope, &name);
    let same_grant = |a: &RoleAssignment| {
        key(&a.scope) == key(&scope)
            && a.principal_id.eq_ignore_ascii_case(&request.principal_id)
            && same_role(&a.role_definition_id, &request.role_definition_id)
    };
    let caller = ctx.caller.object_id.clone();
    if let Some(existing) = ctx.state.authorization.get(&id).cloned() {
        // Only the description and the condition may change on an existing assignment.
        if !same_grant(&existing) {
            return Err(ArmError::conflict(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        let updated = RoleAssignment {
            description: request.description,
            condition: request.condition,
            condition_version: request.condition_version,
            updated_on: ctx.now,
            updated_by: caller,
            ..existing
        };
        let reply = Reply::ok(to_json(&updated, true));
        ctx.state.authorization.by_id.insert(key(&id), updated);
        return Ok(reply);
    }
    if ctx.state.authorization.all().any(same_grant) {
        return Err(ArmError::conflict(
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    let propagation = Duration::milliseconds(ctx.settings.grant_propagation_ms as i64);
    let assignment = RoleAssignment {
        id: id.clone(),
        name,
        scope,
        role_definition_id: request.role_definition_id,
        principal_id: request.principal_id,
        principal_type: request.principal_type,
        description: request.description,
        condition: request.condition,
        condition_version: request.condition_version,
        delegated_managed_identity_resource_id: request.delegated_managed_identity_resource_id,
        created_on: ctx.now,
        updated_on: ctx.now,
        created_by: caller.clone(),
        updated_by: caller,
        effective_at: ctx.now + propagation,
    };
    let reply = Reply::json(StatusCode::CREATED, to_json(&assignment, false));
    ctx.state.authorization.by_id.insert(key(&id), assignment);
    Ok(reply)
}

pub fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("roleAssignmentName");
    let id = assignment_id(ctx.param("scope"), name);
    ctx.state
        .authorization
        .get(&id)
        .map(|a| Reply::ok(to_json(a, true)))
        .ok_or_else(|| not_found(name))
}

pub fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = assignment_id(ctx.param("scope"), ctx.param("roleAssignmentName"));
    match ctx.state.authorization.by_id.remove(&key(&id)) {
        Some(removed) => Ok(Reply::ok(to_json(&removed, true))),
        None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
    }
}

/// Two role definition ids name the same role: the same GUID, whatever form.
fn same_role(a: &str, b: &str) -> bool {
    match (definition_guid(a), definition_guid(b)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// A parsed `$filter`: the supported terms, joined by `and`.
#[derive(Debug, Default, PartialEq)]
struct Filter {
    at_scope: bool,
    principal_id: Option<String>,
}

fn quoted(term: &str, prefix: &str, suffix: &str) -> Option<String> {
    let lower = term.to_ascii_lowercase();
    if !lower.starts_with(prefix) || !lower.ends_with(suffix) {
        return None;
    }
    let inner = term[prefix.len()..term.len() - suffix.len()].trim();
    inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map(str::to_string)
}

fn parse_filter(filter: Option<&String>) -> Result<Filter, ArmError> {
    let mut parsed = Filter::default();
    let Some(filter) = filter.map(|f| f.trim()).filter(|f| !f.is_empty()) else {
        return Ok(parsed);
    };
    let unsupported = || {
        ArmError::bad_request(
            "UnsupportedQuery",
            format!("The filter '{filter}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{{value}}' ' or 'assignedTo('{{value}}')'."),
        )
    };
    for term in filter.split(" and ").map(str::trim) {
        if term.eq_ignore_ascii_case("atScope()") {
            parsed.at_scope = true;
        } else if let Some(id) =
            quoted(term, "principalid eq ", "").or_else(|| quoted(term, "assignedto(", ")"))
        {
            parsed.principal_id = Some(id);
        } else {
            return Err(unsupported());
        }
    }
    Ok(parsed)
}

/// Assignments at the scope, above it, and (unless `atScope()`) below it.
pub fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = ctx.param("scope").trim_end_matches('/').to_string();
    check_scope(ctx, &scope)?;
    let filter = parse_filter(ctx.query.get("$filter"))?;
    let value: Vec<Value> = ctx
        .state
        .authorization
        .all()
        .filter(|a| {
            is_within(&scope, &a.scope) || (!filter.at_scope && is_within(&a.scope, &scope))
        })
        .filter(|a| {
            filter
                .principal_id
                .as_ref()
                .is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p))
        })
        .map(|a| to_json(a, true))
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_azure_supports_are_parsed() {
        assert_eq!(parse_filter(None).unwrap(), Filter::default());
        let f = parse_filter(Some(&"atScope()".to_string())).unwrap();
        assert!(f.at_scope && f.principal_id.is_none());
        let f = parse_filter(Some(&"principalId eq 'abc'".to_string())).unwrap();
        assert_eq!(f.principal_id.as_deref(), Some("abc"));
        let f = parse_filter(Some(&"atScope() and assignedTo('x-y')".to_string())).unwrap();
        assert!(f.at_scope);
        assert_eq!(f.principal_id.as_deref(), Some("x-y"));
        let err = parse_filter(Some(&"roleDefinitionId eq 'x'".to_string())).unwrap_err();
        assert_eq!(err.code, "UnsupportedQuery");
    }

    #[test]
    fn principal_not_found_message_matches_azure() {
        let e = principal_not_found("33333333-0000-0000-0000-000000000099", "t-1");
        assert!(e.message.starts_with(
            "Principal 33333333000000000000000000000099 does not exist in the directory t-1."
        ));
        assert!(e
            .message
            .contains("or Group.  See https://aka.ms/docs-principaltype"));
    }
}
