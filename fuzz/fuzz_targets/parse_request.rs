//! The request decoder on arbitrary bytes; see `roomshare_fuzz::parse_request_case`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| roomshare_fuzz::parse_request_case(data));
