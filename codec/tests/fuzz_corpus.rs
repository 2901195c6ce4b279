//! The seed corpus of the fuzz targets (fuzz/corpus/TARGET/), generated from the hand-built
//! vectors. This test checks that every seed is there with its bytes; to (re)write them:
//!
//! ```text
//! MQTTSPEC_WRITE_CORPUS=1 cargo test -p mqttspec-codec --test fuzz_corpus
//! ```
//!
//! Files the fuzzer adds beside the seeds are left alone.

mod common;

use common::vectors::{self, Vector};
use mqttspec_codec::ProtocolVersion;
use std::path::PathBuf;

/// `(target, file name, bytes)` for every seed.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let (v3, v5) = (vectors::v3(), vectors::v5());
    let concat =
        |list: &[Vector]| -> Vec<u8> { list.iter().flat_map(|v| v.bytes.clone()).collect() };
    // decode_v311 / decode_v5: one packet per file, and every packet of the version in a row.
    for (target, list) in [("decode_v311", &v3), ("decode_v5", &v5)] {
        for v in list.iter() {
            seeds.push((target, v.name.to_string(), v.bytes.clone()));
        }
        seeds.push((target, "all_in_a_row".to_string(), concat(list)));
    }
    // decode_stream: [mode, n, n chunk sizes, stream]; mode 0 = 3.1.1, 1 = 5.0, 2 = learning.
    let opened = |list: &[Vector], version: ProtocolVersion| -> Vec<u8> {
        let connect = list
            .iter()
            .find(|v| v.version == version && v.bytes[0] == 0x10)
            .unwrap();
        let rest = list.iter().filter(|v| v.bytes[0] != 0x10);
        std::iter::once(connect)
            .chain(rest)
            .flat_map(|v| v.bytes.clone())
            .collect()
    };
    let streams: [(&str, &[u8], Vec<u8>); 5] = [
        ("v311_byte_by_byte", &[0, 0], concat(&v3)),
        ("v5_byte_by_byte", &[1, 0], concat(&v5)),
        ("v5_uneven_chunks", &[1, 4, 1, 7, 0, 64], concat(&v5)),
        (
            "learning_v311",
            &[2, 1, 5],
            opened(&v3, ProtocolVersion::V3_1_1),
        ),
        (
            "learning_v5",
            &[2, 2, 3, 0],
            opened(&v5, ProtocolVersion::V5),
        ),
    ];
    for (name, head, stream) in streams {
        seeds.push(("decode_stream", name.to_string(), [head, &stream].concat()));
    }
    // roundtrip: the same bytes, read by `arbitrary` as the choices that build a packet.
    for v in v3.iter().chain(&v5) {
        seeds.push(("roundtrip", v.name.to_string(), v.bytes.clone()));
    }
    seeds
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

#[test]
fn every_seed_is_in_the_fuzz_corpus() {
    let seeds = seeds();
    let write = std::env::var_os("MQTTSPEC_WRITE_CORPUS").is_some();
    let mut missing = Vec::new();
    for (target, name, bytes) in &seeds {
        let path = corpus_dir().join(target).join(name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        } else if std::fs::read(&path).ok().as_ref() != Some(bytes) {
            missing.push(format!("{target}/{name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "seeds missing or stale: {missing:?}; run MQTTSPEC_WRITE_CORPUS=1 cargo test -p \
         mqttspec-codec --test fuzz_corpus"
    );
    // Small enough to commit.
    let total: usize = seeds.iter().map(|(_, _, b)| b.len()).sum();
    assert!(
        seeds.len() < 200 && total < 1 << 20,
        "{} seeds, {total} bytes",
        seeds.len()
    );
}
