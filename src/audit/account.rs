//! One destination account judged on its own, its sources given: what a
//! run across tenants needs when an account was read with another tenant's
//! token (ARM answers 401 `InvalidAuthenticationTokenTenant`) and the
//! account's own tenant is covered too (`commands/tenants.rs` judges it
//! again on that tenant's connection). Also the next step for such a 401
//! when the account's tenant is not covered: ARM's message names it.

use super::report::{Destination, Source, Warning};
use super::{health, judge, Target};
use crate::azure::id::StorageAccountId;
use crate::azure::{keyvault, Arm, AzureError, Snapshot};
use std::collections::BTreeMap;

/// ARM's code for a token of another tenant than the resource's.
pub const WRONG_TENANT: &str = "InvalidAuthenticationTokenTenant";

/// Reads `id` with `arm` (through `snapshot`) and judges it as the audit
/// does, `sources` being what sends to it. A vault behind its key is looked
/// for in the account's subscription, then in every subscription `arm` sees.
pub async fn judge_one(
    arm: &Arm,
    snapshot: &Snapshot,
    id: &StorageAccountId,
    sources: Vec<Source>,
    parallelism: usize,
) -> Destination {
    let account = snapshot.account(arm, id).await;
    let mut vault_names: BTreeMap<String, Vec<StorageAccountId>> = BTreeMap::new();
    if let Some(name) = account
        .as_ref()
        .ok()
        .filter(|a| a.uses_key_vault())
        .and_then(|a| a.key_vault_uri.as_deref())
        .and_then(keyvault::vault_name_from_uri)
    {
        vault_names.insert(name, vec![id.clone()]);
    }
    let scope = [id.subscription_id().to_ascii_lowercase()];
    let vaults = health::read_vaults(
        arm,
        snapshot,
        vault_names,
        &scope,
        false,
        parallelism.max(1),
    )
    .await;
    let target = Target {
        id: id.clone(),
        sources,
    };
    let now = chrono::Utc::now().timestamp();
    judge(arm, snapshot, target, account, &vaults, now).await
}

/// The warning for an account whose key version is pinned (it will not
/// follow rotation), as the audit gives it.
pub fn pinned_version_warning(destination: &Destination) -> Option<Warning> {
    let version = destination.encryption.as_ref()?.key_version.as_ref()?;
    Some(Warning {
        subscription_id: None,
        message: format!(
            "{} pins key version {version}: it will not follow key rotation; clear keyversion",
            destination.storage_account_id
        ),
    })
}

/// The tenant a wrong-tenant 401 says the resource belongs to: ARM's
/// message reads "It must match the tenant
/// 'https://sts.windows.net/{tenant}/' associated with this subscription"
/// (the issuer host is the cloud's: `sts.chinacloudapi.cn` in Azure China).
pub fn resource_tenant(error: &AzureError) -> Option<String> {
    let AzureError::Arm { code, message, .. } = error else {
        return None;
    };
    if code != WRONG_TENANT {
        return None;
    }
    const MARK: &str = "must match the tenant '";
    let rest = &message[message.find(MARK)? + MARK.len()..];
    let issuer = &rest[..rest.find('\'')?];
    let tenant = issuer.trim_end_matches('/').rsplit('/').next()?;
    let guid_like = tenant.len() == 36 && tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    guid_like.then(|| tenant.to_ascii_lowercase())
}

/// What to do about a wrong-tenant 401: cover the tenant ARM names (or, if
/// it names none, the tenant of the account's subscription).
pub fn wrong_tenant_hint(error: &AzureError, subscription_id: &str) -> Option<String> {
    if error.code() != Some(WRONG_TENANT) {
        return None;
    }
    Some(match resource_tenant(error) {
        Some(tenant) => uncovered_hint(&tenant),
        None => format!(
            "; the account's subscription {subscription_id} is in a tenant this run does not cover: add `--tenant <its tenant>` or use --all-tenants"
        ),
    })
}

/// The next step for an account of `tenant`, a tenant the run does not
/// cover (a run across tenants replaces it when the tenant refused the sign-in).
pub fn uncovered_hint(tenant: &str) -> String {
    format!("; the account is in tenant {tenant}, which this run does not cover: add `--tenant {tenant}` (with a --tenant for every tenant to cover) or use --all-tenants")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm_error(code: &str, message: &str) -> AzureError {
        AzureError::Arm {
            status: 401,
            code: code.into(),
            message: message.into(),
            resource: "storage account x".into(),
        }
    }

    const AZURE_401: &str = "The access token is from the wrong issuer 'https://sts.windows.net/a0000000-0000-4000-8000-00000000000a/'. It must match the tenant 'https://sts.windows.net/B0000000-0000-4000-8000-00000000000B/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/b0000000-0000-4000-8000-00000000000b' to get the token.";

    #[test]
    fn the_resource_tenant_is_read_from_arms_401() {
        let error = arm_error(WRONG_TENANT, AZURE_401);
        assert_eq!(
            resource_tenant(&error).as_deref(),
            Some("b0000000-0000-4000-8000-00000000000b")
        );
        let hint = wrong_tenant_hint(&error, "s").unwrap();
        assert!(
            hint.contains("add `--tenant b0000000-0000-4000-8000-00000000000b`"),
            "{hint}"
        );
        // Another code, or a message without the tenant.
        assert_eq!(
            resource_tenant(&arm_error("AuthorizationFailed", AZURE_401)),
            None
        );
        assert_eq!(
            wrong_tenant_hint(&arm_error("AuthorizationFailed", AZURE_401), "s"),
            None
        );
        // Another cloud's issuer host.
        let china = AZURE_401.replace("sts.windows.net", "sts.chinacloudapi.cn");
        assert_eq!(
            resource_tenant(&arm_error(WRONG_TENANT, &china)).as_deref(),
            Some("b0000000-0000-4000-8000-00000000000b")
        );
        let bare = arm_error(WRONG_TENANT, "wrong tenant");
        assert_eq!(resource_tenant(&bare), None);
        assert!(wrong_tenant_hint(&bare, "sub-1")
            .unwrap()
            .contains("subscription sub-1 is in a tenant this run does not cover"));
    }
}
