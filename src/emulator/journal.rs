//! What the emulator saw: the request log (`GET /_emulator/requests`) that
//! tests count ARM calls with, and, when asked, every ARM exchange written as
//! an `oav validate-traffic` file so the answers can be checked against
//! Microsoft's specs.

use serde::Serialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

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
