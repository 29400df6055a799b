//! [`Endpoint`]: an `http://` or `https://` URL taken apart once into what a connection needs (the
//! address to connect to, the `Host` header, the request path, TLS or not).

use crate::TargetConfigError;
use hyper::Uri;
use hyper::header::HeaderValue;

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `host:port` to connect to (the scheme's port when the URL has none).
    pub connect_to: String,
    /// The URL's host as written (an IPv6 literal keeps its brackets): the name TLS checks.
    pub host: String,
    /// The `Host` header: the URL's authority as written.
    pub host_header: HeaderValue,
    /// Origin-form request target (`/v1/score?x`): what goes on the request line.
    pub path: Uri,
    pub secure: bool,
}

impl Endpoint {
    /// Takes `url` apart; `example` is a URL of the same use to show in the errors.
    pub fn parse(url: &str, example: &str) -> Result<Self, TargetConfigError> {
        let invalid = |reason: String| TargetConfigError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let uri: Uri = url.parse().map_err(|e| invalid(format!("{e}")))?;
        let (secure, default_port) = match uri.scheme_str() {
            Some("http") => (false, 80),
            Some("https") => (true, 443),
            _ => {
                return Err(invalid(format!(
                    "its scheme must be http:// or https://, like {example}"
                )));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid(format!("it has no host; write it like {example}")))?;
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|e| invalid(format!("its host is not a valid Host header: {e}")))?;
        let connect_to = format!(
            "{}:{}",
            authority.host(),
            authority.port_u16().unwrap_or(default_port)
        );
        let path: Uri = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| invalid(format!("its path: {e}")))?;
        Ok(Self {
            connect_to,
            host: authority.host().to_owned(),
            host_header,
            path,
            secure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_a_url_apart() {
        let e = Endpoint::parse("https://[::1]/metrics?x=1", "").unwrap();
        assert_eq!(e.connect_to, "[::1]:443");
        assert_eq!(e.host, "[::1]");
        assert_eq!(e.path, "/metrics?x=1");
        assert!(e.secure);
        let e = Endpoint::parse("http://127.0.0.1:9090", "").unwrap();
        assert_eq!(
            (e.connect_to.as_str(), e.path.path()),
            ("127.0.0.1:9090", "/")
        );
    }

    #[test]
    fn refuses_other_schemes_and_hostless_urls_with_the_example() {
        let err = Endpoint::parse("ftp://127.0.0.1/m", "http://127.0.0.1:8080/metrics")
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://127.0.0.1:8080/metrics"), "{err}");
        assert!(Endpoint::parse("/metrics", "x").is_err());
    }
}
