//! The subscriptions the emulator holds (added through the admin API, as in
//! Azure they come from billing, not from ARM) and the rules for adding one.

use crate::emulator::error::ArmError;
use crate::emulator::providers::common::{is_guid, key};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    pub display_name: String,
    /// `Enabled`, `Disabled`, `Warned`, `PastDue` or `Deleted`.
    pub state: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Model {
    pub(super) by_id: BTreeMap<String, Subscription>,
}

impl Model {
    pub fn get(&self, id: &str) -> Option<&Subscription> {
        self.by_id.get(&key(id))
    }

    /// Adds or updates a subscription (admin API); the id must be a GUID.
    pub fn upsert(
        &mut self,
        id: &str,
        display_name: &str,
        state: &str,
    ) -> Result<&Subscription, ArmError> {
        if !is_guid(id) {
            return Err(ArmError::bad_request(
                "InvalidSubscriptionId",
                format!("The provided subscription identifier '{id}' is malformed or invalid."),
            ));
        }
        const STATES: &[&str] = &["Enabled", "Disabled", "Warned", "PastDue", "Deleted"];
        let Some(state) = STATES.iter().find(|s| s.eq_ignore_ascii_case(state)) else {
            return Err(ArmError::bad_request(
                "InvalidSubscriptionState",
                format!("Unknown subscription state '{state}'."),
            ));
        };
        let entry = self.by_id.entry(key(id)).or_insert_with(|| Subscription {
            subscription_id: id.to_ascii_lowercase(),
            display_name: String::new(),
            state: String::new(),
        });
        entry.display_name = display_name.to_string();
        entry.state = state.to_string();
        Ok(entry)
    }

    pub fn all(&self) -> impl Iterator<Item = &Subscription> {
        self.by_id.values()
    }
}
