//! PLACEHOLDER: being written; see the provider's routes below.

use crate::emulator::router::Route;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {}

pub fn routes() -> Vec<Route> {
    Vec::new()
}
