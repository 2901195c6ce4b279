//! Fuzzing oracles (behind the `arbitrary` feature).
//!
//! Each cargo-fuzz target in `fuzz/` is one call to a function of this module, so the logic that
//! judges an input lives here, and a crash found by the fuzzer becomes a plain test calling the
//! same function with the same bytes (see `codec/tests/fuzz_regressions.rs`).
//!
//! - [`decode_v311`], [`decode_v5`] ([`check_decode`]): any bytes into the decoder. It must not
//!   panic, and every packet it yields must re-encode, within the bytes it came from, to a packet
//!   that decodes to itself.
//! - [`decode_stream`] ([`check_stream`]): the same bytes fed in chunks must give the same
//!   packets and the same error as fed whole.
//! - [`roundtrip`] ([`check_roundtrip`]): an [`Arbitrary`](arbitrary::Arbitrary) packet, and the
//!   same packet made valid by [`sanitize`], encode to bytes that decode to what the version can
//!   carry of it ([`project`]).

use crate::packet::{Connect, Packet, PubAck, Subscription, UnsubAck};
use crate::properties::{id, is_allowed, BoxedProperties, PropertyContext};
use crate::reason::{ReasonCode, ReasonContext};
use crate::topic::{parse_shared, validate_topic_filter, validate_topic_name};
use crate::{decode_one, encode, DecodeError, Decoder, EncodeError, MqttString, Properties};
use crate::{Disconnect, ProtocolVersion, QoS, MAX_VARIABLE_BYTE_INTEGER};
use bytes::BytesMut;

/// Target `decode_v311`: bytes into a 3.1.1 decoder.
pub fn decode_v311(data: &[u8]) {
    check_decode(data, Some(ProtocolVersion::V3_1_1));
}

/// Target `decode_v5`: bytes into a 5.0 decoder.
pub fn decode_v5(data: &[u8]) {
    check_decode(data, Some(ProtocolVersion::V5));
}

/// Target `decode_stream`. The input is `[mode, n, n chunk sizes..., stream...]`: `mode % 3`
/// picks a 3.1.1, a 5.0 or a learning decoder, and the chunk sizes (used in turn, 0 meaning an
/// empty feed) split the stream; with none, the stream is fed one byte at a time.
pub fn decode_stream(data: &[u8]) {
    let [mode, n, rest @ ..] = data else {
        return;
    };
    let version = match mode % 3 {
        0 => Some(ProtocolVersion::V3_1_1),
        1 => Some(ProtocolVersion::V5),
        _ => None,
    };
    let (sizes, stream) = rest.split_at(usize::from(n % 16).min(rest.len()));
    check_stream(stream, version, sizes);
}

/// Target `roundtrip`: the input drives [`arbitrary`] to build a version and a packet.
pub fn roundtrip(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok((version, packet)) = u.arbitrary::<(ProtocolVersion, Packet)>() {
        check_roundtrip(&packet, version);
    }
}

fn new_decoder(version: Option<ProtocolVersion>) -> Decoder {
    version.map_or_else(Decoder::learning, Decoder::new)
}

/// Checks that an error is whole: it renders, names a rule and maps to a reason code.
fn check_error(e: &DecodeError) {
    assert!(
        e.spec.starts_with("MQTT-") || e.spec.starts_with('§'),
        "{e:?} names no rule"
    );
    // Rendered into a counter rather than a String: most fuzz inputs end in an error.
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut rendered = Count(0);
    std::fmt::write(&mut rendered, format_args!("{e}")).unwrap();
    assert!(rendered.0 > 0);
    assert!(e.reason_code().is_error(), "{e:?} maps to a success code");
}

/// Decodes `data` with a decoder for `version` (`None`: a learning one) until it needs more
/// bytes or fails. Every packet must re-encode to at most the bytes it was decoded from (the
/// encoder writes the shortest form), in exactly `encoded_len` bytes, that decode to the same
/// packet.
pub fn check_decode(data: &[u8], version: Option<ProtocolVersion>) {
    let mut decoder = new_decoder(version);
    decoder.feed(data);
    loop {
        // Before the first CONNECT, a learning decoder reads packets with 3.1.1 framing.
        let v = decoder.version().unwrap_or(ProtocolVersion::V3_1_1);
        let before = decoder.buffered();
        match decoder.next() {
            Ok(Some(packet)) => check_reencode(&packet, v, before - decoder.buffered()),
            Ok(None) => return,
            Err(e) => return check_error(&e),
        }
    }
}

fn check_reencode(packet: &Packet, version: ProtocolVersion, frame_len: usize) {
    let mut out = BytesMut::new();
    encode(packet, version, &mut out)
        .unwrap_or_else(|e| panic!("decoded {packet:?} does not encode: {e}"));
    assert_eq!(out.len(), packet.encoded_len(version), "{packet:?}");
    assert!(
        out.len() <= frame_len,
        "{packet:?} grew from {frame_len} to {} bytes",
        out.len()
    );
    // The bytes, shown only on failure (the closure encodes again).
    let shown = || {
        format!(
            "{:02x?}",
            crate::to_bytes(packet, version).unwrap_or_default()
        )
    };
    // Decoded in place (the encoded buffer becomes the decoder's), as `decode_one` would but
    // without copying; a CONNECT is read for the version it names.
    let mut decoder = match packet {
        Packet::Connect(_) => Decoder::learning(),
        _ => Decoder::new(version),
    };
    *decoder.buffer_mut() = out;
    let again = decoder
        .next()
        .unwrap_or_else(|e| panic!("{packet:?} re-encoded as {} fails: {e}", shown()))
        .unwrap_or_else(|| panic!("{packet:?} re-encoded as {} is incomplete", shown()));
    assert!(
        decoder.buffered() == 0,
        "{packet:?} re-encoded as {}",
        shown()
    );
    // Equal packets encode to equal bytes, so `again` needs no encoding of its own.
    assert!(
        &again == packet,
        "{packet:?} re-encoded as {} decodes as {again:?}",
        shown()
    );
}

/// What a decoder makes of a whole stream: its packets, then its error or the bytes it holds.
fn decode_whole(
    stream: &[u8],
    version: Option<ProtocolVersion>,
) -> (Vec<Packet>, Result<usize, DecodeError>) {
    let mut decoder = new_decoder(version);
    decoder.feed(stream);
    let mut packets = Vec::new();
    loop {
        match decoder.next() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => return (packets, Ok(decoder.buffered())),
            Err(e) => return (packets, Err(e)),
        }
    }
}

/// Feeds `stream` in chunks of `sizes` (in turn; 0 is an empty feed; no sizes: one byte at a
/// time), taking every packet out after each feed, and checks that the result equals feeding
/// the stream whole.
pub fn check_stream(stream: &[u8], version: Option<ProtocolVersion>, sizes: &[u8]) {
    let whole = decode_whole(stream, version);
    let mut decoder = new_decoder(version);
    let mut packets = Vec::new();
    let mut rest = stream;
    let mut sizes = sizes.iter().map(|s| usize::from(*s)).cycle();
    let mut empty_feeds = 0;
    let outcome = loop {
        let size = match sizes.next() {
            None => 1,
            // A run of zero sizes must not stall the loop.
            Some(0) if empty_feeds > 16 => 1,
            Some(s) => s,
        };
        empty_feeds = if size == 0 { empty_feeds + 1 } else { 0 };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        decoder.feed(chunk);
        let error = loop {
            match decoder.next() {
                Ok(Some(p)) => packets.push(p),
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        if let Some(e) = error {
            break Err(e);
        }
        if rest.is_empty() {
            break Ok(decoder.buffered());
        }
    };
    assert_eq!((packets, outcome), whole, "chunked differs from whole");
}

/// Checks `packet` as generated, and made valid by [`sanitize`]: whatever encodes writes exactly
/// `encoded_len` bytes, and whatever of that decodes is the packet as `version` can carry it.
/// The sanitized packet must encode and decode.
pub fn check_roundtrip(packet: &Packet, version: ProtocolVersion) {
    check_one_roundtrip(packet, version, false);
    check_one_roundtrip(&sanitize(packet.clone(), version), version, true);
}

fn check_one_roundtrip(packet: &Packet, version: ProtocolVersion, valid: bool) {
    let mut out = BytesMut::new();
    match encode(packet, version, &mut out) {
        Ok(()) => {}
        Err(e) => {
            assert!(out.is_empty(), "a failed encode wrote {} bytes", out.len());
            // Fuzz inputs are small, so a sanitized packet can only miss AUTH before 5.0.
            assert!(
                !valid || matches!(e, EncodeError::NotInVersion(..)),
                "sanitized {packet:?} does not encode: {e}"
            );
            return;
        }
    }
    assert_eq!(out.len(), packet.encoded_len(version), "{packet:?}");
    let decoded = match decode_one(&out, version) {
        Ok(p) => p,
        Err(e) if !valid => return check_error(&e),
        Err(e) => panic!("sanitized {packet:?}, encoded as {out:02x?}, does not decode: {e}"),
    };
    assert_eq!(decoded, project(packet, version), "encoded as {out:02x?}");
    let mut again = BytesMut::new();
    encode(&decoded, version, &mut again).unwrap();
    assert_eq!(
        out, again,
        "{packet:?} and its decoded form encode differently"
    );
}

/// What of `packet` survives encoding for `version`: under 3.1.1 the v5-only parts are dropped
/// (CONNECT goes by its own `protocol`), and a QoS 0 PUBLISH carries no packet identifier.
pub fn project(packet: &Packet, version: ProtocolVersion) -> Packet {
    let mut p = packet.clone();
    let none = BoxedProperties::new;
    match &mut p {
        Packet::Connect(c) if !c.protocol.is_v5() => {
            c.properties = none();
            if let Some(w) = &mut c.will {
                w.properties = none();
            }
        }
        Packet::Publish(x) => {
            if x.qos == QoS::AtMostOnce {
                x.packet_id = None;
            }
            if !version.is_v5() {
                x.properties = none();
            }
        }
        _ if version.is_v5() => {}
        Packet::Connack(x) => x.properties = none(),
        Packet::Puback(x) | Packet::Pubrec(x) | Packet::Pubrel(x) | Packet::Pubcomp(x) => {
            *x = PubAck::new(x.packet_id)
        }
        Packet::Subscribe(x) => {
            x.properties = none();
            for f in &mut x.filters {
                *f = Subscription::new(f.filter.clone(), f.qos);
            }
        }
        Packet::Suback(x) => x.properties = none(),
        Packet::Unsubscribe(x) => x.properties = none(),
        Packet::Unsuback(x) => {
            *x = UnsubAck {
                packet_id: x.packet_id,
                ..UnsubAck::default()
            }
        }
        Packet::Disconnect(x) => *x = Disconnect::default(),
        _ => {}
    }
    p
}

/// Makes an arbitrary packet valid for `version` with as few changes as it can: properties a
/// packet may not carry are dropped and values brought into range, U+0000 is taken out of
/// strings, invalid topics and filters are repaired or replaced, packet identifiers made
/// non-zero, reason codes outside a packet's table replaced by 0x00.
pub fn sanitize(packet: Packet, version: ProtocolVersion) -> Packet {
    use PropertyContext as P;
    let v5 = version.is_v5();
    let code = |c: ReasonCode, ctx| {
        if c.is_valid_for(ctx, v5) {
            c
        } else {
            ReasonCode::SUCCESS
        }
    };
    let ack = |a: PubAck, rc, pc| PubAck {
        packet_id: a.packet_id.max(1),
        reason_code: code(a.reason_code, rc),
        properties: sanitize_properties(&a.properties, pc).into(),
    };
    match packet {
        Packet::Connect(c) => Packet::Connect(Box::new(sanitize_connect(*c))),
        Packet::Connack(mut c) => {
            c.reason_code = code(c.reason_code, ReasonContext::Connack);
            c.session_present &= c.reason_code == ReasonCode::SUCCESS;
            c.properties = sanitize_properties(&c.properties, P::Connack).into();
            Packet::Connack(c)
        }
        Packet::Publish(mut p) => {
            p.properties = sanitize_properties(&p.properties, P::Publish).into();
            let qos0 = p.qos == QoS::AtMostOnce;
            p.dup &= !qos0;
            p.packet_id = (!qos0).then(|| p.packet_id.unwrap_or(1).max(1));
            if !(v5 && p.topic.is_empty() && p.properties.topic_alias.is_some()) {
                p.topic = topic_name(&p.topic);
            }
            Packet::Publish(p)
        }
        Packet::Puback(a) => Packet::Puback(ack(a, ReasonContext::Puback, P::Puback)),
        Packet::Pubrec(a) => Packet::Pubrec(ack(a, ReasonContext::Pubrec, P::Pubrec)),
        Packet::Pubrel(a) => Packet::Pubrel(ack(a, ReasonContext::Pubrel, P::Pubrel)),
        Packet::Pubcomp(a) => Packet::Pubcomp(ack(a, ReasonContext::Pubcomp, P::Pubcomp)),
        Packet::Subscribe(mut s) => {
            s.packet_id = s.packet_id.max(1);
            s.properties = sanitize_properties(&s.properties, P::Subscribe).into();
            for f in &mut s.filters {
                f.filter = topic_filter(&f.filter, v5);
                // No Local on a shared subscription is a Protocol Error (MQTT-3.8.3-4).
                f.no_local &= !(v5 && parse_shared(&f.filter).is_some());
            }
            if s.filters.is_empty() {
                s.filters.push(Subscription::new("f", QoS::AtMostOnce));
            }
            Packet::Subscribe(s)
        }
        Packet::Suback(mut s) => {
            s.packet_id = s.packet_id.max(1);
            s.properties = sanitize_properties(&s.properties, P::Suback).into();
            s.reason_codes = codes(&s.reason_codes, |c| code(c, ReasonContext::Suback));
            Packet::Suback(s)
        }
        Packet::Unsubscribe(mut u) => {
            u.packet_id = u.packet_id.max(1);
            u.properties = sanitize_properties(&u.properties, P::Unsubscribe).into();
            u.filters = u.filters.iter().map(|f| topic_filter(f, v5)).collect();
            if u.filters.is_empty() {
                u.filters.push("f".into());
            }
            Packet::Unsubscribe(u)
        }
        Packet::Unsuback(mut u) => {
            u.packet_id = u.packet_id.max(1);
            u.properties = sanitize_properties(&u.properties, P::Unsuback).into();
            u.reason_codes = codes(&u.reason_codes, |c| code(c, ReasonContext::Unsuback));
            Packet::Unsuback(u)
        }
        Packet::Disconnect(mut d) => {
            d.reason_code = code(d.reason_code, ReasonContext::Disconnect);
            d.properties = sanitize_properties(&d.properties, P::Disconnect).into();
            Packet::Disconnect(d)
        }
        Packet::Auth(mut a) => {
            a.reason_code = code(a.reason_code, ReasonContext::Auth);
            a.properties = sanitize_properties(&a.properties, P::Auth).into();
            // Only the short form may leave out the Authentication Method (§3.15.2.2.2).
            if a.reason_code != ReasonCode::SUCCESS || !a.properties.is_empty() {
                a.properties
                    .authentication_method
                    .get_or_insert_with(|| "m".into());
            }
            Packet::Auth(a)
        }
        p @ (Packet::Pingreq | Packet::Pingresp) => p,
    }
}

fn sanitize_connect(mut c: Connect) -> Connect {
    c.properties = sanitize_properties(&c.properties, PropertyContext::Connect).into();
    c.client_id = text(&c.client_id);
    if let Some(w) = &mut c.will {
        w.topic = topic_name(&w.topic);
        w.properties = sanitize_properties(&w.properties, PropertyContext::Will).into();
    }
    c.username = c.username.as_ref().map(text);
    // Before 5.0 a password needs a user name (MQTT-3.1.2-22).
    if !c.protocol.is_v5() && c.password.is_some() {
        c.username.get_or_insert_with(MqttString::new);
    }
    c
}

/// At least one code, each valid (SUBACK and v5 UNSUBACK have one per filter).
fn codes(codes: &[ReasonCode], valid: impl Fn(ReasonCode) -> ReasonCode) -> Vec<ReasonCode> {
    let mut out: Vec<ReasonCode> = codes.iter().map(|c| valid(*c)).collect();
    if out.is_empty() {
        out.push(ReasonCode::SUCCESS);
    }
    out
}

/// The string without U+0000 (MQTT-1.5.4-2).
fn text(s: &MqttString) -> MqttString {
    if s.contains('\0') {
        s.replace('\0', "").into()
    } else {
        s.clone()
    }
}

fn without(s: &str, chars: &[char]) -> String {
    s.chars().filter(|c| !chars.contains(c)).collect()
}

/// A valid Topic Name: the string without wildcards and U+0000, or "t" if nothing is left.
fn topic_name(s: &MqttString) -> MqttString {
    if validate_topic_name(s).is_ok() {
        return s.clone();
    }
    let t = without(s, &['\0', '+', '#']);
    if t.is_empty() {
        "t".into()
    } else {
        t.into()
    }
}

/// A valid Topic Filter: the string if it is one, else without wildcards, else "f".
fn topic_filter(s: &MqttString, v5: bool) -> MqttString {
    if validate_topic_filter(s, v5).is_ok() {
        return s.clone();
    }
    let t = without(s, &['\0', '+', '#']);
    if validate_topic_filter(&t, v5).is_ok() {
        t.into()
    } else {
        "f".into()
    }
}

/// Keeps the properties `context` may carry, with values in range.
fn sanitize_properties(p: &Properties, context: PropertyContext) -> Properties {
    let ok = |property| is_allowed(property, context);
    let flag = |v: Option<u8>, property| v.filter(|_| ok(property)).map(|b| b & 1);
    let string = |v: &Option<MqttString>, property| v.as_ref().filter(|_| ok(property)).map(text);
    let mut out = Properties {
        payload_format_indicator: flag(p.payload_format_indicator, id::PAYLOAD_FORMAT_INDICATOR),
        message_expiry_interval: p
            .message_expiry_interval
            .filter(|_| ok(id::MESSAGE_EXPIRY_INTERVAL)),
        content_type: string(&p.content_type, id::CONTENT_TYPE),
        response_topic: p
            .response_topic
            .as_ref()
            .filter(|_| ok(id::RESPONSE_TOPIC))
            .map(topic_name),
        correlation_data: p
            .correlation_data
            .clone()
            .filter(|_| ok(id::CORRELATION_DATA)),
        subscription_identifiers: if ok(id::SUBSCRIPTION_IDENTIFIER) {
            let mut ids: Vec<u32> = p
                .subscription_identifiers
                .iter()
                .copied()
                .filter(|i| (1..=MAX_VARIABLE_BYTE_INTEGER).contains(i))
                .collect();
            // Only PUBLISH may repeat it.
            if context == PropertyContext::Subscribe {
                ids.truncate(1);
            }
            ids
        } else {
            Vec::new()
        },
        session_expiry_interval: p
            .session_expiry_interval
            .filter(|_| ok(id::SESSION_EXPIRY_INTERVAL)),
        assigned_client_identifier: string(
            &p.assigned_client_identifier,
            id::ASSIGNED_CLIENT_IDENTIFIER,
        ),
        server_keep_alive: p.server_keep_alive.filter(|_| ok(id::SERVER_KEEP_ALIVE)),
        authentication_method: string(&p.authentication_method, id::AUTHENTICATION_METHOD),
        authentication_data: p
            .authentication_data
            .clone()
            .filter(|_| ok(id::AUTHENTICATION_DATA)),
        request_problem_information: flag(
            p.request_problem_information,
            id::REQUEST_PROBLEM_INFORMATION,
        ),
        will_delay_interval: p
            .will_delay_interval
            .filter(|_| ok(id::WILL_DELAY_INTERVAL)),
        request_response_information: flag(
            p.request_response_information,
            id::REQUEST_RESPONSE_INFORMATION,
        ),
        response_information: string(&p.response_information, id::RESPONSE_INFORMATION),
        server_reference: string(&p.server_reference, id::SERVER_REFERENCE),
        reason_string: string(&p.reason_string, id::REASON_STRING),
        receive_maximum: p
            .receive_maximum
            .filter(|v| *v > 0 && ok(id::RECEIVE_MAXIMUM)),
        topic_alias_maximum: p
            .topic_alias_maximum
            .filter(|_| ok(id::TOPIC_ALIAS_MAXIMUM)),
        topic_alias: p.topic_alias.filter(|v| *v > 0 && ok(id::TOPIC_ALIAS)),
        maximum_qos: flag(p.maximum_qos, id::MAXIMUM_QOS),
        retain_available: flag(p.retain_available, id::RETAIN_AVAILABLE),
        user_properties: if ok(id::USER_PROPERTY) {
            p.user_properties
                .iter()
                .map(|(k, v)| (text(k), text(v)))
                .collect()
        } else {
            Vec::new()
        },
        maximum_packet_size: p
            .maximum_packet_size
            .filter(|v| *v > 0 && ok(id::MAXIMUM_PACKET_SIZE)),
        wildcard_subscription_available: flag(
            p.wildcard_subscription_available,
            id::WILDCARD_SUBSCRIPTION_AVAILABLE,
        ),
        subscription_identifier_available: flag(
            p.subscription_identifier_available,
            id::SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        ),
        shared_subscription_available: flag(
            p.shared_subscription_available,
            id::SHARED_SUBSCRIPTION_AVAILABLE,
        ),
    };
    // Authentication Data needs an Authentication Method (§3.1.2.11.10).
    if context == PropertyContext::Connect && out.authentication_method.is_none() {
        out.authentication_data = None;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_makes_packets_valid() {
        let p = Packet::Publish(crate::Publish {
            qos: QoS::AtLeastOnce,
            topic: "a/+\0".into(),
            packet_id: Some(0),
            properties: Properties {
                reason_string: Some("not in PUBLISH".into()),
                topic_alias: Some(0),
                payload_format_indicator: Some(7),
                ..Properties::default()
            }
            .into(),
            ..crate::Publish::default()
        });
        for v in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            assert!(decode_one(&crate::to_bytes(&p, v).unwrap(), v).is_err());
            let s = sanitize(p.clone(), v);
            let Packet::Publish(x) = &s else {
                unreachable!()
            };
            assert_eq!((x.topic.as_str(), x.packet_id), ("a/", Some(1)));
            assert_eq!(x.properties.payload_format_indicator, Some(1));
            assert_eq!(x.properties.reason_string, None);
            check_roundtrip(&p, v);
        }
    }

    #[test]
    fn project_drops_what_3_1_1_cannot_carry() {
        let ack = Packet::Puback(PubAck {
            packet_id: 3,
            reason_code: ReasonCode(0x10),
            properties: Default::default(),
        });
        assert_eq!(
            project(&ack, ProtocolVersion::V3_1_1),
            Packet::Puback(PubAck::new(3))
        );
        assert_eq!(project(&ack, ProtocolVersion::V5), ack);
    }

    #[test]
    fn stream_inputs_split_as_documented() {
        // Learning decoder (mode 2), chunk sizes [0, 3], then PINGREQ twice.
        decode_stream(&[2, 2, 0, 3, 0xC0, 0x00, 0xC0, 0x00]);
        // A lone mode byte or nothing at all is no input.
        decode_stream(&[]);
        decode_stream(&[1]);
    }
}
