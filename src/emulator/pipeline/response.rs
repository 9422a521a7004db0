//! The answer's way out: an error becomes ARM's JSON reply, every answer gets
//! `content-type` (with a body) and ARM's request-id headers, and a [`Reply`]
//! becomes a hyper response.

use crate::emulator::error::ArmError;
use crate::emulator::reply::Reply;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::Value;

/// ARM's JSON answer for an error, with its headers (`Retry-After`...).
pub fn error_reply(e: ArmError) -> Reply {
    let mut reply = Reply::json(e.status, e.body());
    reply.headers.extend(e.headers);
    reply
}

/// Adds what every ARM answer carries: `content-type` with a body,
/// `x-ms-request-id`, `x-ms-correlation-request-id`, `x-ms-routing-request-id`.
pub fn finish(reply: &mut Reply) {
    if reply.body.is_some() {
        reply.headers.push((
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    reply
        .headers
        .push(("x-ms-request-id".into(), request_id.clone()));
    reply
        .headers
        .push(("x-ms-correlation-request-id".into(), request_id.clone()));
    reply.headers.push((
        "x-ms-routing-request-id".into(),
        format!("LOCAL:{request_id}"),
    ));
}

/// The error code of an answer, in ARM's envelope or Insights' flat form.
pub fn error_code(reply: &Reply) -> Option<String> {
    reply
        .body
        .as_ref()
        .and_then(|b| b.pointer("/error/code").or_else(|| b.get("code")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub fn to_response(reply: &Reply) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status);
    let body = match &reply.body {
        Some(value) => {
            if !reply
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                builder = builder.header("content-type", "application/json; charset=utf-8");
            }
            Bytes::from(serde_json::to_vec(value).unwrap_or_default())
        }
        None => Bytes::new(),
    };
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(
            b"{\"error\":{\"code\":\"InternalServerError\",\"message\":\"bad header\"}}",
        )));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
