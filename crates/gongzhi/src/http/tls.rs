//! Direct https with rustls (`GONGZHI_TLS_CERT`, `GONGZHI_TLS_KEY`: PEM files), for an office
//! that runs gongzhi without a reverse proxy. The files are read at start and again when either
//! changes (looked at, at most once a second, on a new connection), so a renewed certificate
//! (certbot, acme.sh, the city's CA) takes effect without a restart; a broken renewal keeps the
//! certificate that works and says so in the log.
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The certificate chain and key files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM certificate chain and private key into a key rustls can serve.
pub fn load(files: &TlsFiles) -> Result<CertifiedKey, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("{}: {e}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in the file",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("{}: {e}", files.key.display()))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("{}: {e}", files.key.display()))?;
    let ck = CertifiedKey::new(certs, signing);
    ck.keys_match()
        .map_err(|e| format!("the key does not belong to the certificate: {e}"))?;
    Ok(ck)
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

struct Current {
    stamps: (Option<SystemTime>, Option<SystemTime>),
    key: Arc<CertifiedKey>,
    looked: Instant,
}

/// Serves the files' certificate, reloading it when they change.
pub struct Reloading {
    files: TlsFiles,
    current: Mutex<Current>,
}

impl std::fmt::Debug for Reloading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading")
            .field("files", &self.files)
            .finish()
    }
}

impl Reloading {
    pub fn new(files: TlsFiles) -> Result<Reloading, String> {
        let key = Arc::new(load(&files)?);
        let stamps = (modified(&files.cert), modified(&files.key));
        Ok(Reloading {
            files,
            current: Mutex::new(Current {
                stamps,
                key,
                looked: Instant::now(),
            }),
        })
    }

    fn key(&self) -> Arc<CertifiedKey> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.looked.elapsed() >= Duration::from_secs(1) {
            cur.looked = Instant::now();
            let stamps = (modified(&self.files.cert), modified(&self.files.key));
            if stamps != cur.stamps {
                match load(&self.files) {
                    Ok(k) => {
                        cur.key = Arc::new(k);
                        cur.stamps = stamps;
                        tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                    }
                    // A renewal written in two steps (key, then certificate) fails once and
                    // succeeds on the next look; one that stays broken keeps the old certificate.
                    Err(e) => {
                        tracing::warn!(error = %e, "TLS certificate not reloaded; the previous one is served")
                    }
                }
            }
        }
        cur.key.clone()
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.key())
    }
}

/// The server side of TLS 1.2 and 1.3 for HTTP/1.1.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    let resolver = Reloading::new(files.clone())?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The first certificate's end of validity (`notAfter`), in Unix seconds, from a PEM file: for
/// `gongzhi doctor`.
pub fn not_after(cert: &Path) -> Result<i64, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let der =
        CertificateDer::from_pem_file(cert).map_err(|e| format!("{}: {e}", cert.display()))?;
    not_after_der(der.as_ref())
        .ok_or_else(|| format!("{}: not an X.509 certificate", cert.display()))
}

/// One DER element: (tag, contents, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let mut l = 0usize;
        for &x in &b[..n] {
            l = (l << 8) | x as usize;
        }
        b = &b[n..];
        l
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// Certificate → tbsCertificate → [version] serial signature issuer validity → notAfter.
fn not_after_der(der: &[u8]) -> Option<i64> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = tlv(rest)?;
    if tag == 0xa0 {
        rest = r; // the explicit version
    }
    for _ in 0..3 {
        let (_, _, r) = tlv(rest)?; // serial, signature algorithm, issuer
        rest = r;
    }
    let (_, validity, _) = tlv(rest)?;
    let (_, _, r) = tlv(validity)?; // notBefore
    let (tag, t, _) = tlv(r)?;
    let s = std::str::from_utf8(t).ok()?;
    // UTCTime YYMMDDhhmmssZ, GeneralizedTime YYYYMMDDhhmmssZ
    let (year, rest): (i32, &str) = match tag {
        0x17 => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |a: usize| -> Option<u8> { rest.get(a..a + 2)?.parse().ok() };
    let month = time::Month::try_from(n(0)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, n(2)?).ok()?;
    let t = time::Time::from_hms(n(4)?, n(6)?, n(8)?).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_broken_der_is_none_not_a_panic() {
        assert_eq!(not_after_der(&[]), None);
        assert_eq!(not_after_der(&[0x30, 0x82, 0xff]), None);
        assert_eq!(not_after_der(&[0x30, 0x03, 0x30, 0x01, 0x02]), None);
    }
}
