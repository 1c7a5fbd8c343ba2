//! Arbitrary `Authorization`, `Cookie` and custom header values through
//! jwtgate-hyper's layer. The layer must never panic, must answer only
//! 200, 400 or 401, must let a request through only with the one genuine
//! token presented exactly once, and must never echo the input back.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::sync::LazyLock;
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use http::{HeaderName, HeaderValue, Request, Response};
use jwtgate_hyper::{JwtAuthLayer, TokenSource};
use jwtgate_testkit::alg::Alg;
use jwtgate_testkit::jwk::b64;
use jwtgate_testkit::key::PrivateKey;
use jwtgate_verify::{Algorithm, FixedClock, KeySet, Verifier, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;
use tower_service::Service;

const NOW: i64 = 1_700_000_000;

struct Fixture {
    layer: JwtAuthLayer<Verifier>,
    token: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = PrivateKey::generate(Alg::HS256, None).expect("keygen");
    let jwk = serde_json::Value::Object(key.private_jwk("k").expect("jwk"));
    let verifying = VerifyingKey::from_jwk_value(jwk).expect("key loads");
    let verifier = Verifier::builder()
        .issuer("https://issuer.fuzz")
        .audience("api.fuzz")
        .algorithms([Algorithm::HS256])
        .clock(FixedClock(NOW))
        .build(KeySet::new([verifying]))
        .expect("verifier");
    let header = r#"{"alg":"HS256","kid":"k"}"#;
    let claims = format!(r#"{{"iss":"https://issuer.fuzz","aud":"api.fuzz","sub":"s","exp":{}}}"#, NOW + 300);
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let signature = key.sign(signing_input.as_bytes()).expect("sign");
    let token = format!("{signing_input}.{}", b64(&signature));
    let layer = JwtAuthLayer::new(verifier).token_sources([
        TokenSource::authorization_header(),
        TokenSource::cookie("access_token"),
        TokenSource::header(HeaderName::from_static("x-access-token")),
    ]);
    Fixture { layer, token }
});

#[derive(Arbitrary, Debug)]
struct Input {
    authorization: Vec<Vec<u8>>,
    cookie: Option<Vec<u8>>,
    custom: Option<Vec<u8>>,
    /// Replace the first Authorization value by `Bearer <genuine token>`.
    genuine: bool,
}

fn poll_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        // The layer's synchronous path (static keys) is ready at once;
        // spinning would only happen on the refresh path, which static
        // keys never take.
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fuzz_target!(|input: Input| {
    let fixture = &*FIXTURE;
    let mut builder = Request::builder().uri("/");
    let mut presented = Vec::new();
    for (i, value) in input.authorization.iter().take(4).enumerate() {
        let bytes =
            if i == 0 && input.genuine { format!("Bearer {}", fixture.token).into_bytes() } else { value.clone() };
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            presented.push(bytes.clone());
            builder = builder.header(http::header::AUTHORIZATION, v);
        }
    }
    for (name, value) in [("cookie", &input.cookie), ("x-access-token", &input.custom)] {
        if let Some(value) = value
            && let Ok(v) = HeaderValue::from_bytes(value)
        {
            presented.push(value.clone());
            builder = builder.header(name, v);
        }
    }
    let Ok(request) = builder.body(()) else { return };
    let inner = tower_service_fn(|_: Request<()>| async { Ok::<_, Infallible>(Response::new(String::from("inner"))) });
    let mut service = fixture.layer.layer(inner);
    let response = poll_ready(service.call(request)).expect("infallible");
    let status = response.status().as_u16();
    assert!(matches!(status, 200 | 400 | 401), "status {status}");
    let only_genuine = input.genuine
        && presented.len() == 1
        && presented.first().is_some_and(|p| p == format!("Bearer {}", fixture.token).as_bytes());
    if status == 200 {
        // Some source carried the genuine token, and nothing else carried one.
        assert!(presented.iter().any(|p| p.windows(fixture.token.len()).any(|w| w == fixture.token.as_bytes())));
    }
    if only_genuine {
        assert_eq!(status, 200);
    }
    // Nothing the caller sent comes back (in headers or the status line).
    for (_, value) in response.headers() {
        for p in &presented {
            if p.len() >= 12 {
                assert!(!value.as_bytes().windows(p.len()).any(|w| w == p.as_slice()), "input echoed");
            }
        }
    }
});

/// `tower::service_fn` without depending on tower.
fn tower_service_fn<F, Fut>(f: F) -> ServiceFn<F>
where
    F: FnMut(Request<()>) -> Fut,
{
    ServiceFn(f)
}

#[derive(Clone)]
struct ServiceFn<F>(F);

impl<F, Fut> Service<Request<()>> for ServiceFn<F>
where
    F: FnMut(Request<()>) -> Fut,
    Fut: Future<Output = Result<Response<String>, Infallible>>,
{
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<()>) -> Fut {
        (self.0)(req)
    }
}
