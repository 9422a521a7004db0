//! The first stage: an HTTP request read off the wire into a [`RawRequest`]
//! (method, path, lower-cased query, headers, body bytes), with ARM's 413
//! for a body over the limit.

use crate::emulator::error::ArmError;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::collections::HashMap;

/// ARM refuses larger request bodies; no call the tool makes comes close.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A request read off the wire, before routing.
pub struct RawRequest {
    pub method: Method,
    pub path: String,
    /// Query parameters by lower-case name (ARM's names are case-insensitive).
    pub query: HashMap<String, String>,
    pub raw_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path's non-empty segments.
    pub fn segments(&self) -> Vec<&str> {
        self.path.split('/').filter(|s| !s.is_empty()).collect()
    }

    /// Reads the whole request; a body over the limit is 413 `RequestEntityTooLarge`.
    pub async fn read(req: Request<Incoming>) -> Result<RawRequest, ArmError> {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return Err(ArmError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestEntityTooLarge",
                    "The request body is too large or could not be read.",
                ))
            }
        };
        let raw_query = parts.uri.query().unwrap_or_default().to_string();
        let query = serde_urlencoded::from_str::<Vec<(String, String)>>(&raw_query)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Ok(RawRequest {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query,
            raw_query,
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            body,
        })
    }
}
