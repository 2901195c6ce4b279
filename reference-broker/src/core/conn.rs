//! One network connection: what lives only as long as the socket (MQTT-3.3.2-7: topic aliases;
//! §4.9: the send quota; the limits the client announced in CONNECT).

use super::ConnId;
use mqttspec_codec::{MqttString, Packet, ProtocolVersion};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// Opened; CONNECT not yet received.
    AwaitingConnect,
    /// CONNACK 0x00 sent; bound to the session of `Conn::client_id`.
    Active,
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub id: ConnId,
    pub state: ConnState,
    pub version: ProtocolVersion,
    pub client_id: String,
    /// The keep-alive in force, in seconds (the client's, or the Server Keep Alive); 0 = none.
    pub keep_alive: u16,
    pub last_packet: Instant,
    /// The client's Receive Maximum: QoS 1/2 PUBLISHes we may have unacknowledged (§4.9).
    pub receive_maximum: u16,
    /// The client's Maximum Packet Size (MQTT-3.1.2-24).
    pub max_packet_size: u32,
    /// The client's Topic Alias Maximum (MQTT-3.1.2-26).
    pub topic_alias_maximum: u16,
    /// Request Problem Information (MQTT-3.1.2-29); true unless the client sent 0.
    pub problem_info: bool,
    /// Whether CONNECT's Session Expiry Interval was 0 (then DISCONNECT may not raise it).
    pub connect_expiry_zero: bool,
    /// Packets handed to the IO layer and not yet reported written.
    pub unwritten: usize,
    /// Allocated on first use (see [`ConnExtras`]).
    pub extras: Option<Box<ConnExtras>>,
}

/// The state of features a connection may never use: topic aliases, QoS 2 receipts, held
/// acknowledgements. On the heap only once used, so an idle connection costs 80 bytes here
/// rather than 192.
#[derive(Debug, Default)]
pub(crate) struct ConnExtras {
    /// Topic aliases the client set (inbound).
    pub aliases_in: BTreeMap<u16, MqttString>,
    /// Topic aliases the broker set (outbound), and the next free one.
    pub aliases_out: BTreeMap<MqttString, u16>,
    /// QoS 2 packet ids received on this connection and not yet released: what counts against our
    /// Receive Maximum (the send quota is per connection, §4.9).
    pub qos2_received: BTreeSet<u16>,
    /// Flow control: acknowledgements withheld from this publisher, in order, while the session
    /// `waiting_for` has too many messages queued (see publish.rs).
    pub held_acks: Vec<Packet>,
    pub waiting_for: Option<String>,
}

/// What [`Conn::extras`] reads for a connection that never used them.
static NO_EXTRAS: ConnExtras = ConnExtras {
    aliases_in: BTreeMap::new(),
    aliases_out: BTreeMap::new(),
    qos2_received: BTreeSet::new(),
    held_acks: Vec::new(),
    waiting_for: None,
};

impl Conn {
    pub fn new(id: ConnId, now: Instant) -> Self {
        Self {
            id,
            state: ConnState::AwaitingConnect,
            version: ProtocolVersion::V3_1_1,
            client_id: String::new(),
            keep_alive: 0,
            last_packet: now,
            receive_maximum: u16::MAX,
            max_packet_size: u32::MAX,
            topic_alias_maximum: 0,
            problem_info: true,
            connect_expiry_zero: true,
            unwritten: 0,
            extras: None,
        }
    }

    pub fn extras(&self) -> &ConnExtras {
        self.extras.as_deref().unwrap_or(&NO_EXTRAS)
    }

    pub fn extras_mut(&mut self) -> &mut ConnExtras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// Ends flow control's wait of this publisher on `client`'s session: the acknowledgements it
    /// held, or `None` if it was not waiting on that session.
    pub fn stop_waiting_for(&mut self, client: &str) -> Option<Vec<Packet>> {
        let e = self.extras.as_mut()?;
        if e.waiting_for.as_deref() != Some(client) {
            return None;
        }
        e.waiting_for = None;
        Some(std::mem::take(&mut e.held_acks))
    }

    pub fn is_active(&self) -> bool {
        self.state == ConnState::Active
    }

    /// The client id of an active connection.
    pub fn active_client(&self) -> Option<&str> {
        self.is_active().then_some(self.client_id.as_str())
    }

    /// When silence closes the connection: 1.5 times the keep-alive after the last packet
    /// (MQTT-3.1.2-22 in v5, MQTT-3.1.2-24 in 3.1.1). `None` when keep-alive is off.
    pub fn keep_alive_deadline(&self) -> Option<Instant> {
        if !self.is_active() || self.keep_alive == 0 {
            return None;
        }
        Some(self.last_packet + Duration::from_millis(u64::from(self.keep_alive) * 1500))
    }

    /// The outbound alias to use for `topic`: `(alias, new)`; `None` if aliases are off or full.
    pub fn alias_for(&self, topic: &MqttString) -> Option<(u16, bool)> {
        if self.topic_alias_maximum == 0 {
            return None;
        }
        if let Some(&a) = self.extras().aliases_out.get(topic) {
            return Some((a, false));
        }
        let next = u16::try_from(self.extras().aliases_out.len() + 1).ok()?;
        (next <= self.topic_alias_maximum).then_some((next, true))
    }
}
