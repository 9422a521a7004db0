//! The errors the storage provider answers with, by name, in Azure's words.

use super::model::RESOURCE_TYPE;
use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;

pub(super) fn already_taken(name: &str) -> ArmError {
    ArmError::conflict(
        "StorageAccountAlreadyTaken",
        format!("The storage account named {name} is already taken."),
    )
}

pub(super) fn already_exists(name: &str) -> ArmError {
    ArmError::conflict(
        "StorageAccountAlreadyExists",
        format!("The storage account named {name} already exists under the subscription."),
    )
}

pub(super) fn not_provisioned() -> ArmError {
    ArmError::conflict(
        "StorageAccountIsNotProvisioned",
        "The storage account provisioning state must be 'Succeeded' before executing the operation.",
    )
}

pub(super) fn not_found(ctx: &Ctx) -> ArmError {
    ArmError::resource_not_found(
        RESOURCE_TYPE,
        ctx.param("accountName"),
        ctx.param("resourceGroupName"),
    )
}
