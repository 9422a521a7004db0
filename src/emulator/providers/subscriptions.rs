//! `GET /subscriptions` (paged) and `GET /subscriptions/{id}`, api-version 2022-12-01.
//! Subscriptions themselves are added through the admin API, as in Azure they
//! come from billing, not from ARM.

use super::common::{is_guid, key};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::provider::Provider;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use crate::emulator::state::is_within;
use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const API: &[&str] = &["2022-12-01"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    pub display_name: String,
    /// `Enabled`, `Disabled`, `Warned`, `PastDue` or `Deleted`.
    pub state: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Model {
    by_id: BTreeMap<String, Subscription>,
}

impl Model {
    pub fn get(&self, id: &str) -> Option<&Subscription> {
        self.by_id.get(&key(id))
    }

    /// Adds or updates a subscription (admin API); the id must be a GUID.
    pub fn upsert(
        &mut self,
        id: &str,
        display_name: &str,
        state: &str,
    ) -> Result<&Subscription, ArmError> {
        if !is_guid(id) {
            return Err(ArmError::bad_request(
                "InvalidSubscriptionId",
                format!("The provided subscription identifier '{id}' is malformed or invalid."),
            ));
        }
        const STATES: &[&str] = &["Enabled", "Disabled", "Warned", "PastDue", "Deleted"];
        let Some(state) = STATES.iter().find(|s| s.eq_ignore_ascii_case(state)) else {
            return Err(ArmError::bad_request(
                "InvalidSubscriptionState",
                format!("Unknown subscription state '{state}'."),
            ));
        };
        let entry = self.by_id.entry(key(id)).or_insert_with(|| Subscription {
            subscription_id: id.to_ascii_lowercase(),
            display_name: String::new(),
            state: String::new(),
        });
        entry.display_name = display_name.to_string();
        entry.state = state.to_string();
        Ok(entry)
    }

    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.by_id.values()
    }
}

fn to_json(sub: &Subscription, tenant_id: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{}", sub.subscription_id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.subscription_id,
        "tenantId": tenant_id,
        "displayName": sub.display_name,
        "state": sub.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

/// Pages are cut at `subscriptionPageSize`; the `$skiptoken` is the offset.
/// The last page has no `nextLink`, as in Azure.
fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let principal = ctx
        .state
        .principals
        .values()
        .find(|p| p.object_id.eq_ignore_ascii_case(&ctx.caller.object_id));
    let visible: Vec<&Subscription> = ctx
        .state
        .subscriptions
        .all()
        .filter(|s| {
            let id = format!("/subscriptions/{}", s.subscription_id);
            !principal.is_some_and(|p| p.denied_scopes.iter().any(|scope| is_within(&id, scope)))
        })
        .collect();
    let offset = match ctx.query.get("$skiptoken") {
        Some(token) => token.parse::<usize>().map_err(|_| {
            ArmError::bad_request(
                "InvalidSkipToken",
                format!("The skip token '{token}' is invalid."),
            )
        })?,
        None => 0,
    };
    let size = ctx.settings.subscription_page_size.max(1);
    let page: Vec<Value> = visible
        .iter()
        .skip(offset)
        .take(size)
        .map(|s| to_json(s, &ctx.state.tenant_id))
        .collect();
    let mut body = json!({
        "value": page,
        "count": {"type": "Total", "value": visible.len()},
    });
    if offset + size < visible.len() {
        body["nextLink"] = json!(ctx.url(&format!(
            "/subscriptions?api-version={}&%24skiptoken={}",
            ctx.api_version,
            offset + size
        )));
    }
    Ok(Reply::ok(body))
}

fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = ctx.param("subscriptionId").to_string();
    let sub = ctx
        .state
        .subscriptions
        .get(&id)
        .ok_or_else(|| ArmError::subscription_not_found(&id))?;
    Ok(Reply::ok(to_json(sub, &ctx.state.tenant_id)))
}

/// ARM subscriptions.
pub struct Subscriptions;

impl Provider for Subscriptions {
    fn name(&self) -> &'static str {
        "subscriptions"
    }

    fn routes(&self) -> Vec<Route> {
        vec![
            Route {
                method: Method::GET,
                pattern: "/subscriptions",
                operation: "Subscriptions_List",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: list,
            },
            Route {
                method: Method::GET,
                pattern: "/subscriptions/{subscriptionId}",
                operation: "Subscriptions_Get",
                api_versions: API,
                api_policy: ApiVersionPolicy::Arm,
                access: Access::Read,
                handler: get,
            },
        ]
    }
}
