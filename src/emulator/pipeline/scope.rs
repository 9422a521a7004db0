//! Stages 4 and 9, the scope a call is about: its subscription exists (404
//! `SubscriptionNotFound`) and, for writes, is `Enabled` (409
//! `ReadOnlyDisabledSubscription`); the resource group in its path exists
//! (404 `ResourceGroupNotFound`).

use crate::emulator::error::ArmError;
use crate::emulator::router::{Access, Params, Route};
use crate::emulator::rules;
use crate::emulator::state::State;

/// The subscription the call is about: its own, or the one inside a role
/// assignment's scope.
pub fn subscription_of_call(params: &Params) -> Option<String> {
    params
        .get("subscriptionId")
        .cloned()
        .or_else(|| params.get("scope").and_then(|s| subscription_of(s)))
}

/// `/subscriptions/{id}/...` -> `id`.
pub fn subscription_of(scope: &str) -> Option<String> {
    let mut segs = scope.split('/').filter(|s| !s.is_empty());
    match (segs.next(), segs.next()) {
        (Some(first), Some(id)) if first.eq_ignore_ascii_case("subscriptions") => {
            Some(id.to_string())
        }
        _ => None,
    }
}

pub fn check_subscription(
    state: &State,
    subscription: &str,
    access: Access,
) -> Result<(), ArmError> {
    let Some(found) = state.subscriptions.get(subscription) else {
        return Err(ArmError::subscription_not_found(subscription));
    };
    if access == Access::Write && !found.state.eq_ignore_ascii_case("Enabled") {
        return Err(ArmError::conflict(
            "ReadOnlyDisabledSubscription",
            format!("The subscription '{subscription}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled."),
        ));
    }
    Ok(())
}

/// A path naming a resource group needs the group, except for the resource
/// group operations themselves (a PUT creates it).
pub fn check_resource_group(
    state: &State,
    route: &Route,
    subscription: Option<&str>,
    params: &Params,
) -> Result<(), ArmError> {
    if let (Some(sub), Some(rg)) = (subscription, params.get("resourceGroupName")) {
        if !route.operation.starts_with("ResourceGroups_")
            && !rules::resource_group_exists(state, sub, rg)
        {
            return Err(ArmError::resource_group_not_found(rg));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_is_found_inside_a_scope() {
        assert_eq!(
            subscription_of("/subscriptions/abc/resourceGroups/x"),
            Some("abc".into())
        );
        assert_eq!(subscription_of("/providers/Microsoft.Management/x"), None);
    }
}
