//! What Azure Monitor asks Azure Storage before it accepts a diagnostic
//! setting's `storageAccountId`: the account exists and has finished
//! provisioning. Azure answers 409 `StorageAccountNotAccessible` otherwise
//! ("... is not accessible yet. Try again when storage provisioning is
//! complete", azure-cli#19387, #21119).

use crate::emulator::error::ArmError;
use crate::emulator::state::State;
use chrono::{DateTime, Utc};
use hyper::StatusCode;

/// Ok when the account exists and is provisioned; Azure Monitor's flat error otherwise.
pub fn check_storage_destination(
    state: &State,
    storage_account_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ArmError> {
    match state.storage.get_by_id(storage_account_id) {
        Some(account) if !account.is_provisioning(now) => Ok(()),
        _ => Err(ArmError::new(
            StatusCode::CONFLICT,
            "StorageAccountNotAccessible",
            format!("Storage account '{storage_account_id}' is not accessible yet. Try again when storage provisioning is complete."),
        )),
    }
}
