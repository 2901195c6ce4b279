//! Raw bytes into a 5.0 decoder: no panic; every packet re-encodes and decodes to itself.
//! The oracle is `mqttspec_codec::fuzzing::decode_v5`; a crash replays as a test calling it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_codec::fuzzing::decode_v5(data));
