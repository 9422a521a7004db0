//! Subscription diagnostic settings (`Microsoft.Insights/diagnosticSettings`
//! at subscription scope, api-versions 2021-05-01-preview and, for Azure CLI,
//! 2017-05-01-preview): where a subscription's activity log is exported.

use super::errors::{bad_request, flat};
use super::model::{entry_key, valid_name};
use super::validation::{check_sink_reuse, parse_setting_at, SettingScope};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, Route, TypeRoutes};
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const API: &[&str] = &["2021-05-01-preview", OLD_API];
/// The version `az monitor diagnostic-settings subscription` sends: it predates
/// category groups and marketplace partners, so its answers carry neither.
const OLD_API: &str = "2017-05-01-preview";
const TYPE: &str = "Microsoft.Insights/diagnosticSettings";
/// Azure Monitor's hard limit of diagnostic settings per resource (here: per subscription).
pub const MAX_SETTINGS: usize = 5;
/// The activity log's categories, in Azure's casing.
pub const CATEGORIES: &[&str] = &[
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
];
const CATEGORY_GROUPS: &[&str] = &["allLogs"];

/// One `logs` entry: a category or a category group, enabled or not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogSettings {
    pub category: Option<String>,
    pub category_group: Option<String>,
    pub enabled: bool,
}

impl LogSettings {
    /// True when this entry exports `category`.
    pub(super) fn covers(&self, category: &str) -> bool {
        self.enabled
            && (self.category_group.is_some()
                || self
                    .category
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(category)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSetting {
    /// Empty for a management group's setting (its group is held beside it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subscription_id: String,
    pub name: String,
    pub storage_account_id: Option<String>,
    pub workspace_id: Option<String>,
    pub event_hub_authorization_rule_id: Option<String>,
    pub event_hub_name: Option<String>,
    pub service_bus_rule_id: Option<String>,
    pub marketplace_partner_id: Option<String>,
    pub logs: Vec<LogSettings>,
}

impl DiagnosticSetting {
    /// The destinations (data sinks) this setting sends to.
    pub(super) fn sinks(&self) -> Vec<&str> {
        [
            &self.storage_account_id,
            &self.workspace_id,
            &self.event_hub_authorization_rule_id,
            &self.service_bus_rule_id,
            &self.marketplace_partner_id,
        ]
        .into_iter()
        .filter_map(|s| s.as_deref())
        .collect()
    }
}

pub fn routes() -> Vec<Route> {
    let item =
        "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/diagnosticSettings/{name}";
    let list = "/subscriptions/{subscriptionId}/providers/Microsoft.Insights/diagnosticSettings";
    let routes = TypeRoutes::new(TYPE, API);
    vec![
        routes.route(
            Method::PUT,
            item,
            "SubscriptionDiagnosticSettings_CreateOrUpdate",
            Access::Write,
            |ctx| flat(put(ctx)),
        ),
        routes.route(
            Method::GET,
            item,
            "SubscriptionDiagnosticSettings_Get",
            Access::Read,
            |ctx| flat(get(ctx)),
        ),
        routes.route(
            Method::DELETE,
            item,
            "SubscriptionDiagnosticSettings_Delete",
            Access::Write,
            |ctx| flat(delete(ctx)),
        ),
        routes.route(
            Method::GET,
            list,
            "SubscriptionDiagnosticSettings_List",
            Access::Read,
            |ctx| flat(list_settings(ctx)),
        ),
    ]
}

/// As recorded: no leading slash and a lower-case `microsoft.insights`.
fn setting_id(subscription: &str, name: &str) -> String {
    format!("subscriptions/{subscription}/providers/microsoft.insights/diagnosticSettings/{name}")
}

fn to_json(s: &DiagnosticSetting, api_version: &str) -> Value {
    let old = api_version.eq_ignore_ascii_case(OLD_API);
    let mut properties = Map::new();
    let optional = [
        ("storageAccountId", &s.storage_account_id),
        ("workspaceId", &s.workspace_id),
        (
            "eventHubAuthorizationRuleId",
            &s.event_hub_authorization_rule_id,
        ),
        ("eventHubName", &s.event_hub_name),
        ("serviceBusRuleId", &s.service_bus_rule_id),
        ("marketplacePartnerId", &s.marketplace_partner_id),
    ];
    for (name, value) in optional {
        if old && name == "marketplacePartnerId" {
            continue;
        }
        if let Some(value) = value {
            properties.insert(name.into(), json!(value));
        }
    }
    // Recorded: every entry carries both `category` and `categoryGroup`, the unused one null.
    let logs: Vec<Value> = if old {
        old_logs(&s.logs)
    } else {
        s.logs
            .iter()
            .map(|l| json!({"category": l.category, "enabled": l.enabled, "categoryGroup": l.category_group}))
            .collect()
    };
    properties.insert("logs".into(), Value::Array(logs));
    json!({
        "id": setting_id(&s.subscription_id, &s.name),
        "type": TYPE,
        "name": s.name,
        "location": "global",
        "properties": properties,
    })
}

/// The logs in 2017-05-01-preview's shape, which knows categories only: a
/// category group is answered as the categories it stands for (`allLogs`:
/// every activity-log category, each once) *(chosen: no recording shows an
/// old version reading a setting made with a group)*.
fn old_logs(logs: &[LogSettings]) -> Vec<Value> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for log in logs {
        let categories: Vec<&str> = match (&log.category, &log.category_group) {
            (Some(category), _) => vec![category.as_str()],
            (None, Some(_)) => CATEGORIES.to_vec(),
            (None, None) => Vec::new(),
        };
        for category in categories {
            match out.iter_mut().find(|(c, _)| c == category) {
                Some(entry) => entry.1 |= log.enabled,
                None => out.push((category.to_string(), log.enabled)),
            }
        }
    }
    out.into_iter()
        .map(|(category, enabled)| json!({"category": category, "enabled": enabled}))
        .collect()
}

pub(super) fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "ResourceNotFound",
        format!("The diagnostic setting '{name}' doesn't exist."),
    )
}

/// A subscription setting's `logs` entry (the unit tests' way in).
#[cfg(test)]
fn parse_log(entry: &Value) -> Result<LogSettings, ArmError> {
    super::validation::parse_log_entry(entry, CATEGORIES, CATEGORY_GROUPS)
}

fn parse_setting(ctx: &Ctx, subscription: &str, name: &str) -> Result<DiagnosticSetting, ArmError> {
    let scope = SettingScope {
        what: "subscription",
        categories: CATEGORIES,
        groups: CATEGORY_GROUPS,
    };
    parse_setting_at(ctx, &scope, subscription, name)
}

fn put(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_string();
    let name = ctx.param("name").to_string();
    if !valid_name(&name) {
        return Err(bad_request(format!(
            "The diagnostic setting name '{name}' is invalid."
        )));
    }
    let mut setting = parse_setting(ctx, &subscription, &name)?;
    let key = entry_key(&subscription, &name);
    let existing = ctx.state.insights.diagnostic_settings.get(&key).cloned();
    let others = ctx.state.insights.diagnostic_settings(&subscription);
    if existing.is_none() && others.len() >= MAX_SETTINGS {
        return Err(bad_request(format!(
            "The limit of {MAX_SETTINGS} diagnostic settings was reached for this subscription. To create diagnostic setting '{name}', delete an existing one."
        )));
    }
    check_sink_reuse(&setting, &others)?;
    if let Some(existing) = existing {
        // The name keeps the casing it was created with.
        setting.name = existing.name;
        setting.subscription_id = existing.subscription_id;
    }
    // Recorded: 200 on create as well as on update.
    let reply = Reply::ok(to_json(&setting, &ctx.api_version));
    ctx.state.insights.diagnostic_settings.insert(key, setting);
    Ok(reply)
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let name = ctx.param("name");
    ctx.state
        .insights
        .diagnostic_settings
        .get(&entry_key(ctx.param("subscriptionId"), name))
        .map(|s| Reply::ok(to_json(s, &ctx.api_version)))
        .ok_or_else(|| not_found(name))
}

fn delete(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let key = entry_key(ctx.param("subscriptionId"), ctx.param("name"));
    let status = match ctx.state.insights.diagnostic_settings.remove(&key) {
        Some(_) => StatusCode::OK,
        None => StatusCode::NO_CONTENT,
    };
    Ok(Reply::empty(status))
}

fn list_settings(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let value: Vec<Value> = ctx
        .state
        .insights
        .diagnostic_settings(ctx.param("subscriptionId"))
        .into_iter()
        .map(|s| to_json(s, &ctx.api_version))
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_entries_are_checked_and_normalised() {
        let l = parse_log(&json!({"category": "administrative", "enabled": true})).unwrap();
        assert_eq!(l.category.as_deref(), Some("Administrative"));
        let g = parse_log(&json!({"categoryGroup": "allLogs", "enabled": false})).unwrap();
        assert_eq!(g.category_group.as_deref(), Some("allLogs"));
        assert_eq!(
            parse_log(&json!({"category": "StorageWrite", "enabled": true}))
                .unwrap_err()
                .message,
            "Category 'StorageWrite' is not supported."
        );
        assert!(parse_log(&json!({"category": "Policy"})).is_err());
        assert!(parse_log(&json!({"enabled": true})).is_err());
    }

    #[test]
    fn names_refuse_reserved_characters() {
        assert!(valid_name("export-to-logs"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(261)));
    }
}
