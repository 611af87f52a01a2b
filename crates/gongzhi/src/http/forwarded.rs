//! Who is calling and how: the client address, whether the user's connection is https, and the
//! host the user typed. Behind a reverse proxy these come from `X-Forwarded-For`,
//! `X-Forwarded-Proto` and `X-Forwarded-Host`, believed only when the TCP peer is one of
//! `GONGZHI_TRUSTED_PROXIES`; anyone else could write them.
use std::net::IpAddr;

use axum::http::{header, HeaderMap};

use crate::config::Settings;

/// The facts of one request's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The client's address: the TCP peer, or the first untrusted hop of `X-Forwarded-For`.
    pub client_addr: String,
    /// The user's connection is https (a trusted proxy says so, or `GONGZHI_PUBLIC_URL` is https).
    pub https: bool,
    /// The host (and port) the user addressed, lower-case, for same-origin checks.
    pub host: Option<String>,
}

fn trusted(settings: &Settings, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    settings.trusted_proxies.iter().any(|n| n.contains(&ip))
}

/// Every value of a comma-separated header, over all its occurrences, in order.
fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// An `X-Forwarded-For` element: `1.2.3.4`, `1.2.3.4:5678`, `::1` or `[::1]:5678`.
fn hop_ip(s: &str) -> Option<IpAddr> {
    let bare = match s.strip_prefix('[') {
        Some(rest) => rest.split(']').next()?,
        None if s.matches(':').count() == 1 => s.split(':').next()?,
        None => s,
    };
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Walks `X-Forwarded-For` from the nearest hop back and stops at the first address that is not
/// a trusted proxy: that one is the client. An unreadable hop ends the walk at the proxy that
/// wrote it.
fn client_behind(settings: &Settings, proxy: IpAddr, headers: &HeaderMap) -> IpAddr {
    let mut client = proxy;
    for hop in values(headers, "x-forwarded-for").into_iter().rev() {
        let Some(ip) = hop_ip(hop) else { break };
        client = ip;
        if !trusted(settings, ip) {
            break;
        }
    }
    client
}

/// The request's peer facts from the TCP peer and the headers.
pub fn peer(settings: &Settings, tcp: Option<IpAddr>, headers: &HeaderMap) -> Peer {
    let via_proxy = tcp.is_some_and(|ip| trusted(settings, ip));
    let client = match tcp {
        Some(ip) if via_proxy => client_behind(settings, ip, headers).to_string(),
        Some(ip) => ip.to_canonical().to_string(),
        None => "unknown".into(),
    };
    let said = |name: &str| {
        via_proxy
            .then(|| values(headers, name).last().map(|v| v.to_ascii_lowercase()))
            .flatten()
    };
    let https = settings.public_https() || said("x-forwarded-proto").as_deref() == Some("https");
    let host = said("x-forwarded-host").or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|h| h.trim().to_ascii_lowercase())
    });
    Peer {
        client_addr: client,
        https,
        host,
    }
}

/// `scheme://authority` without the scheme's default port.
pub fn origin_of(scheme: &str, authority: &str) -> String {
    let authority = match scheme {
        "https" => authority.strip_suffix(":443").unwrap_or(authority),
        "http" => authority.strip_suffix(":80").unwrap_or(authority),
        _ => authority,
    };
    format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn settings(proxies: &[&str]) -> Settings {
        let mut s = Settings::for_database("sqlite::memory:", std::path::Path::new("."));
        s.trusted_proxies = proxies.iter().map(|p| p.parse().unwrap()).collect();
        s
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 9.9.9.9"),
            ("x-forwarded-proto", "https"),
            ("host", "Gongzhi.Example"),
        ]);
        let from_proxy = peer(&settings(&["10.0.0.0/8"]), "10.0.0.5".parse().ok(), &h);
        assert_eq!(from_proxy.client_addr, "9.9.9.9");
        assert!(from_proxy.https);
        assert_eq!(from_proxy.host.as_deref(), Some("gongzhi.example"));
        let direct = peer(&settings(&["10.0.0.0/8"]), "8.8.8.8".parse().ok(), &h);
        assert_eq!(direct.client_addr, "8.8.8.8");
        assert!(!direct.https);
    }

    #[test]
    fn the_walk_skips_trusted_hops_and_stops_at_garbage() {
        let s = settings(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 2.2.2.2:4711, 10.0.0.9")]);
        assert_eq!(peer(&s, "10.0.0.5".parse().ok(), &h).client_addr, "2.2.2.2");
        let h = headers(&[("x-forwarded-for", "1.1.1.1, nonsense")]);
        assert_eq!(
            peer(&s, "10.0.0.5".parse().ok(), &h).client_addr,
            "10.0.0.5"
        );
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:80")]);
        assert_eq!(
            peer(&s, "10.0.0.5".parse().ok(), &h).client_addr,
            "2001:db8::1"
        );
    }

    #[test]
    fn default_ports_leave_the_origin() {
        assert_eq!(origin_of("https", "a.b:443"), "https://a.b");
        assert_eq!(origin_of("http", "a.b:8080"), "http://a.b:8080");
    }
}
