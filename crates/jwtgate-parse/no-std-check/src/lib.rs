//! See Cargo.toml: this builds only if jwtgate-parse needs neither `std`
//! nor `alloc`.
#![no_std]

use core::panic::PanicInfo;

/// Exposed with a C symbol so the parser's code is kept and linked.
#[unsafe(no_mangle)]
pub extern "C" fn jwtgate_parse_token_len(token: *const u8, len: usize) -> isize {
    // A real call path through the whole parser, without dereferencing the
    // raw pointer here: the staticlib is built, never run.
    let _ = (token, len);
    let sample = b"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UifQ.c2ln";
    let mut buf = [0u8; 64];
    match jwtgate_parse::parse(sample, &mut buf) {
        Ok(t) => t.signature().len() as isize,
        Err(_) => -1,
    }
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {}
}
