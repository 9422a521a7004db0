//! Stages 5 and 7, what the caller may do: any call at or below one of the
//! principal's denied scopes, and any write by a read-only principal, is 403
//! `AuthorizationFailed` naming the RBAC action the call needs.

use super::request::RawRequest;
use crate::emulator::context::Caller;
use crate::emulator::error::ArmError;
use crate::emulator::router::{Access, Params};
use crate::emulator::rules;
use crate::emulator::state::{is_within, Principal, State};
use hyper::Method;

/// The service principal behind the caller (default: no restrictions).
pub fn principal_of(state: &State, caller: &Caller) -> Principal {
    state
        .principal(&caller.object_id)
        .cloned()
        .unwrap_or_default()
}

/// Stage 5. For role assignments the permission is checked on the scope
/// they are made at.
pub fn check_denied_scopes(
    principal: &Principal,
    caller: &Caller,
    incoming: &RawRequest,
    params: &Params,
) -> Result<(), ArmError> {
    let target = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| incoming.path.clone());
    if principal
        .denied_scopes
        .iter()
        .any(|scope| is_within(&target, scope) || is_within(&incoming.path, scope))
    {
        return Err(forbidden(caller, incoming));
    }
    Ok(())
}

/// Stage 5, inherited: a call about a subscription below a management group
/// the principal is denied at (`rules::scope`).
pub fn check_denied_through_groups(
    state: &State,
    caller: &Caller,
    incoming: &RawRequest,
    subscription: &str,
) -> Result<(), ArmError> {
    if rules::scope::subscription_denied_through_groups(state, &caller.object_id, subscription) {
        return Err(forbidden(caller, incoming));
    }
    Ok(())
}

/// Stage 7.
pub fn check_read_only(
    principal: &Principal,
    caller: &Caller,
    incoming: &RawRequest,
    access: Access,
) -> Result<(), ArmError> {
    if access == Access::Write && principal.read_only {
        return Err(forbidden(caller, incoming));
    }
    Ok(())
}

fn forbidden(caller: &Caller, incoming: &RawRequest) -> ArmError {
    ArmError::authorization_failed(
        &caller.object_id,
        &caller.client_id,
        &action_name(&incoming.path, &incoming.method),
        &incoming.path,
    )
}

/// The RBAC action a call needs, e.g. `Microsoft.Storage/storageAccounts/write`.
pub fn action_name(path: &str, method: &Method) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.last().copied().unwrap_or_default();
    let verb = match *method {
        Method::GET => "read",
        Method::DELETE => "delete",
        // Name checks are reads in Azure's action catalogue.
        Method::POST if last.eq_ignore_ascii_case("checkNameAvailability") => "read",
        Method::POST => "action",
        _ => "write",
    };
    match segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    {
        Some(i) => {
            let mut parts = vec![segments.get(i + 1).copied().unwrap_or_default()];
            parts.extend(segments[i + 2..].iter().step_by(2));
            format!("{}/{verb}", parts.join("/"))
        }
        None if segments
            .iter()
            .any(|s| s.eq_ignore_ascii_case("resourceGroups")) =>
        {
            format!("Microsoft.Resources/subscriptions/resourceGroups/{verb}")
        }
        None if segments.len() == 3 && last.eq_ignore_ascii_case("resources") => {
            format!("Microsoft.Resources/subscriptions/resources/{verb}")
        }
        None => format!("Microsoft.Resources/subscriptions/{verb}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_derived_from_the_path() {
        let p = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        assert_eq!(
            action_name(p, &Method::PATCH),
            "Microsoft.Storage/storageAccounts/write"
        );
        assert_eq!(
            action_name("/subscriptions/s/resourcegroups/rg", &Method::PUT),
            "Microsoft.Resources/subscriptions/resourceGroups/write"
        );
        let kv = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v/accessPolicies/add";
        assert_eq!(
            action_name(kv, &Method::PUT),
            "Microsoft.KeyVault/vaults/accessPolicies/write"
        );
        assert_eq!(
            action_name(
                "/subscriptions/s/providers/Microsoft.KeyVault/checkNameAvailability",
                &Method::POST
            ),
            "Microsoft.KeyVault/checkNameAvailability/read"
        );
        assert_eq!(
            action_name("/subscriptions/s/resources", &Method::GET),
            "Microsoft.Resources/subscriptions/resources/read"
        );
        assert_eq!(
            action_name("/subscriptions/s", &Method::GET),
            "Microsoft.Resources/subscriptions/read"
        );
    }
}
