//! An arbitrary script of client operations against the sans-IO broker core, with the core's
//! invariants checked after every step. The oracle is `mqttspec_broker::fuzzing::run`; a crash
//! replays as a test calling it with the same script.
#![no_main]

libfuzzer_sys::fuzz_target!(|script: mqttspec_broker::fuzzing::Script| {
    mqttspec_broker::fuzzing::run(&script)
});
