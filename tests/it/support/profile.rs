//! Which emulator profile the end-to-end suites run the tool against.
//!
//! `ACTLOG_CMK_TEST_PROFILE=field` runs every suite that goes through
//! [`Tool::run`](super::cli::Tool) against the emulator's `field` profile:
//! Azure's rough edges (lagging index, filtered pages that come back empty,
//! unknown enum values, grants that take a while, short-lived tokens) with
//! the waits shortened so CI finishes, never skipped. Estates are still
//! seeded under [`Settings::instant`] (a seeded grant is effective at once
//! because the emulator records when a grant takes effect at the moment it
//! is made); the profile is switched on just before the tool first runs.
//! Anything a test set on purpose before that wins over the profile.

use actlog_cmk::emulator::settings::Settings;
use serde_json::{Map, Value};

/// The profile named by `ACTLOG_CMK_TEST_PROFILE` (`default` when unset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Default,
    Field,
}

impl Profile {
    pub fn current() -> Profile {
        match std::env::var("ACTLOG_CMK_TEST_PROFILE").as_deref() {
            Ok("field") => Profile::Field,
            Ok("default") | Ok("") | Err(_) => Profile::Default,
            Ok(other) => panic!("ACTLOG_CMK_TEST_PROFILE={other}: expected 'default' or 'field'"),
        }
    }

    pub fn is_field() -> bool {
        Profile::current() == Profile::Field
    }
}

/// The `field` preset with its waits cut to what CI can afford: grants
/// still take tens of seconds, tokens expire within a run, the index lags
/// and filtered pages are short. Throttling and faults stay as the test set
/// them (they have suites of their own).
pub fn field_for_tests() -> Settings {
    Settings {
        resource_page_size: 2,
        token_lifetime_secs: 20,
        grant_propagation_ms: 20_000,
        principal_replication_ms: 5_000,
        vault_provisioning_ms: 3_000,
        storage_provisioning_ms: 2_000,
        resource_index_lag_ms: 10_000,
        ..Settings::field()
    }
}

/// The merge patch that turns `current` into the test profile: each
/// top-level setting still at its seeding value ([`Settings::instant`])
/// takes the profile's value; one a test changed keeps the test's.
pub fn patch_towards(current: &Value, profile: &Settings) -> Value {
    let seeding = serde_json::to_value(Settings::instant()).expect("settings serialise");
    let target = serde_json::to_value(profile).expect("settings serialise");
    let mut patch = Map::new();
    for (name, value) in target.as_object().expect("settings are an object") {
        if matches!(name.as_str(), "throttling" | "faults") {
            continue;
        }
        if current.get(name) == seeding.get(name) && current.get(name) != Some(value) {
            patch.insert(name.clone(), value.clone());
        }
    }
    Value::Object(patch)
}
