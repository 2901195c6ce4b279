//! A scripted MQTT client: one TCP connection, the codec's strict decoder, and nothing else.
//!
//! It never answers on its own (no automatic PUBACK or PINGREQ): a conformance scenario says
//! every packet, so that what the broker sees is exactly what the scenario wrote. Every wait takes
//! a deadline, so a broker that accepts TCP and then stays silent cannot stall a run.

use crate::trace::{show_packet, Trace, TraceKind};
use bytes::BytesMut;
use mqttspec_codec::{encode, Decoder, Packet, ProtocolVersion};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

/// What arrived on a connection.
#[derive(Debug, Clone)]
pub enum Event {
    /// A packet, with its serde JSON form (what patterns are matched against).
    Packet(Box<Packet>, Value),
    /// The broker closed the connection (EOF or reset); the reason is for messages.
    Closed(String),
    /// The broker sent bytes that do not decode (the decoder's error, with its spec statement).
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Open,
    /// Closed by the broker; every later read reports it again.
    Closed(String),
    /// The scenario dropped the connection.
    Dropped,
    /// The broker broke the wire format; the stream cannot be read further.
    Broken(String),
}

/// One scripted client.
pub struct Client {
    pub name: String,
    stream: Option<TcpStream>,
    decoder: Decoder,
    state: State,
    /// The bytes of the last packet handed out (or of the one that failed to decode), for
    /// `{ raw = "..." }` expectations: a reply in a form the run's version cannot decode.
    last_frame: Vec<u8>,
}

impl Client {
    /// Opens a TCP connection to `addr` (`host:port`) before `deadline`.
    pub async fn open(
        name: &str,
        addr: &str,
        version: ProtocolVersion,
        deadline: Instant,
        trace: &mut Trace,
    ) -> Result<Client, String> {
        let stream = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                trace.push(
                    name,
                    TraceKind::Note(format!("cannot connect to {addr}: {e}")),
                );
                return Err(format!("cannot connect to {addr}: {e}"));
            }
            Err(_) => {
                trace.push(
                    name,
                    TraceKind::Note(format!("TCP connect to {addr} timed out")),
                );
                return Err(format!("TCP connect to {addr} timed out"));
            }
        };
        let _ = stream.set_nodelay(true);
        trace.push(name, TraceKind::Connected);
        Ok(Client {
            name: name.to_string(),
            stream: Some(stream),
            decoder: Decoder::new(version),
            state: State::Open,
            last_frame: Vec::new(),
        })
    }

    /// Whether the connection is open as far as the client knows.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Encodes and sends `packet` for the connection's version. A CONNECT also switches the
    /// decoder to the version it announces (a 3.1.1 CONNECT in a 5.0 run means 3.1.1 answers).
    pub async fn send(&mut self, packet: &Packet, deadline: Instant, trace: &mut Trace) {
        let version = match packet {
            Packet::Connect(c) => {
                self.decoder.set_version(c.protocol);
                c.protocol
            }
            _ => self.decoder.version().unwrap_or(ProtocolVersion::V5),
        };
        let mut buf = BytesMut::new();
        if let Err(e) = encode(packet, version, &mut buf) {
            trace.push(
                &self.name,
                TraceKind::Note(format!("cannot encode {}: {e}", packet.name())),
            );
            return;
        }
        let json = serde_json::to_value(packet).unwrap_or(Value::Null);
        trace.push(&self.name, TraceKind::Sent(show_packet(&json)));
        self.write(&buf, deadline, trace).await;
    }

    /// Sends bytes as they are.
    pub async fn send_raw(&mut self, bytes: &[u8], deadline: Instant, trace: &mut Trace) {
        trace.push(&self.name, TraceKind::SentRaw(spaced_hex(bytes)));
        self.write(bytes, deadline, trace).await;
    }

    async fn write(&mut self, bytes: &[u8], deadline: Instant, trace: &mut Trace) {
        let Some(stream) = self.stream.as_mut() else {
            trace.push(
                &self.name,
                TraceKind::Note("not sent: the connection is closed".into()),
            );
            return;
        };
        // A failed write is not a verdict by itself: the broker may rightly have closed the
        // connection, which the next `expect` will observe and judge.
        match timeout_at(deadline, stream.write_all(bytes)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => trace.push(&self.name, TraceKind::Note(format!("write failed: {e}"))),
            Err(_) => trace.push(&self.name, TraceKind::Note("write timed out".into())),
        }
    }

    /// The next event before `deadline`, or `None` if nothing happened in time.
    pub async fn next_event(&mut self, deadline: Instant, trace: &mut Trace) -> Option<Event> {
        loop {
            match &self.state {
                State::Open => {}
                State::Closed(why) => return Some(Event::Closed(why.clone())),
                State::Dropped => return Some(Event::Closed("dropped by the scenario".into())),
                State::Broken(e) => return Some(Event::Malformed(e.clone())),
            }
            let buffered = self.decoder.buffer_mut().to_vec();
            let result = self.decoder.next();
            let consumed = buffered.len() - self.decoder.buffered();
            if consumed > 0 {
                self.last_frame = buffered[..consumed].to_vec();
            }
            match result {
                Ok(Some(packet)) => {
                    let json = serde_json::to_value(&packet).unwrap_or(Value::Null);
                    trace.push(&self.name, TraceKind::Received(show_packet(&json)));
                    return Some(Event::Packet(Box::new(packet), json));
                }
                Ok(None) => {}
                Err(e) => {
                    let text = format!("{e}");
                    trace.push(&self.name, TraceKind::Malformed(text.clone()));
                    self.state = State::Broken(text);
                    continue;
                }
            }
            let stream = self.stream.as_mut()?;
            match timeout_at(deadline, stream.read_buf(self.decoder.buffer_mut())).await {
                Err(_) => return None,
                Ok(Ok(0)) => self.closed_by_peer("EOF".into(), trace),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => self.closed_by_peer(e.to_string(), trace),
            }
        }
    }

    fn closed_by_peer(&mut self, why: String, trace: &mut Trace) {
        if self.decoder.buffered() > 0 {
            let leftover = self.decoder.buffered();
            trace.push(
                &self.name,
                TraceKind::Note(format!("{leftover} bytes of an incomplete packet")),
            );
        }
        trace.push(&self.name, TraceKind::ClosedByPeer(why.clone()));
        self.stream = None;
        self.state = State::Closed(why);
    }

    /// The bytes of the last packet [`Client::next_event`] returned, or of the malformed one.
    pub fn last_frame(&self) -> &[u8] {
        &self.last_frame
    }

    /// Takes back a "malformed" verdict on the last frame because the scenario expected exactly
    /// those bytes (`{ raw = ... }`): the decoder has consumed the frame and reads on.
    pub fn accept_last_frame(&mut self) {
        if matches!(self.state, State::Broken(_)) {
            self.state = State::Open;
        }
    }

    /// Closes the TCP connection without DISCONNECT (the broker sees an abrupt loss).
    pub fn drop_connection(&mut self, trace: &mut Trace) {
        if self.stream.take().is_some() && self.state == State::Open {
            trace.push(&self.name, TraceKind::Dropped);
        }
        self.state = State::Dropped;
    }
}

/// `30 03 00 01 61`: hex as scenario files write it.
pub fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}
