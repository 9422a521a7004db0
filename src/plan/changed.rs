//! What changed since a plan was made, attribute by attribute: the planned
//! (fingerprinted) value beside the value now, named as ARM names them, so
//! that an operator whose plan file is refused sees why without diffing
//! JSON. Pure: two [`Observed`] in, lines out.

use super::model::{Observed, ObservedAccount, ObservedIdentity, ObservedVault};

/// The observed state stores keySource in lower case (ARM answers either
/// casing); the two values Azure documents are shown as it spells them.
fn key_source(value: &str) -> String {
    match value.to_ascii_lowercase().as_str() {
        "microsoft.storage" => "Microsoft.Storage".into(),
        "microsoft.keyvault" => "Microsoft.Keyvault".into(),
        _ => value.into(),
    }
}

fn shown(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".into())
}

fn line(attribute: &str, was: impl std::fmt::Display, now: impl std::fmt::Display) -> String {
    format!("{attribute}: was {was}, now {now}")
}

/// The last segment of an id: a name is enough beside the account's id.
fn name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn account(was: &ObservedAccount, now: &ObservedAccount, out: &mut Vec<String>) {
    if was.location != now.location {
        out.push(line("location", &was.location, &now.location));
    }
    if was.key_source != now.key_source {
        out.push(line(
            "encryption.keySource",
            key_source(&was.key_source),
            key_source(&now.key_source),
        ));
    }
    let properties = [
        (
            "encryption.keyvaultproperties.keyvaulturi",
            &was.key_vault_uri,
            &now.key_vault_uri,
        ),
        (
            "encryption.keyvaultproperties.keyname",
            &was.key_name,
            &now.key_name,
        ),
        (
            "encryption.keyvaultproperties.keyversion",
            &was.key_version,
            &now.key_version,
        ),
        (
            "encryption.identity.userAssignedIdentity",
            &was.encryption_identity,
            &now.encryption_identity,
        ),
        (
            "identity.principalId",
            &was.system_principal_id,
            &now.system_principal_id,
        ),
    ];
    for (attribute, was, now) in properties {
        if was != now {
            out.push(line(attribute, shown(was), shown(now)));
        }
    }
    if was.identity_type != now.identity_type {
        out.push(line(
            "identity.type",
            &was.identity_type,
            &now.identity_type,
        ));
    }
    for id in &now.user_assigned_identities {
        if !was.user_assigned_identities.contains(id) {
            out.push(format!(
                "identity.userAssignedIdentities: {} attached since",
                name(id)
            ));
        }
    }
    for id in &was.user_assigned_identities {
        if !now.user_assigned_identities.contains(id) {
            out.push(format!(
                "identity.userAssignedIdentities: {} taken off since",
                name(id)
            ));
        }
    }
}

fn identity(was: &Option<ObservedIdentity>, now: &Option<ObservedIdentity>, out: &mut Vec<String>) {
    match (was, now) {
        (None, Some(now)) => out.push(line(
            &format!("managed identity {}", name(&now.id)),
            "missing",
            format!("there (principal {})", now.principal_id),
        )),
        (Some(was), None) => out.push(line(
            &format!("managed identity {}", name(&was.id)),
            format!("there (principal {})", was.principal_id),
            "missing",
        )),
        (Some(was), Some(now)) if was != now => out.push(line(
            &format!("managed identity {} principalId", name(&now.id)),
            &was.principal_id,
            &now.principal_id,
        )),
        _ => {}
    }
}

fn vault(was: &Option<ObservedVault>, now: &Option<ObservedVault>, out: &mut Vec<String>) {
    match (was, now) {
        (None, Some(now)) => out.push(line(
            &format!("key vault {}", name(&now.id)),
            "missing",
            "there",
        )),
        (Some(was), None) => out.push(line(
            &format!("key vault {}", name(&was.id)),
            "there",
            "missing",
        )),
        (Some(was), Some(now)) => {
            let vault = name(&now.id);
            if was.vault_uri != now.vault_uri {
                out.push(line(
                    &format!("key vault {vault} vaultUri"),
                    &was.vault_uri,
                    &now.vault_uri,
                ));
            }
            let flags = [
                (
                    "enableRbacAuthorization",
                    was.rbac_authorization,
                    now.rbac_authorization,
                ),
                ("enableSoftDelete", was.soft_delete, now.soft_delete),
                (
                    "enablePurgeProtection",
                    was.purge_protection,
                    now.purge_protection,
                ),
            ];
            for (flag, was, now) in flags {
                if was != now {
                    out.push(line(&format!("key vault {vault} {flag}"), was, now));
                }
            }
        }
        (None, None) => {}
    }
}

/// Each attribute that differs, as `attribute: was X, now Y`. Empty when
/// none of the attributes it knows differs (a plan file from a version that
/// fingerprinted something else): the caller still refuses, in general words.
pub fn differences(planned: &Observed, now: &Observed, key_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    account(&planned.account, &now.account, &mut out);
    identity(&planned.identity, &now.identity, &mut out);
    vault(&planned.vault, &now.vault, &mut out);
    let there = |exists: bool| if exists { "there" } else { "missing" };
    if planned.key_exists != now.key_exists {
        out.push(line(
            &format!("key {key_name}"),
            there(planned.key_exists),
            there(now.key_exists),
        ));
    }
    let granted = |g: bool| if g { "granted" } else { "not granted" };
    if planned.grant_exists != now.grant_exists {
        out.push(line(
            "the identity's key access",
            granted(planned.grant_exists),
            granted(now.grant_exists),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_changed_attribute_is_named_with_both_values() {
        let planned = Observed {
            account: ObservedAccount {
                key_source: "microsoft.storage".into(),
                identity_type: "None".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut now = planned.clone();
        now.account.key_source = "microsoft.keyvault".into();
        now.account.key_name = Some("theirs".into());
        now.account.user_assigned_identities = vec!["/subscriptions/s/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id-x".into()];
        now.vault = Some(ObservedVault {
            id: "/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv1".into(),
            ..Default::default()
        });
        now.key_exists = true;
        assert_eq!(
            differences(&planned, &now, "cmk"),
            vec![
                "encryption.keySource: was Microsoft.Storage, now Microsoft.Keyvault",
                "encryption.keyvaultproperties.keyname: was none, now theirs",
                "identity.userAssignedIdentities: id-x attached since",
                "key vault kv1: was missing, now there",
                "key cmk: was missing, now there",
            ]
        );
        assert!(differences(&planned, &planned, "cmk").is_empty());
    }

    #[test]
    fn vault_flags_and_an_identity_gone_are_named() {
        let vault = ObservedVault {
            id: "/x/vaults/kv1".into(),
            purge_protection: true,
            ..Default::default()
        };
        let planned = Observed {
            identity: Some(ObservedIdentity {
                id: "/x/userAssignedIdentities/id1".into(),
                principal_id: "p1".into(),
            }),
            vault: Some(vault.clone()),
            grant_exists: true,
            ..Default::default()
        };
        let now = Observed {
            identity: None,
            vault: Some(ObservedVault {
                purge_protection: false,
                ..vault
            }),
            grant_exists: false,
            ..Default::default()
        };
        assert_eq!(
            differences(&planned, &now, "cmk"),
            vec![
                "managed identity id1: was there (principal p1), now missing",
                "key vault kv1 enablePurgeProtection: was true, now false",
                "the identity's key access: was granted, now not granted",
            ]
        );
    }
}
