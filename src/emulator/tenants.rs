//! The directories beside the emulator's own: extra tenants, each with its
//! subscriptions and the service principals present in it (a multi-tenant
//! app consented there, or a guest: the same client id and secret sign in to
//! each, and each tenant's tokens carry its `tid`). ARM serves a
//! subscription only to tokens of its tenant (401
//! `InvalidAuthenticationTokenTenant`), lists only the token tenant's
//! subscriptions, and `GET /tenants` lists every tenant the caller is in.

use super::context::Caller;
use super::error::ArmError;
use super::state::State;
use hyper::StatusCode;
use serde::{Deserialize, Serialize};

/// A tenant other than the emulator's home tenant (`State::tenant_id`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Tenant {
    pub tenant_id: String,
    pub display_name: String,
    /// Client ids of the home tenant's service principals present here; only
    /// they can sign in to this tenant.
    pub principals: Vec<String>,
    /// Ids of the subscriptions that belong to this tenant (not to the home one).
    pub subscriptions: Vec<String>,
}

impl Tenant {
    pub fn has_principal(&self, client_id: &str) -> bool {
        self.principals
            .iter()
            .any(|p| p.eq_ignore_ascii_case(client_id))
    }

    pub fn has_subscription(&self, subscription_id: &str) -> bool {
        self.subscriptions
            .iter()
            .any(|s| s.eq_ignore_ascii_case(subscription_id))
    }
}

impl State {
    /// The extra tenant with this id.
    pub fn extra_tenant(&self, tenant_id: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.tenant_id.eq_ignore_ascii_case(tenant_id))
    }

    /// Whether Entra ID knows this tenant: the home one or an extra one.
    pub fn knows_tenant(&self, tenant_id: &str) -> bool {
        tenant_id.eq_ignore_ascii_case(&self.tenant_id) || self.extra_tenant(tenant_id).is_some()
    }

    /// The tenant a subscription belongs to: the extra tenant listing it, else home.
    pub fn tenant_of_subscription(&self, subscription_id: &str) -> &str {
        self.tenants
            .iter()
            .find(|t| t.has_subscription(subscription_id))
            .map_or(self.tenant_id.as_str(), |t| t.tenant_id.as_str())
    }

    /// The tenant of the subscription a resource id (`/subscriptions/{id}/...`) is in.
    pub fn tenant_of_resource(&self, resource_id: &str) -> &str {
        let mut segments = resource_id.split('/').filter(|s| !s.is_empty());
        match (segments.next(), segments.next()) {
            (Some(first), Some(sub)) if first.eq_ignore_ascii_case("subscriptions") => {
                self.tenant_of_subscription(sub)
            }
            _ => &self.tenant_id,
        }
    }

    /// Adds or replaces an extra tenant (admin API); a subscription moves to
    /// it from any other extra tenant, as a transfer does.
    pub fn upsert_tenant(&mut self, tenant: Tenant) -> Result<(), ArmError> {
        if tenant.tenant_id.eq_ignore_ascii_case(&self.tenant_id) {
            return Err(ArmError::bad_request(
                "InvalidTenant",
                "The home tenant is the emulator's own; extra tenants need another id.",
            ));
        }
        for other in &mut self.tenants {
            if !other.tenant_id.eq_ignore_ascii_case(&tenant.tenant_id) {
                other.subscriptions.retain(|s| !tenant.has_subscription(s));
            }
        }
        self.tenants
            .retain(|t| !t.tenant_id.eq_ignore_ascii_case(&tenant.tenant_id));
        self.tenants.push(tenant);
        Ok(())
    }

    /// The tenants `caller` is in: the home tenant (every principal is
    /// registered there), then each extra tenant that has it.
    pub fn tenants_of(&self, caller: &Caller) -> Vec<(&str, &str)> {
        let mut tenants = vec![(self.tenant_id.as_str(), "actlog-cmk emulator")];
        tenants.extend(
            self.tenants
                .iter()
                .filter(|t| t.has_principal(&caller.client_id))
                .map(|t| (t.tenant_id.as_str(), t.display_name.as_str())),
        );
        tenants
    }
}

/// ARM's 401 for a token of another tenant than the subscription's: the
/// code and message Azure answers (Azure/azure-sdk-for-net#49391 and
/// Azure/pcs-cli#357 quote them).
pub fn check_token_tenant(
    state: &State,
    caller: &Caller,
    subscription: &str,
) -> Result<(), ArmError> {
    let tenant = state.tenant_of_subscription(subscription);
    if caller.tenant_id.eq_ignore_ascii_case(tenant) {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationTokenTenant",
        format!(
            "The access token is from the wrong issuer 'https://sts.windows.net/{}/'. It must match the tenant 'https://sts.windows.net/{tenant}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/{tenant}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
            caller.tenant_id
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(client_id: &str, tenant_id: &str) -> Caller {
        Caller {
            object_id: "o".into(),
            client_id: client_id.into(),
            tenant_id: tenant_id.into(),
        }
    }

    fn state() -> State {
        let mut state = State {
            tenant_id: "home".into(),
            ..State::default()
        };
        state
            .upsert_tenant(Tenant {
                tenant_id: "other".into(),
                display_name: "Other".into(),
                principals: vec!["c1".into()],
                subscriptions: vec!["s2".into()],
            })
            .unwrap();
        state
    }

    #[test]
    fn a_subscription_answers_only_tokens_of_its_tenant() {
        let state = state();
        assert_eq!(state.tenant_of_subscription("S2"), "other");
        assert_eq!(state.tenant_of_subscription("s1"), "home");
        assert_eq!(
            state.tenant_of_resource("/subscriptions/S2/resourceGroups/rg"),
            "other"
        );
        assert_eq!(
            state.tenant_of_resource("/providers/Microsoft.Management/x"),
            "home"
        );
        assert!(check_token_tenant(&state, &caller("c1", "OTHER"), "s2").is_ok());
        let refused = check_token_tenant(&state, &caller("c1", "home"), "s2").unwrap_err();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.code, "InvalidAuthenticationTokenTenant");
        assert!(refused
            .message
            .starts_with("The access token is from the wrong issuer 'https://sts.windows.net/home/'. It must match the tenant 'https://sts.windows.net/other/'"));
        assert!(check_token_tenant(&state, &caller("c1", "other"), "s1").is_err());
    }

    #[test]
    fn tenants_list_the_callers_own_and_a_transfer_moves_a_subscription() {
        let mut state = state();
        let ids = |s: &State, c: &Caller| -> Vec<String> {
            s.tenants_of(c).iter().map(|(t, _)| t.to_string()).collect()
        };
        assert_eq!(ids(&state, &caller("c1", "home")), ["home", "other"]);
        assert_eq!(ids(&state, &caller("c2", "home")), ["home"]);
        state
            .upsert_tenant(Tenant {
                tenant_id: "third".into(),
                subscriptions: vec!["s2".into()],
                ..Tenant::default()
            })
            .unwrap();
        assert_eq!(state.tenant_of_subscription("s2"), "third");
        assert!(state
            .upsert_tenant(Tenant {
                tenant_id: "HOME".into(),
                ..Tenant::default()
            })
            .is_err());
    }
}
