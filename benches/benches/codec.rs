//! Codec throughput, ours vs rumqttc's, on the same logical stream (see `mqttspec_benches::stream`).
//!
//! Groups `codec_decode` and `codec_encode`; IDs read `{version}/{mode}/{codec}/{unit}`, where mode
//! is `whole` (the stream arrives in one read) or `segmented-1460` (one TCP segment per read) and
//! unit says which throughput criterion reports: `bytes` or `packets` (same work, measured twice
//! because criterion reports one throughput per benchmark).
//!
//! Run: `cargo bench -p mqttspec-benches --bench codec -- --warm-up-time 1 --measurement-time 3`
//! then `cargo run -p mqttspec-benches --bin codec-report` for the table with ratios.

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mqttspec_benches::{
    decode_ours, decode_rumqttc, encode_ours, stream, to_ours, wire, Rumqttc, Version,
};

/// TCP's usual maximum segment size on Ethernet.
const MSS: usize = 1460;

fn throughputs(bytes: usize, packets: usize) -> [(&'static str, Throughput); 2] {
    [
        ("bytes", Throughput::Bytes(bytes as u64)),
        ("packets", Throughput::Elements(packets as u64)),
    ]
}

fn decode(c: &mut Criterion) {
    let msgs = stream();
    let mut g = c.benchmark_group("codec_decode");
    for v in Version::ALL {
        let wire = wire(&msgs, v);
        for (mode, segment) in [("whole", wire.len()), ("segmented-1460", MSS)] {
            for (unit, t) in throughputs(wire.len(), msgs.len()) {
                g.throughput(t);
                let id = |codec| BenchmarkId::new(format!("{}/{mode}/{codec}", v.label()), unit);
                g.bench_function(id("mqttspec"), |b| {
                    b.iter(|| decode_ours(black_box(&wire), v, segment))
                });
                g.bench_function(id("rumqttc"), |b| {
                    b.iter(|| decode_rumqttc(black_box(&wire), v, segment))
                });
            }
        }
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let msgs = stream();
    let mut g = c.benchmark_group("codec_encode");
    for v in Version::ALL {
        let ours: Vec<_> = msgs.iter().map(|m| to_ours(m, v)).collect();
        let theirs = Rumqttc::build(&msgs, v);
        let mut out = BytesMut::new();
        let len = encode_ours(&ours, v, &mut out);
        assert_eq!(len, theirs.encode(&mut out), "same encoded size");
        for (unit, t) in throughputs(len, msgs.len()) {
            g.throughput(t);
            let id = |codec| BenchmarkId::new(format!("{}/whole/{codec}", v.label()), unit);
            g.bench_function(id("mqttspec"), |b| {
                b.iter(|| encode_ours(black_box(&ours), v, &mut out))
            });
            g.bench_function(id("rumqttc"), |b| {
                b.iter(|| black_box(&theirs).encode(&mut out))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
