//! CONNECT / CONNACK, client identifiers, takeover, refusals, bad input.

use super::*;
use crate::core::Input;
use mqttspec_codec::reason::v3_connack;
use mqttspec_codec::{decode_one, ErrorKind, MqttString};

#[test]
fn v5_connack_announces_the_server_limits() {
    let mut sim = Sim::new();
    let (_, ack) = sim.connect_with(v5("c"));
    assert!(!ack.session_present);
    let p = ack.properties;
    assert_eq!(p.receive_maximum, Some(100));
    assert_eq!(p.topic_alias_maximum, Some(10));
    assert_eq!(p.maximum_packet_size, Some(1024 * 1024));
    assert_eq!(
        p.maximum_qos, None,
        "QoS 2 is supported: no Maximum QoS (MQTT-3.2.2-9)"
    );
    assert_eq!(p.retain_available, None);
    assert_eq!(p.assigned_client_identifier, None);
}

#[test]
fn v5_empty_client_id_gets_an_assigned_one() {
    let mut sim = Sim::new();
    let (_, a) = sim.connect_with(v5(""));
    let (_, b) = sim.connect_with(v5(""));
    let a = a
        .properties
        .into_inner()
        .assigned_client_identifier
        .expect("MQTT-3.2.2-16");
    let b = b
        .properties
        .into_inner()
        .assigned_client_identifier
        .expect("MQTT-3.2.2-16");
    assert!(!a.is_empty());
    assert_ne!(a, b);
    assert_eq!(sim.broker.connected_clients(), 2);
}

#[test]
fn v3_empty_client_id_depends_on_clean_session() {
    let mut sim = Sim::new();
    let (conn, ack) = sim.connect_with(v3_persistent(""));
    assert_eq!(
        ack.reason_code,
        v3_connack::IDENTIFIER_REJECTED,
        "MQTT-3.1.3-8"
    );
    assert!(sim.is_closed(conn));
    let (conn, ack) = sim.connect_with(v3(""));
    assert_eq!(ack.reason_code, v3_connack::ACCEPTED);
    assert!(!sim.is_closed(conn));
}

#[test]
fn first_packet_must_be_connect_and_nothing_is_sent_back() {
    let mut sim = Sim::new();
    let conn = sim.open();
    sim.send(conn, Packet::Pingreq);
    assert!(sim.is_closed(conn));
    sim.nothing(conn); // MQTT-3.14.0-1: no DISCONNECT before CONNACK
}

#[test]
fn second_connect_is_a_protocol_error() {
    let mut sim = Sim::new();
    let conn = sim.connect(v5("c"));
    sim.send(conn, Packet::from(v5("c")));
    assert_eq!(disconnect_code(sim.one(conn)), ReasonCode::PROTOCOL_ERROR);
    assert!(sim.is_closed(conn));
    let conn = sim.connect(v3("d"));
    sim.send(conn, Packet::from(v3("d")));
    sim.nothing(conn);
    assert!(sim.is_closed(conn), "MQTT-3.1.0-2");
}

#[test]
fn authentication_methods_are_refused_with_0x8c() {
    let mut sim = Sim::new();
    let mut c = v5("c");
    c.properties.authentication_method = Some("SCRAM-SHA-1".into());
    let (conn, ack) = sim.connect_with(c);
    assert_eq!(ack.reason_code, ReasonCode::BAD_AUTHENTICATION_METHOD);
    assert!(sim.is_closed(conn));
}

#[test]
fn refusing_connack_fits_the_clients_maximum_packet_size() {
    // MQTT-3.2.2-19: the Reason String is dropped when it would not fit.
    let mut sim = Sim::new();
    let mut c = v5("c");
    c.properties.authentication_method = Some("SCRAM-SHA-1".into());
    c.properties.maximum_packet_size = Some(16);
    let (conn, ack) = sim.connect_with(c);
    assert_eq!(ack.reason_code, ReasonCode::BAD_AUTHENTICATION_METHOD);
    assert_eq!(ack.properties.reason_string, None);
    assert!(sim.is_closed(conn));
}

#[test]
fn a_client_whose_maximum_packet_size_cannot_hold_the_connack_is_closed_unconnected() {
    // The CONNACK (Topic Alias Maximum, Maximum QoS...) takes more than 8 bytes: it may not be
    // sent (MQTT-3.1.2-24), nor may anything else come first (MQTT-3.2.0-1), so the connection
    // is closed without touching the session it names. Found by the broker_core fuzz target.
    let mut config = quiet();
    config.limits.topic_alias_maximum = 10;
    config.limits.maximum_qos = QoS::AtLeastOnce;
    let mut sim = Sim::with(config);
    let (old, _) = sim.connect_with(v5_persistent("c", 60));
    let conn = sim.open();
    let mut c = v5_persistent("c", 60);
    c.properties.maximum_packet_size = Some(8);
    sim.send(conn, Packet::from(c));
    sim.nothing(conn);
    assert!(sim.is_closed(conn));
    // The existing connection of that client id was not taken over.
    assert!(!sim.is_closed(old));
    sim.input(Input::Shutdown);
    assert_eq!(
        disconnect_code(sim.one(old)),
        ReasonCode::SERVER_SHUTTING_DOWN
    );
}

#[test]
fn password_file_users_must_log_in() {
    let mut config = quiet();
    config.users = Some([("alice".to_owned(), "secret".to_owned())].into());
    let mut sim = Sim::with(config);
    let (conn, ack) = sim.connect_with(v5("c"));
    assert_eq!(ack.reason_code, ReasonCode::BAD_USER_NAME_OR_PASSWORD);
    assert!(sim.is_closed(conn));
    let mut c = v3("c");
    c.username = Some("alice".into());
    c.password = Some(Bytes::from_static(b"wrong"));
    let (_, ack) = sim.connect_with(c.clone());
    assert_eq!(ack.reason_code, v3_connack::BAD_USER_NAME_OR_PASSWORD);
    c.password = Some(Bytes::from_static(b"secret"));
    sim.connect(c);
}

#[test]
fn takeover_disconnects_the_old_connection_with_0x8e() {
    let mut sim = Sim::new();
    let old = sim.connect(v5_persistent("c", 60));
    sim.send(old, subscribe(1, "t", QoS::AtLeastOnce));
    sim.recv(old);
    let (new, ack) = sim.connect_with(v5_persistent("c", 60));
    assert_eq!(
        disconnect_code(sim.one(old)),
        ReasonCode::SESSION_TAKEN_OVER
    );
    assert!(sim.is_closed(old));
    assert!(ack.session_present, "the session survives the takeover");
    assert!(!sim.is_closed(new));
    let p = sim.connect(v5("p"));
    sim.send(p, publish("t", "x", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&sim.publishes(new)), ["x"]);
}

#[test]
fn takeover_in_v3_closes_silently_and_publishes_the_will() {
    let mut sim = Sim::new();
    let watcher = sim.subscriber(v3("w"), "will", QoS::AtMostOnce);
    let old = sim.connect(with_will(v3("c"), "will", "gone"));
    sim.connect(v3("c"));
    sim.nothing(old);
    assert!(sim.is_closed(old));
    assert_eq!(payloads(&sim.publishes(watcher)), ["gone"]);
}

#[test]
fn unsupported_protocol_level_gets_3_1_1_connack_0x01() {
    let mut sim = Sim::new();
    let conn = sim.open();
    // CONNECT "MQTT" level 6.
    let err = decode_one(
        &[0x10, 0x0C, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 0, 0, 0],
        ProtocolVersion::V3_1_1,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UnsupportedProtocolLevel(6));
    sim.input(Input::DecodeError {
        conn,
        error: err,
        version: None,
    });
    match sim.one(conn) {
        Packet::Connack(a) => assert_eq!(a.reason_code, v3_connack::UNACCEPTABLE_PROTOCOL_VERSION),
        other => panic!("{other:?}"),
    }
    assert!(sim.is_closed(conn));
}

#[test]
fn malformed_v5_connect_gets_connack_with_the_reason_code_v3_gets_nothing() {
    let mut sim = Sim::new();
    // CONNECT v5 with the reserved flag set.
    let bytes = [
        0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x03, 0, 0, 0, 0, 0,
    ];
    let err = decode_one(&bytes, ProtocolVersion::V5).unwrap_err();
    let conn = sim.open();
    sim.input(Input::DecodeError {
        conn,
        error: err.clone(),
        version: Some(ProtocolVersion::V5),
    });
    match sim.one(conn) {
        Packet::Connack(a) => assert_eq!(a.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("{other:?}"),
    }
    assert!(sim.is_closed(conn));
    let conn = sim.open();
    sim.input(Input::DecodeError {
        conn,
        error: err,
        version: Some(ProtocolVersion::V3_1_1),
    });
    sim.nothing(conn); // 3.1.1 MQTT-3.1.4-1
    assert!(sim.is_closed(conn));
}

#[test]
fn decode_error_after_connack_closes_only_that_connection() {
    let mut sim = Sim::new();
    let other = sim.subscriber(v5("o"), "t", QoS::AtMostOnce);
    let conn = sim.connect(v5("c"));
    let err = decode_one(&[0x36, 0x00], ProtocolVersion::V5).unwrap_err();
    sim.input(Input::DecodeError {
        conn,
        error: err.clone(),
        version: Some(ProtocolVersion::V5),
    });
    assert_eq!(disconnect_code(sim.one(conn)), err.reason_code());
    assert!(sim.is_closed(conn));
    let p = sim.connect(v3("p"));
    sim.send(p, publish("t", "still here", QoS::AtMostOnce, 0));
    assert_eq!(payloads(&sim.publishes(other)), ["still here"]);
}

#[test]
fn clients_cannot_send_server_packets() {
    let mut sim = Sim::new();
    let conn = sim.connect(v5("c"));
    sim.send(conn, Packet::Pingresp);
    assert_eq!(disconnect_code(sim.one(conn)), ReasonCode::PROTOCOL_ERROR);
    let conn = sim.connect(v5("d"));
    sim.send(
        conn,
        Packet::Auth(mqttspec_codec::Auth {
            reason_code: ReasonCode::REAUTHENTICATE,
            properties: Default::default(),
        }),
    );
    assert_eq!(disconnect_code(sim.one(conn)), ReasonCode::PROTOCOL_ERROR);
}

#[test]
fn connect_timeout_closes_silent_connections() {
    let mut sim = Sim::new();
    let conn = sim.open();
    sim.secs(9.0);
    assert!(!sim.is_closed(conn));
    sim.secs(1.5);
    assert!(sim.is_closed(conn));
    sim.nothing(conn);
}

#[test]
fn connection_limit_refuses_with_server_busy() {
    let mut config = quiet();
    config.limits.max_connections = 1;
    let mut sim = Sim::with(config);
    sim.connect(v5("a"));
    let (_, ack) = sim.connect_with(v5("b"));
    assert_eq!(ack.reason_code, ReasonCode::SERVER_BUSY);
    let (_, ack) = sim.connect_with(v3("b"));
    assert_eq!(ack.reason_code, v3_connack::SERVER_UNAVAILABLE);
    // The same client id replaces its own connection: not refused.
    sim.connect(v5("a"));
}

#[test]
fn pingreq_gets_pingresp() {
    let mut sim = Sim::new();
    let conn = sim.connect(v3("c"));
    sim.send(conn, Packet::Pingreq);
    assert_eq!(sim.one(conn), Packet::Pingresp);
}

#[test]
fn reason_strings_are_cut_to_fit_the_maximum_packet_size() {
    let mut sim = Sim::new();
    let mut c = v5("c");
    c.properties.maximum_packet_size = Some(20);
    let conn = sim.connect(c);
    sim.send(conn, Packet::from(v5("c")));
    match sim.one(conn) {
        Packet::Disconnect(d) => {
            assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR);
            assert_eq!(d.properties.reason_string, None::<MqttString>);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mqtt_3_1_clients_connect_and_need_a_short_id() {
    let mut sim = Sim::new();
    let c = |id: &str| Connect {
        protocol: ProtocolVersion::V3_1,
        ..v3(id)
    };
    let conn = sim.connect(c("old-client"));
    sim.send(conn, subscribe(1, "t", QoS::AtLeastOnce));
    assert_eq!(
        suback(sim.one(conn)).reason_codes,
        vec![ReasonCode::GRANTED_QOS_1]
    );
    let (_, ack) = sim.connect_with(c("a-client-id-longer-than-23"));
    assert_eq!(ack.reason_code, v3_connack::IDENTIFIER_REJECTED);
    let (_, ack) = sim.connect_with(c(""));
    assert_eq!(ack.reason_code, v3_connack::IDENTIFIER_REJECTED);
}
