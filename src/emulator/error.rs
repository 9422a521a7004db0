//! ARM errors, named after the codes Azure returns (like moto's `exceptions.py`).
//!
//! Every failure the emulator sends is an `ArmError`; the body is always ARM's
//! `{"error":{"code","message"}}` envelope so clients parse it the same way.

use hyper::StatusCode;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`).
    pub headers: Vec<(String, String)>,
    /// Older providers (Microsoft.Insights) answer `{"code","message"}` without
    /// the `error` envelope; their specs define that shape.
    pub unwrapped: bool,
}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            headers: Vec::new(),
            unwrapped: false,
        }
    }

    /// The same error in the provider's own shape, without the `error` envelope.
    pub fn unwrapped(mut self) -> Self {
        self.unwrapped = true;
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(&self) -> serde_json::Value {
        let inner = json!({"code": self.code, "message": self.message});
        if self.unwrapped {
            inner
        } else {
            json!({ "error": inner })
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// ARM's own 404 for a resource it does not know, as seen in recordings.
    pub fn resource_not_found(resource_type: &str, name: &str, resource_group: &str) -> Self {
        Self::not_found(
            "ResourceNotFound",
            format!(
                "The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
        .with_header("x-ms-failure-cause", "gateway")
    }

    pub fn resource_group_not_found(resource_group: &str) -> Self {
        Self::not_found(
            "ResourceGroupNotFound",
            format!("Resource group '{resource_group}' could not be found."),
        )
        .with_header("x-ms-failure-cause", "gateway")
    }

    pub fn subscription_not_found(subscription_id: &str) -> Self {
        Self::not_found(
            "SubscriptionNotFound",
            format!("The subscription '{subscription_id}' could not be found."),
        )
    }

    pub fn invalid_authentication_token(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// ARM's 401 for a token past its `exp`.
    pub fn expired_authentication_token(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "ExpiredAuthenticationToken",
            message,
        )
    }

    pub fn authentication_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "AuthenticationFailed", message)
    }

    pub fn authorization_failed(
        object_id: &str,
        client_id: &str,
        action: &str,
        scope: &str,
    ) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{client_id}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        )
    }

    pub fn invalid_request_content(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }

    pub fn invalid_request_body(message: impl Into<String>) -> Self {
        Self::bad_request("InvalidRequestBody", message)
    }

    pub fn scope_locked(scope: &str, lock_names: &str) -> Self {
        Self::conflict(
            "ScopeLocked",
            format!(
                "The scope '{scope}' cannot perform write operation because following scope(s) are locked: '{lock_names}'. Please remove the lock and try again."
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ArmError {}
