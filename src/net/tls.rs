//! Trusted certificate authorities: the built-in Mozilla roots, plus the PEM bundles named by
//! the `ca_file` setting and the `SSL_CERT_FILE` variable.
//!
//! Certificates are always verified; there is no switch that turns verification off.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::files::{self, Links};
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
    // A symlink is followed, because system bundles are often links, but a FIFO or a device
    // is rejected, and the size limit applies while reading.
    let pem = files::read_limited(path, Links::Follow, MAX_BUNDLE_BYTES)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
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
    Some(format!("TLS handshake failed: {}", explain(tls_error)))
}

/// Explains a TLS error in a sentence, with the fix that can help.
fn explain(error: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(certificate) = error else {
        return format!("{error}; check that the URL points to an HTTPS server");
    };
    match certificate {
        CertificateError::UnknownIssuer => "the server's certificate was issued by an unknown CA; \
             if the server uses a private or corporate CA, set `ca_file` to a PEM bundle with \
             that CA (or point SSL_CERT_FILE at one)"
            .to_string(),
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "the server's certificate expired on {}; it must be renewed on the server",
            date(not_after.as_secs())
        ),
        CertificateError::Expired => {
            "the server's certificate has expired; it must be renewed on the server".to_string()
        }
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate is valid only from {}; check the clocks",
            date(not_before.as_secs())
        ),
        CertificateError::NotValidYet => {
            "the server's certificate is not valid yet; check the clocks".to_string()
        }
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<&str> = presented.iter().map(|name| plain_name(name)).collect();
            let names = if names.is_empty() {
                "no host name".to_string()
            } else {
                names.join(", ")
            };
            format!(
                "the server's certificate is for {names}, not {}; check the host in `url`",
                expected.to_str()
            )
        }
        CertificateError::NotValidForName => {
            "the server's certificate is not for the host in `url`; check the host in `url`"
                .to_string()
        }
        CertificateError::Other(other)
            if other.0.downcast_ref::<webpki::Error>()
                == Some(&webpki::Error::CaUsedAsEndEntity) =>
        {
            "the server's certificate is a CA certificate, not a server certificate; the server \
             must present a certificate that a CA issued for its host name"
                .to_string()
        }
        other => format!("the server's certificate is invalid: {other}"),
    }
}

/// Formats seconds since the Unix epoch as an RFC 3339 time in UTC.
fn date(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{seconds} s after 1970"),
            |time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// Returns the name inside webpki's `DnsName("host")` or `IpAddress(1.2.3.4)` form.
fn plain_name(name: &str) -> &str {
    name.split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map_or(name, |inner| inner.trim_matches('"'))
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

    fn described(certificate: CertificateError) -> String {
        let error = ureq::Error::Rustls(rustls::Error::InvalidCertificate(certificate));
        describe_failure(&error).unwrap()
    }

    #[test]
    fn certificate_failures_in_plain_words() {
        use rustls::pki_types::{ServerName, UnixTime};
        use std::time::Duration;

        let expired = described(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_773_480_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_704_067_200)),
        });
        let wrong_host = described(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.1").unwrap(),
            presented: vec![r#"DnsName("other.example")"#.to_string()],
        });
        let ca_as_server = described(CertificateError::Other(rustls::OtherError(Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        ))));
        let unknown = described(CertificateError::UnknownIssuer);

        assert!(
            expired.contains("expired on 2024-01-01T00:00:00Z"),
            "{expired}"
        );
        assert!(
            wrong_host.contains("is for other.example, not 127.0.0.1"),
            "{wrong_host}"
        );
        assert!(
            ca_as_server.contains("is a CA certificate"),
            "{ca_as_server}"
        );
        assert!(!ca_as_server.contains("OtherError"), "{ca_as_server}");
        for message in [&expired, &wrong_host, &ca_as_server] {
            assert!(!message.contains("ca_file"), "{message}");
        }
        assert!(unknown.contains("set `ca_file`"), "{unknown}");
    }

    #[test]
    fn ca_file_must_be_regular_file() {
        let dir =
            std::env::temp_dir().join(format!("octane-report-tls-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.pem");
        let _ = std::fs::remove_file(&fifo);
        crate::files::tests::make_fifo(&fifo);

        for path in [fifo.as_path(), Path::new("/dev/zero")] {
            let error = root_certs(Some(path), None, &Log::default()).err();

            let message = format!("{:#}", error.expect("an error"));
            assert!(message.contains("not a regular file"), "{message}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unusable_ssl_cert_file_falls_back_to_builtin_roots() {
        let roots = root_certs(None, Some("/nonexistent/bundle.pem"), &Log::default()).unwrap();

        assert!(matches!(roots, RootCerts::WebPki));
    }
}
