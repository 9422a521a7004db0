//! `UserAssignedIdentities_CreateOrUpdate` (201 with a relative `Location`,
//! generated `principalId`/`clientId`, recorded in the directory), `_Get`, `_Delete`.

use super::errors::invalid_name;
use super::model::{identity_id, valid_name, Identity};
use super::TYPE;
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{key, required_location, tags};
use crate::emulator::reply::Reply;
use hyper::StatusCode;
use serde_json::{json, Value};

/// The versions from 2024-11-30 on answer `isolationScope` (`None` unless
/// set: the emulator does not restrict identities to a region).
fn to_json(identity: &Identity, api_version: &str) -> Value {
    let mut body = json!({
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
    });
    if api_version >= "2024-11-30" {
        body["properties"]["isolationScope"] = json!("None");
    }
    body
}

pub(super) fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
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
        let reply = Reply::ok(to_json(&updated, &ctx.api_version));
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
        tenant_id: ctx
            .state
            .tenant_of_subscription(ctx.param("subscriptionId"))
            .to_string(),
        indexed_at: Some(ctx.settings.indexed_at(ctx.now)),
    };
    let now = ctx.now;
    ctx.state
        .add_directory_object(&identity.principal_id, "ManagedIdentity", now);
    let reply = Reply::json(StatusCode::CREATED, to_json(&identity, &ctx.api_version))
        .header("location", id.clone());
    ctx.state.msi.by_id.insert(key(&id), identity);
    Ok(reply)
}

pub(super) fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = identity_id(
        ctx.param("subscriptionId"),
        ctx.param("resourceGroupName"),
        ctx.param("resourceName"),
    );
    ctx.state
        .msi
        .get(&id)
        .map(|identity| Reply::ok(to_json(identity, &ctx.api_version)))
        .ok_or_else(|| {
            ArmError::resource_not_found(
                TYPE,
                ctx.param("resourceName"),
                ctx.param("resourceGroupName"),
            )
        })
}

pub(super) fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
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
