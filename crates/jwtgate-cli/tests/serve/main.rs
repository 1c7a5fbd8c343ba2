//! `jwtgate serve` as a real child process on 127.0.0.1: as an auth
//! endpoint an ingress asks, as a reverse proxy in front of a real
//! upstream, from a configuration file, and behind a real nginx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "test code")]

mod config;
mod endpoint;
mod nginx;
mod proxy;
mod support;
