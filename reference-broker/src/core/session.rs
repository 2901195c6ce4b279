//! Session state (v5 §4.1, 3.1.1 §4.1): what outlives a network connection.

use super::message::Delivery;
use super::small_map::SmallMap;
use super::ConnId;
use mqttspec_codec::{ProtocolVersion, QoS, RetainHandling, Will};
use std::collections::{BTreeSet, VecDeque};
use std::time::Instant;

/// One subscription as stored (a shared one keeps its group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubOptions {
    /// The granted QoS (MQTT-3.8.4-8: deliveries use min(message QoS, this)).
    pub qos: QoS,
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
    pub subscription_id: Option<u32>,
}

/// A subscription as the session keeps it: the filter without any `$share/{group}/` prefix, the
/// group if shared, and the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredSub {
    pub filter: String,
    pub group: Option<String>,
    pub options: SubOptions,
}

/// Where an outgoing QoS 1/2 message is in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutState {
    /// PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Published,
    /// PUBREL sent; waiting for PUBCOMP. The PUBLISH is never re-sent now (MQTT-4.3.3-6).
    Released,
}

#[derive(Debug, Clone)]
pub(crate) struct Inflight {
    pub packet_id: u16,
    pub state: OutState,
    pub delivery: Delivery,
    /// Sent on the current connection. After a reconnect every entry waits to be re-sent, within
    /// the new connection's send quota (MQTT-4.4.0-1 with MQTT-3.3.4-9).
    pub on_wire: bool,
}

/// The will stored with the session (MQTT-3.1.2-7) until published or discarded.
#[derive(Debug, Clone)]
pub(crate) struct StoredWill {
    pub will: Will,
    /// v5 Will Delay Interval, seconds.
    pub delay: u32,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub conn: Option<ConnId>,
    pub version: ProtocolVersion,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry: u32,
    /// Full topic filter (`$share/...` included) -> options.
    pub subscriptions: SmallMap<String, StoredSub>,
    /// Boxed: a `Will` holds a full property set (about 500 bytes), and most sessions have none.
    pub will: Option<Box<StoredWill>>,
    /// Set while disconnected with a will waiting for its delay.
    pub will_due: Option<Instant>,
    /// Allocated with the first message (see [`Flow`]).
    flow: Option<Box<Flow>>,
    next_packet_id: u16,
    /// Bumped at every connect and disconnect, so stale timers know they are stale.
    pub generation: u64,
}

/// The session's messages in flight either way. On the heap only once the session has had one,
/// so a session that never carried a QoS 1/2 message costs 88 bytes rather than 192.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    /// QoS 1/2 messages sent and not yet fully acknowledged, in the order sent.
    pub inflight: VecDeque<Inflight>,
    /// Messages waiting for the window (or for the client to come back).
    pub queue: VecDeque<Delivery>,
    /// QoS 2 packet ids received and PUBREC'd, waiting for PUBREL (MQTT-4.3.3-10).
    pub incoming_qos2: BTreeSet<u16>,
    /// Publishers whose acknowledgements wait for this session's queue to drain.
    pub waiters: Vec<ConnId>,
}

/// What [`Session::flow`] reads for a session that never had a message.
static NO_FLOW: Flow = Flow {
    inflight: VecDeque::new(),
    queue: VecDeque::new(),
    incoming_qos2: BTreeSet::new(),
    waiters: Vec::new(),
};

impl Session {
    pub fn new(version: ProtocolVersion) -> Self {
        Self {
            conn: None,
            version,
            expiry: 0,
            subscriptions: SmallMap::new(),
            will: None,
            will_due: None,
            flow: None,
            next_packet_id: 1,
            generation: 0,
        }
    }

    pub fn flow(&self) -> &Flow {
        self.flow.as_deref().unwrap_or(&NO_FLOW)
    }

    pub fn flow_mut(&mut self) -> &mut Flow {
        self.flow.get_or_insert_with(Box::default)
    }

    /// Takes the publishers waiting for this session's queue to drain.
    pub fn take_waiters(&mut self) -> Vec<ConnId> {
        self.flow
            .as_mut()
            .map(|f| std::mem::take(&mut f.waiters))
            .unwrap_or_default()
    }

    /// The flow state to change, if the session has one (for removals, which need none).
    pub fn flow_if_any(&mut self) -> Option<&mut Flow> {
        self.flow.as_deref_mut()
    }

    /// A packet identifier not used by any in-flight message (MQTT-2.2.1-4), or `None` if all
    /// 65,535 are in use.
    pub fn allocate_packet_id(&mut self) -> Option<u16> {
        if self.flow().inflight.len() >= usize::from(u16::MAX) {
            return None;
        }
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.flow().inflight.iter().any(|f| f.packet_id == id) {
                return Some(id);
            }
        }
    }

    /// The packet identifier tried first by the next allocation (persisted with the session).
    pub fn next_packet_id(&self) -> u16 {
        self.next_packet_id
    }

    pub fn set_next_packet_id(&mut self, id: u16) {
        self.next_packet_id = id.max(1);
    }

    pub fn inflight_index(&self, packet_id: u16) -> Option<usize> {
        self.flow()
            .inflight
            .iter()
            .position(|f| f.packet_id == packet_id)
    }
}
