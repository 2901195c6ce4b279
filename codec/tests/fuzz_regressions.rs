//! The fuzz targets' oracles (`mqttspec_codec::fuzzing`) as plain tests: every hand-built
//! vector, every file of the fuzz corpus, and every input a fuzzer ever crashed on, through the
//! same function the target calls. Needs the `arbitrary` feature:
//!
//! ```text
//! cargo test -p mqttspec-codec --features arbitrary --test fuzz_regressions
//! ```
#![cfg(feature = "arbitrary")]

mod common;

use common::vectors;
use mqttspec_codec::fuzzing;
use mqttspec_codec::ProtocolVersion;
use std::path::PathBuf;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 4] = [
    ("decode_v311", fuzzing::decode_v311),
    ("decode_v5", fuzzing::decode_v5),
    ("decode_stream", fuzzing::decode_stream),
    ("roundtrip", fuzzing::roundtrip),
];

#[test]
fn every_vector_passes_every_oracle() {
    for v in vectors::all() {
        for version in [
            Some(ProtocolVersion::V3_1_1),
            Some(ProtocolVersion::V5),
            None,
        ] {
            fuzzing::check_decode(&v.bytes, version);
            for sizes in [&[][..], &[0, 1], &[3], &[200]] {
                fuzzing::check_stream(&v.bytes, version, sizes);
            }
        }
        for (_, target) in TARGETS {
            target(&v.bytes);
        }
        // Every prefix: a packet cut short anywhere.
        for end in 0..v.bytes.len() {
            fuzzing::decode_v5(&v.bytes[..end]);
            fuzzing::decode_v311(&v.bytes[..end]);
        }
    }
}

#[test]
fn every_corpus_file_passes_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut count = 0;
    for (name, target) in TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            target(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    assert!(count > 0, "no corpus under {}", root.display());
}

// An input a fuzzer crashed on goes below as its own test: the target's function on the
// minimized bytes, with a line on what was wrong (see fuzz/README.md).
