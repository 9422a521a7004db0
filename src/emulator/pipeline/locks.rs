//! Stage 8, management locks (set through the admin API): a write below a
//! `ReadOnly` lock, or a delete below any lock, is 409 `ScopeLocked` naming
//! the locks.

use super::request::RawRequest;
use crate::emulator::error::ArmError;
use crate::emulator::router::Access;
use crate::emulator::state::State;
use hyper::Method;

pub fn check_locks(state: &State, incoming: &RawRequest, access: Access) -> Result<(), ArmError> {
    if access != Access::Write {
        return Ok(());
    }
    let locks = state.blocking_locks(&incoming.path, incoming.method == Method::DELETE);
    if locks.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = locks
        .iter()
        .map(|l| {
            format!(
                "{}/providers/Microsoft.Authorization/locks/{}",
                l.scope, l.name
            )
        })
        .collect();
    Err(ArmError::scope_locked(&incoming.path, &names.join(",")))
}
