//! The request as a route handler sees it: the state (already locked), the
//! captured path parameters, the parsed body, the caller and the clock.

use super::error::ArmError;
use super::router::Params;
use super::settings::Settings;
use super::state::State;
use chrono::{DateTime, Utc};
use hyper::Method;
use serde_json::Value;
use std::collections::HashMap;

/// Who is calling, from the validated token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub object_id: String,
    pub client_id: String,
    pub tenant_id: String,
}

pub struct Ctx<'a> {
    pub state: &'a mut State,
    pub settings: &'a Settings,
    pub now: DateTime<Utc>,
    pub method: Method,
    /// The request path as sent, without the query.
    pub path: String,
    pub params: Params,
    pub query: HashMap<String, String>,
    pub body: Option<Value>,
    pub api_version: String,
    pub caller: Caller,
    /// Base URL of this emulator (`https://127.0.0.1:PORT`), for `Location` and `nextLink`.
    pub endpoint: String,
}

impl Ctx<'_> {
    /// A captured path parameter. Routes only call this for names in their pattern.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The JSON object body, or ARM's 400 when it is missing or not an object.
    pub fn body(&self) -> Result<&serde_json::Map<String, Value>, ArmError> {
        match &self.body {
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(ArmError::invalid_request_content(
                "the request body must be a JSON object",
            )),
            None => Err(ArmError::invalid_request_content(
                "the request body is empty",
            )),
        }
    }

    /// The body when present (POST actions may have none); `Value::Null` otherwise.
    pub fn body_or_null(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    pub fn new_guid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A timestamp in ARM's format (seven fractional digits, `Z`).
    pub fn timestamp(&self) -> String {
        format_timestamp(self.now)
    }

    /// `https://HOST:PORT/{path}?api-version=...`: an absolute URL on this emulator.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.endpoint.trim_end_matches('/'), path_and_query)
    }
}

pub fn format_timestamp(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() % 1_000_000_000 / 100
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-28T14:10:31.123456789Z").unwrap();
        assert_eq!(
            super::format_timestamp(t.into()),
            "2026-11-28T14:10:31.1234567Z"
        );
    }
}
