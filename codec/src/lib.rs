//! A strict, zero-copy codec for MQTT 3.1.1 and 5.0.
//!
//! # Layout
//! - [`packet`]: the model. One [`Packet`] enum for both versions; v5-only parts (properties,
//!   reason codes, AUTH) are present and empty under 3.1.1. [`encode`] writes a packet for a version.
//! - [`Decoder`]: feeds on bytes in any split and yields whole packets, learning the version from
//!   CONNECT when asked to; [`decode_one`] for a single complete packet.
//! - [`properties`]: every v5 property and the rules of which packet may carry which.
//! - [`reason`]: reason codes and which packet may carry which.
//! - [`topic`]: topic name and filter validation, and matching.
//! - [`error`]: [`DecodeError`] names the broken spec statement and the reason code to answer.
//! - `wire`: the data representations of §1.5, shared by every packet.
//!
//! The encoder is permissive (it writes what it is given, so tests can send packets a broker must
//! refuse); the decoder is strict (it checks every malformed-packet rule of both specs).

mod binary;
mod decoder;
pub mod error;
#[cfg(feature = "arbitrary")]
pub mod fuzzing;
pub mod packet;
pub mod properties;
pub mod reason;
mod scan;
mod string;
pub mod topic;
mod version;
mod wire;

pub use decoder::{decode_one, Decoder, MAX_PACKET_SIZE};
pub use error::{DecodeError, EncodeError, ErrorKind};
pub use packet::{
    encode, Auth, Connack, Connect, Disconnect, Packet, PubAck, Publish, RetainHandling, SubAck,
    Subscribe, Subscription, UnsubAck, Unsubscribe, Will,
};
pub use properties::{BoxedProperties, Properties};
pub use reason::ReasonCode;
pub use string::MqttString;
pub use version::{ProtocolVersion, QoS};
pub use wire::MAX_VARIABLE_BYTE_INTEGER;

/// Encodes `packet` into a fresh buffer: a convenience for tests and tools.
pub fn to_bytes(packet: &Packet, version: ProtocolVersion) -> Result<bytes::Bytes, EncodeError> {
    let mut out = bytes::BytesMut::new();
    encode(packet, version, &mut out)?;
    Ok(out.freeze())
}
