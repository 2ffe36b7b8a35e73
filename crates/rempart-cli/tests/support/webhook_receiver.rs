//! A webhook receiver on 127.0.0.1 for the server tests: it keeps every request, checks
//! nothing itself, and answers by path: `/flaky` fails the first attempt of each message and
//! accepts the next, `/down` always fails, anything else is accepted.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A request as received.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) path: String,
    /// Header names in lower case.
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
    /// The status answered.
    pub(crate) status: u16,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts listening on a free port; the thread ends with the test process.
    pub(crate) fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let receiver = Receiver {
            port: listener.local_addr().unwrap().port(),
            received: Arc::default(),
        };
        let kept = Arc::clone(&receiver.received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || {
                    let _ = answer(stream, &kept);
                });
            }
        });
        receiver
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `wanted` holds for the requests received so far, and returns them.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        wanted: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let received = self.received();
            if wanted(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the webhook receiver never got {what}; it got: {:#?}",
                received
                    .iter()
                    .map(|r| format!(
                        "{} {} {}",
                        r.path,
                        r.header("webhook-id"),
                        String::from_utf8_lossy(&r.body)
                    ))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn answer(stream: std::net::TcpStream, kept: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (status, text) = {
        let mut received = kept.lock().unwrap();
        let id = headers.get("webhook-id").cloned().unwrap_or_default();
        let seen = received
            .iter()
            .any(|r| r.path == path && r.header("webhook-id") == id);
        let (status, text) = match path.as_str() {
            "/flaky" if !seen => (503, "busy, try again"),
            "/down" => (500, "receiver down"),
            _ => (200, "ok"),
        };
        received.push(Received {
            path,
            headers,
            body,
            status,
        });
        (status, text)
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}
