//! The wire log of one scenario run: every packet each client sent and received, decoded, with
//! the time since the scenario started. A failure report prints it whole, because the step that
//! failed is often explained by a packet three steps earlier, on another client.

use std::fmt;
use std::time::{Duration, Instant};

/// One thing that happened on a client's connection.
#[derive(Debug, Clone)]
pub enum TraceKind {
    /// TCP connection established.
    Connected,
    /// A packet sent, in serde JSON form.
    Sent(String),
    /// Raw bytes sent (hex).
    SentRaw(String),
    /// A packet received, in serde JSON form.
    Received(String),
    /// Bytes received that do not decode: the broker broke the wire format.
    Malformed(String),
    /// The broker closed the connection (EOF or reset).
    ClosedByPeer(String),
    /// The scenario closed the connection without DISCONNECT.
    Dropped,
    /// Something the harness noted (a failed write, a connection attempt that failed).
    Note(String),
}

/// One entry of the log.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    pub at: Duration,
    pub client: String,
    pub kind: TraceKind,
}

/// The log of one scenario run.
#[derive(Debug, Clone)]
pub struct Trace {
    start: Instant,
    pub events: Vec<TraceEvent>,
}

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            events: Vec::new(),
        }
    }

    pub fn push(&mut self, client: &str, kind: TraceKind) {
        self.events.push(TraceEvent {
            at: self.start.elapsed(),
            client: client.to_string(),
            kind,
        });
    }

    /// The log as text with times left out, for snapshot tests whose timing varies.
    pub fn render_untimed(&self) -> String {
        self.render(false)
    }

    fn render(&self, timed: bool) -> String {
        let width = self
            .events
            .iter()
            .map(|e| e.client.len())
            .max()
            .unwrap_or(1);
        let mut out = String::new();
        for e in &self.events {
            if timed {
                out.push_str(&format!("{:>9.1}ms  ", e.at.as_secs_f64() * 1000.0));
            }
            let (arrow, text) = match &e.kind {
                TraceKind::Connected => ("  ", "TCP connected".to_string()),
                TraceKind::Sent(p) => ("->", p.clone()),
                TraceKind::SentRaw(hex) => ("->", format!("raw bytes {hex}")),
                TraceKind::Received(p) => ("<-", p.clone()),
                TraceKind::Malformed(m) => ("<-", format!("MALFORMED {m}")),
                TraceKind::ClosedByPeer(why) => {
                    ("<-", format!("connection closed by the broker ({why})"))
                }
                TraceKind::Dropped => ("->", "TCP closed without DISCONNECT".to_string()),
                TraceKind::Note(n) => ("  ", n.clone()),
            };
            out.push_str(&format!("{:<width$} {arrow} {text}\n", e.client));
        }
        out
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(true))
    }
}

/// A packet as the trace shows it: its spec name, then its fields as JSON (without `type`).
pub fn show_packet(json: &serde_json::Value) -> String {
    let name = json
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("?")
        .to_ascii_uppercase();
    match json.as_object() {
        Some(obj) => {
            let mut fields = obj.clone();
            fields.remove("type");
            if fields.is_empty() {
                name
            } else {
                format!("{name} {}", serde_json::Value::Object(fields))
            }
        }
        None => format!("{name} {json}"),
    }
}
