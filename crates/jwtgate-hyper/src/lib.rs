#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
mod axum;
mod body;
mod claims;
mod custom;
mod future;
#[cfg(feature = "tonic")]
mod grpc;
mod layer;
mod rejection;
mod scopes;
mod service;
mod stats;
mod token_source;

#[cfg(feature = "axum")]
pub use crate::axum::{ClaimsRejection, NotAuthenticated};
pub use body::ResponseBody;
pub use claims::{JsonMap, RegisteredClaims, VerifiedClaims};
pub use future::ResponseFuture;
pub use layer::JwtAuthLayer;
pub use rejection::Rejection;
pub use scopes::{RequireScopes, RequireScopesLayer};
pub use service::{JwtAuth, Refused, read_alike};
pub use stats::{AuthStats, OUTCOMES};
pub use token_source::{KUBERNETES_WEBSOCKET_PREFIX, TokenSource};
