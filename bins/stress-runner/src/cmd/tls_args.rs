//! The connection flags of an HTTP `--target` (`run`, `probe`, `capacity`): TLS for `https://`,
//! `--http2` and `--engine`. Each overrides the scenario's `[target.tls]` (or `[target]`) key of the same meaning.

use models::{Http2Mode, HttpEngine, TargetSpec};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// https targets: trust this CA (PEM file) besides the system's roots ([target.tls] ca_file).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// https targets: client certificate (PEM) for mutual TLS; needs --client-key ([target.tls] client_cert).
    #[arg(long, value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// https targets: the client certificate's private key (PEM) ([target.tls] client_key).
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// https targets: the name to send as SNI and check the certificate against, when the URL names
    /// an IP address ([target.tls] server_name).
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// HTTP/2: auto (when an https server offers it by ALPN, HTTP/1.1 otherwise), never, or always
    /// (over http://, with prior knowledge) ([target] http2).
    #[arg(long, value_name = "auto|never|always")]
    http2: Option<Http2Mode>,
    /// HTTP/1.1 client: lean (the purpose-built HTTP/1.1 client, the default) or hyper (hyper's
    /// client); HTTP/2 always uses hyper ([target] engine).
    #[arg(long, value_name = "hyper|lean")]
    engine: Option<HttpEngine>,
}

impl TlsArgs {
    /// Sets the keys given on the command line; the others stay as the scenario has them.
    pub fn apply_to(&self, target: &mut TargetSpec) {
        if let Some(mode) = self.http2 {
            target.http2 = mode;
        }
        if let Some(engine) = self.engine {
            target.engine = engine;
        }
        let tls = &mut target.tls;
        if let Some(f) = &self.ca_file {
            tls.ca_file = Some(f.clone());
        }
        if let Some(f) = &self.client_cert {
            tls.client_cert = Some(f.clone());
        }
        if let Some(f) = &self.client_key {
            tls.client_key = Some(f.clone());
        }
        if let Some(n) = &self.server_name {
            tls.server_name = Some(n.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        tls: TlsArgs,
    }

    #[test]
    fn flags_override_only_the_keys_they_name() {
        let cli =
            Cli::try_parse_from(["x", "--ca-file", "ca.pem", "--server-name", "api.test"]).unwrap();
        let mut target = TargetSpec {
            tls: models::TlsSpec {
                ca_file: Some("old.pem".into()),
                client_cert: Some("c.pem".into()),
                client_key: Some("k.pem".into()),
                server_name: None,
            },
            http2: Http2Mode::Never,
            engine: HttpEngine::Hyper,
            ..TargetSpec::default()
        };
        cli.tls.apply_to(&mut target);
        let tls = &target.tls;
        assert_eq!(tls.ca_file, Some("ca.pem".into()));
        assert_eq!(tls.client_cert, Some("c.pem".into()));
        assert_eq!(tls.server_name.as_deref(), Some("api.test"));
        assert_eq!(target.http2, Http2Mode::Never, "no --http2: the scenario's");
        let cli = Cli::try_parse_from(["x", "--http2", "always"]).unwrap();
        cli.tls.apply_to(&mut target);
        assert_eq!(target.http2, Http2Mode::Always);
        assert_eq!(
            target.engine,
            HttpEngine::Hyper,
            "no --engine: the scenario's"
        );
        let cli = Cli::try_parse_from(["x", "--engine", "lean"]).unwrap();
        cli.tls.apply_to(&mut target);
        assert_eq!(target.engine, HttpEngine::Lean);
        assert_eq!(target.http2, Http2Mode::Always, "no --http2: kept");
    }

    #[test]
    fn engine_takes_one_of_two_words() {
        let err = Cli::try_parse_from(["x", "--engine", "fast"]).unwrap_err();
        assert!(err.to_string().contains("hyper or lean"), "{err}");
    }

    #[test]
    fn http2_takes_one_of_three_words() {
        let err = Cli::try_parse_from(["x", "--http2", "yes"]).unwrap_err();
        assert!(err.to_string().contains("auto, never or always"), "{err}");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let err = Cli::try_parse_from(["x", "--client-cert", "c.pem"]).unwrap_err();
        assert!(err.to_string().contains("--client-key"), "{err}");
    }
}
