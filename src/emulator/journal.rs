//! What the emulator saw: the request log (`GET /_emulator/requests`) that
//! tests count ARM calls with, and, when asked, every ARM exchange written as
//! an `oav validate-traffic` file so the answers can be checked against
//! Microsoft's specs.

use super::context::format_timestamp;
use super::pipeline::request::RawRequest;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub path: String,
    pub api_version: Option<String>,
    pub status: u16,
    /// The spec's operation id, when a route matched.
    pub operation: Option<String>,
    pub error_code: Option<String>,
    pub client_id: Option<String>,
}

/// One exchange, kept until it is written as a traffic file.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub request_headers: &'a [(String, String)],
    pub request_body: Option<&'a Value>,
    pub status: u16,
    pub response_headers: &'a [(String, String)],
    pub response_body: Option<&'a Value>,
}

pub struct TrafficRecorder {
    dir: PathBuf,
    next: AtomicU64,
}

impl TrafficRecorder {
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            next: AtomicU64::new(1),
        })
    }

    pub fn record(&self, exchange: &Exchange<'_>) {
        let headers = |list: &[(String, String)]| {
            let mut map = Map::new();
            for (k, v) in list {
                // Credentials never reach a file.
                if k.eq_ignore_ascii_case("authorization") {
                    continue;
                }
                map.insert(k.to_ascii_lowercase(), Value::String(v.clone()));
            }
            Value::Object(map)
        };
        let file = json!({
            "liveRequest": {
                "method": exchange.method,
                "url": exchange.url,
                "headers": headers(exchange.request_headers),
                "body": exchange.request_body.cloned().unwrap_or(Value::Null),
            },
            "liveResponse": {
                "statusCode": exchange.status.to_string(),
                "headers": headers(exchange.response_headers),
                "body": exchange.response_body.cloned().unwrap_or(Value::String(String::new())),
            }
        });
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("{n:06}-{}.json", exchange.method));
        if let Err(e) = std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap_or_default())
        {
            tracing::warn!("could not write traffic file {}: {e}", path.display());
        }
    }
}

/// How a call ended, for the journal. A dropped connection has status 0 and
/// is logged but never written as traffic.
pub struct Outcome<'a> {
    pub operation: Option<&'a str>,
    pub status: u16,
    pub error_code: Option<String>,
    pub headers: &'a [(String, String)],
    pub body: Option<&'a Value>,
    pub client_id: Option<String>,
}

/// The last stage of every ARM call: the request log and, when asked, the traffic files.
pub struct Journal {
    log: Mutex<Vec<LoggedRequest>>,
    seq: AtomicU64,
    traffic: Option<TrafficRecorder>,
}

impl Journal {
    pub fn new(traffic: Option<TrafficRecorder>) -> Self {
        Self {
            log: Mutex::new(Vec::new()),
            seq: AtomicU64::new(1),
            traffic,
        }
    }

    fn log(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every ARM call so far, in order (`GET /_emulator/requests`).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log().clone()
    }

    /// Forgets the calls so far (`DELETE /_emulator/requests`).
    pub fn clear(&self) {
        self.log().clear();
    }

    pub fn record(&self, incoming: &RawRequest, outcome: Outcome<'_>) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        self.log().push(LoggedRequest {
            seq,
            time: format_timestamp(Utc::now()),
            method: incoming.method.to_string(),
            path: incoming.path.clone(),
            api_version: incoming.query.get("api-version").cloned(),
            status: outcome.status,
            operation: outcome.operation.map(str::to_string),
            error_code: outcome.error_code,
            client_id: outcome.client_id,
        });
        let Some(recorder) = self.traffic.as_ref().filter(|_| outcome.status != 0) else {
            return;
        };
        let request_body: Option<Value> = serde_json::from_slice(&incoming.body).ok();
        let url = if incoming.raw_query.is_empty() {
            format!("https://management.azure.com{}", incoming.path)
        } else {
            format!(
                "https://management.azure.com{}?{}",
                incoming.path, incoming.raw_query
            )
        };
        recorder.record(&Exchange {
            method: incoming.method.as_str(),
            url: &url,
            request_headers: &incoming.headers,
            request_body: request_body.as_ref(),
            status: outcome.status,
            response_headers: outcome.headers,
            response_body: outcome.body,
        });
    }
}
