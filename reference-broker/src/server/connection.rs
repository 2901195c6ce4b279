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
use tokio::sync::Semaphore;
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

/// What all connection tasks of one broker share, behind one pointer per task.
pub(super) struct Shared {
    pub(super) events: mpsc::Sender<Event>,
    pub(super) reports: Arc<WrittenReports>,
    /// Open sockets, CONNECTed or not: the accept loop takes a permit and forgets it, the task
    /// gives it back when it ends (one counter here instead of a permit in every task).
    pub(super) sockets: Semaphore,
    pub(super) max_packet_size: u32,
    /// Dropped with the last task (and the accept loops): the server's shutdown waits for that.
    pub(super) _alive: mpsc::Sender<()>,
}

/// An event waiting for room in the core's queue.
struct Pending {
    event: Event,
    room: Reserve,
}

/// The state of a connection that is writing or waiting for a deadline, on the heap only then:
/// an idle connection holds none of it.
struct Busy {
    /// Bytes taken from the link and not yet written, and the packets they hold.
    out: BytesMut,
    out_packets: usize,
    /// Armed while a write waits for the socket, or after a decode error or the core's close.
    timer: Option<Pin<Box<Sleep>>>,
    /// When a write last made progress.
    last_write: Instant,
}

/// The connection's task. Not an `async fn`: its arguments would keep their own slots in the
/// task's state beside the `Connection` built from them, for the connection's whole life. The
/// caller has taken (and forgotten) a permit of `shared.sockets` for it.
pub(super) fn serve(
    stream: TcpStream,
    conn: ConnId,
    shared: Arc<Shared>,
) -> impl Future<Output = ()> + Send {
    let decoder = Decoder::learning().with_max_packet_size(shared.max_packet_size);
    let mut c = Connection {
        stream,
        shared,
        conn,
        link: Arc::new(Link::default()),
        decoder,
        pending: None,
        busy: None,
        opened: false,
        reading: true,
        readable: true,
        closing: false,
        core_gone: false,
    };
    // The state holds `c` and one pointer-sized awaitee at a time, so that with tokio's task
    // header the whole task fits a 256-byte cell (test `the_task_fits_a_256_byte_cell`).
    async move {
        let end = poll_fn(|cx| c.poll_run(cx)).await;
        // Boxed: the closing paths are short-lived and their state would enlarge every task.
        Box::pin(c.finish(end)).await;
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
    shared: Arc<Shared>,
    conn: ConnId,
    link: Arc<Link>,
    decoder: Decoder,
    /// An event the core's queue had no room for, and the wait for room (boxed: only under
    /// load, and an idle connection should not carry its state).
    pending: Option<Box<Pending>>,
    /// Output being written and the timer (boxed: see [`Busy`]).
    busy: Option<Box<Busy>>,
    /// The core was told about the connection (`Event::Opened`).
    opened: bool,
    /// False after a decode error or once the core closed the connection.
    reading: bool,
    /// The socket may have input: set when readiness is reported, cleared by a read that finds
    /// none (so that a wake-up for writing does not reserve a read buffer for nothing).
    readable: bool,
    /// The core closed the connection; nothing more will be queued.
    closing: bool,
    core_gone: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.sockets.add_permits(1);
    }
}

impl Connection {
    /// The main loop as one poll: every non-blocking step, then registration for wake-ups.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        loop {
            if let Some(end) = self.step() {
                return Poll::Ready(end);
            }
            if self.poll_wait(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Does everything that needs no waiting; `Some` when the connection is done.
    fn step(&mut self) -> Option<End> {
        if !self.opened {
            // First tell the core about the connection (waiting for room like any event).
            self.opened = true;
            let opened = Event::Opened {
                conn: self.conn,
                link: Arc::clone(&self.link),
            };
            if let Some(end) = self.send(opened) {
                return Some(end);
            }
        }
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

    /// Hands `event` to the core, or keeps it pending until the core's queue has room.
    fn send(&mut self, event: Event) -> Option<End> {
        match self.shared.events.try_send(event) {
            Ok(()) => None,
            Err(TrySendError::Full(event)) => {
                let room = Box::pin(self.shared.events.clone().reserve_owned());
                self.pending = Some(Box::new(Pending { event, room }));
                None
            }
            Err(TrySendError::Closed(_)) => Some(End::CoreGone),
        }
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
                    Event::Packet(self.conn, packet)
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
            if let Some(end) = self.send(event) {
                return Some(end);
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

    /// Writes what the core queued until the socket is full; reports what was written. Frees
    /// the [`Busy`] state once everything is written and no deadline is armed.
    fn write(&mut self) -> Option<End> {
        loop {
            let drained = self.busy.as_ref().is_none_or(|b| b.out.is_empty());
            if drained {
                if let Some(b) = &mut self.busy {
                    if b.out_packets > 0 {
                        let packets = std::mem::take(&mut b.out_packets);
                        if self.link.add_written(packets) {
                            self.shared.reports.push(self.conn);
                        }
                        if self.reading {
                            b.timer = None;
                        }
                    }
                }
                let mut spare = self
                    .busy
                    .as_mut()
                    .map(|b| std::mem::take(&mut b.out))
                    .unwrap_or_default();
                spare.clear();
                let (out, packets, closed) = self.link.take_out(spare);
                if closed && !self.closing {
                    self.closing = true;
                    self.reading = false;
                    self.arm_timer(Instant::now() + WRITE_TIMEOUT);
                }
                if out.is_empty() {
                    if self.busy.as_ref().is_some_and(|b| b.timer.is_none()) {
                        self.busy = None;
                    }
                    return self.closing.then_some(End::Closed);
                }
                let b = self.busy_mut();
                b.out = out;
                b.out_packets = packets;
            }
            let Some(b) = &mut self.busy else {
                return None;
            };
            match self.stream.try_write(&b.out) {
                Ok(n) => {
                    b.out.advance(n);
                    if b.timer.is_some() {
                        b.last_write = Instant::now();
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if b.timer.is_none() {
                        b.last_write = Instant::now();
                        let at = b.last_write + WRITE_TIMEOUT;
                        self.arm_timer(at);
                    }
                    return None;
                }
                Err(_) => return Some(End::Lost),
            }
        }
    }

    fn busy_mut(&mut self) -> &mut Busy {
        self.busy.get_or_insert_with(|| {
            Box::new(Busy {
                out: BytesMut::new(),
                out_packets: 0,
                timer: None,
                last_write: Instant::now(),
            })
        })
    }

    fn arm_timer(&mut self, at: Instant) {
        let b = self.busy_mut();
        match &mut b.timer {
            Some(t) => t.as_mut().reset(at),
            None => b.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// The armed timer expired: a write stalled for [`WRITE_TIMEOUT`], or the core did not close
    /// the connection in time after a decode error or its close.
    fn check_timer(&mut self) -> Option<End> {
        let b = self.busy.as_mut()?;
        let t = b.timer.as_mut()?;
        let now = Instant::now();
        if t.deadline() > now {
            return None;
        }
        let stalled_until = b.last_write + WRITE_TIMEOUT;
        if self.reading && !b.out.is_empty() && stalled_until > now {
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
        if let Some(b) = &mut self.busy {
            if !b.out.is_empty() && self.stream.poll_write_ready(cx).is_ready() {
                ready = true;
            }
            if let Some(t) = &mut b.timer {
                if t.as_mut().poll(cx).is_ready() {
                    ready = true;
                }
            }
        }
        if self.link.poll_signal(cx).is_ready() {
            ready = true;
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
                    if self.shared.events.send(p.event).await.is_err() {
                        return;
                    }
                }
                if !self.link.is_closed() {
                    let closed = Event::Input(Box::new(Input::Closed(self.conn)));
                    let _ = self.shared.events.send(closed).await;
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

#[cfg(test)]
mod task_size {
    use super::*;

    /// Tokio allocates a task as one 128-byte-aligned cell: about 96 bytes of header and
    /// trailer, then the future. A future of at most 160 bytes keeps every connection's task in
    /// a 256-byte cell instead of a 384-byte one (`tests/idle_memory.rs` counts the heap per
    /// idle connection).
    #[tokio::test]
    async fn the_task_fits_a_256_byte_cell() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (events, _core) = mpsc::channel(1);
        let (alive, _ended) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            events,
            reports: Arc::default(),
            sockets: Semaphore::new(0),
            max_packet_size: 1024,
            _alive: alive,
        });
        let task = serve(stream, ConnId(1), shared);
        let size = std::mem::size_of_val(&task);
        assert!(
            size <= 160,
            "the connection task's future takes {size} bytes"
        );
    }
}
