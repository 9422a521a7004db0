//! Stage 10, the request body: empty (or only whitespace) is no body; anything
//! else must be JSON, or the call is 400 `InvalidRequestContent` before the
//! provider sees it.

use crate::emulator::error::ArmError;
use serde_json::Value;

pub fn parse_body(bytes: &[u8]) -> Result<Option<Value>, ArmError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Value>(bytes)
        .map(Some)
        .map_err(ArmError::invalid_request_content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_no_body_and_non_json_is_refused() {
        assert_eq!(parse_body(b" \n").unwrap(), None);
        assert_eq!(
            parse_body(b"{\"a\":1}").unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(parse_body(b"{").unwrap_err().code, "InvalidRequestContent");
    }
}
