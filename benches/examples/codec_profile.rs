//! A bench-like loop to run under a profiler, with repeatable instruction counts:
//!
//! `valgrind --tool=callgrind target/release/examples/codec_profile decode 5.0 mqttspec 200`
//!
//! Arguments: `decode|segmented|encode`, `3.1.1|5.0`, `mqttspec|rumqttc`, iterations.

use bytes::BytesMut;
use mqttspec_benches::{
    decode_ours, decode_rumqttc, encode_ours, stream, to_ours, wire, Rumqttc, Version,
};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let (op, version, codec) = (arg(0, "decode"), arg(1, "5.0"), arg(2, "mqttspec"));
    let iterations: usize = arg(3, "200").parse().expect("iterations");
    let v = match version.as_str() {
        "3.1.1" => Version::V311,
        "5.0" => Version::V5,
        other => panic!("unknown version {other}"),
    };
    let msgs = stream();
    let wire = wire(&msgs, v);
    let ours_packets: Vec<_> = msgs.iter().map(|m| to_ours(m, v)).collect();
    let theirs = Rumqttc::build(&msgs, v);
    let mut out = BytesMut::new();
    let mut total = 0usize;
    for _ in 0..iterations {
        total += match (op.as_str(), codec.as_str()) {
            ("decode", "mqttspec") => decode_ours(black_box(&wire), v, wire.len()).total(),
            ("decode", "rumqttc") => decode_rumqttc(black_box(&wire), v, wire.len()).total(),
            ("segmented", "mqttspec") => decode_ours(black_box(&wire), v, 1460).total(),
            ("segmented", "rumqttc") => decode_rumqttc(black_box(&wire), v, 1460).total(),
            ("encode", "mqttspec") => encode_ours(black_box(&ours_packets), v, &mut out),
            ("encode", "rumqttc") => black_box(&theirs).encode(&mut out),
            other => panic!("unknown operation {other:?}"),
        };
    }
    println!(
        "{op} {version} {codec}: {iterations} x {} packets, {} bytes; total {total}",
        msgs.len(),
        wire.len()
    );
}
