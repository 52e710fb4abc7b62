//! The `federation` target for cargo-fuzz: `signpost_fuzz::targets::federation`, where its input is read.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| signpost_fuzz::targets::federation::run(input));
