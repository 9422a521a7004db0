//! `Resources_List`: the providers' indexed resources of one subscription,
//! filtered, paged (`$top`, `resourcePageSize`, `nextLink`) and hidden below
//! the caller's denied scopes.

use super::errors::{invalid_filter, invalid_top};
use super::query::{parse_expand, parse_filter, Listed, MAX_TOP};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::provider::IndexedResource;
use crate::emulator::providers;
use crate::emulator::providers::common::key;
use crate::emulator::reply::Reply;
use crate::emulator::state::is_within;
use serde_json::{json, Value};

/// Every resource of every subscription the providers list that the index
/// shows by now: ARM's index trails the resource providers, so a new resource
/// is not listed yet.
pub(super) fn index(ctx: &Ctx) -> Vec<IndexedResource> {
    let mut all = providers::indexed_resources(ctx.state, ctx.now);
    all.retain(|r| r.indexed_at.is_none_or(|at| at <= ctx.now));
    all.sort_by_key(|r| key(&r.id));
    all
}

/// The query options that must travel in every `nextLink`.
fn next_link(ctx: &Ctx, offset: usize) -> String {
    let mut query: Vec<(&str, String)> = vec![("api-version", ctx.api_version.clone())];
    for name in ["$filter", "$expand", "$top"] {
        if let Some(value) = ctx.query.get(name) {
            query.push((name, value.clone()));
        }
    }
    query.push(("$skiptoken", offset.to_string()));
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    ctx.url(&format!(
        "/subscriptions/{}/resources?{query}",
        ctx.param("subscriptionId")
    ))
}

/// Pages are cut at `$top` (or `resourcePageSize`, whichever is smaller); the
/// `$skiptoken` is the offset. The caller's denied scopes hide what lies below them.
pub(super) fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let filter = ctx.query.get("$filter").cloned().unwrap_or_default();
    let conditions = parse_filter(&filter).ok_or_else(|| invalid_filter(&filter))?;
    let top = match ctx.query.get("$top") {
        Some(text) => Some(
            text.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_TOP).contains(n))
                .ok_or_else(|| invalid_top(text))?,
        ),
        None => None,
    };
    let expand = parse_expand(ctx.query.get("$expand").map_or("", String::as_str))?;
    let offset = match ctx.query.get("$skiptoken") {
        Some(token) => token.parse::<usize>().map_err(|_| {
            ArmError::bad_request(
                "InvalidSkipToken",
                format!("The skip token '{token}' is invalid."),
            )
        })?,
        None => 0,
    };

    let subscription = ctx.param("subscriptionId").to_string();
    let denied: Vec<String> = ctx
        .state
        .principal(&ctx.caller.object_id)
        .map(|p| p.denied_scopes.clone())
        .unwrap_or_default();
    let visible: Vec<IndexedResource> = index(ctx)
        .into_iter()
        .filter(|r| r.subscription_id.eq_ignore_ascii_case(&subscription))
        .filter(|r| !denied.iter().any(|scope| is_within(&r.id, scope)))
        .collect();
    let matches = |r: &IndexedResource| conditions.iter().all(|c| r.matches(c));

    let size = top
        .unwrap_or(MAX_TOP)
        .min(ctx.settings.resource_page_size)
        .max(1);
    // ARM either filters and then pages (a full page of matches), or, in the
    // field, pages the whole subscription and filters each page afterwards.
    let candidates: Vec<&IndexedResource> = if ctx.settings.resource_list_pages_before_filter {
        visible.iter().collect()
    } else {
        visible.iter().filter(|r| matches(r)).collect()
    };
    let page: Vec<Value> = candidates
        .iter()
        .skip(offset)
        .take(size)
        .filter(|r| matches(r))
        .map(|r| r.to_json(expand))
        .collect();
    let mut body = json!({ "value": page });
    if offset.saturating_add(size) < candidates.len() {
        body["nextLink"] = json!(next_link(ctx, offset + size));
    }
    Ok(Reply::ok(body))
}
