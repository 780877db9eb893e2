//! Arbitrary request sequences against the pure state machine; see
//! `roomshare_fuzz::engine_case`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roomshare_fuzz::engine_case(data));
