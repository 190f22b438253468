//! Staff accounts: creating them, their argon2id passwords, roles and access, the sessions that
//! end when those change, API tokens, and finding a member by login, token or Telegram.

use std::net::IpAddr;

use domain::Role;
use entities::{staff, web_session};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::login::{self, FREE_ATTEMPTS, LoginError};
use super::passwords;
use super::secrets::{random_token, token_hash};
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal};

pub const MIN_PASSWORD_LEN: usize = 8;
/// Longer passwords are refused before hashing (no one types more).
pub const MAX_PASSWORD_LEN: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Логин может содержать латинские буквы, цифры, точку, дефис и подчёркивание (3–32 символа).")]
    InvalidLogin,
    #[error("Логин «{0}» уже занят.")]
    LoginTaken(String),
    #[error("Пароль должен быть не короче {MIN_PASSWORD_LEN} символов.")]
    WeakPassword,
    #[error("Пароль должен быть не длиннее {MAX_PASSWORD_LEN} символов.")]
    LongPassword,
    #[error(
        "Текущий пароль указан неверно. После {FREE_ATTEMPTS} неудачных попыток подряд (здесь и при входе) вход \
         закрывается на время."
    )]
    WrongPassword,
    #[error("Слишком много попыток с вашего адреса. Подождите минуту и попробуйте снова.")]
    TooManyAttempts,
    #[error(
        "Вход под этой учётной записью закрыт после неудачных попыток ещё на {minutes} мин.; тогда и смените \
         пароль. Администратор может задать новый пароль сразу."
    )]
    Locked { minutes: i64 },
    #[error("Сотрудник не найден.")]
    Unknown,
    #[error("Укажите имя сотрудника.")]
    NoName,
    #[error("Нельзя отключить или лишить прав последнего администратора: иначе управлять панелью будет некому.")]
    LastAdmin,
    #[error(transparent)]
    Text(#[from] domain::TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(AccountError);

pub(super) fn valid_login(login: &str) -> bool {
    (3..=32).contains(&login.len()) && login.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A password that may be set: long enough to resist guessing, short enough to be typed.
fn check_password(password: &str) -> Result<(), AccountError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_LEN => Err(AccountError::WeakPassword),
        n if n > MAX_PASSWORD_LEN => Err(AccountError::LongPassword),
        _ => Ok(()),
    }
}

/// A new account's details.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub login: String,
    pub full_name: String,
    pub role: Role,
    pub password: String,
}

pub async fn create(ctx: &Context, new: NewStaff, actor: Actor) -> Result<staff::Model, AccountError> {
    let login = new.login.trim().to_lowercase();
    if !valid_login(&login) {
        return Err(AccountError::InvalidLogin);
    }
    let full_name = domain::TextKind::FullName.bounded(&new.full_name)?;
    if full_name.is_empty() {
        return Err(AccountError::NoName);
    }
    check_password(&new.password)?;
    let hash = passwords::hash(new.password).await?;
    let txn = ctx.db.begin_write().await?;
    if by_login(&txn, &login).await?.is_some() {
        return Err(AccountError::LoginTaken(login));
    }
    let model = staff::ActiveModel {
        id: NotSet,
        login: Set(login.clone()),
        full_name: Set(full_name),
        password_hash: Set(hash),
        role: Set(new.role),
        active: Set(true),
        failed_attempts: Set(0),
        locked_until: Set(None),
        telegram_user_id: Set(None),
        api_token_hash: Set(None),
        created_at: Set(ctx.now()),
        session_epoch: Set(0),
    }
    .insert(&txn)
    .await?;
    let details = json!({"login": login, "role": new.role.code()});
    audit::record(&txn, ctx, actor, "staff.create", "staff", Some(model.id), details).await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn by_login(conn: &impl ConnectionTrait, login: &str) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find().filter(staff::Column::Login.eq(login.trim().to_lowercase())).one(conn).await
}

pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find_by_id(id).one(conn).await
}

pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find().order_by_asc(staff::Column::Login).all(conn).await
}

/// The owner changes their password, proving the current one from a client at `from`. Every
/// session of theirs ends, the one they are using too: the caller opens a new one with the
/// returned account's epoch.
///
/// The current password is checked as a login is ([`login::authenticate`]): counted against the
/// address's budget and the account's lock, so that someone holding a session left open cannot
/// guess it unbounded. The new one is checked first, so a refusal of it says nothing about the
/// current one.
pub async fn change_password(
    ctx: &Context,
    staff_id: i64,
    current: &str,
    new: &str,
    from: Option<IpAddr>,
) -> Result<staff::Model, AccountError> {
    check_password(new)?;
    let account = get(ctx.db.conn(), staff_id).await?.ok_or(AccountError::Unknown)?;
    // Locked, the current password is not checked at all: the owner is told so, not «неверно».
    if let Some(until) = account.locked_until.filter(|until| *until > ctx.now()) {
        return Err(AccountError::Locked { minutes: super::throttle::minutes_up(until - ctx.now()) });
    }
    let account = match login::authenticate(ctx, &account.login, current, from).await {
        Ok(account) => account,
        Err(LoginError::Invalid) => return Err(AccountError::WrongPassword),
        Err(LoginError::TooManyAttempts { .. }) => return Err(AccountError::TooManyAttempts),
        Err(LoginError::Internal(e)) => return Err(e.into()),
    };
    set_password(ctx, account, new, Actor::Staff(staff_id)).await
}

/// An admin sets a new password, which lifts any lock and ends every session of the account.
pub async fn reset_password(
    ctx: &Context,
    staff_id: i64,
    new: &str,
    admin_id: i64,
) -> Result<staff::Model, AccountError> {
    let account = get(ctx.db.conn(), staff_id).await?.ok_or(AccountError::Unknown)?;
    set_password(ctx, account, new, Actor::Staff(admin_id)).await
}

async fn set_password(
    ctx: &Context,
    account: staff::Model,
    new: &str,
    actor: Actor,
) -> Result<staff::Model, AccountError> {
    check_password(new)?;
    let hash = passwords::hash(new.to_owned()).await?;
    let id = account.id;
    let mut active = account.into_active_model();
    active.password_hash = Set(hash);
    active.failed_attempts = Set(0);
    active.locked_until = Set(None);
    let txn = ctx.db.begin_write().await?;
    active.update(&txn).await?;
    let account = end_sessions(&txn, id).await?;
    audit::record(&txn, ctx, actor, "staff.password", "staff", Some(id), json!({})).await?;
    txn.commit().await?;
    Ok(account)
}

/// Ends every panel session of a staff member: their rows go, and the account's epoch moves on,
/// so a row that a request still in flight writes back does not count either. Returns the account.
async fn end_sessions(txn: &impl ConnectionTrait, staff_id: i64) -> Result<staff::Model, AccountError> {
    use sea_orm::sea_query::ExprTrait;
    staff::Entity::update_many()
        .col_expr(staff::Column::SessionEpoch, Expr::col(staff::Column::SessionEpoch).add(1))
        .filter(staff::Column::Id.eq(staff_id))
        .exec(txn)
        .await?;
    web_session::Entity::delete_many().filter(web_session::Column::StaffId.eq(staff_id)).exec(txn).await?;
    get(txn, staff_id).await?.ok_or(AccountError::Unknown)
}

/// The staff member a panel session opened in `epoch` belongs to, while it still counts: the
/// account is active and neither its password nor its access has changed since.
pub async fn session_holder(
    conn: &impl ConnectionTrait,
    staff_id: i64,
    epoch: i32,
) -> Result<Option<staff::Model>, DbErr> {
    Ok(get(conn, staff_id).await?.filter(|s| s.active && s.session_epoch == epoch))
}

/// An admin changes someone's role. The last active admin keeps theirs.
pub async fn set_role(ctx: &Context, staff_id: i64, role: Role, actor: Actor) -> Result<staff::Model, AccountError> {
    change_account(ctx, staff_id, actor, "staff.role", move |account| {
        account.role = Set(role);
        json!({"role": role.code()})
    })
    .await
}

/// An admin lets someone in or shuts them out; either way the member's sessions end (so letting
/// them back in does not revive an old cookie), and while shut out their API token does not work.
/// The last active admin stays active.
pub async fn set_active(
    ctx: &Context,
    staff_id: i64,
    active: bool,
    actor: Actor,
) -> Result<staff::Model, AccountError> {
    change_account(ctx, staff_id, actor, "staff.active", move |account| {
        account.active = Set(active);
        json!({"active": active})
    })
    .await
}

/// Applies `change` to an account in a transaction, refusing it when no active admin would remain.
/// A change of access ends the account's sessions.
async fn change_account(
    ctx: &Context,
    staff_id: i64,
    actor: Actor,
    action: &'static str,
    change: impl FnOnce(&mut staff::ActiveModel) -> serde_json::Value,
) -> Result<staff::Model, AccountError> {
    let txn = ctx.db.begin_write().await?;
    let account = get(&txn, staff_id).await?.ok_or(AccountError::Unknown)?;
    let was_active = account.active;
    let was_admin = account.active && account.role == Role::Admin;
    let mut active = account.into_active_model();
    let details = change(&mut active);
    let mut updated = active.update(&txn).await?;
    if updated.active != was_active {
        updated = end_sessions(&txn, staff_id).await?;
    }
    let admins = staff::Entity::find()
        .filter(staff::Column::Role.eq(Role::Admin))
        .filter(staff::Column::Active.eq(true))
        .count(&txn)
        .await?;
    if was_admin && admins == 0 {
        // Rolled back with the transaction.
        return Err(AccountError::LastAdmin);
    }
    audit::record(&txn, ctx, actor, action, "staff", Some(staff_id), details).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Creates the first admin when there is none. Returns the password when it was generated, so
/// the caller can print it once.
pub async fn ensure_bootstrap_admin(ctx: &Context, password: Option<String>) -> Result<Option<String>, AccountError> {
    let admins = staff::Entity::find().filter(staff::Column::Role.eq(Role::Admin)).count(ctx.db.conn()).await?;
    if admins > 0 {
        return Ok(None);
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| random_token(12));
    let new = NewStaff {
        login: "admin".to_owned(),
        full_name: "Администратор".to_owned(),
        role: Role::Admin,
        password: password.clone(),
    };
    create(ctx, new, Actor::System).await?;
    Ok(generated.then_some(password))
}

/// Issues a new API token for a staff member (replacing any old one) and returns it; only its
/// hash is stored, and the issue is audited.
pub async fn issue_api_token(ctx: &Context, staff_id: i64, actor: Actor) -> Result<String, AccountError> {
    let token = random_token(40);
    let txn = ctx.db.begin_write().await?;
    let account = get(&txn, staff_id).await?.ok_or(AccountError::Unknown)?;
    let mut active = account.into_active_model();
    active.api_token_hash = Set(Some(token_hash(&token)));
    active.update(&txn).await?;
    // The token itself is never written down, only that one was issued.
    audit::record(&txn, ctx, actor, "staff.api_token", "staff", Some(staff_id), json!({})).await?;
    txn.commit().await?;
    Ok(token)
}

pub async fn by_api_token(conn: &impl ConnectionTrait, token: &str) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::ApiTokenHash.eq(token_hash(token)))
        .filter(staff::Column::Active.eq(true))
        .one(conn)
        .await
}

pub async fn by_telegram(conn: &impl ConnectionTrait, telegram_user_id: i64) -> Result<Option<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::TelegramUserId.eq(telegram_user_id))
        .filter(staff::Column::Active.eq(true))
        .one(conn)
        .await
}

/// Active admins linked to Telegram, whom the system tells when something of its own fails
/// (a night's backup).
pub async fn admins_on_telegram(conn: &impl ConnectionTrait) -> Result<Vec<staff::Model>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::Role.eq(Role::Admin))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::TelegramUserId.is_not_null())
        .order_by_asc(staff::Column::Id)
        .all(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(matches!(check_password("short"), Err(AccountError::WeakPassword)));
        assert!(check_password("correct horse").is_ok());
        assert!(check_password(&"я".repeat(MAX_PASSWORD_LEN)).is_ok());
        assert!(matches!(check_password(&"я".repeat(MAX_PASSWORD_LEN + 1)), Err(AccountError::LongPassword)));
    }

    #[test]
    fn logins_are_plain() {
        assert!(valid_login("ivanova.m"));
        assert!(!valid_login("ив"));
        assert!(!valid_login("a b"));
        assert!(!valid_login("x"));
    }
}
