//! ARM's own checks on a scope that any provider may need: does the resource
//! group a path or a role assignment's scope names exist? ARM answers 404
//! `ResourceGroupNotFound` before a provider sees the call. And the same for
//! management groups, whose access is inherited from the groups above them.

use crate::emulator::context::Caller;
use crate::emulator::error::ArmError;
use crate::emulator::providers::management_groups::group_resource_id;
use crate::emulator::state::{is_within, State};

/// True when `group` exists in `subscription` (names compare ignoring case).
pub fn resource_group_exists(state: &State, subscription: &str, group: &str) -> bool {
    state.resource_groups.exists(subscription, group)
}

/// True when the management group exists (ids compare ignoring case).
pub fn management_group_exists(state: &State, group: &str) -> bool {
    state.management_groups.group(group).is_some()
}

/// ARM's answer for a management group it does not know.
pub fn management_group_not_found(group: &str) -> ArmError {
    ArmError::not_found(
        "NotFound",
        format!("'{}' not found", group_resource_id(group)),
    )
}

/// Access to a management group is inherited down the hierarchy, as RBAC
/// is: a call about `group` (the group itself or a resource under it, such
/// as its diagnostic settings) is refused when the caller is denied at the
/// group or at any group above it. The pipeline already refuses a denied
/// scope the path lies under; group paths are flat
/// (`/providers/Microsoft.Management/managementGroups/{id}`), so the
/// ancestors are this rule's. An unknown group is 404 first.
pub fn check_management_group_access(
    state: &State,
    caller: &Caller,
    group: &str,
    path: &str,
    action: &str,
) -> Result<(), ArmError> {
    if !management_group_exists(state, group) {
        return Err(management_group_not_found(group));
    }
    if denied_at_group_or_above(state, &caller.object_id, group) {
        return Err(ArmError::authorization_failed(
            &caller.object_id,
            &caller.client_id,
            action,
            path,
        ));
    }
    Ok(())
}

/// True when one of the principal's denied scopes is `group` or a group above it.
pub fn denied_at_group_or_above(state: &State, object_id: &str, group: &str) -> bool {
    let Some(principal) = state.principal(object_id) else {
        return false;
    };
    state.management_groups.lineage(group).iter().any(|g| {
        let id = group_resource_id(&g.name);
        principal
            .denied_scopes
            .iter()
            .any(|scope| is_within(&id, scope))
    })
}

/// True when the principal is denied at a management group the subscription
/// sits in (directly or further up): RBAC is inherited from management
/// groups down to their subscriptions. Only a denied scope that *is* a
/// group counts here (`/providers/Microsoft.Management/managementGroups/{id}`);
/// the collection path is no RBAC scope a subscription inherits from.
pub fn subscription_denied_through_groups(
    state: &State,
    object_id: &str,
    subscription: &str,
) -> bool {
    let Some(principal) = state.principal(object_id) else {
        return false;
    };
    if principal.denied_scopes.is_empty() {
        return false;
    }
    let model = &state.management_groups;
    let Some(parent) = model.parent_of_subscription(subscription) else {
        return false;
    };
    model.lineage(&parent.name).iter().any(|g| {
        let id = group_resource_id(&g.name);
        principal
            .denied_scopes
            .iter()
            .any(|scope| scope.trim_end_matches('/').eq_ignore_ascii_case(&id))
    })
}

/// A subscription's display name, for the hierarchy's answers.
pub fn subscription_display_name(state: &State, subscription: &str) -> Option<String> {
    state
        .subscriptions
        .get(subscription)
        .map(|s| s.display_name.clone())
}

/// Every subscription's id and display name, for the hierarchy's children.
pub fn subscriptions(state: &State) -> Vec<(String, String)> {
    state
        .subscriptions
        .all()
        .map(|s| (s.subscription_id.clone(), s.display_name.clone()))
        .collect()
}
