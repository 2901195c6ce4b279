//! A bench-like loop to run under a profiler, with repeatable instruction counts:
//!
//! `valgrind --tool=callgrind target/release/examples/codec_profile decode 5.0 mqttspec 200`
//!
//! Arguments: `decode|segmented|encode`, `3.1.1|5.0`, `mqttspec|rumqttc|floor`, iterations
//! (`floor`: the least work an owned-model codec must do, see `mqttspec_benches::floor`).
//!
//! `codec_profile quick [ROUNDS]` instead times every combination, best of ROUNDS rounds of 200
//! passes each: the minimum is the least disturbed by other processes on a shared machine, so it
//! is a quick check between criterion runs (criterion's figures are the ones to report).

use bytes::BytesMut;
use mqttspec_benches::floor::{decode_floor, encode_floor, packet_bytes};
use mqttspec_benches::{
    decode_ours, decode_rumqttc, encode_ours, stream, to_ours, wire, Rumqttc, Version,
};
use std::hint::black_box;
use std::time::Instant;

/// The stream of one version, in every form the passes need.
struct Setup {
    v: Version,
    wire: bytes::Bytes,
    ours: Vec<mqttspec_codec::Packet>,
    theirs: Rumqttc,
    /// Each packet's finished bytes, for the floor's encode.
    finished: Vec<bytes::Bytes>,
    out: BytesMut,
}

impl Setup {
    fn new(v: Version) -> Self {
        let msgs = stream();
        let wire = wire(&msgs, v);
        Setup {
            v,
            finished: packet_bytes(&wire),
            wire,
            ours: msgs.iter().map(|m| to_ours(m, v)).collect(),
            theirs: Rumqttc::build(&msgs, v),
            out: BytesMut::new(),
        }
    }

    /// One pass of `op` over the stream with `codec`; returns packets or bytes, to keep it alive.
    fn pass(&mut self, op: &str, codec: &str) -> usize {
        let (v, wire) = (self.v, &self.wire);
        match (op, codec) {
            ("decode", "mqttspec") => decode_ours(black_box(wire), v, wire.len()).total(),
            ("decode", "rumqttc") => decode_rumqttc(black_box(wire), v, wire.len()).total(),
            ("segmented", "mqttspec") => decode_ours(black_box(wire), v, 1460).total(),
            ("segmented", "rumqttc") => decode_rumqttc(black_box(wire), v, 1460).total(),
            ("encode", "mqttspec") => encode_ours(black_box(&self.ours), v, &mut self.out),
            ("encode", "rumqttc") => black_box(&self.theirs).encode(&mut self.out),
            ("decode", "floor") => decode_floor(black_box(wire), v, wire.len()).total(),
            ("segmented", "floor") => decode_floor(black_box(wire), v, 1460).total(),
            ("encode", "floor") => encode_floor(black_box(&self.finished), &mut self.out),
            other => panic!("unknown operation {other:?}"),
        }
    }
}

fn quick(rounds: usize) {
    const PASSES: usize = 200;
    let packets = stream().len() as f64;
    println!("| operation | version | mqttspec ns/pass | rumqttc ns/pass | speed-up | floor ns/pass | rumqttc / floor |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for op in ["decode", "segmented", "encode"] {
        for v in Version::ALL {
            let mut s = Setup::new(v);
            let mut best = [f64::MAX; 3];
            for _ in 0..rounds {
                for (i, codec) in ["mqttspec", "rumqttc", "floor"].into_iter().enumerate() {
                    let t = Instant::now();
                    for _ in 0..PASSES {
                        black_box(s.pass(op, codec));
                    }
                    best[i] = best[i].min(t.elapsed().as_nanos() as f64 / PASSES as f64);
                }
            }
            let [ours, theirs, floor] = best;
            println!(
                "| {op} | {} | {ours:.0} ({:.1} ns/packet) | {theirs:.0} ({:.1} ns/packet) | {:.2}x | {floor:.0} ({:.1} ns/packet) | {:.2}x |",
                v.label(),
                ours / packets,
                theirs / packets,
                theirs / ours,
                floor / packets,
                theirs / floor,
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    if arg(0, "") == "quick" {
        return quick(arg(1, "30").parse().expect("rounds"));
    }
    let (op, version, codec) = (arg(0, "decode"), arg(1, "5.0"), arg(2, "mqttspec"));
    let iterations: usize = arg(3, "200").parse().expect("iterations");
    let v = match version.as_str() {
        "3.1.1" => Version::V311,
        "5.0" => Version::V5,
        other => panic!("unknown version {other}"),
    };
    let mut s = Setup::new(v);
    let mut total = 0usize;
    for _ in 0..iterations {
        total += s.pass(&op, &codec);
    }
    println!(
        "{op} {version} {codec}: {iterations} x {} packets, {} bytes; total {total}",
        s.ours.len(),
        s.wire.len()
    );
}
