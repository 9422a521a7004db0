//! Reading Azure's answers tolerantly. Only what the tool judges is read, by
//! JSON pointer from the raw answer: a field Azure adds, an enum value a spec
//! does not list (an accessTier `Smart`, an unknown `provisioningState`) or a
//! casing that differs between services (Key Vault's `Rotate`, Managed HSM's
//! `rotate`, Azure/azure-rest-api-specs#25714) never makes a resource
//! unreadable. The generated models of the azure_mgmt_* crates match enums
//! case-sensitively and reject values they do not know, so they are only used
//! to send requests, never to read what is judged.

use serde_json::Value;
use std::collections::BTreeMap;

/// A string at `pointer` (`/properties/keySource`), when there is one and it is not empty.
pub fn text(answer: &Value, pointer: &str) -> Option<String> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Whether the string at `pointer` is `expected` in any casing.
pub fn text_is(answer: &Value, pointer: &str, expected: &str) -> bool {
    text(answer, pointer).is_some_and(|s| s.eq_ignore_ascii_case(expected))
}

/// A boolean at `pointer`; also `"true"`/`"false"` as text, which some services send.
pub fn flag(answer: &Value, pointer: &str) -> Option<bool> {
    match answer.pointer(pointer)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An integer at `pointer`; also digits as text.
pub fn number(answer: &Value, pointer: &str) -> Option<i64> {
    match answer.pointer(pointer)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The strings of the array at `pointer` (other items skipped).
pub fn texts(answer: &Value, pointer: &str) -> Vec<String> {
    answer
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// An enum value of a generated model as its wire text (`AccountNameInvalid`, ...).
pub fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Tags as a map of strings (a value that is not a string reads as empty).
pub fn tags(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(|t| t.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_whatever_else_the_answer_holds() {
        let answer = json!({"properties": {"keySize": "3072", "enabled": "True", "exp": 1.7e9,
            "kty": "", "ops": ["wrapKey", 7, "unwrapKey"], "new": {"deep": [1]}}});
        assert_eq!(number(&answer, "/properties/keySize"), Some(3072));
        assert_eq!(number(&answer, "/properties/exp"), Some(1_700_000_000));
        assert_eq!(flag(&answer, "/properties/enabled"), Some(true));
        assert_eq!(text(&answer, "/properties/kty"), None);
        assert_eq!(texts(&answer, "/properties/ops"), ["wrapKey", "unwrapKey"]);
        assert!(!text_is(&answer, "/properties/missing", "x"));
    }
}
