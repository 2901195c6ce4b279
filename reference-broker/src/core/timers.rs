//! The deadlines of the core in one min-heap.
//!
//! Entries are never removed or updated in place: when a timer fires, its owner re-checks the
//! state it guards (a keep-alive deadline that moved, a session whose generation changed) and
//! either acts, re-arms or ignores it. So refreshing a keep-alive on every packet costs nothing.

use super::ConnId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A connection must have sent CONNECT by now.
    Connect(ConnId),
    /// A connection's keep-alive may have run out.
    KeepAlive(ConnId),
    /// A disconnected session's delayed will may be due (client id, session generation).
    Will(String, u64),
    /// A disconnected session may have expired (client id, session generation).
    Expiry(String, u64),
    /// Time to publish `$SYS/` statistics.
    Sys,
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn push(&mut self, at: Instant, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns a timer due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.next()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse((_, t))| t)
    }
}
