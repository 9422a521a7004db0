//! Azure Monitor's activity log exports: subscription diagnostic settings
//! (api-version 2021-05-01-preview), management group diagnostic settings
//! (2020-01-01-preview) and the legacy log profiles (2016-03-01). These are what the tool reads to find the storage
//! accounts receiving activity logs.

pub mod diagnostic_settings;
mod errors;
pub mod log_profiles;
pub mod management_group_settings;
mod model;
mod validation;

pub use model::Model;

use crate::emulator::provider::Provider;
use crate::emulator::router::Route;

/// Azure Monitor: subscription and management group diagnostic settings, log profiles.
pub struct Insights;

impl Provider for Insights {
    fn name(&self) -> &'static str {
        "insights"
    }

    fn routes(&self) -> Vec<Route> {
        let mut routes = diagnostic_settings::routes();
        routes.extend(log_profiles::routes());
        routes.extend(management_group_settings::routes());
        routes
    }
}
