//! `cargo xtask mint`: sign a compact JWS with a private JWK. The request
//! and the signing are the test kit's ([`jwtgate_testkit::mint`]); the
//! command line maps `--alg` with [`crate::alg::signing`].

pub use jwtgate_testkit::mint::{Request, run, sign_raw};
