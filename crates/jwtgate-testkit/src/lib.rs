#![doc = include_str!("../README.md")]

pub mod alg;
pub mod error;
pub mod jwk;
pub mod key;
pub mod keygen;
pub mod mint;
pub mod nginx;
pub mod redis_server;
