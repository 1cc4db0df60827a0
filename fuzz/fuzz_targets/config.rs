#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = prodlint::config::Config::parse(text, Path::new("prodlint.toml"), Path::new("/repo"));
    }
});
