//! Stage 2, the bearer token: every ARM call needs a valid, unexpired token
//! of one of the emulator's tenants, or it is 401 (`AuthenticationFailed`,
//! `InvalidAuthenticationToken`, `ExpiredAuthenticationToken`; see `auth`).

use super::request::RawRequest;
use crate::emulator::auth::TokenIssuer;
use crate::emulator::context::Caller;
use crate::emulator::error::ArmError;
use crate::emulator::state::State;
use chrono::{DateTime, Utc};

/// The caller the token names, or the 401 Azure answers.
pub fn authenticate(
    issuer: &TokenIssuer,
    state: &State,
    incoming: &RawRequest,
    now: DateTime<Utc>,
    endpoint: &str,
) -> Result<Caller, ArmError> {
    issuer.validate(state, incoming.header("authorization"), now, endpoint)
}
