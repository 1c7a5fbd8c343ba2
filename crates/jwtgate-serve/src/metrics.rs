//! `GET /.jwtgate/metrics`: the Prometheus text format (0.0.4), written by
//! prometheus-client. Counters the jwtgate crates keep anyway (the
//! middleware's decisions, the JWKS sources', the token caches') are read
//! at scrape time by a collector rather than mirrored on every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use jwtgate_hyper::AuthStats;
use jwtgate_jwks::JwksSource;
use jwtgate_revoke::RedisSync;
use jwtgate_verify::TokenCache;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[allow(clippy::cast_precision_loss, reason = "counts far below 2^53")]
const fn as_f64(n: u64) -> f64 {
    n as f64
}

/// Decisions made by the server itself, around the middleware.
pub(crate) const SERVER_OUTCOMES: [&str; 5] =
    ["open", "no_route", "ambiguous_path", "ambiguous_method", "method_not_allowed"];

/// What the server counts itself; the rest is read from the crates' own
/// counters when scraped.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    latency: Histogram,
    upstream_errors: Family<[(&'static str, &'static str); 1], Counter>,
    server_outcomes: Arc<[AtomicU64; SERVER_OUTCOMES.len()]>,
}

/// The sources the collector reads at scrape time.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub(crate) decisions: Vec<Arc<AuthStats>>,
    pub(crate) key_sources: Vec<(String, JwksSource)>,
    pub(crate) token_caches: Vec<Arc<dyn CacheStats>>,
    pub(crate) revocation: Option<RedisSync>,
}

/// Token caches, wherever they live (a verifier's own, or those of the
/// verifiers an issuer router holds).
pub(crate) trait CacheStats: std::fmt::Debug + Send + Sync {
    fn caches(&self) -> Vec<&TokenCache>;
}

impl<R: jwtgate_verify::KeyResolver + std::fmt::Debug> CacheStats for jwtgate_verify::Verifier<R> {
    fn caches(&self) -> Vec<&TokenCache> {
        self.token_cache().into_iter().collect()
    }
}

impl<R: jwtgate_verify::KeyResolver + std::fmt::Debug> CacheStats for jwtgate_verify::IssuerRouter<R> {
    fn caches(&self) -> Vec<&TokenCache> {
        self.verifiers().filter_map(|(_, verifier)| verifier.token_cache()).collect()
    }
}

/// A per-issuer metric: name, help, counter (else gauge), how to read it.
type PerIssuer = (&'static str, &'static str, bool, fn(&JwksSource) -> f64);

#[derive(Debug)]
struct Collected {
    sources: Sources,
    server_outcomes: Arc<[AtomicU64; SERVER_OUTCOMES.len()]>,
}

impl Metrics {
    pub(crate) fn new(sources: Sources) -> Self {
        let mut registry = Registry::default();
        // 50 µs to ~6.5 s: a cache hit through an upstream on loopback at
        // the bottom, an upstream at the proxy's timeout near the top.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 18));
        registry.register(
            "jwtgate_request_duration_seconds",
            "Time from a request's arrival to its response head (the upstream's included in proxy mode)",
            latency.clone(),
        );
        let upstream_errors = Family::default();
        registry.register(
            "jwtgate_upstream_errors",
            "Requests the upstream did not answer: refused, reset or a bad upgrade (502), timed out (504)",
            upstream_errors.clone(),
        );
        let server_outcomes = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
        registry.register_collector(Box::new(Collected { sources, server_outcomes: Arc::clone(&server_outcomes) }));
        Self { registry, latency, upstream_errors, server_outcomes }
    }

    pub(crate) fn observe_latency(&self, since: Instant) {
        self.latency.observe(since.elapsed().as_secs_f64());
    }

    pub(crate) fn upstream_error(&self, kind: &'static str) {
        self.upstream_errors.get_or_create(&[("kind", kind)]).inc();
    }

    pub(crate) fn server_outcome(&self, outcome: &'static str) {
        let slot = SERVER_OUTCOMES.iter().position(|o| *o == outcome).and_then(|i| self.server_outcomes.get(i));
        if let Some(counter) = slot {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The exposition, or `None` if a writer failed (it writes to a
    /// `String`, so it does not).
    pub(crate) fn render(&self) -> Option<String> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).ok()?;
        Some(text)
    }
}

fn counter(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: f64) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for Collected {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let sources = &self.sources;
        {
            let mut family = encoder.encode_descriptor(
                "jwtgate_decisions",
                "Requests by outcome: accepted, anonymous, open (a rule needing no token), or the rejection code",
                None,
                MetricType::Counter,
            )?;
            for outcome in jwtgate_hyper::OUTCOMES {
                let total: u64 = sources.decisions.iter().map(|stats| stats.get(outcome)).sum();
                ConstCounter::new(total).encode(family.encode_family(&[("outcome", outcome)])?)?;
            }
            for (outcome, count) in SERVER_OUTCOMES.iter().zip(self.server_outcomes.iter()) {
                ConstCounter::new(count.load(Ordering::Relaxed))
                    .encode(family.encode_family(&[("outcome", *outcome)])?)?;
            }
        }
        let per_issuer: [PerIssuer; 5] = [
            ("jwtgate_jwks_fetches", "Key-set fetches started", true, |s| as_f64(s.stats().fetches)),
            ("jwtgate_jwks_fetch_failures", "Key-set fetches that failed", true, |s| as_f64(s.stats().fetch_failures)),
            (
                "jwtgate_jwks_unknown_kid_fetches",
                "Fetches made because a token named a kid the set lacked",
                true,
                |s| as_f64(s.stats().unknown_kid_refetches),
            ),
            ("jwtgate_jwks_key_set_age_seconds", "Age of the key set in use (-1: none yet)", false, |s| {
                s.freshness().map_or(-1.0, |(fetched, _)| fetched.elapsed().as_secs_f64())
            }),
            (
                "jwtgate_jwks_ready",
                "1 while a usable key set is in hand",
                false,
                |s| if s.is_ready() { 1.0 } else { 0.0 },
            ),
        ];
        if !sources.key_sources.is_empty() {
            for (name, help, is_counter, read) in per_issuer {
                let kind = if is_counter { MetricType::Counter } else { MetricType::Gauge };
                let mut family = encoder.encode_descriptor(name, help, None, kind)?;
                for (issuer, source) in &sources.key_sources {
                    let labels = [("issuer", issuer.as_str())];
                    let value = read(source);
                    if is_counter {
                        #[allow(
                            clippy::cast_possible_truncation,
                            clippy::cast_sign_loss,
                            reason = "a count read back"
                        )]
                        ConstCounter::new(value as u64).encode(family.encode_family(&labels)?)?;
                    } else {
                        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
                    }
                }
            }
        }
        let caches: Vec<_> = sources.token_caches.iter().flat_map(|c| c.caches()).map(TokenCache::stats).collect();
        if !caches.is_empty() {
            let sum = |f: fn(&jwtgate_verify::TokenCacheStats) -> u64| caches.iter().map(f).sum::<u64>();
            counter(&mut encoder, "jwtgate_token_cache_hits", "Tokens answered from the token cache", sum(|s| s.hits))?;
            counter(&mut encoder, "jwtgate_token_cache_misses", "Tokens verified in full", sum(|s| s.misses))?;
            counter(&mut encoder, "jwtgate_token_cache_evictions", "Entries evicted for room", sum(|s| s.evictions))?;
            #[allow(clippy::cast_precision_loss, reason = "a gauge of entries, far below 2^53")]
            gauge(
                &mut encoder,
                "jwtgate_token_cache_entries",
                "Verified tokens held",
                caches.iter().map(|s| s.entries as f64).sum(),
            )?;
        }
        if let Some(sync) = &sources.revocation {
            gauge(
                &mut encoder,
                "jwtgate_revocation_in_sync",
                "1 while the revocation list follows its store",
                if sync.is_ready() { 1.0 } else { 0.0 },
            )?;
        }
        Ok(())
    }
}
