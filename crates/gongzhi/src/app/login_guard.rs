//! What stands between a guesser and a password, all counted in the database (`login_attempts`,
//! `login_throttle`), so every instance agrees:
//!
//! - **per client address**: at most `GONGZHI_LOGIN_RATE_PER_MINUTE` evaluated attempts a
//!   minute, whatever the name (429 with `Retry-After`);
//! - **per name and address**: after [`MAX_FAILURES`] failures in [`WINDOW_MS`] that address gets
//!   the wrong-password answer for that name even with the right password — the owner elsewhere
//!   is not affected;
//! - **per name**: after [`MAX_FAILURES`] failures in the window from anywhere, addresses the name
//!   has not signed in from lately take turns: one attempt per back-off interval (1 s, doubling,
//!   at most a minute), the others get 429 with `Retry-After`. Addresses the name signed in from
//!   in the last 30 days keep their own count only, so nobody elsewhere can lock the owner out.
//!
//! Names are counted as typed, known or not, so none of this tells whether an account exists.
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::Origin;
use crate::domain::new_id;
use crate::error::{AppError, AppResult};
use crate::store::{self, Db};

/// Failures (per name and address, and per name) after which the limits above start.
pub const MAX_FAILURES: i64 = 5;
/// How long a failure counts.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// How long a successful sign-in makes an address known for the name.
const KNOWN_FOR_MS: i64 = 30 * 86_400_000;
const MAX_BACKOFF_MS: i64 = 60_000;

/// Whole seconds to wait, at least one.
fn seconds(ms: i64) -> u64 {
    ((ms.max(1) + 999) / 1000) as u64
}

/// The per-address rate limit: `Err` with the seconds to wait.
#[tracing::instrument(name = "login_guard::rate_limit", skip_all)]
pub async fn rate_limit(db: &Db, per_minute: u32, origin: &Origin, now: i64) -> AppResult<()> {
    #[derive(FromQueryResult)]
    struct Recent {
        n: i64,
        oldest: Option<i64>,
    }
    let r: Option<Recent> = store::fetch_opt(
        db,
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_attempts WHERE client_addr = $1 AND at > $2",
        vec![origin.client_addr.clone().into(), (now - 60_000).into()],
    )
    .await?;
    match r {
        Some(Recent {
            n,
            oldest: Some(oldest),
        }) if n >= i64::from(per_minute) => Err(AppError::RateLimited {
            retry_after_s: seconds(oldest + 60_000 - now),
        }),
        _ => Ok(()),
    }
}

/// What the last minutes say about a name and the calling address.
#[derive(Debug, FromQueryResult)]
pub struct Recent {
    /// Failures for the name within the window, from anywhere.
    pub by_name: i64,
    /// Failures for the name within the window, from this address.
    pub from_here: i64,
    /// Successful sign-ins of the name from this address within 30 days.
    pub known_here: i64,
}

#[tracing::instrument(name = "login_guard::recent", skip_all)]
pub async fn recent(db: &Db, name: &str, addr: &str, now: i64) -> AppResult<Recent> {
    let r: Option<Recent> = store::fetch_opt(
        db,
        "SELECT \
           COALESCE(SUM(CASE WHEN success = $3 AND at > $4 THEN 1 ELSE 0 END), 0) AS by_name, \
           COALESCE(SUM(CASE WHEN success = $3 AND at > $4 AND client_addr = $2 THEN 1 ELSE 0 END), 0) AS from_here, \
           COALESCE(SUM(CASE WHEN success <> $3 AND client_addr = $2 THEN 1 ELSE 0 END), 0) AS known_here \
         FROM login_attempts WHERE username = $1 AND at > $5",
        vec![
            name.to_string().into(),
            addr.to_string().into(),
            false.into(),
            (now - WINDOW_MS).into(),
            (now - KNOWN_FOR_MS).into(),
        ],
    )
    .await?;
    Ok(r.unwrap_or(Recent {
        by_name: 0,
        from_here: 0,
        known_here: 0,
    }))
}

impl Recent {
    /// This address has failed too often for this name: refused whatever the password.
    pub fn barred(&self) -> bool {
        self.from_here >= MAX_FAILURES
    }
    /// Attempts from here must take turns (the name is under attack and this address is new).
    pub fn must_take_turns(&self) -> bool {
        self.by_name >= MAX_FAILURES && self.known_here == 0
    }
    /// The interval between turns: 1 s at the limit, doubling with each failure, at most 60 s.
    pub fn backoff_ms(&self) -> i64 {
        let doublings = (self.by_name - MAX_FAILURES).clamp(0, 16) as u32;
        (1000_i64 << doublings).min(MAX_BACKOFF_MS)
    }
}

/// Takes the name's next turn, atomically across instances: `Err` with the seconds until the
/// next one when another attempt has it.
#[tracing::instrument(name = "login_guard::take_turn", skip_all)]
pub async fn take_turn(db: &Db, name: &str, now: i64, backoff_ms: i64) -> AppResult<()> {
    let taken = store::exec(
        db,
        "INSERT INTO login_throttle (username, next_at) VALUES ($1, $2) \
         ON CONFLICT (username) DO UPDATE SET next_at = excluded.next_at WHERE login_throttle.next_at <= $3",
        vec![name.to_string().into(), (now + backoff_ms).into(), now.into()],
    )
    .await?;
    if taken > 0 {
        return Ok(());
    }
    let next = store::fetch_i64(
        db,
        "SELECT next_at FROM login_throttle WHERE username = $1",
        vec![name.to_string().into()],
    )
    .await?;
    Err(AppError::RateLimited {
        retry_after_s: seconds(next - now),
    })
}

/// Records an evaluated attempt.
#[tracing::instrument(name = "login_guard::note", skip_all)]
pub async fn note<C: ConnectionTrait>(
    c: &C,
    origin: &Origin,
    name: &str,
    success: bool,
    now: i64,
) -> AppResult<()> {
    store::exec(
        c,
        "INSERT INTO login_attempts (id, client_addr, username, at, success) VALUES ($1, $2, $3, $4, $5)",
        vec![
            new_id().into(),
            origin.client_addr.clone().into(),
            name.to_string().into(),
            now.into(),
            success.into(),
        ],
    )
    .await?;
    Ok(())
}

/// After a successful sign-in: this address's failures for the name no longer count.
#[tracing::instrument(name = "login_guard::clear_here", skip_all)]
pub async fn clear_here<C: ConnectionTrait>(c: &C, name: &str, addr: &str) -> AppResult<()> {
    store::exec(
        c,
        "DELETE FROM login_attempts WHERE username = $1 AND client_addr = $2 AND success = $3",
        vec![
            name.to_string().into(),
            addr.to_string().into(),
            false.into(),
        ],
    )
    .await?;
    Ok(())
}

/// An admin's unlock or password reset: the name's failures and turns are forgotten everywhere.
#[tracing::instrument(name = "login_guard::forgive", skip_all)]
pub async fn forgive<C: ConnectionTrait>(c: &C, name: &str) -> AppResult<()> {
    store::exec(
        c,
        "DELETE FROM login_attempts WHERE username = $1 AND success = $2",
        vec![name.to_string().into(), false.into()],
    )
    .await?;
    store::exec(
        c,
        "DELETE FROM login_throttle WHERE username = $1",
        vec![name.to_string().into()],
    )
    .await?;
    Ok(())
}

/// Removes failures older than a day, successes older than 30 days and spent turns.
#[tracing::instrument(name = "login_guard::sweep", skip_all)]
pub async fn sweep(db: &Db, now: i64) -> AppResult<u64> {
    let day_ago = now - 86_400_000;
    let attempts = store::exec(
        db,
        "DELETE FROM login_attempts WHERE at < $1 AND (success = $2 OR at < $3)",
        vec![day_ago.into(), false.into(), (now - KNOWN_FOR_MS).into()],
    )
    .await?;
    store::exec(
        db,
        "DELETE FROM login_throttle WHERE next_at < $1",
        vec![day_ago.into()],
    )
    .await?;
    Ok(attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let at = |by_name| Recent {
            by_name,
            from_here: 0,
            known_here: 0,
        };
        assert_eq!(at(5).backoff_ms(), 1000);
        assert_eq!(at(7).backoff_ms(), 4000);
        assert_eq!(at(11).backoff_ms(), 60_000);
        assert_eq!(at(500).backoff_ms(), 60_000);
        assert!(!at(4).must_take_turns() && at(5).must_take_turns());
        assert_eq!(seconds(1), 1);
        assert_eq!(seconds(1001), 2);
    }
}
