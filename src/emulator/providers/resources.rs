//! `GET /subscriptions/{subscriptionId}/resources` (`Resources_List`),
//! api-version 2024-03-01: ARM's own index of a subscription's resources, so a
//! client can go from a name (a key vault's, read off a `keyvaulturi`) to a
//! resource id. It lists what the providers contribute through
//! [`Provider::indexed_resources`](crate::emulator::provider::Provider):
//! storage accounts, live key vaults (soft-deleted ones are not resources any
//! more) and user-assigned identities, as `GenericResourceExpanded` items.
//!
//! Query options, as ARM documents them for this call:
//! - `$filter`: `eq` comparisons of `resourceType`, `name`, `resourceGroup`
//!   and `location`, joined by `and` (what `az resource list` sends). Values
//!   are compared ignoring case, as ARM does. Anything else (`ne`, `or`,
//!   `substringof`, tags, `identity`, `plan`, a malformed expression) is
//!   refused with ARM's 400 `InvalidFilterInQueryString`, never ignored: an
//!   ignored filter would answer with everything and read as a result.
//! - `$top`: the page size (1-1000, ARM's limit; more is 400
//!   `InvalidTopInQueryString`); pages are linked by `nextLink`, the last has none.
//!   With `resourceListPagesBeforeFilter` a page is cut from the unfiltered
//!   list and filtered afterwards, as ARM does: a filtered page may be short
//!   or empty and still carry `nextLink`.
//! - A new resource is listed only `resourceIndexLagMs` after its create
//!   (recorded on the resource at create), while a GET by id finds it at once.
//! - `$expand`: `createdTime`, `changedTime`, `provisioningState`, each shown
//!   where the emulator records it.

use super::common::key;
use crate::emulator::context::{format_timestamp, Ctx};
use crate::emulator::error::ArmError;
use crate::emulator::provider::IndexedResource;
use crate::emulator::provider::Provider;
use crate::emulator::providers;
use crate::emulator::reply::Reply;
use crate::emulator::router::{Access, ApiVersionPolicy, Route};
use crate::emulator::state::is_within;
use hyper::Method;
use serde_json::{json, Value};

const API: &[&str] = &["2024-03-01"];
/// ARM refuses a larger `$top` on this call (azure-sdk-for-js#18535).
const MAX_TOP: usize = 1000;

/// A property `$filter` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    ResourceType,
    Name,
    ResourceGroup,
    Location,
}

/// `property eq 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    property: Property,
    value: String,
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Literal(String),
}

/// Words and single-quoted literals (`''` is a quote inside a literal, as in OData).
fn tokenize(filter: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut literal = String::new();
            loop {
                match chars.next()? {
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        literal.push('\'');
                    }
                    '\'' => break,
                    other => literal.push(other),
                }
            }
            tokens.push(Token::Literal(literal));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '\'' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Some(tokens)
}

/// The conditions of a supported filter (none for an empty one), or `None`
/// when the filter is not one the emulator can evaluate.
fn parse_filter(filter: &str) -> Option<Vec<Condition>> {
    let tokens = tokenize(filter)?;
    if tokens.is_empty() {
        return Some(Vec::new());
    }
    let mut conditions = Vec::new();
    for clause in tokens.split(|t| matches!(t, Token::Word(w) if w == "and")) {
        let [Token::Word(name), Token::Word(op), Token::Literal(value)] = clause else {
            return None;
        };
        if op != "eq" {
            return None;
        }
        // Property names are read ignoring case: the .NET SDK sends them in lower case.
        let property = match name.to_ascii_lowercase().as_str() {
            "resourcetype" => Property::ResourceType,
            "name" => Property::Name,
            "resourcegroup" => Property::ResourceGroup,
            "location" => Property::Location,
            _ => return None,
        };
        conditions.push(Condition {
            property,
            value: value.clone(),
        });
    }
    Some(conditions)
}

/// ARM's answer to a filter it cannot read (azure-sdk-for-go#2480,
/// azure-sdk-for-net#18748: code, message and the failure-cause header).
fn invalid_filter(filter: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidFilterInQueryString",
        format!("Invalid $filter '{filter}' specified in the query string."),
    )
    .with_header("x-ms-failure-cause", "gateway")
}

/// The code is ARM's (azure-sdk-for-js#18535); the message is modelled on the
/// `$filter` one *(chosen)*.
fn invalid_top(top: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidTopInQueryString",
        format!("Invalid $top '{top}' specified in the query string. It must be an integer between 1 and {MAX_TOP}."),
    )
    .with_header("x-ms-failure-cause", "gateway")
}

/// No public recording shows ARM's answer to an unknown `$expand` member;
/// code and message *(chosen)*.
fn invalid_expand(expand: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidExpandQueryOptionValue",
        format!("The $expand query option value '{expand}' is invalid. The supported values are 'createdTime', 'changedTime' and 'provisioningState'."),
    )
}

/// Which `$expand` members were asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Expand {
    created_time: bool,
    changed_time: bool,
    provisioning_state: bool,
}

fn parse_expand(expand: &str) -> Result<Expand, ArmError> {
    let mut wanted = Expand::default();
    for member in expand.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        match member.to_ascii_lowercase().as_str() {
            "createdtime" => wanted.created_time = true,
            "changedtime" => wanted.changed_time = true,
            "provisioningstate" => wanted.provisioning_state = true,
            _ => return Err(invalid_expand(expand)),
        }
    }
    Ok(wanted)
}

/// What the index does with one resource: match a `$filter` condition and
/// render it as `GenericResourceExpanded`.
trait Listed {
    fn matches(&self, condition: &Condition) -> bool;
    fn to_json(&self, expand: Expand) -> Value;
}

impl Listed for IndexedResource {
    fn matches(&self, condition: &Condition) -> bool {
        let field = match condition.property {
            Property::ResourceType => self.resource_type,
            Property::Name => &self.name,
            Property::ResourceGroup => &self.resource_group,
            Property::Location => &self.location,
        };
        field.eq_ignore_ascii_case(&condition.value)
    }

    /// `GenericResourceExpanded`, with only the members the spec defines.
    fn to_json(&self, expand: Expand) -> Value {
        let mut item = json!({
            "id": self.id,
            "name": self.name,
            "type": self.resource_type,
            "location": self.location,
        });
        if !self.tags.is_empty() {
            item["tags"] = Value::Object(self.tags.clone());
        }
        if let Some(kind) = &self.kind {
            item["kind"] = json!(kind);
        }
        if let (true, Some(created)) = (expand.created_time, self.created) {
            item["createdTime"] = json!(format_timestamp(created));
        }
        if let (true, Some(changed)) = (expand.changed_time, self.changed) {
            item["changedTime"] = json!(format_timestamp(changed));
        }
        if expand.provisioning_state {
            item["provisioningState"] = json!(self.provisioning_state);
        }
        item
    }
}

/// Every resource of every subscription the providers list that the index
/// shows by now: ARM's index trails the resource providers, so a new resource
/// is not listed yet.
fn index(ctx: &Ctx) -> Vec<IndexedResource> {
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
fn list(ctx: &mut Ctx) -> Result<Reply, ArmError> {
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
        .principals
        .values()
        .find(|p| p.object_id.eq_ignore_ascii_case(&ctx.caller.object_id))
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

/// ARM's resource index (`Resources_List`).
pub struct Resources;

impl Provider for Resources {
    fn name(&self) -> &'static str {
        "resources"
    }

    fn routes(&self) -> Vec<Route> {
        vec![Route {
            method: Method::GET,
            pattern: "/subscriptions/{subscriptionId}/resources",
            operation: "Resources_List",
            api_versions: API,
            api_policy: ApiVersionPolicy::Arm,
            access: Access::Read,
            handler: list,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::router;

    fn eq(property: Property, value: &str) -> Condition {
        Condition {
            property,
            value: value.into(),
        }
    }

    #[test]
    fn filters_az_resource_list_sends_are_read() {
        assert_eq!(parse_filter(""), Some(vec![]));
        assert_eq!(parse_filter("  "), Some(vec![]));
        assert_eq!(
            parse_filter("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv-1'"),
            Some(vec![
                eq(Property::ResourceType, "Microsoft.KeyVault/vaults"),
                eq(Property::Name, "kv-1"),
            ])
        );
        assert_eq!(
            parse_filter("resourceGroup eq 'rg' and location eq 'westeurope' and NAME eq 'it''s'"),
            Some(vec![
                eq(Property::ResourceGroup, "rg"),
                eq(Property::Location, "westeurope"),
                eq(Property::Name, "it's"),
            ])
        );
    }

    #[test]
    fn other_filters_are_refused() {
        for filter in [
            "name ne 'x'",
            "name eq 'x' or name eq 'y'",
            "substringof('kv', name)",
            "tagName eq 'env' and tagValue eq 'prod'",
            "identity eq 'x'",
            "startswith(tagName, 'dep')",
            "name eq 'x",
            "name eq x",
            "name eq 'x' and",
            "and name eq 'x'",
            "name eq 'x' and and name eq 'y'",
            "(name eq 'x')",
            "name EQ 'x'",
            "$filter=name eq 'x'",
        ] {
            assert_eq!(parse_filter(filter), None, "{filter}");
        }
    }

    #[test]
    fn expand_members_are_the_documented_three() {
        let e = parse_expand("createdTime, provisioningstate").unwrap();
        assert!(e.created_time && e.provisioning_state && !e.changed_time);
        assert_eq!(parse_expand("").unwrap(), Expand::default());
        assert_eq!(
            parse_expand("properties").unwrap_err().code,
            "InvalidExpandQueryOptionValue"
        );
    }

    #[test]
    fn no_other_route_shadows_the_list() {
        let routes = crate::emulator::providers::routes();
        let (route, params) = router::find(
            &routes,
            &Method::GET,
            "/subscriptions/11111111-1111-1111-1111-111111111111/RESOURCES",
        )
        .unwrap_or_else(|_| panic!("no route"));
        assert_eq!(route.operation, "Resources_List");
        assert_eq!(
            params["subscriptionId"],
            "11111111-1111-1111-1111-111111111111"
        );
    }
}
