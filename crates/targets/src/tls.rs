//! TLS for `https://` targets: rustls with the aws-lc-rs provider (the one the AWS SDK already
//! builds, so no OpenSSL and no second crypto library), configured from [`models::TlsSpec`].
//!
//! Roots are the platform's (rustls-native-certs): what the team's machines already trust, including
//! a company CA installed in the system store, which webpki-roots' fixed Mozilla list would not hold.
//! `ca_file` adds a private CA on top. The provider is passed to rustls explicitly; nothing is
//! installed process-wide.

use crate::TargetConfigError;
use models::{Http2Mode, TlsSpec};
use rustls::client::WebPkiServerVerifier;
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// What opens TLS sessions to one target: the client configuration and the name checked against the
/// server's certificate (and sent as SNI when it is a DNS name).
#[derive(Clone)]
pub(crate) struct TlsClient {
    pub connector: TlsConnector,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Builds the client for a URL whose host is `host` (brackets of an IPv6 literal allowed),
    /// offering by ALPN the protocols `http2` allows. Reads the PEM files named in `spec` and the
    /// platform's roots; an unreadable or empty file, a key that does not match its certificate, or
    /// no root at all is an error naming the setting.
    pub fn new(spec: &TlsSpec, host: &str, http2: Http2Mode) -> Result<Self, TargetConfigError> {
        let name = spec
            .server_name
            .as_deref()
            .unwrap_or_else(|| host.trim_start_matches('[').trim_end_matches(']'));
        let server_name = ServerName::try_from(name.to_owned()).map_err(|e| {
            setting(
                "tls.server_name",
                format!("{name:?} is not a DNS name or IP address: {e}"),
            )
        })?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(client_config(spec, http2)?)),
            server_name,
        })
    }

    /// The name the server's certificate must hold, for messages.
    pub fn name(&self) -> String {
        self.server_name.to_str().into_owned()
    }

    /// The TLS handshake over `tcp`. A failure says what to change when the TLS layer refused
    /// ([`HandshakeFailure::Tls`], from [`tls_failure`]), or is the connection's error.
    pub async fn shake_hands(
        &self,
        tcp: tokio::net::TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, HandshakeFailure> {
        self.connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| match tls_failure(&e, &self.name()) {
                Some(reason) => HandshakeFailure::Tls(reason),
                None => HandshakeFailure::Io(e),
            })
    }
}

/// Why [`TlsClient::shake_hands`] failed.
#[derive(Debug)]
pub(crate) enum HandshakeFailure {
    /// The TLS layer refused (certificate, name, client certificate): what to change.
    Tls(String),
    /// The connection failed during the handshake.
    Io(std::io::Error),
}

/// The rustls client configuration `spec` asks for (roots, private CA, client certificate), offering
/// by ALPN the protocols `http2` allows; the server name is the caller's. Also for clients other
/// than [`HttpTarget`](crate::HttpTarget)'s pool, such as the fault proxy's upstream client, so that
/// `[target.tls]` means the same everywhere.
pub fn client_config(spec: &TlsSpec, http2: Http2Mode) -> Result<ClientConfig, TargetConfigError> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: a machine with a few broken files still has
    // the rest, and a missing root shows up as a clear `tls` error at the first connection.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = &spec.ca_file {
        let certs = read_certs(path, "tls.ca_file")?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(setting(
                "tls.ca_file",
                format!(
                    "{} holds no usable CA certificate; give the PEM file of the CA that signed the server's certificate",
                    path.display()
                ),
            ));
        }
    }
    if roots.is_empty() {
        return Err(setting(
                "tls.ca_file",
                "no trusted root certificates were found on this machine; give the server's CA as a PEM file in `tls.ca_file` ([target.tls] ca_file)".into(),
            ));
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| setting("tls.ca_file", format!("cannot use these roots: {e}")))?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setting("tls", format!("no usable TLS version: {e}")))?
        .with_webpki_verifier(verifier);
    let mut config = match (&spec.client_cert, &spec.client_key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "tls.client_cert")?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                setting(
                    "tls.client_key",
                    format!(
                        "cannot read a private key (PKCS#8, PKCS#1 or SEC1 PEM) from {}: {e}",
                        key.display()
                    ),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                setting(
                    "tls.client_key",
                    format!(
                        "the key {} does not go with the certificate {}: {e}",
                        spec.client_key
                            .as_deref()
                            .unwrap_or(Path::new(""))
                            .display(),
                        cert.display()
                    ),
                )
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => {
            return Err(setting(
                "tls.client_key",
                "client_cert is set but client_key is not: mutual TLS needs both PEM files".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(setting(
                "tls.client_cert",
                "client_key is set but client_cert is not: mutual TLS needs both PEM files".into(),
            ));
        }
    };
    // Offering only what the pool will speak lets the server choose cleanly; h2 first, as the
    // preferred one (servers mostly take the first they support).
    config.alpn_protocols = match http2 {
        Http2Mode::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Http2Mode::Always => vec![b"h2".to_vec()],
        Http2Mode::Never => vec![b"http/1.1".to_vec()],
    };
    Ok(config)
}

fn setting(field: &'static str, reason: String) -> TargetConfigError {
    TargetConfigError::InvalidSetting { field, reason }
}

fn read_certs(
    path: &Path,
    field: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TargetConfigError> {
    let bad = |e: String| {
        setting(
            field,
            format!("cannot read PEM certificates from {}: {e}", path.display()),
        )
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("it holds no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// The TLS failure among `err`'s causes, explained with what to change; `None` when TLS is not
/// the cause. `server_name` is the name the certificate was checked against.
pub(crate) fn tls_failure(
    err: &(dyn std::error::Error + 'static),
    server_name: &str,
) -> Option<String> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(explain(tls, server_name));
        }
        // rustls errors reach us wrapped in io::Error, whose `source` skips the wrapped error.
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(explain(tls, server_name));
        }
        cause = e.source();
    }
    None
}

fn explain(err: &rustls::Error, server_name: &str) -> String {
    use rustls::Error as E;
    let hint = match err {
        E::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "the server's certificate is not signed by a CA this machine trusts; give its CA in `tls.ca_file` ([target.tls] ca_file)".to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's certificate is not valid for {server_name:?}; use a URL host the certificate names, or set [target.tls] server_name to one"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired (or this machine's clock is wrong); renew it".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (or this machine's clock is wrong)".to_owned()
            }
            _ => "the server's certificate was refused".to_owned(),
        },
        E::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::AccessDenied,
        ) => "the server refused the client certificate (or wanted one); set `tls.client_cert` and `tls.client_key` ([target.tls]) to one it accepts".to_owned(),
        E::AlertReceived(AlertDescription::NoApplicationProtocol) => {
            "the server accepts none of the protocols offered by ALPN (h2 alone when `http2` is \"always\", http/1.1 alone when \"never\"); set `http2` to \"auto\" to offer both".to_owned()
        }
        E::InvalidMessage(_) => {
            "the server did not answer in TLS; if this port speaks plain HTTP, use an http:// URL".to_owned()
        }
        _ => "the TLS handshake failed".to_owned(),
    };
    format!("{hint} ({err})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_client_certificate_is_refused_naming_the_missing_half() {
        let spec = TlsSpec {
            client_cert: Some("client.pem".into()),
            ..TlsSpec::default()
        };
        let err = TlsClient::new(&spec, "127.0.0.1", Http2Mode::Auto)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tls.client_key") && err.contains("both"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let spec = TlsSpec {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSpec::default()
        };
        let err = TlsClient::new(&spec, "localhost", Http2Mode::Auto)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tls.ca_file") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn ip_hosts_and_overrides_become_server_names() {
        let ip = TlsClient::new(&TlsSpec::default(), "[::1]", Http2Mode::Auto);
        // A machine without system roots cannot build a client without ca_file; both outcomes name it.
        match ip {
            Ok(c) => assert_eq!(c.name(), "::1"),
            Err(e) => assert!(e.to_string().contains("ca_file"), "{e}"),
        }
        let bad = TlsSpec {
            server_name: Some("not a name".into()),
            ..TlsSpec::default()
        };
        let err = TlsClient::new(&bad, "127.0.0.1", Http2Mode::Auto)
            .unwrap_err()
            .to_string();
        assert!(err.contains("tls.server_name"), "{err}");
    }

    #[test]
    fn tls_causes_are_found_through_io_errors() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let text = tls_failure(&io, "x").expect("a TLS cause");
        assert!(text.contains("ca_file"), "{text}");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(tls_failure(&plain, "x").is_none());
    }
}
