//! ARM's own checks on a scope that any provider may need: does the resource
//! group a path or a role assignment's scope names exist? ARM answers 404
//! `ResourceGroupNotFound` before a provider sees the call.

use crate::emulator::state::State;

/// True when `group` exists in `subscription` (names compare ignoring case).
pub fn resource_group_exists(state: &State, subscription: &str, group: &str) -> bool {
    state.resource_groups.exists(subscription, group)
}
