//! Legacy log profiles (`Microsoft.Insights/logprofiles`, api-version
//! 2016-03-01): the activity log export that predates diagnostic settings,
//! retired on 30 Sep 2026 but still found on old subscriptions.

use super::errors::{bad_request, flat};
use super::model::{check_storage_account_id, entry_key, optional_id, valid_name};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{normalize_location, required_location, REGIONS};
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, Route, TypeRoutes};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const API: &[&str] = &["2016-03-01"];
const TYPE: &str = "Microsoft.Insights/logprofiles";
/// Azure allows one log profile per subscription.
pub const MAX_PROFILES: usize = 1;
const CATEGORIES: &[&str] = &["Write", "Delete", "Action"];
/// Retention is 0 (keep forever) to 365 days.
const MAX_RETENTION_DAYS: i64 = 365;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogProfile {
    pub subscription_id: String,
    pub name: String,
    /// As sent with the PUT; only echoed by the PUT response (GET answers null).
    pub location: Option<String>,
    pub tags: Option<Map<String, Value>>,
    pub storage_account_id: Option<String>,
    pub service_bus_rule_id: Option<String>,
    pub locations: Vec<String>,
    pub categories: Vec<String>,
    pub retention_enabled: bool,
    pub retention_days: i64,
}

pub fn routes() -> Vec<Route> {
    let item =
        "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/logprofiles/{logProfileName}";
    let list = "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/logprofiles";
    let routes = TypeRoutes::new(TYPE, API);
    vec![
        routes.route(
            Method::PUT,
            item,
            "LogProfiles_CreateOrUpdate",
            Access::Write,
            |ctx| flat(put(ctx)),
        ),
        routes.route(Method::GET, item, "LogProfiles_Get", Access::Read, |ctx| {
            flat(get(ctx))
        }),
        routes.route(
            Method::DELETE,
            item,
            "LogProfiles_Delete",
            Access::Write,
            |ctx| flat(delete(ctx)),
        ),
        routes.route(Method::GET, list, "LogProfiles_List", Access::Read, |ctx| {
            flat(list_profiles(ctx))
        }),
    ]
}

/// The recorded shape: lower-case `microsoft.insights/logprofiles` in the id
/// and explicit nulls for `type`, `kind`, `tags`, `serviceBusRuleId` and `identity`.
fn to_json(p: &LogProfile, location: Option<&str>) -> Value {
    json!({
        "id": format!("/subscriptions/{}/providers/microsoft.insights/logprofiles/{}", p.subscription_id, p.name),
        "type": null,
        "name": p.name,
        "location": location,
        "kind": null,
        "tags": p.tags,
        "properties": {
            "storageAccountId": p.storage_account_id,
            "serviceBusRuleId": p.service_bus_rule_id,
            "locations": p.locations,
            "categories": p.categories,
            "retentionPolicy": {"enabled": p.retention_enabled, "days": p.retention_days},
        },
        "identity": null,
    })
}

fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "NotFound",
        format!("The log profile '{name}' could not be found."),
    )
}

fn required_strings(props: &Map<String, Value>, name: &str) -> Result<Vec<String>, ArmError> {
    let Some(Value::Array(items)) = props.get(name) else {
        return Err(ArmError::invalid_request_content(format!(
            "Required property '{name}' not found in JSON. Path 'properties'"
        )));
    };
    let strings: Option<Vec<String>> = items
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect();
    match strings {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(bad_request(format!(
            "The '{name}' of a log profile must not be empty."
        ))),
        None => Err(ArmError::invalid_request_content(format!(
            "properties.{name} must be an array of strings"
        ))),
    }
}

/// `locations`: known regions or `global`, as ARM names them.
fn parse_locations(props: &Map<String, Value>) -> Result<Vec<String>, ArmError> {
    let locations = required_strings(props, "locations")?;
    for location in &locations {
        let normalized = normalize_location(location);
        if normalized != "global" && !REGIONS.contains(&normalized.as_str()) {
            return Err(bad_request(format!(
                "The location '{location}' is not a valid location for a log profile."
            )));
        }
    }
    Ok(locations)
}

fn parse_categories(props: &Map<String, Value>) -> Result<Vec<String>, ArmError> {
    let categories = required_strings(props, "categories")?;
    categories
        .iter()
        .map(|c| {
            CATEGORIES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(c))
                .map(|k| k.to_string())
                .ok_or_else(|| {
                    bad_request(format!(
                        "Category '{c}' is not supported. Supported categories are 'Write', 'Delete' and 'Action'."
                    ))
                })
        })
        .collect()
}

fn parse_retention(props: &Map<String, Value>) -> Result<(bool, i64), ArmError> {
    let Some(Value::Object(policy)) = props.get("retentionPolicy") else {
        return Err(ArmError::invalid_request_content(
            "Required property 'retentionPolicy' not found in JSON. Path 'properties'",
        ));
    };
    let (Some(enabled), Some(days)) = (
        policy.get("enabled").and_then(Value::as_bool),
        policy.get("days").and_then(Value::as_i64),
    ) else {
        return Err(ArmError::invalid_request_content(
            "Required properties 'enabled' (boolean) and 'days' (integer) not found in JSON. Path 'properties.retentionPolicy'",
        ));
    };
    if !(0..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(bad_request(format!(
            "The retention days '{days}' must be between 0 and {MAX_RETENTION_DAYS}."
        )));
    }
    Ok((enabled, days))
}

fn parse_profile(ctx: &Ctx, subscription: &str, name: &str) -> Result<LogProfile, ArmError> {
    let body = ctx.body()?;
    let location = required_location(body, TYPE)?;
    let tags = crate::emulator::providers::common::tags(body)?;
    let Some(Value::Object(props)) = body.get("properties") else {
        return Err(ArmError::invalid_request_content(
            "Required property 'properties' not found in JSON.",
        ));
    };
    let storage_account_id = optional_id(props, "storageAccountId")?;
    let service_bus_rule_id = optional_id(props, "serviceBusRuleId")?;
    if storage_account_id.is_none() && service_bus_rule_id.is_none() {
        return Err(bad_request(
            "A log profile needs a storage account (storageAccountId) or a service bus rule (serviceBusRuleId).",
        ));
    }
    if let Some(id) = &storage_account_id {
        check_storage_account_id(id, "properties.storageAccountId")?;
    }
    let (retention_enabled, retention_days) = parse_retention(props)?;
    Ok(LogProfile {
        subscription_id: subscription.to_string(),
        name: name.to_string(),
        location: Some(location),
        tags,
        storage_account_id,
        service_bus_rule_id,
        locations: parse_locations(props)?,
        categories: parse_categories(props)?,
        retention_enabled,
        retention_days,
    })
}

fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    let name = ctx.param("logProfileName").to_string();
    if !valid_name(&name) {
        return Err(bad_request(format!(
            "The log profile name '{name}' is invalid."
        )));
    }
    let mut profile = parse_profile(ctx, &subscription, &name)?;
    let key = entry_key(&subscription, &name);
    let existing = ctx.state.insights.log_profiles.get(&key).cloned();
    if existing.is_none() && ctx.state.insights.log_profiles(&subscription).len() >= MAX_PROFILES {
        // Verbatim message quoted in hashicorp/terraform-provider-azurerm#2235 (status 409).
        return Err(ArmError::conflict(
            "Conflict",
            format!("The limit of {MAX_PROFILES} log profiles was reached. To create new log profile '{name}', delete an existing one."),
        ));
    }
    if let Some(existing) = existing {
        profile.name = existing.name;
        profile.subscription_id = existing.subscription_id;
    }
    // Recorded: 200 on create and update, echoing the location sent.
    let reply = Reply::ok(to_json(&profile, profile.location.as_deref()));
    ctx.state.insights.log_profiles.insert(key, profile);
    Ok(reply)
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("logProfileName");
    ctx.state
        .insights
        .log_profiles
        .get(&entry_key(ctx.param("subscriptionId"), name))
        .map(|p| Reply::ok(to_json(p, None)))
        .ok_or_else(|| not_found(name))
}

/// The spec lists only 200 for this operation, so a missing profile answers 200 too.
fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let key = entry_key(ctx.param("subscriptionId"), ctx.param("logProfileName"));
    ctx.state.insights.log_profiles.remove(&key);
    Ok(Reply::empty(StatusCode::OK))
}

fn list_profiles(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let value: Vec<Value> = ctx
        .state
        .insights
        .log_profiles(ctx.param("subscriptionId"))
        .into_iter()
        .map(|p| to_json(p, None))
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn categories_and_locations_are_checked() {
        let p =
            props(json!({"categories": ["write", "Action"], "locations": ["global", "West US"]}));
        assert_eq!(parse_categories(&p).unwrap(), ["Write", "Action"]);
        assert_eq!(parse_locations(&p).unwrap().len(), 2);
        let bad = props(json!({"categories": ["Read"], "locations": ["moon"]}));
        assert_eq!(parse_categories(&bad).unwrap_err().code, "BadRequest");
        assert_eq!(parse_locations(&bad).unwrap_err().code, "BadRequest");
        let empty = props(json!({"categories": []}));
        assert!(parse_categories(&empty).is_err());
    }

    #[test]
    fn retention_is_bounded() {
        let ok = props(json!({"retentionPolicy": {"enabled": true, "days": 365}}));
        assert_eq!(parse_retention(&ok).unwrap(), (true, 365));
        let long = props(json!({"retentionPolicy": {"enabled": true, "days": 366}}));
        assert!(parse_retention(&long).is_err());
        let missing = props(json!({"retentionPolicy": {"enabled": true}}));
        assert_eq!(
            parse_retention(&missing).unwrap_err().code,
            "InvalidRequestContent"
        );
    }
}
