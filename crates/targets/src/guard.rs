//! The loopback guard: load and fault traffic goes to this machine only, unless the user opts in.

use crate::TargetConfigError;
use hyper::Uri;
use std::net::IpAddr;

/// Checks that `url` names a loopback host: an address in 127.0.0.0/8, `::1` (or `::ffff:127.x.y.z`),
/// or the name `localhost`. Any other host is refused with an error that names `allow_remote`,
/// unless `allow_remote` is true.
///
/// Names other than `localhost` are refused without being resolved: resolving would itself send a
/// query off the machine, and a name that resolves to loopback now may not later.
///
/// ```
/// assert!(targets::check_loopback("http://127.0.0.1:8080/v1/score", false).is_ok());
/// assert!(targets::check_loopback("http://[::1]:80/", false).is_ok());
/// let err = targets::check_loopback("http://10.0.0.1/", false).unwrap_err();
/// assert!(err.to_string().contains("`allow_remote`"));
/// assert!(targets::check_loopback("http://10.0.0.1/", true).is_ok());
/// ```
pub fn check_loopback(url: &str, allow_remote: bool) -> Result<(), TargetConfigError> {
    let uri: Uri = url.parse().map_err(|e| TargetConfigError::InvalidUrl {
        url: url.to_owned(),
        reason: format!("{e}"),
    })?;
    let host = uri.host().ok_or_else(|| TargetConfigError::InvalidUrl {
        url: url.to_owned(),
        reason: "it has no host; write it like http://127.0.0.1:8080/v1/score".into(),
    })?;
    if allow_remote || is_loopback_host(host) {
        Ok(())
    } else {
        Err(TargetConfigError::RemoteRefused {
            url: url.to_owned(),
            host: host.to_owned(),
        })
    }
}

/// True for `localhost` (any case, optional trailing dot), 127.0.0.0/8, `::1` and IPv4-mapped loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.trim_end_matches('.').eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_pass() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1.2.3:9000/x",
            "http://localhost:8080/v1/score",
            "http://LOCALHOST./",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(check_loopback(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn remote_hosts_are_refused_with_the_flag_named() {
        for url in [
            "http://10.0.0.1/",
            "http://example.com/",
            "http://192.168.1.1:80/score",
            "http://[2001:db8::1]/",
            "http://localhost.example.com/",
            "http://0.0.0.0/",
        ] {
            let err = check_loopback(url, false).unwrap_err();
            assert!(
                matches!(err, TargetConfigError::RemoteRefused { .. }),
                "{url}: {err}"
            );
            assert!(err.to_string().contains("`allow_remote`"), "{err}");
            assert!(check_loopback(url, true).is_ok(), "{url} with allow_remote");
        }
    }

    #[test]
    fn urls_without_host_are_invalid() {
        assert!(matches!(
            check_loopback("/v1/score", false),
            Err(TargetConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            check_loopback("http://exa mple/", false),
            Err(TargetConfigError::InvalidUrl { .. })
        ));
    }
}
