//! Password policy and hashing (Argon2id).
use argon2::password_hash::{rand_core::OsRng, PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Msg;

/// Argon2id cost: 19 MiB, 2 passes, 1 lane (OWASP's recommended minimum). About 20–30 ms on one
/// core of the benchmark machine; see docs/benchmarks.md.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

fn argon2(m_kib: u32, t: u32, p: u32) -> Option<Argon2<'static>> {
    Some(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(m_kib, t, p, None).ok()?,
    ))
}

/// Argon2id with its working memory kept between calls, so a process that hashes passwords
/// holds one 19 MiB buffer per hashing thread instead of allocating one per login.
pub struct Hasher {
    blocks: Vec<argon2::Block>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher {
            blocks: vec![argon2::Block::default(); ARGON2_M_KIB as usize],
        }
    }

    fn compute(
        &mut self,
        password: &[u8],
        salt: &[u8],
        m: u32,
        t: u32,
        p: u32,
        out: &mut [u8],
    ) -> bool {
        let Some(a) = argon2(m, t, p) else {
            return false;
        };
        let need = a.params().block_count();
        // Stored hashes are ours; still, never let one ask for more than 256 MiB.
        if need > 256 * 1024 {
            return false;
        }
        if self.blocks.len() < need {
            self.blocks.resize(need, argon2::Block::default());
        }
        a.hash_password_into_with_memory(password, salt, out, &mut self.blocks[..need])
            .is_ok()
    }

    /// A PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash` with a fresh random salt.
    pub fn hash(&mut self, password: &str) -> String {
        use argon2::password_hash::rand_core::RngCore;
        use base64::Engine;
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut out = [0u8; 32];
        let ok = self.compute(
            password.as_bytes(),
            &salt,
            ARGON2_M_KIB,
            ARGON2_T,
            ARGON2_P,
            &mut out,
        );
        assert!(ok, "argon2 with fixed valid parameters");
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        format!(
            "$argon2id$v=19$m={ARGON2_M_KIB},t={ARGON2_T},p={ARGON2_P}${}${}",
            b64.encode(salt),
            b64.encode(out)
        )
    }

    /// Checks a password against a PHC string (any Argon2id parameters), in constant time.
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        let Ok(h) = PasswordHash::new(phc) else {
            return false;
        };
        if h.algorithm.as_str() != "argon2id" {
            return false;
        }
        let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
            return false;
        };
        let get = |k: &str| h.params.get_decimal(k);
        let (Some(m), Some(t), Some(p)) = (get("m"), get("t"), get("p")) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let expected = expected.as_bytes();
        if expected.is_empty() || expected.len() > 64 {
            return false;
        }
        let mut out = vec![0u8; expected.len()];
        if !self.compute(password.as_bytes(), salt, m, t, p, &mut out) {
            return false;
        }
        out.iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// At least 8 characters, at least 3 of 4 character classes, not the username, at most 128.
pub fn check_policy(username: &str, password: &str) -> Result<(), Msg> {
    let n = password.chars().count();
    if n < 8 {
        return Err(Msg::new(
            "密码至少 8 个字符",
            "The password needs at least 8 characters",
        ));
    }
    if n > 128 {
        return Err(Msg::new(
            "密码不能超过 128 个字符",
            "The password must be at most 128 characters",
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 3 {
        return Err(Msg::new(
            "密码须包含小写字母、大写字母、数字、符号中的至少 3 类",
            "The password needs at least 3 of: lower case, upper case, digits, symbols",
        ));
    }
    let (pw, user) = (password.to_lowercase(), username.to_lowercase());
    if pw == user || (user.chars().count() >= 3 && pw.contains(&user)) {
        return Err(Msg::new(
            "密码不能包含用户名",
            "The password must not contain the username",
        ));
    }
    Ok(())
}

/// Hashes with a one-off buffer (tests, tools). Servers use a pool of [`Hasher`]s.
pub fn hash(password: &str) -> String {
    Hasher::new().hash(password)
}

/// Verifies with a one-off buffer (tests, tools).
pub fn verify(password: &str, phc: &str) -> bool {
    Hasher::new().verify(password, phc)
}

/// A hash of a random password, verified against when the user does not exist, so a login for an
/// unknown user costs the same time as one for a known user.
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash("Dummy#Password-never-matches-1"))
}

/// A random password that satisfies the policy (for the generated admin password).
pub fn generate() -> String {
    use rand::Rng;
    const SETS: [&[u8]; 4] = [
        b"abcdefghijkmnpqrstuvwxyz",
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"23456789",
        b"#%+=@!",
    ];
    let mut rng = rand::thread_rng();
    let mut s: Vec<u8> = Vec::new();
    for set in SETS {
        for _ in 0..4 {
            s.push(set[rng.gen_range(0..set.len())]);
        }
    }
    // Shuffle.
    for i in (1..s.len()).rev() {
        let j = rng.gen_range(0..=i);
        s.swap(i, j);
    }
    String::from_utf8(s).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("admin", "short1A").is_err());
        assert!(check_policy("admin", "alllowercase").is_err());
        assert!(check_policy("admin", "lower123only").is_err());
        assert!(check_policy("admin", "Lower123ok").is_ok());
        assert!(check_policy("wangfang", "Wangfang#2026").is_err());
        assert!(
            check_policy("a", "Good#Pass1").is_ok(),
            "a one-letter username is not matched inside"
        );
        assert!(check_policy("zhang", "Good#Pass1").is_ok());
    }

    #[test]
    fn hash_and_verify() {
        // Compatible with the argon2 crate's own PHC output.
        use argon2::password_hash::{PasswordHasher, SaltString};
        let theirs = argon2(ARGON2_M_KIB, ARGON2_T, ARGON2_P)
            .unwrap()
            .hash_password(b"Good#Pass1", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("Good#Pass1", &theirs));
        assert!(!verify("Good#Pass2", &theirs));
        let mut hasher = Hasher::new();
        let h = hasher.hash("Good#Pass1");
        assert!(hasher.verify("Good#Pass1", &h));
        use argon2::PasswordVerifier;
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(argon2(ARGON2_M_KIB, ARGON2_T, ARGON2_P)
            .unwrap()
            .verify_password(b"Good#Pass1", &parsed)
            .is_ok());
        let h = hash("Good#Pass1");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("Good#Pass1", &h));
        assert!(!verify("Good#Pass2", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..20 {
            assert!(check_policy("admin", &generate()).is_ok());
        }
    }
}
