//! The errors Azure Monitor answers with: its own flat `{"code","message"}`
//! and the plain `BadRequest` of its validation.

use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;

/// Azure Monitor answers its own errors flat, `{"code","message"}` without the
/// `error` envelope: its specs' `ErrorResponse` says so, and clients built on
/// them read `Code: ResourceNotFound` from real answers (azure-powershell#7082,
/// azure-cli#21119 shows `{"code":"StorageAccountNotAccessible",...}`). Errors
/// ARM raises before the request reaches Insights keep ARM's envelope.
pub(super) fn flat(result: Result<Reply, ArmError>) -> Result<Reply, ArmError> {
    result.map_err(ArmError::unwrapped)
}

/// Insights' validation failures: plain `BadRequest` with a message, as its
/// recorded errors show (e.g. "Category 'StorageWrite' is not supported.").
pub(super) fn bad_request(message: impl Into<String>) -> ArmError {
    ArmError::bad_request("BadRequest", message)
}
