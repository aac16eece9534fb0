//! Trusted certificate authorities: the built-in Mozilla roots, plus the PEM bundles named by
//! the `ca_file` setting and the `SSL_CERT_FILE` variable.
//!
//! Certificates are always verified; there is no switch that turns verification off.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::log::Log;

/// Largest CA bundle read. Distribution bundles with every public root are about 250 KB.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// Builds the trusted roots. An unreadable or invalid `ca_file` is an error naming the path; an
/// unusable `SSL_CERT_FILE` only warns, because images and runners set it for other tools.
pub(crate) fn root_certs(
    ca_file: Option<&Path>,
    ssl_cert_file: Option<&str>,
    log: &Log,
) -> anyhow::Result<RootCerts> {
    let mut extra = Vec::new();
    if let Some(path) = ca_file {
        let certs = read_bundle(path).with_context(|| {
            format!(
                "invalid `ca_file` `{}`: expected a PEM file with one or more CA certificates",
                path.display()
            )
        })?;
        log.info(&format!(
            "trusting {} extra CA certificate(s) from `ca_file` {}",
            certs.len(),
            path.display()
        ));
        extra.extend(certs);
    }
    if let Some(path) = ssl_cert_file {
        match read_bundle(Path::new(path)) {
            Ok(certs) => {
                log.info(&format!(
                    "trusting {} extra CA certificate(s) from SSL_CERT_FILE {path}",
                    certs.len()
                ));
                extra.extend(certs);
            }
            Err(e) => log.warn(&format!("SSL_CERT_FILE is ignored: {e:#}")),
        }
    }
    if extra.is_empty() {
        return Ok(RootCerts::WebPki);
    }
    let mut all: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()))
        .collect();
    all.extend(extra);
    Ok(RootCerts::Specific(Arc::new(all)))
}

/// Reads the certificates of a PEM bundle, checking that each one can be a trust anchor.
fn read_bundle(path: &Path) -> anyhow::Result<Vec<Certificate<'static>>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .len();
    if size > MAX_BUNDLE_BYTES {
        bail!(
            "`{}` is {size} bytes, more than the {MAX_BUNDLE_BYTES}-byte limit",
            path.display()
        );
    }
    let pem = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut certs = Vec::new();
    let mut store = rustls::RootCertStore::empty();
    for item in ureq::tls::parse_pem(&pem) {
        let item = item.with_context(|| format!("invalid PEM in `{}`", path.display()))?;
        if let PemItem::Certificate(cert) = item {
            store
                .add(CertificateDer::from(cert.der()))
                .with_context(|| {
                    format!(
                        "certificate {} in `{}` is not a valid CA certificate",
                        certs.len() + 1,
                        path.display()
                    )
                })?;
            certs.push(cert.to_owned());
        }
    }
    if certs.is_empty() {
        bail!("`{}` contains no PEM certificate", path.display());
    }
    Ok(certs)
}

/// Explains a TLS failure, or returns `None` when the error has another cause.
pub(crate) fn describe_failure(error: &ureq::Error) -> Option<String> {
    let tls_error = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        _ => None,
    }?;
    let hint = match tls_error {
        rustls::Error::InvalidCertificate(_) => {
            "if the server uses a private or corporate CA, set `ca_file` to a PEM bundle with \
             that CA (or point SSL_CERT_FILE at one)"
        }
        _ => "check that the URL points to an HTTPS server",
    };
    Some(format!("TLS handshake failed: {tls_error}; {hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("octane-report-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn missing_ca_file_names_path() {
        let error = root_certs(
            Some(Path::new("/nonexistent/ca.pem")),
            None,
            &Log::default(),
        )
        .err()
        .unwrap();

        let message = format!("{error:#}");
        assert!(message.contains("invalid `ca_file`"), "{message}");
        assert!(message.contains("/nonexistent/ca.pem"), "{message}");
    }

    #[test]
    fn ca_file_without_certificates_is_invalid() {
        let not_pem = temp_file("not-pem.pem", b"hello\n");
        let bad_der = temp_file(
            "bad-der.pem",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );

        for path in [not_pem, bad_der] {
            let error = root_certs(Some(&path), None, &Log::default()).err();

            let message = format!("{:#}", error.expect("an error"));
            assert!(message.contains("invalid `ca_file`"), "{message}");
            assert!(message.contains(&path.display().to_string()), "{message}");
        }
    }

    #[test]
    fn unusable_ssl_cert_file_falls_back_to_builtin_roots() {
        let roots = root_certs(None, Some("/nonexistent/bundle.pem"), &Log::default()).unwrap();

        assert!(matches!(roots, RootCerts::WebPki));
    }
}
