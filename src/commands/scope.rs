//! The subscriptions a command covers, as `-s` gives them: ids or display
//! names. Malformed ids are refused before any call; names are looked up in
//! the subscription list (one `GET /subscriptions`, only when a name was
//! given). And the management groups `--management-group` names, checked
//! before any call too.

use crate::audit::GroupScope;
use crate::azure::management_groups::parse_group_id;
use crate::azure::subscriptions::{self, SubscriptionRef};
use crate::azure::Arm;

/// Which management groups to read: the named ones (each id validated),
/// else every group unless `-s` named subscriptions.
pub fn groups(values: &[String], subscriptions: &[SubscriptionRef]) -> anyhow::Result<GroupScope> {
    let ids = values
        .iter()
        .map(|v| parse_group_id(v).map_err(|e| anyhow::anyhow!("--management-group: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(GroupScope::from_flags(ids, !subscriptions.is_empty()))
}

/// Each `-s` value, validated before any call.
pub fn parse(values: &[String]) -> anyhow::Result<Vec<SubscriptionRef>> {
    Ok(values
        .iter()
        .map(|v| SubscriptionRef::parse(v))
        .collect::<Result<_, _>>()?)
}

/// The subscription ids, in the order given and without repeats (empty:
/// every subscription the credential can see).
pub async fn resolve(arm: &Arm, refs: &[SubscriptionRef]) -> anyhow::Result<Vec<String>> {
    let names = refs.iter().any(|r| matches!(r, SubscriptionRef::Name(_)));
    let visible = if names {
        subscriptions::list(arm).await?.0
    } else {
        Vec::new()
    };
    Ok(subscriptions::resolve(refs, &visible)?)
}
