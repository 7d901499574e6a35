//! HTTPS for the emulator: a throw-away CA and a server certificate for the loopback names,
//! generated at every start (rcgen), served with rustls and its ring provider. A client trusts
//! the emulator only by being given the CA ([`TlsIdentity::ca_pem`]); nothing is installed
//! anywhere.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The emulator's CA and server certificate.
pub(crate) struct TlsIdentity {
    ca_pem: String,
    config: Arc<ServerConfig>,
}

impl TlsIdentity {
    /// A fresh CA, and a certificate it signs for `127.0.0.1`, `::1` and `localhost`.
    pub(crate) fn generate() -> Result<Self, String> {
        let err = |what: &str, e: rcgen::Error| format!("{what}: {e}");
        let ca_key = KeyPair::generate().map_err(|e| err("CA key", e))?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| err("CA", e))?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name = name("xentral-host HubSpot emulator CA");
        let ca_cert = ca.self_signed(&ca_key).map_err(|e| err("CA", e))?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(|e| err("server key", e))?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| err("server", e))?;
        server.subject_alt_names.extend([
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]);
        server.distinguished_name = name("HubSpot emulator on loopback");
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .map_err(|e| err("server", e))?;

        let chain = vec![
            CertificateDer::from(server_cert.der().to_vec()),
            CertificateDer::from(ca_cert.der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS versions: {e}"))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| format!("server certificate: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            ca_pem: ca_cert.pem(),
            config: Arc::new(config),
        })
    }

    /// The CA certificate, PEM.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server configuration.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}
