//! What the core task and one connection's task share: the connection's encoded outbound bytes,
//! its count of packets waiting for the core, and one waker.
//!
//! Why not channels: a tokio channel costs each connection about a kilobyte from its creation (a
//! block of 32 slots and cache-padded counters), and packets would be boxed one by one. Here the
//! core encodes straight into the connection's buffer, so one `write` carries everything queued
//! since the last one, and an idle connection holds an empty buffer and a few counters.

use crate::core::ConnId;
use bytes::BytesMut;
use mqttspec_codec::{encode, Packet, ProtocolVersion};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// Bytes reserved when a connection's empty outbound buffer gets its first packet.
const OUT_CHUNK: usize = 4096;

/// One connection's side of the core task.
#[derive(Default)]
pub(super) struct Link {
    state: Mutex<State>,
    /// Packets the connection handed to the core that the core has not handled yet.
    inputs: AtomicUsize,
}

#[derive(Default)]
struct State {
    /// Encoded packets not yet taken by the connection task, and how many there are.
    out: BytesMut,
    out_packets: usize,
    /// Packets written to the socket and not yet reported to the core.
    written: usize,
    /// The core closed the connection: write what is queued, then close.
    closed: bool,
    /// Something changed since the connection task last looked.
    signalled: bool,
    waker: Option<Waker>,
}

/// Why [`Link::push`] refused a packet.
pub(super) struct Gone;

impl Link {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // --- the core task's side ---------------------------------------------------------------

    /// Encodes `packet` into the outbound buffer. Returns the waker to wake once the whole
    /// batch of outputs is queued (only the first packet since the task last looked has one).
    /// `Gone` if more than `limit` packets wait (the task stopped taking them).
    pub(super) fn push(
        &self,
        conn: ConnId,
        packet: &Packet,
        version: ProtocolVersion,
        limit: usize,
    ) -> Result<Option<Waker>, Gone> {
        let mut s = self.lock();
        if s.out_packets >= limit {
            return Err(Gone);
        }
        if s.out.capacity() == 0 {
            s.out.reserve(OUT_CHUNK);
        }
        if let Err(e) = encode(packet, version, &mut s.out) {
            tracing::warn!(%conn, error = %e, "cannot encode packet");
        }
        s.out_packets += 1;
        Ok(s.signal())
    }

    /// The core closed the connection: the task writes what is queued and closes.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.wake();
    }

    /// Signals the task and wakes it (outside the lock) if it was not signalled already.
    fn wake(&self) {
        let waker = self.lock().signal();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The core handled one of the connection's packets. A task that filled its `slots` waits
    /// until half are free again: woken for every free slot, a flooding publisher's task would
    /// be woken (and its thread maybe unparked) once per packet.
    pub(super) fn input_done(&self, slots: usize) {
        if self.inputs.fetch_sub(1, Ordering::AcqRel) == slots / 2 + 1 {
            self.wake();
        }
    }

    /// Packets written since the last call.
    pub(super) fn take_written(&self) -> usize {
        std::mem::take(&mut self.lock().written)
    }

    // --- the connection task's side ---------------------------------------------------------

    /// Ready once something changed since the last time it was ready.
    pub(super) fn poll_signal(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.lock();
        if std::mem::take(&mut s.signalled) {
            return Poll::Ready(());
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Takes the queued bytes and their packet count, and whether the core closed the
    /// connection (then nothing more will be queued). `spare`, the task's emptied buffer, takes
    /// their place, so a busy connection's two buffers keep their size (no regrowth copies);
    /// with nothing queued it is dropped instead, so an idle connection holds none.
    pub(super) fn take_out(&self, spare: BytesMut) -> (BytesMut, usize, bool) {
        let mut s = self.lock();
        if s.out.is_empty() {
            return (BytesMut::new(), 0, s.closed);
        }
        let packets = std::mem::take(&mut s.out_packets);
        (std::mem::replace(&mut s.out, spare), packets, s.closed)
    }

    /// Whether the core closed the connection.
    pub(super) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Counts `packets` as written; true if the core must be told (it was not already).
    pub(super) fn add_written(&self, packets: usize) -> bool {
        let mut s = self.lock();
        s.written += packets;
        s.written == packets
    }

    /// Counts one packet handed to the core.
    pub(super) fn input_sent(&self) {
        self.inputs.fetch_add(1, Ordering::AcqRel);
    }

    /// Packets the core holds.
    pub(super) fn inputs(&self) -> usize {
        self.inputs.load(Ordering::Acquire)
    }
}

impl State {
    /// Marks a change; the waker to wake if the task has not been told yet.
    fn signal(&mut self) -> Option<Waker> {
        if self.signalled {
            return None;
        }
        self.signalled = true;
        self.waker.take()
    }
}

/// Connections with written packets to report, for the core task. Outside the event queue, so a
/// busy queue does not delay the reports that let the core send more.
#[derive(Default)]
pub(super) struct WrittenReports {
    conns: Mutex<Vec<ConnId>>,
    pub(super) notify: Notify,
}

impl WrittenReports {
    /// Lists `conn` (callers list each connection once until the core takes its count).
    pub(super) fn push(&self, conn: ConnId) {
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        self.notify.notify_one();
    }

    /// The connections listed since the last call.
    pub(super) fn take(&self, into: &mut Vec<ConnId>) {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *conns, into);
    }
}
