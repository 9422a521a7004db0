//! `RoleDefinitions_Get` and `RoleDefinitions_List` for the built-in roles
//! and the tenant's custom roles (`custom_roles.rs`, which also creates and
//! deletes them): what `az role assignment create --role "<name>"` asks
//! before it assigns (the definition by `$filter=roleName eq '<name>'`), and
//! a client reading an assignment's `roleDefinitionId`.

use super::custom_roles::{self, subscription_prefix, TYPE};
use super::handlers::check_scope;
use super::roles::{BuiltInRole, BUILT_IN_ROLES};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, Route, TypeRoutes};
use hyper::Method;
use serde_json::{json, Value};

/// The routes at a subscription, resource group or resource scope, and at the
/// tenant root (`/providers/...`, the form assignments may name).
pub(super) fn routes(api_versions: &'static [&'static str]) -> Vec<Route> {
    let routes = TypeRoutes::new(TYPE, api_versions);
    let mut all = Vec::new();
    for (item, collection) in [
        (
            "{*scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}",
            "{*scope}/providers/Microsoft.Authorization/roleDefinitions",
        ),
        (
            "/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}",
            "/providers/Microsoft.Authorization/roleDefinitions",
        ),
    ] {
        if item.starts_with('{') {
            // Custom roles are written at a subscription or group scope.
            all.push(routes.route(
                Method::PUT,
                item,
                "RoleDefinitions_CreateOrUpdate",
                Access::Write,
                custom_roles::put,
            ));
            all.push(routes.route(
                Method::DELETE,
                item,
                "RoleDefinitions_Delete",
                Access::Write,
                custom_roles::delete,
            ));
        }
        all.push(routes.route(Method::GET, item, "RoleDefinitions_Get", Access::Read, get));
        all.push(routes.route(
            Method::GET,
            collection,
            "RoleDefinitions_List",
            Access::Read,
            list,
        ));
    }
    all
}

/// The scope of the call, checked as role assignments check theirs; empty at the tenant root.
fn scope(ctx: &Ctx) -> Result<String, ArmError> {
    let scope = ctx.param("scope").trim_end_matches('/').to_string();
    if !scope.is_empty() {
        check_scope(ctx, &scope)?;
    }
    Ok(scope)
}

/// Built-in definitions carry the subscription of the scope they were read
/// at, or none at the tenant root, as ARM answers them.
fn to_json(role: &BuiltInRole, scope: &str) -> Value {
    let subscription = subscription_prefix(scope);
    json!({
        "id": format!("{subscription}/providers/{TYPE}/{}", role.id),
        "name": role.id,
        "type": TYPE,
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": role.actions,
                "notActions": role.not_actions,
                "dataActions": role.data_actions,
                "notDataActions": [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2021-11-11T20:13:47.8628684Z",
            "createdBy": null,
            "updatedBy": null,
        },
    })
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = scope(ctx)?;
    let id = ctx.param("roleDefinitionId");
    let custom = || {
        ctx.state
            .authorization
            .custom_role(id)
            .map(|role| Reply::ok(role.to_json(&subscription_prefix(&scope))))
    };
    BUILT_IN_ROLES
        .iter()
        .find(|role| role.id.eq_ignore_ascii_case(id))
        .map(|role| Reply::ok(to_json(role, &scope)))
        .or_else(custom)
        .ok_or_else(|| {
            ArmError::not_found(
                "RoleDefinitionDoesNotExist",
                "The specified role definition with ID '".to_string() + id + "' does not exist.",
            )
        })
}

/// What a list `$filter` asks for: `roleName eq '...'` and/or `type eq '...'`.
#[derive(Debug, Default, PartialEq)]
struct Filter {
    role_name: Option<String>,
    role_type: Option<String>,
}

fn parse_filter(filter: Option<&String>) -> Result<Filter, ArmError> {
    let mut parsed = Filter::default();
    let Some(filter) = filter.map(|f| f.trim()).filter(|f| !f.is_empty()) else {
        return Ok(parsed);
    };
    for term in filter.split(" and ").map(str::trim) {
        let quoted = |prefix: &str| {
            let lower = term.to_ascii_lowercase();
            lower
                .strip_prefix(prefix)
                .filter(|rest| rest.len() >= 2 && rest.starts_with('\'') && rest.ends_with('\''))
                .map(|_| term[prefix.len() + 1..term.len() - 1].to_string())
        };
        if let Some(name) = quoted("rolename eq ") {
            parsed.role_name = Some(name);
        } else if let Some(kind) = quoted("type eq ") {
            parsed.role_type = Some(kind);
        } else {
            // Code as role assignments answer an unsupported filter (chosen for definitions).
            return Err(ArmError::bad_request(
                "UnsupportedQuery",
                format!("The filter '{filter}' is not supported. Supported filters are 'roleName eq '{{value}}'' and 'type eq '{{value}}''."),
            ));
        }
    }
    Ok(parsed)
}

fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let scope = scope(ctx)?;
    let filter = parse_filter(ctx.query.get("$filter"))?;
    let named = |name: &str| {
        filter
            .role_name
            .as_ref()
            .is_none_or(|n| name.eq_ignore_ascii_case(n))
    };
    let of_type = |kind: &str| {
        filter
            .role_type
            .as_ref()
            .is_none_or(|t| t.eq_ignore_ascii_case(kind))
    };
    let mut value: Vec<Value> = BUILT_IN_ROLES
        .iter()
        .filter(|role| named(role.name) && of_type("BuiltInRole"))
        .map(|role| to_json(role, &scope))
        .collect();
    // Custom roles where they can be assigned: at or below one of their assignable scopes.
    value.extend(
        ctx.state
            .authorization
            .custom_roles()
            .filter(|role| named(&role.role_name) && of_type("CustomRole"))
            .filter(|role| !scope.is_empty() && role.visible_at(&scope))
            .map(|role| role.to_json(&subscription_prefix(&scope))),
    );
    Ok(Reply::ok(json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_az_sends_are_parsed() {
        let f = parse_filter(Some(
            &"roleName eq 'Key Vault Crypto Service Encryption User'".into(),
        ))
        .unwrap();
        assert_eq!(
            f.role_name.as_deref(),
            Some("Key Vault Crypto Service Encryption User")
        );
        let f = parse_filter(Some(
            &"type eq 'BuiltInRole' and roleName eq 'Reader'".into(),
        ))
        .unwrap();
        assert_eq!(f.role_type.as_deref(), Some("BuiltInRole"));
        assert_eq!(f.role_name.as_deref(), Some("Reader"));
        assert_eq!(parse_filter(None).unwrap(), Filter::default());
        let err = parse_filter(Some(&"roleName ne 'Reader'".into())).unwrap_err();
        assert_eq!(err.code, "UnsupportedQuery");
    }
}
