//! A mode byte, chunk sizes, then a stream: fed in chunks it decodes as fed whole.
//! The oracle is `mqttspec_codec::fuzzing::decode_stream`; a crash replays as a test calling it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mqttspec_codec::fuzzing::decode_stream(data));
