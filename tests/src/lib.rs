//! End-to-end tests that cross jwtgate's crate boundaries live in `tests/`.
//! This library is empty on purpose: the crate exists for its test targets.
