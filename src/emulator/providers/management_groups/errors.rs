//! The errors the management-group service answers with, by name (an unknown
//! group is `rules::management_group_not_found`, shared with Azure Monitor).

use crate::emulator::error::ArmError;

pub(super) fn invalid_group_id(id: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidManagementGroupId",
        format!("The management group id '{id}' is invalid: use 1 to 90 letters, digits, hyphens, underscores, periods and parentheses, not ending in a period."),
    )
}

pub(super) fn parent_not_found(parent: &str) -> ArmError {
    ArmError::bad_request(
        "ParentNotFound",
        format!("The parent management group '{parent}' was not found."),
    )
}

/// A group cannot move under itself or under one of its own descendants.
pub(super) fn cycle(group: &str, parent: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidParent",
        format!("The management group '{group}' cannot be moved under '{parent}', which is the group itself or one of its descendants."),
    )
}

pub(super) fn invalid_skip_token(token: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidSkipToken",
        format!("The skip token '{token}' is invalid."),
    )
}
