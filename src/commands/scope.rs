//! The subscriptions a command covers, as `-s` gives them: ids or display
//! names. Malformed ids are refused before any call; names are looked up in
//! the subscription list (one `GET /subscriptions`, only when a name was
//! given).

use crate::azure::subscriptions::{self, SubscriptionRef};
use crate::azure::Arm;

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
