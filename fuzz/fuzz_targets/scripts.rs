#![no_main]

mod common;

// The same bytes as a shell script, a Makefile and a workflow: the shell lexer, the recipe and
// block-scalar span maps, and every shell rule.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::check_one("fuzz.sh", data);
    common::check_one("Makefile", data);
    common::check_one(".github/workflows/fuzz.yml", data);
});
