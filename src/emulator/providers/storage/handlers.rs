//! The storage account operations as HTTP: create (202 + `Location`, polled
//! until done), get, update, delete, the lists and `checkNameAvailability`;
//! each turns the request into model calls and the model into ARM's answer.

use super::encryption::Change;
use super::errors::{already_exists, already_taken, not_found, not_provisioned};
use super::model::{to_json, Encryption, Operation, Values, RESOURCE_TYPE};
use super::request::{
    account_name_invalid, apply_identity, check_kind_and_sku, check_top_level, identity_request,
    invalid_values, kind, name_invalid_message, setting, sku, valid_account_name, Shape,
};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{key, required_location, resource_id, tags};
use crate::emulator::reply::Reply;
use hyper::StatusCode;
use serde_json::{json, Map, Value};

/// What the answers carry, by `storageUnknownValues`.
fn values(ctx: &Ctx) -> Values {
    if ctx.settings.storage_unknown_values {
        Values::Field
    } else {
        Values::Spec
    }
}

fn account_id(ctx: &Ctx) -> String {
    resource_id(
        ctx.param("subscriptionId"),
        ctx.param("resourceGroupName"),
        RESOURCE_TYPE,
        ctx.param("accountName"),
    )
}

/// The poll URL carries the api-version the create was sent with, as ARM's do.
fn operation_url(ctx: &Ctx, subscription: &str, location: &str, operation: &str) -> String {
    ctx.url(&format!(
        "/subscriptions/{subscription}/providers/Microsoft.Storage/locations/{location}/asyncoperations/{operation}?monitor=true&api-version={}",
        ctx.api_version
    ))
}

/// The account after applying a create or update body to `base`, and the
/// principal of a system identity it creates (registered only on success).
fn apply_body(
    ctx: &Ctx,
    base: &super::model::Account,
    body: &Map<String, Value>,
    shape: Shape,
    is_new: bool,
) -> Result<(super::model::Account, Option<String>), ArmError> {
    let mut next = base.clone();
    if let Some(sku) = sku(body, shape)? {
        next.sku = sku;
    }
    if let Some(kind) = kind(body, shape)? {
        // Only the upgrade from general-purpose v1 to v2 changes an account's kind.
        let upgrade = base.kind == "Storage" && kind == "StorageV2";
        if !is_new && kind != base.kind && !upgrade {
            return Err(invalid_values("kind"));
        }
        next.kind = kind;
    }
    check_kind_and_sku(&next.kind, &next.sku)?;
    if body.contains_key("tags") {
        next.tags = tags(body)?.unwrap_or_default();
    }
    let mut system_is_new = false;
    if let Some(identity) = body.get("identity").filter(|v| !v.is_null()) {
        let wanted = identity_request(identity, &base.id)?;
        let (identity, new) =
            apply_identity(ctx.state, &base.id, base.identity.as_ref(), &wanted, || {
                ctx.new_guid()
            })?;
        next.identity = Some(identity);
        system_is_new = new;
    }
    let mut encryption_request = None;
    match body.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(properties)) => {
            for (name, value) in properties.iter().filter(|(_, v)| !v.is_null()) {
                if name == "encryption" {
                    encryption_request = Some(super::encryption::parse(value)?);
                } else {
                    next.settings
                        .insert(name.clone(), setting(name, value, shape)?);
                }
            }
        }
        Some(_) => {
            return Err(ArmError::invalid_request_content(
                "properties must be an object",
            ))
        }
    }
    next.encryption = super::encryption::apply(
        ctx.state,
        &Change {
            shape: if is_new { Shape::Create } else { Shape::Update },
            current: &base.encryption,
            request: encryption_request.as_ref(),
            identity: next.identity.as_ref(),
            system_is_new,
            now: ctx.now,
        },
    )?;
    let new_principal = next
        .identity
        .as_ref()
        .and_then(|i| i.system.as_ref())
        .filter(|_| system_is_new)
        .map(|s| s.principal_id.clone());
    Ok((next, new_principal))
}

/// Stores the account and registers a newly created system identity's principal.
fn commit(ctx: &mut Ctx, account: super::model::Account, new_principal: Option<String>) -> Value {
    if let Some(principal) = new_principal {
        ctx.state
            .add_directory_object(&principal, "ManagedIdentity", ctx.now);
    }
    let body = to_json(&account, ctx.now, values(ctx));
    ctx.state.storage.accounts.insert(key(&account.id), account);
    body
}

pub(super) fn create(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("accountName").to_string();
    if !valid_account_name(&name) {
        return Err(account_name_invalid(&name));
    }
    let body = ctx.body()?.clone();
    check_top_level(&body, Shape::Create)?;
    let location = required_location(&body, RESOURCE_TYPE)?;
    let (sku, kind) = (sku(&body, Shape::Create)?, kind(&body, Shape::Create)?);
    let (Some(sku), Some(kind)) = (sku, kind) else {
        return Err(invalid_values("kind, sku"));
    };
    let id = account_id(ctx);
    let subscription = ctx.param("subscriptionId").to_string();
    let existing = match ctx.state.storage.by_name(&name) {
        Some(a) if key(&a.id) == key(&id) => Some(a.clone()),
        Some(a) if a.subscription_id.eq_ignore_ascii_case(&subscription) => {
            return Err(already_exists(&name))
        }
        Some(_) => return Err(already_taken(&name)),
        None => None,
    };
    if let Some(existing) = existing {
        if existing.is_provisioning(ctx.now) {
            return Err(not_provisioned());
        }
        if existing.location != location {
            return Err(ArmError::conflict(
                "InvalidResourceLocation",
                format!("The resource '{name}' already exists in location '{}' in resource group '{}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.", existing.location, existing.resource_group),
            ));
        }
        let (account, principal) = apply_body(ctx, &existing, &body, Shape::Create, false)?;
        return Ok(Reply::ok(commit(ctx, account, principal)));
    }
    let delay = chrono::Duration::milliseconds(
        i64::try_from(ctx.settings.storage_provisioning_ms).unwrap_or(i64::MAX),
    );
    let base = super::model::Account {
        id: id.clone(),
        subscription_id: subscription.clone(),
        resource_group: ctx.param("resourceGroupName").to_string(),
        name,
        location: location.clone(),
        kind,
        sku,
        tags: Map::new(),
        created_at: ctx.now,
        ready_at: ctx.now + delay,
        indexed_at: Some(ctx.settings.indexed_at(ctx.now)),
        identity: None,
        encryption: Encryption::default(),
        settings: Map::new(),
    };
    let (account, principal) = apply_body(ctx, &base, &body, Shape::Create, true)?;
    let operation = ctx.new_guid();
    ctx.state.storage.operations.insert(
        key(&operation),
        Operation {
            subscription_id: subscription.clone(),
            account_id: id,
            done_at: account.ready_at,
        },
    );
    commit(ctx, account, principal);
    let location_url = operation_url(ctx, &subscription, &location, &operation);
    Ok(Reply::empty(StatusCode::ACCEPTED).header("Location", location_url))
}

pub(super) fn poll(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let operation_id = ctx.param("operationId");
    let operation = ctx
        .state
        .storage
        .operations
        .get(&key(operation_id))
        .filter(|op| {
            op.subscription_id
                .eq_ignore_ascii_case(ctx.param("subscriptionId"))
        })
        .ok_or_else(|| {
            ArmError::not_found(
                "OperationNotFound",
                format!("The operation '{operation_id}' could not be found."),
            )
        })?;
    if ctx.now < operation.done_at {
        let url = operation_url(
            ctx,
            ctx.param("subscriptionId"),
            ctx.param("location"),
            operation_id,
        );
        return Ok(Reply::empty(StatusCode::ACCEPTED).header("Location", url));
    }
    let account = ctx
        .state
        .storage
        .get_by_id(&operation.account_id)
        .ok_or_else(|| {
            ArmError::not_found(
                "ResourceNotFound",
                format!("The storage account of operation '{operation_id}' no longer exists."),
            )
        })?;
    Ok(Reply::ok(to_json(account, ctx.now, values(ctx))))
}

pub(super) fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let account = ctx
        .state
        .storage
        .get_by_id(&account_id(ctx))
        .ok_or_else(|| not_found(ctx))?;
    Ok(Reply::ok(to_json(account, ctx.now, values(ctx))))
}

pub(super) fn update(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let existing = ctx
        .state
        .storage
        .get_by_id(&account_id(ctx))
        .cloned()
        .ok_or_else(|| not_found(ctx))?;
    if existing.is_provisioning(ctx.now) {
        return Err(not_provisioned());
    }
    let body = ctx.body()?.clone();
    check_top_level(&body, Shape::Update)?;
    let (account, principal) = apply_body(ctx, &existing, &body, Shape::Update, false)?;
    Ok(Reply::ok(commit(ctx, account, principal)))
}

pub(super) fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = key(&account_id(ctx));
    match ctx.state.storage.accounts.get(&id) {
        None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
        Some(a) if a.is_provisioning(ctx.now) => Err(not_provisioned()),
        Some(_) => {
            ctx.state.storage.accounts.remove(&id);
            ctx.state
                .storage
                .operations
                .retain(|_, op| key(&op.account_id) != id);
            Ok(Reply::empty(StatusCode::OK))
        }
    }
}

fn list_where(ctx: &Ctx, keep: impl Fn(&super::model::Account) -> bool) -> Reply {
    let value: Vec<Value> = ctx
        .state
        .storage
        .accounts()
        .filter(|a| keep(a))
        .map(|a| to_json(a, ctx.now, values(ctx)))
        .collect();
    Reply::ok(json!({ "value": value }))
}

pub(super) fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    Ok(list_where(ctx, |a| {
        a.subscription_id.eq_ignore_ascii_case(&subscription)
    }))
}

pub(super) fn list_by_resource_group(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    let group = ctx.param("resourceGroupName").to_string();
    Ok(list_where(ctx, |a| {
        a.subscription_id.eq_ignore_ascii_case(&subscription)
            && a.resource_group.eq_ignore_ascii_case(&group)
    }))
}

pub(super) fn check_name_availability(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let body = ctx.body()?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_values("name"))?;
    let type_ok = body
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case(RESOURCE_TYPE));
    if !type_ok {
        return Err(invalid_values("type"));
    }
    let answer = if !valid_account_name(name) {
        json!({"nameAvailable": false, "reason": "AccountNameInvalid", "message": name_invalid_message(name)})
    } else if ctx.state.storage.by_name(name).is_some() {
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The storage account named {name} is already taken.")})
    } else {
        json!({"nameAvailable": true})
    };
    Ok(Reply::ok(answer))
}
