//! The errors Key Vault's management plane answers with, by name, in Azure's
//! words where a recording or Microsoft's docs show them.

use super::keys::MAX_KEY_TAGS;
use super::model::{KEY_TYPE, VAULT_TYPE};
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;

/// Code as for the provider's other bad parameters; message *(chosen)*.
pub(super) fn too_many_tags(count: usize) -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        format!("A key can have at most {MAX_KEY_TAGS} tags; {count} were given."),
    )
}

pub(super) fn key_not_found(vault: &str, key: &str, group: &str) -> ArmError {
    ArmError::resource_not_found(KEY_TYPE, &format!("{vault}/{key}"), group)
}

pub(super) fn not_specified(name: &str) -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        format!("The parameter {name} is not specified."),
    )
}

pub(super) fn invalid_value(name: &str) -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        format!("An invalid value was provided for '{name}'."),
    )
}

pub(super) fn purge_protection_false() -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
    )
}

/// Azure has refused to turn soft delete off since February 2025; the wording
/// follows the purge-protection message, the code is the RP's `BadRequest`.
pub(super) fn soft_delete_false() -> ArmError {
    ArmError::bad_request(
        "BadRequest",
        "The property \"enableSoftDelete\" cannot be set to false. Soft delete is enabled on all key vaults and cannot be turned off.",
    )
}

pub(super) fn rule_broken(message: String) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}

pub(super) fn vault_not_found(ctx: &Ctx) -> ArmError {
    ArmError::resource_not_found(
        VAULT_TYPE,
        ctx.param("vaultName"),
        ctx.param("resourceGroupName"),
    )
}

pub(super) fn vault_name_not_valid(name: &str) -> ArmError {
    ArmError::bad_request(
        "VaultNameNotValid",
        format!("The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: https://go.microsoft.com/fwlink/?linkid=2147742"),
    )
}

pub(super) fn vault_already_exists(name: &str) -> ArmError {
    ArmError::conflict(
        "VaultAlreadyExists",
        format!("The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken. If you are sure that the vault name was not taken then it is possible that a vault with the same name was recently deleted but not purged after being placed in a recoverable state. If the vault is in a recoverable state then the vault will need to be purged before reusing the name. For more information about VaultAlreadyExists, soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid=2147740."),
    )
}

pub(super) fn deleted_not_found(ctx: &Ctx) -> ArmError {
    ArmError::resource_not_found(
        &format!(
            "Microsoft.KeyVault/locations/{}/deletedVaults",
            ctx.param("location")
        ),
        ctx.param("vaultName"),
        "<null>",
    )
}
