//! An HTTPS front for the fake Octane: a certificate from a CA generated for the test, TLS by
//! rustls, and each request passed on to the plain fake.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The HTTPS front; stops when dropped.
pub struct TlsFront {
    address: String,
    /// PEM of the CA that signed the server certificate.
    pub ca_pem: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Serves HTTPS on 127.0.0.1 for `localhost` and `127.0.0.1`, passing requests to the
    /// plain HTTP server at `backend` (`127.0.0.1:PORT`).
    pub fn start(backend: String) -> TlsFront {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "octane-report test CA");
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");

        let server_key = KeyPair::generate().expect("server key");
        let server_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("server params");
        let server_cert = server_params
            .signed_by(&server_key, &ca)
            .expect("server certificate");

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], key)
        .expect("server TLS config");
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TLS front on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("address").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((client, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let config = Arc::clone(&config);
                    let backend = backend.clone();
                    std::thread::spawn(move || serve_connection(client, config, &backend));
                }
            })
        };
        TlsFront {
            address,
            ca_pem: ca.pem(),
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the browser URL of the fake through this front, with `host` as the server name.
    pub fn browser_url(&self, host: &str) -> String {
        let port = self.address.rsplit(':').next().unwrap_or_default();
        format!(
            "https://{host}:{port}/ui/?p={}/{}",
            super::fake_octane::SHARED_SPACE,
            super::fake_octane::WORKSPACE
        )
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Handles requests on one TLS connection in turn: each one goes to the backend on a new
/// connection with `Connection: close`, and the response comes back unchanged.
fn serve_connection(client: TcpStream, config: Arc<rustls::ServerConfig>, backend: &str) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(rustls::StreamOwned::new(connection, client));
    loop {
        let mut head = Vec::new();
        let mut content_length = 0usize;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                content_length = value.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
            if !lower.starts_with("connection:") {
                head.extend_from_slice(line.as_bytes());
            }
        }
        head.extend_from_slice(b"Connection: close\r\n\r\n");
        let body = if chunked {
            match read_chunked(&mut reader) {
                Some(body) => body,
                None => return,
            }
        } else {
            let mut body = vec![0u8; content_length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            body
        };
        let Ok(mut upstream) = TcpStream::connect(backend) else {
            return;
        };
        let _ = upstream.write_all(&head);
        let _ = upstream.write_all(&body);
        let mut response = Vec::new();
        let _ = upstream.read_to_end(&mut response);
        let stream = reader.get_mut();
        if stream.write_all(&response).is_err() || stream.flush().is_err() {
            return;
        }
    }
}

/// Reads a chunked body up to its last chunk and returns it still chunked, to pass on as is.
fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    loop {
        let mut size_line = String::new();
        if reader.read_line(&mut size_line).ok()? == 0 {
            return None;
        }
        raw.extend_from_slice(size_line.as_bytes());
        let size_text = size_line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16).ok()?;
        let mut data = vec![0u8; size + 2];
        reader.read_exact(&mut data).ok()?;
        raw.extend_from_slice(&data);
        if size == 0 {
            return Some(raw);
        }
    }
}
