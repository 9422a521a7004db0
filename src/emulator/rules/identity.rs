//! What other services learn about a user-assigned identity from Entra ID and
//! the managed-identity provider: whether it still exists and which service
//! principal (object id) and client id stand behind it. Storage asks this
//! when an account attaches an identity or uses it for a customer-managed key.

use super::cmk_key::authentication_failure;
use crate::emulator::error::ArmError;
use crate::emulator::state::State;

/// The principal behind a user-assigned identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPrincipal {
    pub principal_id: String,
    pub client_id: String,
}

/// The principal of the user-assigned identity `identity_id` (any casing), if it exists.
pub fn user_assigned_principal(state: &State, identity_id: &str) -> Option<IdentityPrincipal> {
    state
        .msi
        .get(identity_id)
        .map(|identity| IdentityPrincipal {
            principal_id: identity.principal_id.clone(),
            client_id: identity.client_id.clone(),
        })
}

/// A user-assigned identity deleted while still attached stays listed on
/// the account, but storage can no longer get a token for it: the same
/// failure as any other key it cannot use.
pub fn check_attached_identity(state: &State, identity_id: &str) -> Result<(), ArmError> {
    match user_assigned_principal(state, identity_id) {
        Some(_) => Ok(()),
        None => Err(authentication_failure()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_identity_cannot_serve_a_key() {
        let state = State::default();
        let id = "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/gone";
        assert_eq!(user_assigned_principal(&state, id), None);
        assert_eq!(
            check_attached_identity(&state, id).unwrap_err().code,
            "KeyVaultAuthenticationFailure"
        );
    }
}
