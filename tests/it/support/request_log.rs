//! Reading the emulator's request log for what the tool changed.

use serde_json::Value;

/// The writes among `requests`. A vault name check is a POST that changes
/// nothing, so it does not count.
pub fn writes(requests: &[Value]) -> Vec<&Value> {
    requests
        .iter()
        .filter(|r| r["method"] != "GET" && r["operation"] != "Vaults_CheckNameAvailability")
        .collect()
}

/// Requests of `operation` that Azure answered with success.
pub fn succeeded(requests: &[Value], operation: &str) -> usize {
    requests
        .iter()
        .filter(|r| r["operation"] == operation)
        .filter(|r| r["status"].as_u64().is_some_and(|s| s < 300))
        .count()
}
