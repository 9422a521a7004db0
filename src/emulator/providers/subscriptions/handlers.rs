//! `Subscriptions_List` (paged by `nextLink` and `$skiptoken`, with `count`)
//! and `Subscriptions_Get`, as ARM answers them. The list holds the token
//! tenant's subscriptions only, as ARM's does; each answer names its own
//! tenant (`emulator/tenants.rs`).

use super::model::Subscription;
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use crate::emulator::rules;
use crate::emulator::state::is_within;
use serde_json::{json, Value};

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
pub(super) fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let principal = ctx.state.principal(&ctx.caller.object_id);
    // Only a principal with denied scopes can miss a subscription of its
    // tenant; the checks are skipped for the others (every page is cut from
    // the whole list, so its cost grows with the tenant).
    let denials = principal.filter(|p| !p.denied_scopes.is_empty());
    let visible: Vec<&Subscription> = ctx
        .state
        .subscriptions
        .all()
        .filter(|s| {
            ctx.state
                .tenant_of_subscription(&s.subscription_id)
                .eq_ignore_ascii_case(&ctx.caller.tenant_id)
        })
        .filter(|s| {
            let Some(p) = denials else {
                return true;
            };
            let id = format!("/subscriptions/{}", s.subscription_id);
            !p.denied_scopes.iter().any(|scope| is_within(&id, scope))
                && !rules::scope::subscription_denied_through_groups(
                    ctx.state,
                    &ctx.caller.object_id,
                    &s.subscription_id,
                )
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
        .map(|s| to_json(s, ctx.state.tenant_of_subscription(&s.subscription_id)))
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

pub(super) fn get(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let id = ctx.param("subscriptionId").to_string();
    let sub = ctx
        .state
        .subscriptions
        .get(&id)
        .ok_or_else(|| ArmError::subscription_not_found(&id))?;
    Ok(Reply::ok(to_json(
        sub,
        ctx.state.tenant_of_subscription(&sub.subscription_id),
    )))
}
