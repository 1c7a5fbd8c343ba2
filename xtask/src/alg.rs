//! The algorithms of xtask's command line are jwtgate-verify's
//! [`Algorithm`](jwtgate_verify::Algorithm): xtask is where a key is made
//! and a verifier is built for the same algorithm (the demo, the load
//! benchmark), so one value serves both. The test kit, which signs, has its
//! own enum (it depends on no jwtgate crate); [`signing`] maps to it.

use crate::error::Error;

pub use jwtgate_verify::Algorithm as Alg;

/// The test kit's algorithm of the same name, for signing.
#[must_use]
pub const fn signing(alg: Alg) -> jwtgate_testkit::alg::Alg {
    use jwtgate_testkit::alg::Alg as Kit;
    // A match, not a lookup by name: an algorithm added to the verifier
    // fails to compile here until the kit can sign it.
    match alg {
        Alg::HS256 => Kit::HS256,
        Alg::HS384 => Kit::HS384,
        Alg::HS512 => Kit::HS512,
        Alg::RS256 => Kit::RS256,
        Alg::RS384 => Kit::RS384,
        Alg::RS512 => Kit::RS512,
        Alg::PS256 => Kit::PS256,
        Alg::PS384 => Kit::PS384,
        Alg::PS512 => Kit::PS512,
        Alg::ES256 => Kit::ES256,
        Alg::ES384 => Kit::ES384,
        Alg::ES512 => Kit::ES512,
        Alg::EdDSA => Kit::EdDSA,
    }
}

/// The algorithm with this exact, case-sensitive name.
///
/// # Errors
///
/// For any other name, with the list of valid ones.
pub fn parse(name: &str) -> Result<Alg, Error> {
    Alg::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Alg::ALL.iter().map(|a| a.name()).collect();
        Error::msg(format!("unknown algorithm {name:?}; expected one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verifier_algorithm_signs_under_its_own_name() {
        for alg in Alg::ALL {
            assert_eq!(signing(alg).name(), alg.name());
        }
        assert_eq!(Alg::ALL.len(), jwtgate_testkit::alg::Alg::ALL.len());
    }
}
