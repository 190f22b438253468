//! Things the system sends on its own, once per period and target (the monthly report to a chat,
//! a reminder to a consumer). A row is claimed with a lease before sending, so two instances
//! never send the same thing at once, and marked sent after; a failure schedules a retry.

use chrono::{DateTime, Duration, Utc};
use domain::Period;
use entities::delivery;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::Context;

/// The kind of the monthly report to the accountants (its month closes before it is built).
pub const MONTHLY_REPORT: &str = "monthly_report";

/// How long a claim holds before another instance may retry (a send takes seconds).
pub const LEASE: Duration = Duration::minutes(5);
const FIRST_RETRY: Duration = Duration::minutes(1);
const LONGEST_RETRY: Duration = Duration::hours(1);

/// Claims the delivery of `kind` for `period` to `target`, unless it was sent or is claimed by
/// someone else (or waits for its retry time). The claimed row is returned.
pub async fn claim(ctx: &Context, kind: &str, period: Period, target: &str) -> Result<Option<delivery::Model>, DbErr> {
    let now = ctx.now();
    let txn = ctx.db.begin_write().await?;
    delivery::Entity::insert(pending(now, kind, period, target))
        .on_conflict(unique_key())
        .exec_without_returning(&txn)
        .await?;
    let row = delivery::Entity::find()
        .filter(keyed(kind, period, target))
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("delivery".into()))?;
    let claimed = if row.sent_at.is_some() || row.next_attempt_at.is_some_and(|at| at > now) {
        None
    } else {
        // Only if still free when the row is locked: on PostgreSQL another instance may have
        // read it free too, and its claim commits first (an update by id alone claimed it twice).
        let taken = delivery::Entity::update_many()
            .col_expr(delivery::Column::Attempts, Expr::value(row.attempts + 1))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now + LEASE))
            .filter(delivery::Column::Id.eq(row.id))
            .filter(delivery::Column::SentAt.is_null())
            .filter(free_at(now))
            .exec(&txn)
            .await?;
        (taken.rows_affected == 1).then(|| delivery::Model {
            attempts: row.attempts + 1,
            next_attempt_at: Some(now + LEASE),
            ..row
        })
    };
    txn.commit().await?;
    Ok(claimed)
}

/// Queues `kind` for `period` to `target` inside the caller's transaction, so the thing to send
/// exists exactly when the change that calls for it does; queued already, nothing changes.
pub async fn queue(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    kind: &str,
    period: Period,
    target: &str,
) -> Result<(), DbErr> {
    delivery::Entity::insert(pending(now, kind, period, target))
        .on_conflict(unique_key())
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn pending(now: DateTime<Utc>, kind: &str, period: Period, target: &str) -> delivery::ActiveModel {
    delivery::ActiveModel {
        id: NotSet,
        kind: Set(kind.to_owned()),
        period: Set(period),
        target: Set(target.to_owned()),
        sent_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
        next_attempt_at: Set(None),
        created_at: Set(now),
        parts_sent: Set(0),
    }
}

/// The one delivery of `kind` for `period` to `target` (its unique key).
fn keyed(kind: &str, period: Period, target: &str) -> Condition {
    Condition::all()
        .add(delivery::Column::Kind.eq(kind))
        .add(delivery::Column::Period.eq(period))
        .add(delivery::Column::Target.eq(target))
}

fn unique_key() -> OnConflict {
    OnConflict::columns([delivery::Column::Kind, delivery::Column::Period, delivery::Column::Target])
        .do_nothing()
        .to_owned()
}

/// Records deliveries of `kind` for `period` to `targets`, to be claimed and sent later (an
/// announcement's recipients, fixed when it is sent); targets already recorded are left as they are.
pub async fn schedule(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    kind: &str,
    period: Period,
    targets: impl IntoIterator<Item = String>,
) -> Result<(), DbErr> {
    let now = ctx.now();
    let rows: Vec<delivery::ActiveModel> =
        targets.into_iter().map(|target| pending(now, kind, period, &target)).collect();
    // Nine values a row: 500 rows stay far under the bound variables a statement may have.
    for chunk in rows.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec()).on_conflict(unique_key()).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// `last_error` of a send whose recipient blocked the bot or deleted their account: not retried.
pub const BLOCKED: &str = "blocked";
/// `last_error` of a send that is no longer to be made (the recipient unlinked or muted
/// meanwhile): not retried.
pub const SKIPPED: &str = "skipped";
/// Scheduled sends that fail this many times (network, Telegram's errors) are given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// Up to `limit` scheduled deliveries of `kind` due now, oldest first: not sent, not given up
/// ([`BLOCKED`], [`SKIPPED`], [`MAX_ATTEMPTS`]), not waiting for a retry.
pub async fn waiting(ctx: &Context, kind: &str, limit: u64) -> Result<Vec<delivery::Model>, DbErr> {
    let not_final = Condition::any().add(delivery::Column::LastError.is_null()).add(
        Condition::all()
            .add(delivery::Column::LastError.not_like(format!("{BLOCKED}%")))
            .add(delivery::Column::LastError.not_like(format!("{SKIPPED}%"))),
    );
    delivery::Entity::find()
        .filter(delivery::Column::Kind.eq(kind))
        .filter(delivery::Column::SentAt.is_null())
        .filter(delivery::Column::Attempts.lt(MAX_ATTEMPTS))
        .filter(free_at(ctx.now()))
        .filter(not_final)
        .order_by_asc(delivery::Column::Id)
        .limit(limit)
        .all(ctx.db.conn())
        .await
}

/// What became of one scheduled send (an announcement to a member, an answer to a request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Delivered(chrono::DateTime<chrono::Utc>),
    /// Waiting to be sent, or for a retry after `last_error`.
    Pending(Option<String>),
    Blocked,
    Skipped(String),
    Failed(String),
}

impl Fate {
    pub fn of(row: &delivery::Model) -> Fate {
        if let Some(at) = row.sent_at {
            return Fate::Delivered(at);
        }
        match row.last_error.as_deref() {
            Some(e) if e.starts_with(BLOCKED) => Fate::Blocked,
            Some(e) if e.starts_with(SKIPPED) => {
                Fate::Skipped(e.trim_start_matches(SKIPPED).trim_start_matches(':').trim().to_owned())
            }
            Some(e) if row.attempts >= MAX_ATTEMPTS => Fate::Failed(e.to_owned()),
            error => Fate::Pending(error.map(str::to_owned)),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Fate::Delivered(_) => "доставлено".to_owned(),
            Fate::Pending(None) => "ожидает отправки".to_owned(),
            Fate::Pending(Some(e)) => format!("повтор после ошибки: {e}"),
            Fate::Blocked => "заблокировал бота".to_owned(),
            Fate::Skipped(why) => format!("не отправлено: {why}"),
            Fate::Failed(e) => format!("не доставлено: {e}"),
        }
    }
}

/// Neither leased nor waiting for a retry at `now`.
fn free_at(now: DateTime<Utc>) -> Condition {
    Condition::any().add(delivery::Column::NextAttemptAt.is_null()).add(delivery::Column::NextAttemptAt.lte(now))
}

/// Marks the deliveries `ids` [`SKIPPED`] for `why`, unless sent or claimed meanwhile: no longer
/// to be made, and not read again.
pub async fn skip(ctx: &Context, ids: impl IntoIterator<Item = i64>, why: &str) -> Result<(), DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(());
    }
    let txn = ctx.db.begin_write().await?;
    for chunk in ids.chunks(crate::db::IN_BATCH) {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::LastError, Expr::value(format!("{SKIPPED}: {why}")))
            .filter(delivery::Column::Id.is_in(chunk.iter().copied()))
            .filter(delivery::Column::SentAt.is_null())
            .filter(free_at(ctx.now()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await
}

/// Whether `kind` for `period` to `target` has been sent.
pub async fn is_sent(ctx: &Context, kind: &str, period: Period, target: &str) -> Result<bool, DbErr> {
    let row = delivery::Entity::find().filter(keyed(kind, period, target)).one(ctx.db.conn()).await?;
    Ok(row.is_some_and(|r| r.sent_at.is_some()))
}

/// Marks a delivery sent.
pub async fn mark_sent(ctx: &Context, claimed: delivery::Model) -> Result<delivery::Model, DbErr> {
    let mut row = claimed.into_active_model();
    row.sent_at = Set(Some(ctx.now()));
    row.next_attempt_at = Set(None);
    row.last_error = Set(None);
    let txn = ctx.db.begin_write().await?;
    let sent = row.update(&txn).await?;
    txn.commit().await?;
    Ok(sent)
}

/// Records that Telegram took one more part of a send in two messages, so a retry after the
/// second failed sends only the rest (see `delivery::Model::parts_sent`).
pub async fn count_part_sent(ctx: &Context, kind: &str, period: Period, target: &str) -> Result<(), DbErr> {
    let txn = ctx.db.begin_write().await?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::PartsSent, Expr::col(delivery::Column::PartsSent).add(1))
        .filter(keyed(kind, period, target))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// How many parts of the send of `kind` for `period` to `target` Telegram took before.
pub async fn parts_sent(conn: &impl ConnectionTrait, kind: &str, period: Period, target: &str) -> Result<i32, DbErr> {
    let parts: Option<i32> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::PartsSent)
        .filter(keyed(kind, period, target))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(parts.unwrap_or(0))
}

/// Records a failure; the next attempt waits 1, 2, 4 … minutes, at most an hour.
pub async fn mark_failed(ctx: &Context, claimed: delivery::Model, error: &str) -> Result<DateTime<Utc>, DbErr> {
    let retry_at = ctx.now() + retry_delay(claimed.attempts);
    let mut row = claimed.into_active_model();
    row.last_error = Set(Some(error.chars().take(2000).collect()));
    row.next_attempt_at = Set(Some(retry_at));
    let txn = ctx.db.begin_write().await?;
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(retry_at)
}

fn retry_delay(attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 10) as u32;
    (FIRST_RETRY * 2i32.pow(doublings)).min(LONGEST_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::minutes(1));
        assert_eq!(retry_delay(2), Duration::minutes(2));
        assert_eq!(retry_delay(4), Duration::minutes(8));
        assert_eq!(retry_delay(30), Duration::hours(1));
    }

    /// Instances asking at the same moment (on PostgreSQL, each on its own connection): one wins.
    #[tokio::test]
    async fn a_delivery_is_claimed_once_however_many_ask_at_once() {
        let t = crate::testing::TestContext::new().await;
        let period = t.ctx.current_period();
        for target in ["1", "2", "3"] {
            // Queued already, as a payment's notice or an announcement's send is.
            queue(t.ctx.db.conn(), t.ctx.now(), "test", period, target).await.unwrap();
            let mut asking = tokio::task::JoinSet::new();
            for _ in 0..16 {
                let ctx = t.ctx.clone();
                asking.spawn(async move { claim(&ctx, "test", period, target).await.unwrap().is_some() });
            }
            let won = asking.join_all().await.into_iter().filter(|won| *won).count();
            assert_eq!(won, 1, "target {target}");
        }
    }
}
