//! Same-origin writes. A browser attaches the session cookie to every request to this site, also
//! to one that another site's page starts; such a write must not count. Every POST/PUT/PATCH/DELETE
//! that is authenticated by the cookie (no `Authorization: Bearer`) must name this site in
//! `Origin` (or, when a browser sends no `Origin`, in `Referer`); one that names another site, or
//! names none, is refused with 403 `csrf.origin` before any handler runs. A login naming another
//! site is refused too (login CSRF); a login naming none is an API client and passes.
//!
//! "This site" is `GONGZHI_PUBLIC_URL`'s origin, or the host the request addressed (from a trusted
//! proxy's `X-Forwarded-Host`, else `Host`) — with https when the connection is known to be https.
use axum::http::{header, HeaderMap, Method};

use super::extract::{bearer, session_cookie};
use super::forwarded::{origin_of, Peer};
use crate::config::Settings;
use crate::error::{AppError, Msg};

const LOGIN: &str = "/api/v1/auth/login";

fn refused() -> AppError {
    AppError::Forbidden {
        code: "csrf.origin",
        msg: Msg::new(
            "请求来源不是本系统页面，已拒绝；请在本系统页面中操作",
            "The request does not come from gongzhi's own pages and was refused; use gongzhi's pages",
        ),
    }
}

/// `https://Host:443/path?q` → `https://host`; `None` for `null` and anything unreadable.
fn origin_of_url(url: &str) -> Option<String> {
    let url = url.trim().to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let ok =
        matches!(scheme, "http" | "https") && !authority.is_empty() && !authority.contains('@');
    ok.then(|| origin_of(scheme, authority))
}

/// The origin the browser names: `Origin`, else `Referer`. `Some(None)`: named, but unreadable
/// or `null` (never this site).
fn claimed_origin(headers: &HeaderMap) -> Option<Option<String>> {
    let named = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))?;
    Some(named.to_str().ok().and_then(origin_of_url))
}

fn is_this_site(origin: &str, peer: &Peer, settings: &Settings) -> bool {
    if settings.public_origin.as_deref() == Some(origin) {
        return true;
    }
    let scheme = if peer.https { "https" } else { "http" };
    let same_host = |scheme| {
        peer.host
            .as_deref()
            .is_some_and(|h| origin_of(scheme, h) == origin)
    };
    // Without a trusted proxy a TLS-terminating one in front looks like plain http.
    same_host(scheme) || (!peer.https && same_host("https"))
}

/// Refuses a write that a page of another site may have started.
pub fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    peer: &Peer,
    settings: &Settings,
) -> Result<(), AppError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // The public pages' forms ("this helped me") authenticate nobody and never read the session:
    // a signed-in resident's browser sends the cookie, and under `Referrer-Policy: no-referrer`
    // its form posts name no origin ("null").
    if path.starts_with("/p/") {
        return Ok(());
    }
    let login = path == LOGIN;
    let by_cookie = !login && bearer(headers).is_none() && session_cookie(headers).is_some();
    if !by_cookie && !login {
        return Ok(());
    }
    match claimed_origin(headers) {
        Some(Some(o)) if is_this_site(&o, peer, settings) => Ok(()),
        Some(_) => Err(refused()),
        None if login => Ok(()),
        None => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn peer(host: &str, https: bool) -> Peer {
        Peer {
            client_addr: "1.2.3.4".into(),
            https,
            host: Some(host.into()),
        }
    }

    fn run(method: Method, path: &str, pairs: &[(&'static str, &'static str)], p: &Peer) -> bool {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        let s = Settings::for_database("sqlite::memory:", std::path::Path::new("."));
        check(&method, path, &h, p, &s).is_ok()
    }

    #[test]
    fn cookie_writes_must_name_this_site() {
        let p = peer("gz.example:8080", false);
        let cookie = ("cookie", "gongzhi_session=gzs_x");
        let w =
            |pairs: &[(&'static str, &'static str)]| run(Method::POST, "/api/v1/areas", pairs, &p);
        assert!(w(&[cookie, ("origin", "http://gz.example:8080")]));
        assert!(w(&[
            cookie,
            ("referer", "http://GZ.example:8080/areas?x=1")
        ]));
        assert!(!w(&[cookie, ("origin", "http://evil.example")]));
        assert!(!w(&[cookie, ("origin", "null")]));
        assert!(run(
            Method::POST,
            "/p/130602001001/q/x/helped",
            &[cookie, ("origin", "null")],
            &p
        ));
        assert!(!w(&[cookie, ("origin", "http://gz.example:8081")]));
        assert!(!w(&[cookie]));
        assert!(w(&[
            cookie,
            ("authorization", "Bearer gz_t"),
            ("origin", "http://evil.example")
        ]));
        assert!(w(&[("origin", "http://evil.example")]));
        assert!(run(Method::GET, "/api/v1/me", &[cookie], &p));
    }

    #[test]
    fn https_pages_only_when_the_connection_is_https() {
        let cookie = ("cookie", "gongzhi_session=gzs_x");
        let https = peer("gz.example", true);
        assert!(run(
            Method::DELETE,
            "/x",
            &[cookie, ("origin", "https://gz.example")],
            &https
        ));
        assert!(!run(
            Method::DELETE,
            "/x",
            &[cookie, ("origin", "http://gz.example")],
            &https
        ));
    }

    #[test]
    fn a_login_naming_another_site_is_refused() {
        let p = peer("gz.example", false);
        assert!(!run(
            Method::POST,
            LOGIN,
            &[("origin", "http://evil.example")],
            &p
        ));
        assert!(run(Method::POST, LOGIN, &[], &p));
        assert!(run(
            Method::POST,
            LOGIN,
            &[("origin", "http://gz.example")],
            &p
        ));
    }
}
