//! The parse benchmark's work in a plain loop, for instruction counts:
//!
//! ```text
//! cargo build --release -p jwtgate-parse --example parse_loop
//! valgrind --tool=callgrind target/release/examples/parse_loop 10000
//! valgrind --tool=callgrind target/release/examples/parse_loop 0
//! ```
//!
//! The difference of the two totals over 10,000 is the cost of one parse,
//! a figure that does not drift with the machine's load the way time does.

use std::hint::black_box;

use jwtgate_parse::DEFAULT_BUFFER_LEN;

#[path = "../benches/workload/mod.rs"]
mod workload;

fn main() {
    let token = workload::typical_token();
    let iterations: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let mut buf = [0u8; DEFAULT_BUFFER_LEN];
    let mut checksum = 0usize;
    for _ in 0..iterations {
        checksum = checksum.wrapping_add(workload::read_everything(black_box(token.as_bytes()), &mut buf));
    }
    println!("{iterations} parses, checksum {checksum}");
}
