//! Management group diagnostic settings (`microsoft.insights/diagnosticSettings`
//! under `/providers/Microsoft.Management/managementGroups/{id}`, api-version
//! 2020-01-01-preview): where a management group's activity log is exported.
//! Checked as subscription settings are (`validation.rs`), with the two
//! categories a management group's activity log has, and the storage
//! account must exist and be provisioned (`rules::destination`); the group
//! must exist and the caller may not be denied at it or above (`rules::scope`).

use super::diagnostic_settings::{not_found, DiagnosticSetting, MAX_SETTINGS};
use super::errors::{bad_request, flat};
use super::model::{entry_key, valid_name};
use super::validation::{check_sink_reuse, parse_setting_at, SettingScope};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, Route, TypeRoutes};
use crate::emulator::rules;
use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

const API: &[&str] = &["2020-01-01-preview"];
/// Its own row in the api-version table: the same ARM type as subscription
/// settings, served at another version at this scope.
const TYPE: &str = "Microsoft.Insights/diagnosticSettings (management group)";
const RESOURCE_TYPE: &str = "Microsoft.Insights/diagnosticSettings";

/// A management group's activity log has these categories only.
pub const CATEGORIES: &[&str] = &["Administrative", "Policy"];

/// One setting and the group it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagementGroupSetting {
    pub management_group_id: String,
    #[serde(flatten)]
    pub setting: DiagnosticSetting,
}

pub fn routes() -> Vec<Route> {
    let item = "/providers/Microsoft.Management/managementGroups/{managementGroupId}/providers/Microsoft.Insights/diagnosticSettings/{name}";
    let list = "/providers/Microsoft.Management/managementGroups/{managementGroupId}/providers/Microsoft.Insights/diagnosticSettings";
    let routes = TypeRoutes::new(TYPE, API);
    vec![
        routes.route(
            Method::PUT,
            item,
            "ManagementGroupDiagnosticSettings_CreateOrUpdate",
            Access::Write,
            |ctx| {
                let group = check_group(ctx, true)?;
                flat(put(ctx, group))
            },
        ),
        routes.route(
            Method::GET,
            item,
            "ManagementGroupDiagnosticSettings_Get",
            Access::Read,
            |ctx| {
                let group = check_group(ctx, false)?;
                flat(get(ctx, group))
            },
        ),
        routes.route(
            Method::DELETE,
            item,
            "ManagementGroupDiagnosticSettings_Delete",
            Access::Write,
            |ctx| {
                let group = check_group(ctx, true)?;
                flat(delete(ctx, group))
            },
        ),
        routes.route(
            Method::GET,
            list,
            "ManagementGroupDiagnosticSettings_List",
            Access::Read,
            |ctx| {
                let group = check_group(ctx, false)?;
                flat(list_settings(ctx, group))
            },
        ),
    ]
}

/// The group exists and the caller may act on it (ARM's checks, so in ARM's
/// error envelope, not Insights' flat one).
fn check_group(ctx: &Ctx, write: bool) -> Result<String, ArmError> {
    let group = ctx.param("managementGroupId").to_string();
    let action = if write {
        "Microsoft.Insights/diagnosticSettings/write"
    } else {
        "Microsoft.Insights/diagnosticSettings/read"
    };
    rules::check_management_group_access(ctx.state, &ctx.caller, &group, &ctx.path, action)?;
    Ok(group)
}

/// As the spec's examples: no leading slash, a lower-case `microsoft.insights`.
fn to_json(s: &ManagementGroupSetting) -> Value {
    let setting = &s.setting;
    let mut properties = Map::new();
    let optional = [
        ("storageAccountId", &setting.storage_account_id),
        ("workspaceId", &setting.workspace_id),
        (
            "eventHubAuthorizationRuleId",
            &setting.event_hub_authorization_rule_id,
        ),
        ("eventHubName", &setting.event_hub_name),
        ("serviceBusRuleId", &setting.service_bus_rule_id),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            properties.insert(name.into(), json!(value));
        }
    }
    let logs: Vec<Value> = setting
        .logs
        .iter()
        .filter_map(|l| {
            l.category
                .as_ref()
                .map(|c| json!({"category": c, "enabled": l.enabled}))
        })
        .collect();
    properties.insert("logs".into(), Value::Array(logs));
    json!({
        "id": format!("providers/Microsoft.Management/managementGroups/{}/providers/microsoft.insights/diagnosticSettings/{}", s.management_group_id, setting.name),
        "type": RESOURCE_TYPE,
        "name": setting.name,
        "location": "global",
        "properties": properties,
    })
}

fn put(ctx: &mut Ctx, group: String) -> Result<Reply, ArmError> {
    let name = ctx.param("name").to_string();
    if !valid_name(&name) {
        return Err(bad_request(format!(
            "The diagnostic setting name '{name}' is invalid."
        )));
    }
    let scope = SettingScope {
        what: "management group",
        categories: CATEGORIES,
        groups: &[],
    };
    let mut setting = parse_setting_at(ctx, &scope, "", &name)?;
    if let Some(account) = &setting.storage_account_id {
        rules::check_storage_destination(ctx.state, account, ctx.now)?;
    }
    let key = entry_key(&group, &name);
    let existing = ctx
        .state
        .insights
        .management_group_settings
        .get(&key)
        .cloned();
    let others: Vec<&DiagnosticSetting> = ctx
        .state
        .insights
        .management_group_settings(&group)
        .into_iter()
        .map(|s| &s.setting)
        .collect();
    if existing.is_none() && others.len() >= MAX_SETTINGS {
        return Err(bad_request(format!(
            "The limit of {MAX_SETTINGS} diagnostic settings was reached for this management group. To create diagnostic setting '{name}', delete an existing one."
        )));
    }
    check_sink_reuse(&setting, &others)?;
    let mut management_group_id = group;
    if let Some(existing) = existing {
        // The names keep the casing they were created with.
        setting.name = existing.setting.name;
        management_group_id = existing.management_group_id;
    }
    let stored = ManagementGroupSetting {
        management_group_id,
        setting,
    };
    let reply = Reply::ok(to_json(&stored));
    ctx.state
        .insights
        .management_group_settings
        .insert(key, stored);
    Ok(reply)
}

fn get(ctx: &mut Ctx, group: String) -> Result<Reply, ArmError> {
    let name = ctx.param("name");
    ctx.state
        .insights
        .management_group_settings
        .get(&entry_key(&group, name))
        .map(|s| Reply::ok(to_json(s)))
        .ok_or_else(|| not_found(name))
}

fn delete(ctx: &mut Ctx, group: String) -> Result<Reply, ArmError> {
    let key = entry_key(&group, ctx.param("name"));
    let status = match ctx.state.insights.management_group_settings.remove(&key) {
        Some(_) => StatusCode::OK,
        None => StatusCode::NO_CONTENT,
    };
    Ok(Reply::empty(status))
}

fn list_settings(ctx: &mut Ctx, group: String) -> Result<Reply, ArmError> {
    let value: Vec<Value> = ctx
        .state
        .insights
        .management_group_settings(&group)
        .into_iter()
        .map(to_json)
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}
