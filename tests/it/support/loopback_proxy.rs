//! A plain-HTTP forward proxy on loopback that forwards nothing: it records
//! the request line of every request sent through it and answers each with a
//! fixed reply. Pointing `HTTP_PROXY` at it lets a test see where a
//! credential would have gone (e.g. the managed-identity endpoint
//! 169.254.169.254) while nothing leaves this machine.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub struct LoopbackProxy {
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl LoopbackProxy {
    /// Starts the proxy; every request gets `status` (e.g. "400 Bad Request") and the JSON `body`.
    pub fn start(status: &'static str, body: &'static str) -> LoopbackProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Read the rest of the head; the requests of interest have no body.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                log.lock().unwrap().push(request_line.trim().to_string());
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        LoopbackProxy { url, seen }
    }

    /// The request lines received so far, e.g. `GET http://169.254.169.254/... HTTP/1.1`.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
