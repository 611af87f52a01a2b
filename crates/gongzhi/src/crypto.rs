//! Keys and secrets: the master key, field encryption (AES-256-GCM with a key id), keyed blind
//! indexes (HMAC-SHA-256) for exact lookups, and opaque tokens stored only as hashes.
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Parses a master key given as 64 hex characters.
pub fn parse_master_key(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    let bytes =
        hex::decode(s).map_err(|_| "must be 64 hexadecimal characters (32 bytes)".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "must be 64 hexadecimal characters (32 bytes)".to_string())
}

/// The key material derived from the master key. Sub-keys are separated by purpose, so the
/// blind-index key never equals the encryption key.
#[derive(Clone)]
pub struct Keys {
    /// Key id written with every ciphertext (first 8 hex chars of a hash of the master key).
    pub key_id: String,
    enc: [u8; 32],
    index: [u8; 32],
    sign: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("hmac accepts any key");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

/// A 32-byte secret from a setting (64 hex characters) or from `<data_dir>/<file>`, creating the
/// file (mode 0600) with a fresh random secret when neither exists. Says whether it was created.
fn load_or_create_secret(
    setting: Option<&str>,
    data_dir: &Path,
    file: &str,
) -> Result<([u8; 32], bool), String> {
    if let Some(s) = setting {
        return Ok((parse_master_key(s)?, false));
    }
    let path = data_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = parse_master_key(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| format!("{}: {e}", data_dir.display()))?;
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            write_private(&path, hex::encode(key).as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((key, true))
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The audit chain's secret, kept outside the database (`GONGZHI_AUDIT_KEY` or
/// `<data dir>/audit.key`): the HMAC key of each row's hash, and the seed of the ed25519 key that
/// signs checkpoints of the chain's head. Someone who can write the database but does not hold
/// it cannot re-hash an altered chain.
pub struct AuditKey {
    mac: [u8; 32],
    signing: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("public", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

impl AuditKey {
    pub fn from_secret(secret: &[u8; 32]) -> AuditKey {
        AuditKey {
            mac: derive(secret, b"gongzhi audit chain v1"),
            signing: ed25519_dalek::SigningKey::from_bytes(&derive(
                secret,
                b"gongzhi audit checkpoints v1",
            )),
        }
    }

    pub fn load_or_create(setting: Option<&str>, data_dir: &Path) -> Result<AuditKey, String> {
        let (secret, _) = load_or_create_secret(setting, data_dir, "audit.key")?;
        Ok(AuditKey::from_secret(&secret))
    }

    /// HMAC-SHA-256 of a row's canonical content, hex.
    pub fn row_hash(&self, content: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("hmac key");
        mac.update(content);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The checkpoint verifying key, hex.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    /// An ed25519 signature of `message`, hex.
    pub fn sign(&self, message: &[u8]) -> String {
        use ed25519_dalek::Signer;
        hex::encode(self.signing.sign(message).to_bytes())
    }
}

/// Whether `signature` (hex) is `public_key`'s (hex) ed25519 signature of `message`.
pub fn verify_ed25519(public_key: &str, message: &[u8], signature: &str) -> bool {
    let (Ok(pk), Ok(sig)) = (hex::decode(public_key), hex::decode(signature)) else {
        return false;
    };
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    use ed25519_dalek::Verifier;
    vk.verify(message, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

impl Keys {
    pub fn from_master(master: &[u8; 32]) -> Keys {
        let id = Sha256::digest(derive(master, b"gongzhi key id"));
        Keys {
            key_id: hex::encode(&id[..4]),
            enc: derive(master, b"gongzhi field encryption v1"),
            index: derive(master, b"gongzhi blind index v1"),
            sign: derive(master, b"gongzhi signed tokens v1"),
        }
    }

    /// Loads the key from the setting, or from `<data_dir>/master.key`, creating that file
    /// (mode 0600) with a fresh random key when neither exists.
    pub fn load_or_create(setting: Option<&str>, data_dir: &Path) -> Result<(Keys, bool), String> {
        let (key, created) = load_or_create_secret(setting, data_dir, "master.key")?;
        Ok((Keys::from_master(&key), created))
    }

    /// Encrypts a field value: `v1:<key id>:<base64(nonce ‖ ciphertext)>`.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.enc).expect("32-byte key");
        // A fresh random nonce from the thread's CSPRNG (ChaCha, seeded and reseeded from the OS):
        // one system call per value would dominate bulk imports.
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("aes-gcm encryption cannot fail for small inputs");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!(
            "v1:{}:{}",
            self.key_id,
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        )
    }

    /// Decrypts a value made by [`Keys::encrypt`] with this key.
    pub fn decrypt(&self, stored: &str) -> Option<String> {
        let mut parts = stored.splitn(3, ':');
        if parts.next()? != "v1" || parts.next()? != self.key_id {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(parts.next()?)
            .ok()?;
        if raw.len() < 12 {
            return None;
        }
        let cipher = Aes256Gcm::new_from_slice(&self.enc).ok()?;
        let pt = cipher
            .decrypt(Nonce::from_slice(&raw[..12]), &raw[12..])
            .ok()?;
        String::from_utf8(pt).ok()
    }

    /// A keyed blind index of a normalised value, for exact lookup without decrypting.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index).expect("hmac key");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.trim().to_uppercase().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

impl Keys {
    /// A keyed signature (HMAC-SHA-256, first 16 bytes) of `data` for `purpose`, for short-lived
    /// tokens such as the QR codes of check-in.
    pub fn sign(&self, purpose: &str, data: &[u8]) -> [u8; 16] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.sign).expect("hmac key");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// Whether `sig` is the signature of `data` for `purpose` (constant time).
    pub fn verify(&self, purpose: &str, data: &[u8], sig: &[u8]) -> bool {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.sign).expect("hmac key");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.verify_truncated_left(sig).is_ok() && sig.len() == 16
    }
}

pub(crate) fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// A new opaque secret token with a readable prefix (`gzs_` sessions, `gz_` API tokens).
pub fn new_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// How tokens are stored: SHA-256, hex. A leaked table does not give working tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_roundtrip_and_key_id() {
        let k = Keys::from_master(&[7u8; 32]);
        let c = k.encrypt("130602199001011234");
        assert!(c.starts_with(&format!("v1:{}:", k.key_id)));
        assert_eq!(k.decrypt(&c).as_deref(), Some("130602199001011234"));
        let other = Keys::from_master(&[8u8; 32]);
        assert_eq!(other.decrypt(&c), None);
        assert_ne!(k.encrypt("x"), k.encrypt("x"), "random nonces");
    }

    #[test]
    fn blind_index_is_stable_and_keyed() {
        let k = Keys::from_master(&[7u8; 32]);
        assert_eq!(
            k.blind_index("id", "13060219900101123x"),
            k.blind_index("id", "13060219900101123X")
        );
        assert_ne!(
            k.blind_index("id", "1"),
            Keys::from_master(&[9u8; 32]).blind_index("id", "1")
        );
    }

    #[test]
    fn master_key_file_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, created) = Keys::load_or_create(None, dir.path()).unwrap();
        assert!(created);
        let (k2, created) = Keys::load_or_create(None, dir.path()).unwrap();
        assert!(!created);
        assert_eq!(k1.key_id, k2.key_id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(parse_master_key("zz").is_err());
    }
}

/// Whether two byte strings are equal, in time that depends only on their lengths (for tokens a
/// caller presents).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
