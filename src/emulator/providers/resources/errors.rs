//! The errors `Resources_List` answers with, by name.

use super::query::MAX_TOP;
use crate::emulator::error::ArmError;

/// ARM's answer to a filter it cannot read (azure-sdk-for-go#2480,
/// azure-sdk-for-net#18748: code, message and the failure-cause header).
pub(super) fn invalid_filter(filter: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidFilterInQueryString",
        format!("Invalid $filter '{filter}' specified in the query string."),
    )
    .with_header("x-ms-failure-cause", "gateway")
}

/// The code is ARM's (azure-sdk-for-js#18535); the message is modelled on the
/// `$filter` one *(chosen)*.
pub(super) fn invalid_top(top: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidTopInQueryString",
        format!("Invalid $top '{top}' specified in the query string. It must be an integer between 1 and {MAX_TOP}."),
    )
    .with_header("x-ms-failure-cause", "gateway")
}

/// No public recording shows ARM's answer to an unknown `$expand` member;
/// code and message *(chosen)*.
pub(super) fn invalid_expand(expand: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidExpandQueryOptionValue",
        format!("The $expand query option value '{expand}' is invalid. The supported values are 'createdTime', 'changedTime' and 'provisioningState'."),
    )
}
