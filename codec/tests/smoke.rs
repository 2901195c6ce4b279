use bytes::BytesMut;
use mqttspec_codec::*;

#[test]
fn publish_round_trips_and_serializes() {
    let p = Packet::Publish(Publish {
        qos: QoS::AtLeastOnce,
        topic: "a/b".into(),
        packet_id: Some(7),
        payload: bytes::Bytes::from_static(b"hi"),
        properties: Properties {
            user_properties: vec![("k".into(), "v".into())],
            ..Default::default()
        }
        .into(),
        ..Default::default()
    });
    for v in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut out = BytesMut::new();
        encode(&p, v, &mut out).unwrap();
        assert_eq!(out.len(), p.encoded_len(v));
        let back = decode_one(&out, v).unwrap();
        if v.is_v5() {
            assert_eq!(back, p);
        }
    }
    let json = serde_json::to_string(&p).unwrap();
    println!("{json}");
    let back: Packet = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let err =
        serde_json::from_str::<Packet>(r#"{"type":"publish","topic":"a","qoss":1}"#).unwrap_err();
    println!("{err}");
    assert!(err.to_string().contains("qoss"));
    let ping: Packet = serde_json::from_str(r#"{"type":"pingreq"}"#).unwrap();
    assert_eq!(ping, Packet::Pingreq);
}
