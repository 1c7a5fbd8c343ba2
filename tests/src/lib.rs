#![doc = include_str!("../README.md")]
//!
//! # The workspace README's examples
//!
//! The top-level README is included below so that its Rust examples run as
//! doc tests of this crate and cannot go stale.
#![doc = include_str!("../../README.md")]
