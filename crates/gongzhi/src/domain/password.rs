//! Password policy and hashing (Argon2id).
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Msg;

/// Argon2id cost: 19 MiB, 2 passes, 1 lane (OWASP's recommended minimum). About 20–30 ms on one
/// core of the benchmark machine; see docs/benchmarks.md.
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).expect("valid argon2 params"),
    )
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

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid params")
        .to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => hasher().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
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
