//! Logging in: a password checked against the account, with the account locked after repeated
//! failures and a flood from one address refused before any work.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, Utc};
use entities::staff;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::passwords;
use super::staff::{MAX_PASSWORD_LEN, by_login, valid_login};
use crate::error::internal_errors;
use crate::{Context, Internal};

/// Consecutive failures that lock the account; each further failure doubles the lock, up to
/// `LONGEST_LOCK`. A stranger guessing from one address is stopped by the address's budget
/// ([`super::throttle::BURST`] attempts, then one a minute) well before this, so only guesses
/// from many addresses lock an account — and then for a quarter of an hour at most, which an
/// admin can lift at once by setting a new password.
pub const FREE_ATTEMPTS: i32 = 10;
const FIRST_LOCK: Duration = Duration::minutes(1);
const LONGEST_LOCK: Duration = Duration::minutes(15);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The one answer whatever is wrong — an unknown login, a deactivated or locked account, a
    /// wrong password — after the same work, so that nothing about an account can be learnt.
    #[error(
        "Неверный логин или пароль. После {FREE_ATTEMPTS} неудачных попыток подряд вход закрывается на время \
         (не больше {} минут); администратор может открыть его сразу, задав новый пароль.",
        LONGEST_LOCK.num_minutes()
    )]
    Invalid,
    /// Too many attempts from the client's address, refused before any work.
    #[error("Слишком много попыток входа с вашего адреса. Подождите минуту и попробуйте снова.")]
    TooManyAttempts { retry_after: Duration },
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(LoginError);

/// Checks a login and password from a client at `from` (none when unknown).
///
/// A flood from one address is refused first, before any work ([`super::throttle`]). Every
/// other attempt does the same work whatever the account's state: one conditional update that
/// counts the attempt, one lookup, one argon2 check (against a dummy hash when the account is
/// unknown, deactivated or locked), and ends with the same [`LoginError::Invalid`]. A success
/// resets the account's count and gives the address its attempt back.
pub async fn authenticate(
    ctx: &Context,
    login: &str,
    password: &str,
    from: Option<IpAddr>,
) -> Result<staff::Model, LoginError> {
    let now = ctx.now();
    let address = from.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if let Err(retry_after) = ctx.login_throttle.take(address, now) {
        tracing::warn!(%address, "login refused: too many attempts from this address");
        return Err(LoginError::TooManyAttempts { retry_after });
    }
    let login = login.trim().to_lowercase();
    // No account has such a login or password, so refusing them at once tells nothing.
    if !valid_login(&login) || password.chars().count() > MAX_PASSWORD_LEN {
        return Err(LoginError::Invalid);
    }
    // The attempt is counted in a write of its own, committed before the password is hashed: the
    // writers' queue is never held while argon2 runs.
    let txn = ctx.db.begin_write().await?;
    let counted = count_attempt(&txn, &login, now).await?;
    let account = by_login(&txn, &login).await?.filter(|_| counted);
    txn.commit().await?;
    let hash = account.as_ref().map_or(DUMMY_HASH, |a| a.password_hash.as_str()).to_owned();
    let matches = passwords::verify(password.to_owned(), hash).await?;
    match account {
        Some(mut account) if matches => {
            let txn = ctx.db.begin_write().await?;
            staff::Entity::update_many()
                .col_expr(staff::Column::FailedAttempts, Expr::value(0))
                .col_expr(staff::Column::LockedUntil, Expr::value(None::<DateTime<Utc>>))
                .filter(staff::Column::Id.eq(account.id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            ctx.login_throttle.give_back(address, now);
            account.failed_attempts = 0;
            account.locked_until = None;
            Ok(account)
        }
        _ => {
            tracing::warn!(%login, %address, checked = counted, "failed login");
            Err(LoginError::Invalid)
        }
    }
}

/// Counts a login attempt before its password is checked, in one conditional update, so that
/// concurrent guesses cannot slip past a lock: the attempt that makes [`FREE_ATTEMPTS`] failures
/// sets the lock, and no attempt is counted (or checked) while it lasts. Whether the attempt may
/// be checked: false for an unknown, deactivated or locked account. The same statement on
/// SQLite and PostgreSQL; the lock's end is computed here and bound, one value per step.
async fn count_attempt(conn: &impl ConnectionTrait, login: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let failures = Expr::col(staff::Column::FailedAttempts).add(1);
    let mut lock = Expr::case(failures.clone().lt(FREE_ATTEMPTS), Expr::value(None::<DateTime<Utc>>));
    let mut n = FREE_ATTEMPTS;
    while let Some(length) = lock_after(n).filter(|length| *length < LONGEST_LOCK) {
        lock = lock.case(failures.clone().eq(n), Expr::value(now + length));
        n += 1;
    }
    let lock = lock.finally(Expr::value(now + LONGEST_LOCK));
    let counted = staff::Entity::update_many()
        .col_expr(staff::Column::FailedAttempts, failures)
        .col_expr(staff::Column::LockedUntil, lock.into())
        .filter(staff::Column::Login.eq(login))
        .filter(staff::Column::Active.eq(true))
        .filter(Condition::any().add(staff::Column::LockedUntil.is_null()).add(staff::Column::LockedUntil.lte(now)))
        .exec(conn)
        .await?;
    Ok(counted.rows_affected == 1)
}

/// How long an account stays locked after its `failures`-th consecutive failure.
fn lock_after(failures: i32) -> Option<Duration> {
    let over = failures - FREE_ATTEMPTS;
    (over >= 0).then(|| (FIRST_LOCK * 2i32.pow(over.min(10) as u32)).min(LONGEST_LOCK))
}

/// A valid argon2id hash of a random password, verified against for unknown logins.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2PpLk1BlU5KU0c0E2s3lK7L8jd3Xy3i2lQ4ZVBzp1Ww";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_doubles_and_is_capped() {
        assert_eq!(lock_after(FREE_ATTEMPTS - 1), None);
        assert_eq!(lock_after(FREE_ATTEMPTS), Some(Duration::minutes(1)));
        assert_eq!(lock_after(FREE_ATTEMPTS + 1), Some(Duration::minutes(2)));
        assert_eq!(lock_after(FREE_ATTEMPTS + 3), Some(Duration::minutes(8)));
        assert_eq!(lock_after(FREE_ATTEMPTS + 4), Some(Duration::minutes(15)));
        assert_eq!(lock_after(i32::MAX), Some(Duration::minutes(15)));
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
