//! Reading the generated models' loose parts: enums as the text Azure sent
//! (the crates match enum values case-sensitively, Azure does not), and tags.

use std::collections::BTreeMap;

/// An enum value as its wire text (`Microsoft.Keyvault`, `Deny`, ...).
pub fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Tags (`serde_json::Value` in the generated models) as a map of strings.
pub fn tags(value: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    value
        .and_then(|t| t.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}
