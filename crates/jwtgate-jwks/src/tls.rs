//! The TLS material of a [`JwksConfig`](crate::JwksConfig): PEM kept as
//! given until `build` (and shown by length only), then checked and turned
//! into reqwest's roots and client identity.
//!
//! PEM is read with `rustls-pki-types`, the parser rustls and reqwest use
//! themselves, so what is accepted here is what they would accept. Errors
//! name the setting and the kind of problem from a fixed list; the parser's
//! own messages are not used, because some of them quote the input.

use core::fmt;
use std::sync::Arc;

use rustls_pki_types::pem::{self, PemObject, SectionKind};

use crate::error::{ConfigError, PemSetting};

/// PEM text as handed to a setter. Its `Debug` prints the length only:
/// a private key must never reach a log line, and certificates need not.
#[derive(Clone)]
pub(crate) struct PemText(Arc<[u8]>);

impl PemText {
    pub(crate) fn new(pem: &[u8]) -> Self {
        Self(Arc::from(pem))
    }
}

impl fmt::Debug for PemText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<PEM, {} bytes>", self.0.len())
    }
}

/// A client certificate chain and its private key, for mutual TLS.
#[derive(Clone, Debug)]
pub(crate) struct ClientIdentityPem {
    pub(crate) cert_chain: PemText,
    pub(crate) key: PemText,
}

const fn pem_error(setting: PemSetting, problem: &'static str) -> ConfigError {
    ConfigError::Pem { setting, problem }
}

/// Every PEM block of `text` in order, as (kind, DER); blocks with labels
/// rustls does not know (`TRUSTED CERTIFICATE`, `ENCRYPTED PRIVATE KEY`,
/// ...) are skipped, as rustls skips them.
fn blocks(text: &PemText, setting: PemSetting) -> Result<Vec<(SectionKind, Vec<u8>)>, ConfigError> {
    <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(&text.0)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, describe(&e)))
}

/// A fixed description of a PEM syntax error (the parser's own message
/// may quote a line of the input).
fn describe(error: &pem::Error) -> &'static str {
    match error {
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no END line",
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a PEM block is not valid base64",
        pem::Error::SectionTooLarge => "a PEM block is too large",
        _ => "the text cannot be read as PEM",
    }
}

/// The certificates of every `add_root_certificate_pem` call, in order.
/// Each call must hold at least one `CERTIFICATE` block; other blocks are
/// ignored. Whether each block is a valid X.509 certificate is checked when
/// the client is built (reqwest parses them then).
pub(crate) fn root_certificates(pems: &[PemText]) -> Result<Vec<reqwest::Certificate>, ConfigError> {
    let setting = PemSetting::RootCertificates;
    let mut roots = Vec::new();
    for pem in pems {
        let before = roots.len();
        for (kind, der) in blocks(pem, setting)? {
            if matches!(kind, SectionKind::Certificate) {
                let root = reqwest::Certificate::from_der(&der)
                    .map_err(|_| pem_error(setting, "a CERTIFICATE block is not a valid certificate"))?;
                roots.push(root);
            }
        }
        if roots.len() == before {
            return Err(pem_error(setting, "holds no CERTIFICATE block"));
        }
    }
    Ok(roots)
}

/// The client identity for reqwest, from the certificate blocks of the
/// chain (leaf first; other blocks ignored, so a combined file works) and
/// the one private-key block of the key text (certificate blocks in it
/// ignored, for the same reason).
///
/// reqwest takes an identity only as one PEM text, and picks from it every
/// certificate and the last key it finds; so that a combined file given
/// for both halves cannot double the chain or pick the wrong key, that
/// text is written here from exactly the blocks chosen.
pub(crate) fn client_identity(identity: &ClientIdentityPem) -> Result<reqwest::Identity, ConfigError> {
    let mut canonical = String::new();
    let mut certificates = 0_usize;
    for (kind, der) in blocks(&identity.cert_chain, PemSetting::ClientCertificates)? {
        if matches!(kind, SectionKind::Certificate) {
            push_block(&mut canonical, "CERTIFICATE", &der, PemSetting::ClientCertificates)?;
            certificates += 1;
        }
    }
    if certificates == 0 {
        return Err(pem_error(PemSetting::ClientCertificates, "holds no CERTIFICATE block"));
    }

    // Before parsing: a legacy encrypted key (headers inside the block)
    // is not even valid base64 to the parser, and deserves the real reason.
    if is_encrypted(&identity.key) {
        return Err(pem_error(
            PemSetting::ClientKey,
            "the key is encrypted; give it unencrypted (openssl pkey -in key.pem -out plain-key.pem)",
        ));
    }
    let mut keys = blocks(&identity.key, PemSetting::ClientKey)?.into_iter().filter_map(|(kind, der)| {
        let label = match kind {
            SectionKind::PrivateKey => "PRIVATE KEY",
            SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
            SectionKind::EcPrivateKey => "EC PRIVATE KEY",
            _ => return None,
        };
        Some((label, der))
    });
    let (label, der) = match (keys.next(), keys.next()) {
        (Some(key), None) => key,
        (Some(_), Some(_)) => return Err(pem_error(PemSetting::ClientKey, "holds more than one private key")),
        (None, _) => {
            return Err(pem_error(
                PemSetting::ClientKey,
                "holds no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block",
            ));
        }
    };
    push_block(&mut canonical, label, &der, PemSetting::ClientKey)?;
    reqwest::Identity::from_pem(canonical.as_bytes())
        .map_err(|_| pem_error(PemSetting::ClientKey, "the certificate chain and key cannot be read together"))
}

/// Appends one PEM block (RFC 7468 layout).
fn push_block(out: &mut String, label: &str, der: &[u8], setting: PemSetting) -> Result<(), ConfigError> {
    let block = pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der)
        .map_err(|_| pem_error(setting, "a PEM block cannot be re-encoded"))?;
    out.push_str(&block);
    out.push('\n');
    Ok(())
}

/// Whether the text holds an encrypted key (PKCS#8 `ENCRYPTED PRIVATE KEY`
/// or a legacy OpenSSL `Proc-Type: 4,ENCRYPTED` header), which rustls
/// cannot use: worth its own message.
fn is_encrypted(text: &PemText) -> bool {
    contains(&text.0, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || contains(&text.0, b"Proc-Type: 4,ENCRYPTED")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

    use super::*;

    fn root_problem(pem: &[u8]) -> &'static str {
        match root_certificates(&[PemText::new(pem)]) {
            Err(ConfigError::Pem { setting: PemSetting::RootCertificates, problem }) => problem,
            other => panic!("expected a root PEM error, got {other:?}"),
        }
    }

    #[test]
    fn debug_shows_the_length_only() {
        let pem: &[u8] = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n";
        let shown = format!("{:?}", PemText::new(pem));
        assert_eq!(shown, format!("<PEM, {} bytes>", pem.len()));
    }

    #[test]
    fn forbid_root_pem_without_a_certificate() {
        assert_eq!(root_problem(b"not PEM at all"), "holds no CERTIFICATE block");
        assert_eq!(root_problem(b""), "holds no CERTIFICATE block");
        assert_eq!(
            root_problem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
            "holds no CERTIFICATE block"
        );
    }

    #[test]
    fn forbid_broken_pem_without_quoting_it() {
        assert_eq!(root_problem(b"-----BEGIN CERTIFICATE-----\nAAAA\n"), "a PEM block has no END line");
        assert_eq!(
            root_problem(b"-----BEGIN CERTIFICATE-----\n!!secret-looking!!\n-----END CERTIFICATE-----\n"),
            "a PEM block is not valid base64"
        );
        let error = root_certificates(&[PemText::new(b"-----BEGIN CERTIFICATE--- secret\n")]).unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn forbid_encrypted_client_keys_by_name() {
        let pkcs8: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let legacy: &[u8] =
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n\
              -----END RSA PRIVATE KEY-----\n";
        for key in [pkcs8, legacy] {
            let identity = ClientIdentityPem {
                cert_chain: PemText::new(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                key: PemText::new(key),
            };
            match client_identity(&identity) {
                Err(ConfigError::Pem { setting: PemSetting::ClientKey, problem }) => {
                    assert!(problem.contains("encrypted"), "{problem}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
