//! The errors the role assignment provider answers with, by name, in Azure's words.

use crate::emulator::error::ArmError;

pub(super) fn not_found(name: &str) -> ArmError {
    ArmError::not_found(
        "RoleAssignmentNotFound",
        format!("The role assignment '{name}' is not found."),
    )
}

/// The message Azure sends (recorded verbatim in shape: the principal id without
/// dashes, the tenant id with them, two spaces before "See").
pub(super) fn principal_not_found(principal_id: &str, tenant_id: &str) -> ArmError {
    ArmError::bad_request(
        "PrincipalNotFound",
        format!(
            "Principal {} does not exist in the directory {tenant_id}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
            principal_id.replace('-', "").to_ascii_lowercase()
        ),
    )
}

/// A role definition name that is not a GUID, or a built-in role's, which
/// no one may write or delete (the code Azure gives the former; *chosen* for the latter).
pub(super) fn definition_not_valid(name: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRoleDefinitionId",
        format!("The role definition ID '{name}' is not valid."),
    )
}

/// A role definition property of the wrong shape (*chosen*: ARM's code for bad content).
pub(super) fn invalid_property(path: &str, expected: &str) -> ArmError {
    ArmError::invalid_request_content(format!(
        "The request content was invalid: '{path}' must be {expected}."
    ))
}
