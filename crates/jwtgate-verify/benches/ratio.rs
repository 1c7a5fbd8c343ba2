//! `cargo bench -p jwtgate-verify --bench ratio` (add `--features
//! aws-lc-rs` for that backend): jwtgate's verification against the bare
//! signature primitive of the same backend and against the peers, as
//! ratios.
//!
//! The `verify` bench measures each row minutes apart, and on a shared VM
//! the machine's speed drifts by more than the few percent the targets are
//! about. Here the contenders take turns in short batches (about 10 ms
//! each, the order rotating every round), so drift hits all of them alike,
//! and the median of the per-round ratios is the figure to compare with a
//! target.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "bench code")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Check, case, install_jsonwebtoken_provider, jwtgate, lax_floor, peers, raw_primitive};
use jwtgate_testkit::alg::Alg;
use jwtgate_verify::Scratch;

mod common;

const ROUNDS: usize = 301;
const BATCH: Duration = Duration::from_millis(10);

#[cfg(not(feature = "aws-lc-rs"))]
const BACKEND: &str = "rustcrypto";
#[cfg(feature = "aws-lc-rs")]
const BACKEND: &str = "aws-lc-rs";

/// One verification, repeated `calls` times per batch.
struct Contender<'a> {
    name: &'static str,
    run: Check<'a>,
    calls: u64,
    per_call_ns: Vec<f64>,
}

fn main() {
    // `cargo test --benches` runs bench binaries without `--bench`: then
    // only check that every contender works once.
    let measure = std::env::args().any(|a| a == "--bench");
    install_jsonwebtoken_provider();
    let dir = tempfile::tempdir().unwrap();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA] {
        let c = case(alg, dir.path());
        let verifier = jwtgate(&c);
        let mut scratch = Scratch::new();
        let ours: Check<'_> = Box::new(|| {
            verifier.verify(black_box(&c.token), &mut scratch).map(|v| v.alg()).unwrap();
        });
        let mut contenders: Vec<Contender<'_>> = [("jwtgate", ours), ("bare primitive", raw_primitive(&c))]
            .into_iter()
            .chain(lax_floor(&c).map(|floor| ("lax floor (base64 + serde_json borrowed + HMAC)", floor)))
            .chain(peers(&c))
            .map(|(name, run)| Contender { name, run, calls: 1, per_call_ns: Vec::with_capacity(ROUNDS) })
            .collect();
        if !measure {
            contenders.iter_mut().for_each(|k| (k.run)());
            continue;
        }
        for k in &mut contenders {
            k.calls = batch_len(&mut k.run);
            for _ in 0..3 {
                per_call_ns(&mut k.run, k.calls);
            }
        }
        for round in 0..ROUNDS {
            let n = contenders.len();
            for i in 0..n {
                let k = &mut contenders[(round + i) % n];
                let t = per_call_ns(&mut k.run, k.calls);
                k.per_call_ns.push(t);
            }
        }
        report(alg, &contenders);
    }
}

/// Calls per batch so that a batch lasts about [`BATCH`].
fn batch_len(f: &mut dyn FnMut()) -> u64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < BATCH {
        f();
        calls += 1;
    }
    calls.max(1)
}

fn per_call_ns(f: &mut dyn FnMut(), calls: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed().as_secs_f64() * 1e9 / calls as f64
}

/// Per contender: the median time per call, and the median and 10th-90th
/// percentile of its per-round ratio to jwtgate's time in the same round;
/// then the target's own figure, jwtgate over the bare primitive.
fn report(alg: Alg, contenders: &[Contender<'_>]) {
    println!("\n{} on {BACKEND}, {ROUNDS} rounds of ~{} ms batches", alg.name(), BATCH.as_millis());
    println!("| contender | median per call | ÷ jwtgate, median | ÷ jwtgate, 10th-90th percentile |");
    println!("| --- | --- | --- | --- |");
    let ours = &contenders[0].per_call_ns;
    for k in contenders {
        let (p10, p50, p90) = spread(&per_round(&k.per_call_ns, ours));
        println!("| {} | {} | {p50:.3} | {p10:.3} - {p90:.3} |", k.name, time(percentile(&k.per_call_ns, 50)));
    }
    let (p10, p50, p90) = spread(&per_round(ours, &contenders[1].per_call_ns));
    println!("jwtgate ÷ bare primitive: {p50:.3}x (10th-90th percentile {p10:.3} - {p90:.3})");
}

fn per_round(numerator: &[f64], denominator: &[f64]) -> Vec<f64> {
    numerator.iter().zip(denominator).map(|(n, d)| n / d).collect()
}

fn spread(values: &[f64]) -> (f64, f64, f64) {
    (percentile(values, 10), percentile(values, 50), percentile(values, 90))
}

fn percentile(values: &[f64], pct: usize) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(sorted.len() - 1) * pct / 100]
}

fn time(ns: f64) -> String {
    if ns >= 1000.0 { format!("{:.2} µs", ns / 1000.0) } else { format!("{ns:.0} ns") }
}
