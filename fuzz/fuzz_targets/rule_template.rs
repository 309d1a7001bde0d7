#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sprawl::fuzz::rule_template(data));
