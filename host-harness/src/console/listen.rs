//! Where the console listens, and how: plain HTTP on a loopback address only (the password and
//! the session cookie would travel in clear anywhere else), HTTPS with the operator's
//! certificate anywhere. On plain HTTP a request must also name the console's own address in
//! `Host` (`127.0.0.1:PORT`, `localhost:PORT`), so a web page that rebinds its DNS name to
//! 127.0.0.1 reaches nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::ConsoleError;

/// The operator's certificate chain and private key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Refuses plain HTTP on an address other machines can reach.
pub fn check(listen: SocketAddr, tls: Option<&TlsFiles>) -> Result<(), ConsoleError> {
    if tls.is_none() && !listen.ip().is_loopback() {
        return Err(ConsoleError::PlainHttpElsewhere(listen));
    }
    Ok(())
}

/// The TLS server configuration for `files` (rustls with the ring provider, TLS 1.2 and 1.3,
/// HTTP/1.1).
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, ConsoleError> {
    let tls = |path: &Path, what: String| ConsoleError::Tls(format!("{}: {what}", path.display()));
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| tls(&files.cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(&files.cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(tls(&files.cert, "holds no certificate".into()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| tls(&files.key, e.to_string()))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| ConsoleError::Tls(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| {
                ConsoleError::Tls(format!(
                    "{} and {} do not make a usable certificate and key: {e}",
                    files.cert.display(),
                    files.key.display()
                ))
            })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The `Host` values a plain-HTTP console answers to: its address and `localhost` with its
/// port. Under TLS any name is answered (a rebound name fails the certificate check).
pub fn allowed_hosts(bound: SocketAddr, tls: bool) -> Option<Vec<String>> {
    (!tls).then(|| {
        let port = bound.port();
        vec![bound.to_string(), format!("localhost:{port}")]
    })
}
