//! Who a Telegram user is: a consumer (linked by a one-time code or by sharing their own phone
//! contact), a staff member (linked by a code from the panel), or nobody yet.

use chrono::{DateTime, Utc};
use domain::Phone;
use entities::{consumer, link_code, staff, telegram_link};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter, Set,
};
use serde_json::json;

use super::secrets::token_hash;
use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal};

/// The alphabet of link codes: no look-alikes, and safe in a `t.me/bot?start=CODE` link.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

/// Whom a code links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    Consumer(i64),
    Staff(i64),
}

/// What a Telegram user turned out to be.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub consumer: Option<consumer::Model>,
    pub staff: Option<staff::Model>,
}

impl Identity {
    pub fn is_known(&self) -> bool {
        self.consumer.is_some() || self.staff.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("Код не найден. Проверьте его или попросите новый в правлении.")]
    UnknownCode,
    #[error("Этот код уже использован. Попросите новый код в правлении.")]
    UsedCode,
    #[error("Срок действия кода истёк. Попросите новый код в правлении.")]
    ExpiredCode,
    #[error("Можно отправить только свой собственный контакт — кнопкой «Поделиться номером».")]
    ForeignContact,
    #[error(
        "Номер {0} не найден в списке потребителей. Попросите в правлении код привязки \
         или проверьте, какой номер указан в договоре."
    )]
    PhoneNotFound(String),
    #[error("Номер {0} указан у нескольких потребителей. Попросите в правлении код привязки.")]
    PhoneAmbiguous(String),
    #[error("«{0}» — не номер телефона.")]
    BadPhone(String),
    #[error("Слишком много попыток ввести код. Следующая — через {minutes} мин.")]
    TooManyAttempts { minutes: i64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(LinkError);

/// A code just issued: the only time the code itself is known, since only its hash is stored.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A fresh code, valid for the configured time.
pub async fn issue_code(ctx: &Context, target: LinkTarget, created_by: Option<i64>) -> Result<IssuedCode, Internal> {
    let (consumer_id, staff_id) = match target {
        LinkTarget::Consumer(id) => (Some(id), None),
        LinkTarget::Staff(id) => (None, Some(id)),
    };
    let code = new_code();
    let expires_at = ctx.now() + ctx.settings.link_code_ttl;
    let model = link_code::ActiveModel {
        id: NotSet,
        code_hash: Set(token_hash(&code)),
        consumer_id: Set(consumer_id),
        staff_id: Set(staff_id),
        expires_at: Set(expires_at),
        used_at: Set(None),
        used_by_telegram_id: Set(None),
        created_by: Set(created_by),
        created_at: Set(ctx.now()),
    };
    let txn = ctx.db.begin_write().await?;
    let record = model.insert(&txn).await?;
    let actor = created_by.map_or(Actor::System, Actor::Staff);
    let details = json!({"consumer_id": consumer_id, "staff_id": staff_id});
    audit::record(&txn, ctx, actor, "link_code.issue", "link_code", Some(record.id), details).await?;
    txn.commit().await?;
    Ok(IssuedCode { code, expires_at })
}

fn new_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..CODE_LEN).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// Uses a code for `telegram_user_id`: the account becomes the code's consumer or staff member.
/// A user's tries are counted before any work, a success given back: a few mistyped codes
/// pass, a guesser of 2⁴⁰ codes gets one try per ten minutes. Every refusal is logged.
pub async fn redeem(ctx: &Context, code: &str, telegram_user_id: i64) -> Result<Identity, LinkError> {
    let budget = &ctx.telegram_budgets.link_codes;
    let redeemed = match budget.take(telegram_user_id, ctx.now()) {
        Err(wait) => Err(LinkError::TooManyAttempts { minutes: super::throttle::minutes_up(wait) }),
        Ok(()) => redeem_code(ctx, code, telegram_user_id).await,
    };
    match &redeemed {
        Ok(_) => budget.give_back(telegram_user_id, ctx.now()),
        Err(LinkError::Internal(_)) => {}
        Err(refused) => tracing::warn!(telegram_user_id, "link code refused: {refused}"),
    }
    redeemed
}

async fn redeem_code(ctx: &Context, code: &str, telegram_user_id: i64) -> Result<Identity, LinkError> {
    let hash = token_hash(&code.trim().to_uppercase());
    let txn = ctx.db.begin_write().await?;
    let found = link_code::Entity::find().filter(link_code::Column::CodeHash.eq(&hash)).one(&txn).await?;
    let found = found.ok_or(LinkError::UnknownCode)?;
    if found.used_at.is_some() {
        return Err(LinkError::UsedCode);
    }
    if found.expires_at <= ctx.now() {
        return Err(LinkError::ExpiredCode);
    }
    let mut used = found.clone().into_active_model();
    used.used_at = Set(Some(ctx.now()));
    used.used_by_telegram_id = Set(Some(telegram_user_id));
    used.update(&txn).await?;

    let identity = match (found.consumer_id, found.staff_id) {
        (Some(consumer_id), _) => link_consumer(&txn, ctx, consumer_id, telegram_user_id, "code").await?,
        (None, Some(staff_id)) => link_staff(&txn, ctx, staff_id, telegram_user_id).await?,
        (None, None) => return Err(LinkError::UnknownCode),
    };
    txn.commit().await?;
    Ok(identity)
}

/// Links by a shared contact. Only the user's own contact counts: Telegram marks it with the
/// sender's user id; a forwarded or typed-in contact has another id or none.
pub async fn link_by_contact(
    ctx: &Context,
    telegram_user_id: i64,
    contact_user_id: Option<i64>,
    phone: &str,
) -> Result<Identity, LinkError> {
    if contact_user_id != Some(telegram_user_id) {
        return Err(LinkError::ForeignContact);
    }
    // Telegram sends numbers without the plus.
    let with_plus = if phone.trim().starts_with('+') { phone.trim().to_owned() } else { format!("+{}", phone.trim()) };
    let phone = Phone::parse(&with_plus).map_err(|_| LinkError::BadPhone(phone.to_owned()))?;
    let txn = ctx.db.begin_write().await?;
    let matches = consumer::Entity::find().filter(consumer::Column::Phone.eq(phone.clone())).all(&txn).await?;
    let identity = match matches.as_slice() {
        [] => return Err(LinkError::PhoneNotFound(phone.to_string())),
        [one] => link_consumer(&txn, ctx, one.id, telegram_user_id, "contact").await?,
        _ => return Err(LinkError::PhoneAmbiguous(phone.to_string())),
    };
    txn.commit().await?;
    Ok(identity)
}

async fn link_consumer(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    consumer_id: i64,
    telegram_user_id: i64,
    how: &str,
) -> Result<Identity, DbErr> {
    // One Telegram account acts for one consumer: a new link replaces an old one.
    telegram_link::Entity::delete_many()
        .filter(telegram_link::Column::TelegramUserId.eq(telegram_user_id))
        .exec(conn)
        .await?;
    telegram_link::ActiveModel {
        id: NotSet,
        consumer_id: Set(consumer_id),
        telegram_user_id: Set(telegram_user_id),
        linked_at: Set(ctx.now()),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        ctx,
        Actor::Consumer { consumer_id, telegram_user_id },
        "telegram.link",
        "consumer",
        Some(consumer_id),
        json!({"how": how}),
    )
    .await?;
    identify(conn, telegram_user_id).await
}

async fn link_staff(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    staff_id: i64,
    telegram_user_id: i64,
) -> Result<Identity, DbErr> {
    if let Some(previous) = super::staff::by_telegram(conn, telegram_user_id).await? {
        let mut active = previous.into_active_model();
        active.telegram_user_id = Set(None);
        active.update(conn).await?;
    }
    if let Some(member) = staff::Entity::find_by_id(staff_id).one(conn).await? {
        let mut active = member.into_active_model();
        active.telegram_user_id = Set(Some(telegram_user_id));
        active.update(conn).await?;
    }
    audit::record(
        conn,
        ctx,
        Actor::Staff(staff_id),
        "telegram.link",
        "staff",
        Some(staff_id),
        json!({
            "telegram_user_id": telegram_user_id
        }),
    )
    .await?;
    identify(conn, telegram_user_id).await
}

/// Who this Telegram user is.
pub async fn identify(conn: &impl ConnectionTrait, telegram_user_id: i64) -> Result<Identity, DbErr> {
    let consumer = match telegram_link::Entity::find()
        .filter(telegram_link::Column::TelegramUserId.eq(telegram_user_id))
        .one(conn)
        .await?
    {
        Some(link) => consumer::Entity::find_by_id(link.consumer_id).one(conn).await?,
        None => None,
    };
    let staff = super::staff::by_telegram(conn, telegram_user_id).await?;
    Ok(Identity { consumer, staff })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_deep_link_safe() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert!(!code.contains(['0', 'O', '1', 'I']));
    }
}
