//! What Azure Monitor checks of an activity-log diagnostic setting at any
//! scope (a subscription, a management group): its `logs` entries, location,
//! sinks and storage account id, and that no two settings send one category
//! to the same sink.

use super::diagnostic_settings::{DiagnosticSetting, LogSettings, CATEGORIES};
use super::errors::bad_request;
use super::model::{check_storage_account_id, optional_id};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use serde_json::Value;

/// One `logs` entry, with the categories and category groups the scope has.
pub(super) fn parse_log_entry(
    entry: &Value,
    categories: &[&str],
    groups: &[&str],
) -> Result<LogSettings, ArmError> {
    let Some(entry) = entry.as_object() else {
        return Err(ArmError::invalid_request_content(
            "each logs entry must be an object",
        ));
    };
    let Some(enabled) = entry.get("enabled").and_then(Value::as_bool) else {
        return Err(ArmError::invalid_request_content(
            "Required property 'enabled' not found in JSON. Path 'properties.logs'",
        ));
    };
    let text = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (category, category_group) = match (text("category"), text("categoryGroup")) {
        (Some(c), None) => match categories.iter().find(|k| k.eq_ignore_ascii_case(c)) {
            Some(known) => (Some(known.to_string()), None),
            None => return Err(bad_request(format!("Category '{c}' is not supported."))),
        },
        (None, Some(g)) => match groups.iter().find(|k| k.eq_ignore_ascii_case(g)) {
            Some(known) => (None, Some(known.to_string())),
            None => {
                return Err(bad_request(format!(
                    "Category group '{g}' is not supported."
                )))
            }
        },
        (Some(_), Some(_)) => {
            return Err(bad_request(
                "Only one of category or categoryGroup can be specified in a log setting.",
            ))
        }
        (None, None) => {
            return Err(bad_request(
                "Either category or categoryGroup must be specified in a log setting.",
            ))
        }
    };
    Ok(LogSettings {
        category,
        category_group,
        enabled,
    })
}

/// What differs between the scopes a diagnostic setting of the activity log
/// is made at (a subscription, a management group).
pub(super) struct SettingScope {
    /// `subscription`, `management group`: for messages.
    pub what: &'static str,
    pub categories: &'static [&'static str],
    pub groups: &'static [&'static str],
}

/// A diagnostic setting's body, checked as Azure Monitor checks it at any
/// scope: location `global`, known categories, at least one sink, a
/// well-formed storage account id.
pub(super) fn parse_setting_at(
    ctx: &Ctx,
    scope: &SettingScope,
    subscription: &str,
    name: &str,
) -> Result<DiagnosticSetting, ArmError> {
    let body = ctx.body()?;
    if let Some(location) = body.get("location").filter(|l| !l.is_null()) {
        if !location
            .as_str()
            .is_some_and(|l| l.eq_ignore_ascii_case("global"))
        {
            return Err(bad_request(format!(
                "The location of a {} diagnostic setting must be 'global'.",
                scope.what
            )));
        }
    }
    let Some(Value::Object(props)) = body.get("properties") else {
        return Err(ArmError::invalid_request_content(
            "Required property 'properties' not found in JSON.",
        ));
    };
    let logs = match props.get("logs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|e| parse_log_entry(e, scope.categories, scope.groups))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ArmError::invalid_request_content(
                "properties.logs must be an array",
            ))
        }
    };
    let setting = DiagnosticSetting {
        subscription_id: subscription.to_string(),
        name: name.to_string(),
        storage_account_id: optional_id(props, "storageAccountId")?,
        workspace_id: optional_id(props, "workspaceId")?,
        event_hub_authorization_rule_id: optional_id(props, "eventHubAuthorizationRuleId")?,
        event_hub_name: optional_id(props, "eventHubName")?,
        service_bus_rule_id: optional_id(props, "serviceBusRuleId")?,
        marketplace_partner_id: optional_id(props, "marketplacePartnerId")?,
        logs,
    };
    if setting.sinks().is_empty() {
        return Err(bad_request(
            "At least one storage account, event hub, log analytics workspace or partner solution destination must be specified.",
        ));
    }
    if let Some(id) = &setting.storage_account_id {
        check_storage_account_id(id, "properties.storageAccountId")?;
    }
    Ok(setting)
}

/// Azure refuses two settings sending the same category to the same sink.
pub(super) fn check_sink_reuse(
    new: &DiagnosticSetting,
    others: &[&DiagnosticSetting],
) -> Result<(), ArmError> {
    for other in others
        .iter()
        .filter(|o| !o.name.eq_ignore_ascii_case(&new.name))
    {
        for sink in new.sinks() {
            if !other.sinks().iter().any(|s| s.eq_ignore_ascii_case(sink)) {
                continue;
            }
            if let Some(category) = CATEGORIES.iter().find(|c| {
                new.logs.iter().any(|l| l.covers(c)) && other.logs.iter().any(|l| l.covers(c))
            }) {
                return Err(bad_request(format!(
                    "Data sink '{sink}' is already used in diagnostic setting '{}' for category '{category}'. Data sinks can't be reused in different settings on the same category for the same resource.",
                    other.name
                )));
            }
        }
    }
    Ok(())
}
