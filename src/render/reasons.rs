//! What each reason code means and how to fix it, in words: SARIF rules are
//! built from this, and docs/output.md lists the same meanings.

use crate::audit::report::ReasonCode;

/// The SARIF rule id: the code in kebab-case (`microsoft-managed-keys`).
pub fn rule_id(code: ReasonCode) -> String {
    code.as_str().replace('_', "-")
}

/// The SARIF rule name: the code in PascalCase (`MicrosoftManagedKeys`).
pub fn rule_name(code: ReasonCode) -> String {
    code.as_str()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// One line: what is wrong.
pub fn title(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::MicrosoftManagedKeys => {
            "Activity log storage account is encrypted with Microsoft-managed keys"
        }
        ReasonCode::KeyVaultPropertiesMissing => {
            "Customer-managed key configured without a vault URI or key name"
        }
        ReasonCode::VaultNotFound => "The key vault holding the encryption key does not exist",
        ReasonCode::VaultSoftDeleteDisabled => "The encryption key's vault has soft delete off",
        ReasonCode::VaultPurgeProtectionDisabled => {
            "The encryption key's vault has purge protection off"
        }
        ReasonCode::VaultFirewallBlocksTrustedServices => {
            "The encryption key's vault firewall shuts out trusted Microsoft services"
        }
        ReasonCode::KeyNotFound => "The encryption key does not exist",
        ReasonCode::KeyDisabled => "The encryption key is disabled",
        ReasonCode::KeyExpired => "The encryption key has expired",
        ReasonCode::KeyNotYetValid => "The encryption key is not valid yet",
        ReasonCode::KeyNotRsa => "The encryption key is not an RSA key",
        ReasonCode::KeyTooSmall => "The encryption key is smaller than RSA 2048",
        ReasonCode::IdentityMissing => "The account has no identity its encryption can use",
        ReasonCode::IdentityLacksKeyAccess => {
            "The encryption identity lacks get, wrapKey or unwrapKey on the key"
        }
        ReasonCode::AccessDenied => "Access denied while reading the account or its key",
        ReasonCode::AccountNotFound => {
            "The activity log is sent to a storage account that does not exist"
        }
        ReasonCode::ReadFailed => "A read failed while checking the account",
    }
}

/// How to fix it, for a person.
pub fn help(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::MicrosoftManagedKeys => {
            "Encrypt the account with a customer-managed key: use a key vault with soft delete \
             and purge protection and an RSA key of 2048 bits or more, give the account a managed \
             identity with get, wrapKey and unwrapKey on the key, then set encryption.keySource \
             to Microsoft.Keyvault with encryption.keyvaultproperties (and encryption.identity \
             for a user-assigned identity)."
        }
        ReasonCode::KeyVaultPropertiesMissing => {
            "Set encryption.keyvaultproperties.keyvaulturi and keyname on the account, pointing at \
             an existing RSA key the account's identity can use."
        }
        ReasonCode::VaultNotFound => {
            "Recover the vault if it was deleted and is still soft-deleted, or point the account \
             at a key in an existing vault. If the vault exists, grant the audit's identity \
             Microsoft.KeyVault/vaults/read on it."
        }
        ReasonCode::VaultSoftDeleteDisabled => {
            "Turn soft delete on for the vault (enableSoftDelete): Azure Storage refuses a vault \
             that is not recoverable."
        }
        ReasonCode::VaultPurgeProtectionDisabled => {
            "Turn purge protection on for the vault (enablePurgeProtection); it cannot be turned \
             off again."
        }
        ReasonCode::VaultFirewallBlocksTrustedServices => {
            "Set the vault's networkAcls.bypass to AzureServices so that Azure Storage can reach \
             the key through the firewall."
        }
        ReasonCode::KeyNotFound => {
            "Recover or restore the key (and the pinned key version, when the account pins one), \
             or point the account at an existing key."
        }
        ReasonCode::KeyDisabled => {
            "Enable the key: while it is disabled the account's data cannot be read or written."
        }
        ReasonCode::KeyExpired => {
            "Rotate the key to a new version or extend its expiry date, and point the account at \
             the new version if it pins one."
        }
        ReasonCode::KeyNotYetValid => {
            "Move the key's not-before date to the past, or use a key version that is valid now."
        }
        ReasonCode::KeyNotRsa => {
            "Use an RSA (or RSA-HSM) key: Azure Storage encrypts only with RSA keys."
        }
        ReasonCode::KeyTooSmall => {
            "Create an RSA key (or key version) of 2048, 3072 or 4096 bits and point the account \
             at it."
        }
        ReasonCode::IdentityMissing => {
            "Assign the account a managed identity that exists, grant it get, wrapKey and \
             unwrapKey on the key, and for a user-assigned identity set encryption.identity to it."
        }
        ReasonCode::IdentityLacksKeyAccess => {
            "Grant the encryption identity get, wrapKey and unwrapKey on the key: an access policy \
             on an access-policy vault, or the Key Vault Crypto Service Encryption User role on \
             an RBAC vault."
        }
        ReasonCode::AccessDenied => {
            "Grant the identity running the audit read access to the resource the message names \
             (for example Reader on the account, the vault and the identity), then audit again."
        }
        ReasonCode::AccountNotFound => {
            "Point the diagnostic setting or log profile at an existing storage account encrypted \
             with a customer-managed key, or delete it."
        }
        ReasonCode::ReadFailed => {
            "Fix the error the message names (throttling, network, an unexpected answer), then \
             audit again."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_and_names_follow_the_code() {
        assert_eq!(
            rule_id(ReasonCode::MicrosoftManagedKeys),
            "microsoft-managed-keys"
        );
        assert_eq!(
            rule_id(ReasonCode::VaultFirewallBlocksTrustedServices),
            "vault-firewall-blocks-trusted-services"
        );
        assert_eq!(
            rule_name(ReasonCode::IdentityLacksKeyAccess),
            "IdentityLacksKeyAccess"
        );
        assert_eq!(rule_name(ReasonCode::KeyNotRsa), "KeyNotRsa");
    }
}
