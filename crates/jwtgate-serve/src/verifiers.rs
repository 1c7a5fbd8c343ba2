//! What each rule verifies with: the issuers' key sources, one verifier
//! per set of accepted issuers (shared, with its token cache), the
//! revocation store, and each rule's middleware.

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use jwtgate_hyper::{JwtAuthLayer, TokenSource};
use jwtgate_jwks::{JwksConfig, JwksSource};
use jwtgate_revoke::{RedisConfig, RedisSync};
use jwtgate_verify::{IssuerRouter, KeySet, TokenVerifier, Verifier};
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, ServiceExt};

use crate::issuer_keys::IssuerKeys;
use crate::metrics::Sources;
use crate::options::{Access, Issuer, Keys, Options, Rule};
use crate::router::RuleService;
use crate::server::{Body, ServeError};

/// What the rules verify with.
pub(crate) struct Built {
    /// Each rule's middleware (`None`: the rule needs no token).
    pub(crate) layers: Vec<Option<RuleLayer>>,
    /// The counters metrics read (decisions are filled in by the caller).
    pub(crate) sources: Sources,
    /// The remote key sources (readiness).
    pub(crate) key_sources: Vec<JwksSource>,
    /// The revocation store followed, if any (readiness).
    pub(crate) revocation: Option<RedisSync>,
}

/// Builds the key sources (a remote one starts fetching in the
/// background), the verifiers and each rule's middleware.
pub(crate) fn build(options: &Options) -> Result<Built, ServeError> {
    let revocation = follow_revocations(options)?;
    let mut sources = Sources { revocation: revocation.clone(), ..Sources::default() };

    let mut keys = Vec::with_capacity(options.issuers.len());
    for issuer in &options.issuers {
        let (resolver, algorithms) = issuer_keys(options, issuer)?;
        if let IssuerKeys::Fetched(source) = &resolver {
            sources.key_sources.push((issuer.name.clone(), source.clone()));
        }
        keys.push((resolver, algorithms));
    }

    // One verifier per distinct set of accepted issuers, shared by the
    // rules that accept it (so one token cache serves them all).
    let mut shared: HashMap<Vec<usize>, Shared> = HashMap::new();
    let mut layers = Vec::with_capacity(options.rules.len());
    for rule in &options.rules {
        if rule.access == Access::Open {
            layers.push(None);
            continue;
        }
        let accepted = accepted_issuers(options, rule)?;
        let verifier = match shared.get(&accepted) {
            Some(verifier) => verifier.clone(),
            None => {
                let verifier = shared_verifier(options, &accepted, &keys, revocation.as_ref())?;
                match &verifier {
                    Shared::One(one) => sources.token_caches.push(one.clone()),
                    Shared::Many(many) => sources.token_caches.push(many.clone()),
                }
                shared.insert(accepted, verifier.clone());
                verifier
            }
        };
        layers.push(Some(RuleLayer::new(options, rule, verifier)));
    }
    let key_sources =
        keys.iter().filter_map(|(k, _)| if let IssuerKeys::Fetched(s) = k { Some(s.clone()) } else { None }).collect();
    Ok(Built { layers, sources, key_sources, revocation })
}

/// A verifier shared by the rules that accept the same issuers.
#[derive(Clone)]
enum Shared {
    One(Arc<Verifier<IssuerKeys>>),
    Many(Arc<IssuerRouter<IssuerKeys>>),
}

/// The indexes of the issuers a rule accepts.
fn accepted_issuers(options: &Options, rule: &Rule) -> Result<Vec<usize>, ServeError> {
    if rule.issuers.is_empty() {
        return Ok((0..options.issuers.len()).collect());
    }
    let mut accepted = Vec::with_capacity(rule.issuers.len());
    for name in &rule.issuers {
        let index = options
            .issuers
            .iter()
            .position(|i| &i.name == name)
            .ok_or_else(|| ServeError::Config(format!("rule {:?}: no issuer is named {name:?}", rule.prefix)))?;
        accepted.push(index);
    }
    accepted.sort_unstable();
    accepted.dedup();
    Ok(accepted)
}

fn issuer_keys(options: &Options, issuer: &Issuer) -> Result<(IssuerKeys, Vec<jwtgate_verify::Algorithm>), ServeError> {
    let named = |what: String| ServeError::Config(format!("issuer {:?}: {what}", issuer.name));
    match &issuer.keys {
        Keys::File(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| named(format!("cannot read {}: {e}", path.display())))?;
            let keys = KeySet::from_key_document(&text)
                .map_err(|e| named(format!("{}: no usable key: {e}", path.display())))?;
            let algorithms = if issuer.algorithms.is_empty() { keys.algorithms() } else { issuer.algorithms.clone() };
            Ok((IssuerKeys::Fixed(keys), algorithms))
        }
        Keys::Url(location) | Keys::Discover(location) => {
            if issuer.algorithms.is_empty() {
                return Err(named(
                    "algorithms are required with a remote key source (the keys are not known before the first fetch)"
                        .into(),
                ));
            }
            let config = if matches!(issuer.keys, Keys::Url(_)) {
                JwksConfig::new(location.clone())
            } else {
                JwksConfig::discover(location.clone())
            };
            let source = key_source(options, config).map_err(named)?;
            Ok((IssuerKeys::Fetched(source), issuer.algorithms.clone()))
        }
    }
}

fn key_source(options: &Options, config: JwksConfig) -> Result<JwksSource, String> {
    let mut config = config.allow_insecure_loopback();
    if options.allow_insecure_http {
        config = config.danger_allow_insecure_http();
    }
    let timing = &options.key_timing;
    if let Some(ttl) = timing.min_ttl {
        config = config.min_ttl(ttl);
    }
    if let Some(ttl) = timing.max_ttl {
        config = config.max_ttl(ttl);
    }
    if let Some(cooldown) = timing.kid_cooldown {
        config = config.cooldown(cooldown);
    }
    if let Some(stale) = timing.max_stale {
        config = config.max_staleness(stale);
    }
    let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    for path in &options.ca_certs {
        config = config.add_root_certificate_pem(&read(path)?);
    }
    if let Some((cert, key)) = &options.client_identity {
        config = config.client_identity_pem(&read(cert)?, &read(key)?);
    }
    config.build().map_err(|e| format!("key source: {e}"))
}

/// Starts following the revocation store, if one is configured (in the
/// background: until the first sync every token is 503
/// `revocation_unavailable` and readiness is false).
fn follow_revocations(options: &Options) -> Result<Option<RedisSync>, ServeError> {
    let Some(revocation) = &options.revocation else { return Ok(None) };
    let mut config = RedisConfig::new(revocation.redis_url.clone()).max_lag(revocation.max_lag);
    if revocation.fail_open {
        config = config.fail_open_when_out_of_sync();
    }
    config.sync().map(Some).map_err(|e| ServeError::Config(format!("revocation store: {e}")))
}

fn verifier(
    options: &Options,
    issuer: &Issuer,
    keys: &(IssuerKeys, Vec<jwtgate_verify::Algorithm>),
    revocation: Option<&RedisSync>,
) -> Result<Verifier<IssuerKeys>, ServeError> {
    let mut builder = Verifier::builder()
        .issuers(issuer.iss.iter().cloned())
        .audiences(issuer.audiences.iter().cloned())
        .algorithms(keys.1.clone())
        .leeway(options.leeway);
    if let Some(typ) = &options.typ {
        builder = builder.require_typ(typ.clone());
    }
    if options.token_cache > 0 {
        builder = builder.token_cache(options.token_cache);
    }
    if let Some(sync) = revocation {
        builder = builder.revocation(sync.clone());
    }
    builder.build(keys.0.clone()).map_err(|e| ServeError::Config(format!("issuer {:?}: {e}", issuer.name)))
}

/// The verifier for tokens of the `accepted` issuers: that issuer's own
/// for one, else an `IssuerRouter` choosing by `iss` (whose verifiers keep
/// their own token caches).
fn shared_verifier(
    options: &Options,
    accepted: &[usize],
    keys: &[(IssuerKeys, Vec<jwtgate_verify::Algorithm>)],
    revocation: Option<&RedisSync>,
) -> Result<Shared, ServeError> {
    let pick = |i: usize| -> Result<(&Issuer, &(IssuerKeys, Vec<jwtgate_verify::Algorithm>)), ServeError> {
        options.issuers.get(i).zip(keys.get(i)).ok_or_else(|| ServeError::Config("issuer index out of range".into()))
    };
    if let [only] = accepted {
        let (issuer, keys) = pick(*only)?;
        return Ok(Shared::One(Arc::new(verifier(options, issuer, keys, revocation)?)));
    }
    let mut router = IssuerRouter::new();
    for &i in accepted {
        let (issuer, keys) = pick(i)?;
        for iss in &issuer.iss {
            router = router.route(iss.clone(), verifier(options, issuer, keys, revocation)?);
        }
    }
    Ok(Shared::Many(Arc::new(router)))
}

/// Nothing here reads custom claims (claim headers come from the raw
/// claims, scopes from `RegisteredClaims`): the middleware skips building
/// a JSON map for each request.
type NoCustomClaims = serde::de::IgnoredAny;

/// One rule's middleware, before it wraps the inner service.
#[derive(Clone)]
pub(crate) enum RuleLayer {
    One(JwtAuthLayer<Verifier<IssuerKeys>, NoCustomClaims>),
    Many(JwtAuthLayer<IssuerRouter<IssuerKeys>, NoCustomClaims>),
}

impl RuleLayer {
    fn new(options: &Options, rule: &Rule, verifier: Shared) -> Self {
        match verifier {
            Shared::One(v) => Self::One(configure(options, rule, JwtAuthLayer::from_shared(v)).claims()),
            Shared::Many(v) => Self::Many(configure(options, rule, JwtAuthLayer::from_shared(v)).claims()),
        }
    }

    pub(crate) fn stats(&self) -> Arc<jwtgate_hyper::AuthStats> {
        match self {
            Self::One(l) => l.stats(),
            Self::Many(l) => l.stats(),
        }
    }

    pub(crate) fn strip(&self, headers: &mut HeaderMap) {
        match self {
            Self::One(l) => l.remove_forwarded_headers(headers),
            Self::Many(l) => l.remove_forwarded_headers(headers),
        }
    }

    pub(crate) fn wrap(&self, inner: RuleService) -> RuleService {
        match self {
            Self::One(l) => boxed(l, inner),
            Self::Many(l) => boxed(l, inner),
        }
    }
}

/// Where tokens are read from: the `Authorization` header, and the cookie
/// and WebSocket subprotocol if configured.
pub(crate) fn token_sources(options: &Options) -> Vec<TokenSource> {
    let mut sources = vec![TokenSource::authorization_header()];
    if let Some(cookie) = &options.cookie {
        sources.push(TokenSource::cookie(cookie.clone()));
    }
    sources.extend(options.websocket_token.clone());
    sources
}

fn configure<V>(options: &Options, rule: &Rule, layer: JwtAuthLayer<V>) -> JwtAuthLayer<V> {
    let mut layer = layer.realm(options.realm.clone()).token_sources(token_sources(options));
    if !rule.scopes.is_empty() {
        layer = layer.require_scopes(rule.scopes.iter().cloned());
    }
    if rule.access == Access::Optional {
        layer = layer.optional();
    }
    for (claim, header) in &options.claim_headers {
        layer = layer.forward_claim(claim.clone(), header.clone());
    }
    layer
}

fn boxed<V: TokenVerifier + 'static>(layer: &JwtAuthLayer<V, NoCustomClaims>, inner: RuleService) -> RuleService {
    BoxCloneSyncService::new(ServiceExt::<Request<Incoming>>::map_response(
        layer.layer(inner),
        |response: Response<jwtgate_hyper::ResponseBody<Body>>| response.map(BodyExt::boxed_unsync),
    ))
}
