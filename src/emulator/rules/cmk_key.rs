//! What Azure Storage checks when an account's `keySource` becomes
//! `Microsoft.Keyvault`: the identity it would use still exists, the vault is
//! recoverable, the key is a usable RSA key of at least 2048 bits, trusted
//! services get through the vault firewall, and the identity holds an
//! *effective* get/wrapKey/unwrapKey under the vault's permission model
//! (access policies, or Azure RBAC role assignments).
//!
//! It reads three providers' models (key vault, authorization, managed
//! identities) on storage's behalf, which is why it lives here and not in any
//! one of them: providers ask rules, never each other.

use crate::emulator::error::ArmError;
use crate::emulator::providers::authorization;
use crate::emulator::providers::keyvault::model::{Key, Vault};
use crate::emulator::state::State;
use chrono::{DateTime, TimeZone, Utc};

/// What storage learns about a usable customer-managed key.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    /// `https://{vault}.{vault's DNS suffix}/keys/{name}/{version}` of the current version.
    pub current_versioned_key_id: String,
    pub expires: Option<DateTime<Utc>>,
}

const KEY_PERMISSIONS: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

fn policy_error() -> ArmError {
    ArmError::bad_request(
        "KeyVaultPolicyError",
        "Keyvault policy recoverable is not set",
    )
}

/// Storage's one answer for a key it cannot use, whatever the reason (no
/// grant yet, a firewall, a disabled key, an identity that is gone): Azure
/// does not tell them apart.
pub fn authentication_failure() -> ArmError {
    ArmError::bad_request(
        "KeyVaultAuthenticationFailure",
        "The operation failed because of authentication issue on the keyvault. For more information, see - https://aka.ms/storagekeyvaultaccesspolicy",
    )
}

/// Checks, as Azure Storage does when `keySource` becomes `Microsoft.Keyvault`,
/// that the key at `vault_uri`/`key_name` can serve as the account's key for
/// `principal_id`. Errors are storage's: 400 `KeyVaultPolicyError` for a vault
/// without soft delete and purge protection, 400 `KeyVaultAuthenticationFailure`
/// for everything else.
pub fn check_cmk_key(
    state: &State,
    vault_uri: &str,
    key_name: &str,
    principal_id: &str,
    now: DateTime<Utc>,
) -> Result<ResolvedKey, ArmError> {
    let vault = state
        .keyvault
        .vault_by_uri(vault_uri)
        .filter(|v| v.is_provisioned(now))
        .ok_or_else(authentication_failure)?;
    // Recoverable means soft delete and purge protection.
    if !vault.enable_soft_delete || !vault.enable_purge_protection {
        return Err(policy_error());
    }
    if vault.firewall_blocks_trusted_services() {
        return Err(authentication_failure());
    }
    let key = vault
        .keys
        .get(&key_name.to_ascii_lowercase())
        .ok_or_else(authentication_failure)?;
    if !has_key_access(state, vault, key, principal_id, now) {
        return Err(authentication_failure());
    }
    let current = key.current().ok_or_else(authentication_failure)?;
    if !current.usable(now) || !key.is_rsa() || key.key_size.unwrap_or(0) < 2048 {
        return Err(authentication_failure());
    }
    Ok(ResolvedKey {
        current_versioned_key_id: format!(
            "https://{}.{}/keys/{}/{}",
            vault.name.to_ascii_lowercase(),
            vault.dns_suffix,
            key.name,
            current.version
        ),
        expires: current
            .exp
            .and_then(|exp| Utc.timestamp_opt(exp, 0).single()),
    })
}

/// RBAC vaults ignore access policies; access-policy vaults ignore role assignments.
fn has_key_access(
    state: &State,
    vault: &Vault,
    key: &Key,
    principal_id: &str,
    now: DateTime<Utc>,
) -> bool {
    if vault.rbac() {
        let key_resource_id = format!("{}/keys/{}", vault.id, key.name);
        return authorization::grants_key_access(state, principal_id, &key_resource_id, now);
    }
    vault.policy_for(principal_id).is_some_and(|policy| {
        KEY_PERMISSIONS
            .iter()
            .all(|p| policy.allows("keys", p, now))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::providers::keyvault::model::{
        AccessPolicy, Grant, KeyVersion, NetworkAcls,
    };
    use chrono::Duration;
    use std::collections::BTreeMap;

    const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
    const PRINCIPAL: &str = "00000000-0000-0000-0000-0000000000bb";
    const URI: &str = "https://kv-cmk.vault.azure.net/";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
    }

    fn grants(names: &[&str], at: DateTime<Utc>) -> Vec<Grant> {
        names
            .iter()
            .map(|n| Grant {
                name: (*n).to_string(),
                effective_at: at,
            })
            .collect()
    }

    fn policy(names: &[&str], at: DateTime<Utc>) -> AccessPolicy {
        AccessPolicy {
            tenant_id: TENANT.into(),
            object_id: PRINCIPAL.into(),
            application_id: None,
            permissions: BTreeMap::from([("keys".to_string(), grants(names, at))]),
        }
    }

    fn key(kty: &str, size: Option<i64>) -> Key {
        Key {
            name: "cmk".into(),
            kty: kty.into(),
            key_size: size,
            curve_name: None,
            key_ops: vec!["wrapKey".into(), "unwrapKey".into()],
            tags: None,
            rotation_policy: None,
            versions: vec![KeyVersion {
                version: "0123456789abcdef0123456789abcdef".into(),
                enabled: true,
                nbf: None,
                exp: None,
                created: t0().timestamp(),
                updated: t0().timestamp(),
            }],
        }
    }

    /// A provisioned, purge-protected access-policy vault whose key the
    /// principal may use from t0 + 10 s (the propagation delay).
    fn state() -> State {
        let mut state = State {
            tenant_id: TENANT.into(),
            ..State::default()
        };
        let vault = Vault {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk"
                .into(),
            subscription_id: "s".into(),
            resource_group: "rg".into(),
            name: "kv-cmk".into(),
            dns_suffix: "vault.azure.net".into(),
            location: "westeurope".into(),
            tags: serde_json::Map::new(),
            tenant_id: TENANT.into(),
            sku_name: "standard".into(),
            access_policies: vec![policy(
                &["get", "wrapKey", "unwrapKey"],
                t0() + Duration::seconds(10),
            )],
            enabled_for_deployment: false,
            enabled_for_disk_encryption: None,
            enabled_for_template_deployment: None,
            soft_delete_retention_in_days: 90,
            enable_soft_delete: true,
            enable_rbac_authorization: None,
            enable_purge_protection: true,
            network_acls: None,
            public_network_access: "Enabled".into(),
            created_at: t0(),
            created_by: "c".into(),
            modified_at: t0(),
            modified_by: "c".into(),
            provisioned_at: t0(),
            indexed_at: None,
            keys: BTreeMap::from([("cmk".to_string(), key("RSA", Some(2048)))]),
            deleted_keys: BTreeMap::new(),
        };
        state
            .keyvault
            .live_vaults_mut()
            .insert("kv-cmk".into(), vault);
        state
    }

    fn vault_mut(state: &mut State) -> &mut Vault {
        state.keyvault.live_vaults_mut().get_mut("kv-cmk").unwrap()
    }

    fn later() -> DateTime<Utc> {
        t0() + Duration::seconds(60)
    }

    fn code(result: Result<ResolvedKey, ArmError>) -> String {
        result.map(|_| "ok".to_string()).unwrap_or_else(|e| e.code)
    }

    #[test]
    fn a_good_setup_resolves_the_current_version() {
        let state = state();
        let resolved = check_cmk_key(
            &state,
            "HTTPS://KV-CMK.vault.azure.net",
            "CMK",
            PRINCIPAL,
            later(),
        )
        .unwrap();
        assert_eq!(
            resolved.current_versioned_key_id,
            "https://kv-cmk.vault.azure.net/keys/cmk/0123456789abcdef0123456789abcdef"
        );
        assert_eq!(resolved.expires, None);
        assert!(check_cmk_key(
            &state,
            "https://kv-cmk.vault.azure.net:443/",
            "cmk",
            PRINCIPAL,
            later()
        )
        .is_ok());
    }

    #[test]
    fn grants_apply_only_after_propagation() {
        let state = state();
        let early = t0() + Duration::seconds(5);
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, early)),
            "KeyVaultAuthenticationFailure"
        );
        assert_eq!(
            code(check_cmk_key(
                &state,
                URI,
                "cmk",
                PRINCIPAL,
                t0() + Duration::seconds(10)
            )),
            "ok"
        );
    }

    #[test]
    fn every_permission_is_needed_and_all_counts() {
        let mut state = state();
        vault_mut(&mut state).access_policies = vec![policy(&["get", "wrapKey"], t0())];
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
        vault_mut(&mut state).access_policies = vec![policy(&["all"], t0())];
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
            "ok"
        );
        let other = "00000000-0000-0000-0000-0000000000cc";
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", other, later())),
            "KeyVaultAuthenticationFailure"
        );
    }

    #[test]
    fn a_vault_without_purge_protection_is_a_policy_error() {
        let mut state = state();
        vault_mut(&mut state).enable_purge_protection = false;
        let err = check_cmk_key(&state, URI, "cmk", PRINCIPAL, later()).unwrap_err();
        assert_eq!(err.status, hyper::StatusCode::BAD_REQUEST);
        assert_eq!(err.code, "KeyVaultPolicyError");
        assert_eq!(err.message, "Keyvault policy recoverable is not set");
    }

    #[test]
    fn a_vault_is_found_only_by_its_own_clouds_dns_suffix() {
        let mut state = state();
        let gov = "https://kv-cmk.vault.usgovcloudapi.net/";
        assert_eq!(
            code(check_cmk_key(&state, gov, "cmk", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
        vault_mut(&mut state).dns_suffix = "vault.usgovcloudapi.net".into();
        let key = check_cmk_key(&state, gov, "cmk", PRINCIPAL, later()).unwrap();
        assert!(key
            .current_versioned_key_id
            .starts_with("https://kv-cmk.vault.usgovcloudapi.net/keys/cmk/"));
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
    }

    #[test]
    fn missing_vaults_and_keys_fail_authentication() {
        let mut state = state();
        let err = check_cmk_key(
            &state,
            "https://nope.vault.azure.net/",
            "cmk",
            PRINCIPAL,
            later(),
        )
        .unwrap_err();
        assert_eq!(err.status, hyper::StatusCode::BAD_REQUEST);
        assert_eq!(err.code, "KeyVaultAuthenticationFailure");
        assert_eq!(
            code(check_cmk_key(&state, URI, "other", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
        vault_mut(&mut state).provisioned_at = later() + Duration::seconds(1);
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
    }

    #[test]
    fn disabled_expired_or_not_yet_valid_keys_fail() {
        let set = |f: fn(&mut KeyVersion)| {
            let mut state = state();
            f(vault_mut(&mut state)
                .keys
                .get_mut("cmk")
                .unwrap()
                .versions
                .last_mut()
                .unwrap());
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later()))
        };
        assert_eq!(set(|v| v.enabled = false), "KeyVaultAuthenticationFailure");
        assert_eq!(
            set(|v| v.exp = Some(t0().timestamp())),
            "KeyVaultAuthenticationFailure"
        );
        assert_eq!(
            set(|v| v.nbf = Some(later().timestamp() + 1)),
            "KeyVaultAuthenticationFailure"
        );
        let mut state = state();
        let exp = later().timestamp() + 3600;
        vault_mut(&mut state).keys.get_mut("cmk").unwrap().versions[0].exp = Some(exp);
        let resolved = check_cmk_key(&state, URI, "cmk", PRINCIPAL, later()).unwrap();
        assert_eq!(resolved.expires.unwrap().timestamp(), exp);
    }

    #[test]
    fn only_rsa_of_2048_bits_or_more_serves() {
        for (kty, size, expected) in [
            ("EC", None, "KeyVaultAuthenticationFailure"),
            ("EC-HSM", None, "KeyVaultAuthenticationFailure"),
            ("RSA", Some(1024), "KeyVaultAuthenticationFailure"),
            ("RSA-HSM", Some(3072), "ok"),
            ("RSA", Some(4096), "ok"),
        ] {
            let mut state = state();
            vault_mut(&mut state)
                .keys
                .insert("cmk".into(), key(kty, size));
            assert_eq!(
                code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
                expected,
                "{kty} {size:?}"
            );
        }
    }

    #[test]
    fn the_firewall_must_let_trusted_services_in() {
        let acls = |action: &str, bypass: &str| NetworkAcls {
            bypass: bypass.into(),
            default_action: action.into(),
            ip_rules: Vec::new(),
            virtual_network_rules: Vec::new(),
        };
        for (action, bypass, expected) in [
            ("Deny", "None", "KeyVaultAuthenticationFailure"),
            ("Deny", "AzureServices", "ok"),
            ("Allow", "None", "ok"),
        ] {
            let mut state = state();
            vault_mut(&mut state).network_acls = Some(acls(action, bypass));
            assert_eq!(
                code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
                expected
            );
        }
        let mut state = state();
        vault_mut(&mut state).public_network_access = "Disabled".into();
        vault_mut(&mut state).network_acls = Some(acls("Allow", "None"));
        assert_eq!(
            code(check_cmk_key(&state, URI, "cmk", PRINCIPAL, later())),
            "KeyVaultAuthenticationFailure"
        );
    }

    #[test]
    fn rbac_vaults_ignore_access_policies() {
        let mut state = state();
        vault_mut(&mut state).enable_rbac_authorization = Some(true);
        // The access policy alone grants nothing; the role assignments decide.
        let expected = authorization::grants_key_access(
            &state,
            PRINCIPAL,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cmk/keys/cmk",
            later(),
        );
        let result = check_cmk_key(&state, URI, "cmk", PRINCIPAL, later());
        assert_eq!(result.is_ok(), expected);
        assert!(!expected, "no role assignment exists in this state");
        assert_eq!(code(result), "KeyVaultAuthenticationFailure");
    }
}
