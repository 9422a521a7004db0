//! One write to ARM as data: method, path with its api-version, and the body,
//! built by the provider module that owns the resource (`msi.rs`,
//! `keyvault.rs`, `authorization.rs`, `storage.rs`). The plan's diff, the
//! `--dry-run` text and what apply sends are all read from the same value, so
//! what a reviewer sees cannot drift from what goes over the wire.
//!
//! Bodies are built deliberately rather than through the generated models,
//! which send read-only fields as `null` and loop on vault creation
//! (AZURE_NOTES §4).

use super::{Arm, AzureError};
use serde_json::Value;

/// The HTTP methods the tool writes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn to_core(self) -> azure_core::Method {
        match self {
            Method::Put => azure_core::Method::Put,
            Method::Patch => azure_core::Method::Patch,
            Method::Delete => azure_core::Method::Delete,
        }
    }
}

/// One ARM write, exactly as it will be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    /// Starts with `/`, ends with `?api-version=...`.
    pub path: String,
    /// `None` for a DELETE.
    pub body: Option<Value>,
    /// What the request is about, for error messages ("key vault /subscriptions/...").
    pub resource: String,
}

/// What ARM answered a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// `Value::Null` for an empty body.
    pub body: Value,
}

impl Request {
    pub fn new(method: Method, path: String, body: Option<Value>, resource: String) -> Self {
        Request {
            method,
            path,
            body,
            resource,
        }
    }

    /// `METHOD path`, as `--dry-run` and apply's results show the call.
    pub fn line(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// The body's value at a JSON pointer (`/properties/keySize`), if any.
    pub fn field(&self, pointer: &str) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.pointer(pointer))
    }

    /// Sends the request; an ARM error status becomes `AzureError::Arm` (the
    /// pipeline already retried 429 and 5xx).
    pub async fn send(&self, arm: &Arm) -> Result<Answer, AzureError> {
        let (status, _, bytes) = arm
            .send(
                self.method.to_core(),
                &self.path,
                self.body.as_ref(),
                &self.resource,
            )
            .await?;
        if bytes.is_empty() {
            return Ok(Answer {
                status,
                body: Value::Null,
            });
        }
        let body = serde_json::from_slice(&bytes).map_err(|e| AzureError::Unexpected {
            resource: self.resource.clone(),
            detail: format!("the answer is not JSON: {e}"),
        })?;
        Ok(Answer { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_shows_its_method_and_path_and_reads_its_body() {
        let r = Request::new(
            Method::Patch,
            "/a?api-version=1".into(),
            Some(json!({"properties": {"x": 1}})),
            "thing /a".into(),
        );
        assert_eq!(r.line(), "PATCH /a?api-version=1");
        assert_eq!(r.field("/properties/x"), Some(&json!(1)));
        assert_eq!(r.field("/properties/y"), None);
    }
}
