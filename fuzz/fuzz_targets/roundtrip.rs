//! An arbitrary packet (and the same made valid) encodes and decodes to what its version carries.
//! The oracle is `mqttspec_codec::fuzzing::roundtrip`; a crash replays as a test calling it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_codec::fuzzing::roundtrip(data));
