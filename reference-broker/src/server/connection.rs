//! One connection, one task: socket -> decoder -> core, and the core's encoded bytes -> socket.
//!
//! Why one task and not a reader and a writer: each tokio task costs its state plus a few hundred
//! bytes of header, and the two would need channels between them; with 10,000 idle clients that
//! was most of the broker's memory. The task tries every non-blocking step (decode, hand packets
//! to the core, read, write), then sleeps on socket readiness and on its [`Link`] at once.
//!
//! Closing is "lingering": when the core closes a connection, the task writes what is queued (the
//! final CONNACK or DISCONNECT), shuts down its half, then discards input until the client closes
//! or a second passes. Closing with unread input would make the kernel reset the connection, and
//! the client could lose that final packet.

use super::link::{Link, WrittenReports};
use super::Event;
use crate::core::{ConnId, Input};
use bytes::{Buf, BytesMut};
use mqttspec_codec::packet::{packet_type, peek_connect_version};
use mqttspec_codec::{Decoder, ProtocolVersion};
use std::future::{poll_fn, Future};
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, error::SendError, error::TrySendError, OwnedPermit};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

/// How long the task keeps discarding input after the broker closed the connection.
const LINGER: Duration = Duration::from_secs(1);
/// A write that makes no progress for this long ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After a decode error, how long the task waits for the core to close the connection.
const ERROR_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes reserved for one read from the socket: a few 4 KiB PUBLISHes per system call.
const READ_CHUNK: usize = 16 * 1024;
/// Packets one connection may have waiting for the core. Without it a flooding publisher fills
/// the core's queue and the acknowledgements of every other client wait behind its PUBLISHes.
pub(super) const READER_SLOTS: usize = 16;

type Reserve = Pin<Box<dyn Future<Output = Result<OwnedPermit<Event>, SendError<()>>> + Send>>;

/// An event waiting for room in the core's queue.
struct Pending {
    event: Event,
    room: Reserve,
}

/// The connection's task. Not an `async fn`: its arguments would keep their own slots in the
/// task's state beside the `Connection` built from them, for the connection's whole life.
pub(super) fn serve(
    stream: TcpStream,
    conn: ConnId,
    events: mpsc::Sender<Event>,
    reports: Arc<WrittenReports>,
    max_packet_size: u32,
    socket_permit: OwnedSemaphorePermit,
) -> impl Future<Output = ()> + Send {
    let mut c = Connection {
        stream,
        _socket_permit: socket_permit,
        conn,
        link: Arc::new(Link::default()),
        events,
        reports,
        decoder: Decoder::learning().with_max_packet_size(max_packet_size),
        out: BytesMut::new(),
        out_packets: 0,
        pending: None,
        timer: None,
        last_write: Instant::now(),
        reading: true,
        readable: true,
        closing: false,
        core_gone: false,
    };
    // An async block holds `c` once; an `async fn (mut self)` held it twice.
    async move {
        if c.open().await {
            let end = c.run().await;
            // Boxed: the closing paths are short-lived and their state would enlarge every task.
            Box::pin(c.finish(end)).await;
        }
    }
}

/// Why the main loop ended.
enum End {
    /// The core closed the connection and everything queued was written.
    Closed,
    /// The client closed, the socket failed or a write timed out.
    Lost,
    /// The core task is gone (shutdown).
    CoreGone,
}

struct Connection {
    stream: TcpStream,
    /// Counts this socket against the broker's limit until the task ends.
    _socket_permit: OwnedSemaphorePermit,
    conn: ConnId,
    link: Arc<Link>,
    events: mpsc::Sender<Event>,
    reports: Arc<WrittenReports>,
    decoder: Decoder,
    /// Bytes taken from the link and not yet written, and the packets they hold.
    out: BytesMut,
    out_packets: usize,
    /// An event the core's queue had no room for, and the wait for room (boxed: only under
    /// load, and an idle connection should not carry its state).
    pending: Option<Box<Pending>>,
    /// Armed while a write waits for the socket, or after a decode error.
    timer: Option<Pin<Box<Sleep>>>,
    /// When a write last made progress.
    last_write: Instant,
    /// False after a decode error or once the core closed the connection.
    reading: bool,
    /// The socket may have input: set when readiness is reported, cleared by a read that finds
    /// none (so that a wake-up for writing does not reserve a read buffer for nothing).
    readable: bool,
    /// The core closed the connection; nothing more will be queued.
    closing: bool,
    core_gone: bool,
}

impl Connection {
    /// Tells the core about the connection; false if the core is gone.
    async fn open(&mut self) -> bool {
        let opened = Event::Opened {
            conn: self.conn,
            link: Arc::clone(&self.link),
        };
        // The awaiting send, rarely needed, is boxed: its state would enlarge every task.
        match self.events.try_send(opened) {
            Ok(()) => true,
            Err(TrySendError::Full(opened)) => Box::pin(self.events.send(opened)).await.is_ok(),
            Err(TrySendError::Closed(_)) => false,
        }
    }

    async fn run(&mut self) -> End {
        loop {
            if let Some(end) = self.step() {
                return end;
            }
            poll_fn(|cx| self.poll_wait(cx)).await;
        }
    }

    /// Does everything that needs no waiting; `Some` when the connection is done.
    fn step(&mut self) -> Option<End> {
        if self.core_gone {
            return Some(End::CoreGone);
        }
        if let Some(end) = self.check_timer() {
            return Some(end);
        }
        // Read and decode while the core takes packets.
        loop {
            if let Some(end) = self.feed_core() {
                return Some(end);
            }
            if !self.may_read() || !self.readable {
                break;
            }
            match self.read() {
                Ok(true) => {}
                Ok(false) => break,
                Err(()) => return Some(End::Lost),
            }
        }
        self.write()
    }

    fn may_read(&self) -> bool {
        self.reading && self.pending.is_none() && self.link.inputs() < READER_SLOTS
    }

    /// Decodes buffered packets and hands them to the core while it has room for them.
    fn feed_core(&mut self) -> Option<End> {
        while self.may_read() {
            let version = self
                .decoder
                .version()
                .or_else(|| connect_version_hint(self.decoder.buffer_mut()));
            let event = match self.decoder.next() {
                Ok(Some(packet)) => {
                    self.link.input_sent();
                    Event::Packet(self.conn, Box::new(Input::Received(self.conn, packet)))
                }
                Ok(None) => {
                    if self.decoder.buffered() == 0 {
                        // Give the allocation back (packets decoded from it keep their part).
                        *self.decoder.buffer_mut() = BytesMut::new();
                    }
                    return None;
                }
                Err(error) => {
                    // The core closes the connection; until then only write.
                    self.reading = false;
                    self.arm_timer(Instant::now() + ERROR_TIMEOUT);
                    Event::Input(Box::new(Input::DecodeError {
                        conn: self.conn,
                        error,
                        version,
                    }))
                }
            };
            match self.events.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(event)) => {
                    let room = Box::pin(self.events.clone().reserve_owned());
                    self.pending = Some(Box::new(Pending { event, room }));
                }
                Err(TrySendError::Closed(_)) => return Some(End::CoreGone),
            }
        }
        None
    }

    /// One read into the decoder's buffer: `Ok(true)` if bytes came, `Ok(false)` if none are
    /// there yet, `Err` when the client closed or the socket failed.
    fn read(&mut self) -> Result<bool, ()> {
        let buf = self.decoder.buffer_mut();
        buf.reserve(READ_CHUNK);
        match self.stream.try_read_buf(buf) {
            Ok(0) => Err(()),
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                self.readable = false;
                if buf.is_empty() {
                    // An idle connection holds no read buffer.
                    *buf = BytesMut::new();
                }
                Ok(false)
            }
            Err(_) => Err(()),
        }
    }

    /// Writes what the core queued until the socket is full; reports what was written.
    fn write(&mut self) -> Option<End> {
        loop {
            if self.out.is_empty() {
                if self.out_packets > 0 {
                    let packets = std::mem::take(&mut self.out_packets);
                    if self.link.add_written(packets) {
                        self.reports.push(self.conn);
                    }
                    if self.reading {
                        self.timer = None;
                    }
                }
                let mut spare = std::mem::take(&mut self.out);
                spare.clear();
                let (out, packets, closed) = self.link.take_out(spare);
                self.out = out;
                self.out_packets = packets;
                if closed && !self.closing {
                    self.closing = true;
                    self.reading = false;
                    self.arm_timer(Instant::now() + WRITE_TIMEOUT);
                }
                if self.out.is_empty() {
                    return self.closing.then_some(End::Closed);
                }
            }
            match self.stream.try_write(&self.out) {
                Ok(n) => {
                    self.out.advance(n);
                    if self.timer.is_some() {
                        self.last_write = Instant::now();
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if self.timer.is_none() {
                        self.last_write = Instant::now();
                        self.arm_timer(self.last_write + WRITE_TIMEOUT);
                    }
                    return None;
                }
                Err(_) => return Some(End::Lost),
            }
        }
    }

    fn arm_timer(&mut self, at: Instant) {
        match &mut self.timer {
            Some(t) => t.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// The armed timer expired: a write stalled for [`WRITE_TIMEOUT`], or the core did not close
    /// the connection in time after a decode error or its close.
    fn check_timer(&mut self) -> Option<End> {
        let t = self.timer.as_mut()?;
        let now = Instant::now();
        if t.deadline() > now {
            return None;
        }
        let stalled_until = self.last_write + WRITE_TIMEOUT;
        if self.reading && !self.out.is_empty() && stalled_until > now {
            t.as_mut().reset(stalled_until);
            return None;
        }
        Some(End::Lost)
    }

    /// Ready when something may be done: room in the core's queue, a readable or writable
    /// socket, news from the core, or the timer.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ready = false;
        if let Some(p) = &mut self.pending {
            if let Poll::Ready(permit) = p.room.as_mut().poll(cx) {
                match (permit, self.pending.take()) {
                    (Ok(permit), Some(p)) => {
                        permit.send(p.event);
                    }
                    (Ok(_), None) => {}
                    (Err(_), _) => self.core_gone = true,
                }
                ready = true;
            }
        }
        if self.may_read() && self.stream.poll_read_ready(cx).is_ready() {
            self.readable = true;
            ready = true;
        }
        if !self.out.is_empty() && self.stream.poll_write_ready(cx).is_ready() {
            ready = true;
        }
        if self.link.poll_signal(cx).is_ready() {
            ready = true;
        }
        if let Some(t) = &mut self.timer {
            if t.as_mut().poll(cx).is_ready() {
                ready = true;
            }
        }
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Tells the core the connection is gone, or lingers after the core closed it.
    async fn finish(mut self, end: End) {
        match end {
            End::Closed => {
                let _ = self.stream.shutdown().await;
                Box::pin(linger(&mut self.stream)).await;
            }
            End::Lost => {
                // Whatever the core holds of this connection goes before the close.
                if let Some(p) = self.pending.take() {
                    if self.events.send(p.event).await.is_err() {
                        return;
                    }
                }
                if !self.link.is_closed() {
                    let closed = Event::Input(Box::new(Input::Closed(self.conn)));
                    let _ = self.events.send(closed).await;
                }
            }
            End::CoreGone => {
                let _ = self.stream.shutdown().await;
            }
        }
    }
}

/// Discards input until the client closes, or for [`LINGER`] at most. Callers box it: a rare
/// path whose timer would otherwise enlarge every connection task's state.
async fn linger(stream: &mut TcpStream) {
    // On the heap: an array here would sit in every connection task's state all its life.
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The version a CONNECT at the start of `buf` announces, read before decoding it, so that a
/// broken CONNECT can still be answered in its own version.
fn connect_version_hint(buf: &[u8]) -> Option<ProtocolVersion> {
    if buf.first()? >> 4 != packet_type::CONNECT {
        return None;
    }
    let len_bytes = buf.iter().skip(1).take(4).position(|b| b & 0x80 == 0)? + 1;
    peek_connect_version(buf.get(1 + len_bytes..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_hint_reads_a_connect_header() {
        let v5 = [0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x03];
        assert_eq!(connect_version_hint(&v5), Some(ProtocolVersion::V5));
        let v4 = [0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4];
        assert_eq!(connect_version_hint(&v4), Some(ProtocolVersion::V3_1_1));
        assert_eq!(connect_version_hint(&[0x30, 0x00]), None);
        assert_eq!(connect_version_hint(&[0x10]), None);
        assert_eq!(
            connect_version_hint(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            None
        );
    }
}
