//! The errors the managed-identity provider answers with, by name.

use crate::emulator::error::ArmError;

pub(super) fn invalid_name(name: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceName",
        format!("Resource name '{name}' is invalid. The name can be between 3 and 128 characters long. It can contain only letters, numbers, hyphens and underscores, and must start with a letter or number."),
    )
}
