//! `cargo bench -p jwtgate-verify --bench ratio` (add `--features
//! aws-lc-rs` for that backend): jwtgate's verification against the bare
//! signature primitive of the same backend, as a ratio.
//!
//! The `verify` bench measures each row minutes apart, and on a shared VM
//! the machine's speed drifts by more than the few percent the targets are
//! about. Here the two alternate in short batches (the order flips every
//! round), so drift hits both alike, and the median of the per-round ratios
//! is the figure to compare with a target.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{case, jwtgate, raw_primitive};
use jwtgate_verify::Scratch;
use xtask::alg::Alg;

mod common;

const ROUNDS: usize = 101;
const BATCH: Duration = Duration::from_millis(10);

#[cfg(not(feature = "aws-lc-rs"))]
const BACKEND: &str = "rustcrypto";
#[cfg(feature = "aws-lc-rs")]
const BACKEND: &str = "aws-lc-rs";

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: then
    // only check that every closure works.
    let measure = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().unwrap();
    if measure {
        println!("backend {BACKEND}, {ROUNDS} rounds of ~{} ms batches each", BATCH.as_millis());
        println!("| alg | jwtgate | bare primitive | ratio, median | ratio, 10th-90th percentile |");
        println!("| --- | --- | --- | --- | --- |");
    }
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let c = case(alg, dir.path());
        let verifier = jwtgate(&c);
        let mut scratch = Scratch::new();
        let mut ours = || {
            verifier.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap();
        };
        let mut raw = raw_primitive(&c);
        if !measure {
            ours();
            raw();
            continue;
        }
        let n = batch_len(&mut raw);
        for _ in 0..3 {
            per_call_ns(&mut ours, n);
            per_call_ns(&mut raw, n);
        }
        let mut rounds = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let (a, b) = if round % 2 == 0 {
                let a = per_call_ns(&mut ours, n);
                (a, per_call_ns(&mut raw, n))
            } else {
                let b = per_call_ns(&mut raw, n);
                (per_call_ns(&mut ours, n), b)
            };
            rounds.push((a, b, a / b));
        }
        let ours_ns = percentile(rounds.iter().map(|r| r.0).collect(), 50);
        let raw_ns = percentile(rounds.iter().map(|r| r.1).collect(), 50);
        let ratios: Vec<f64> = rounds.iter().map(|r| r.2).collect();
        let (p10, p50, p90) = (percentile(ratios.clone(), 10), percentile(ratios.clone(), 50), percentile(ratios, 90));
        println!("| {} | {} | {} | {p50:.3}x | {p10:.3}x - {p90:.3}x |", alg.name(), time(ours_ns), time(raw_ns));
    }
}

/// Calls per batch so that a batch of the primitive lasts about [`BATCH`].
fn batch_len(f: &mut dyn FnMut()) -> u64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < BATCH {
        f();
        calls += 1;
    }
    calls.max(1)
}

fn per_call_ns(f: &mut dyn FnMut(), n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

fn percentile(mut values: Vec<f64>, pct: usize) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) * pct / 100]
}

fn time(ns: f64) -> String {
    if ns >= 1000.0 { format!("{:.2} µs", ns / 1000.0) } else { format!("{ns:.0} ns") }
}
