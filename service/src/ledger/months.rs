//! Closed months (see `domain::ledger`): which months are closed, the booking month of a date,
//! closing a month (its balances stored) and reopening one (admin only, with a reason).

use chrono::NaiveDate;
use domain::ledger::{ClosedMonths, ClosingError, MonthFigures};
use domain::{ChargeKind, Kopecks, Period, Role, TextKind, TooLong};
use entities::{closed_period, period_balance, staff};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::internal_errors;
use crate::{Context, Internal, db};

#[derive(Debug, thiserror::Error)]
pub enum MonthError {
    #[error(transparent)]
    Closing(#[from] ClosingError),
    #[error("Закрыть месяц может бухгалтер или администратор.")]
    NotAccountant,
    #[error("Открыть закрытый месяц заново может только администратор.")]
    NotAdmin,
    #[error("Укажите причину, по которой месяц открывается заново.")]
    NoReason,
    #[error(transparent)]
    Reason(#[from] TooLong),
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(MonthError);

/// Which months are closed now.
pub async fn closed_months(conn: &impl ConnectionTrait) -> Result<ClosedMonths, DbErr> {
    let last: Option<Period> = closed_period::Entity::find()
        .select_only()
        .column_as(closed_period::Column::Period.max(), "last")
        .into_tuple::<Option<Period>>()
        .one(conn)
        .await?
        .flatten();
    Ok(last.map_or(ClosedMonths::NONE, ClosedMonths::through))
}

/// The month after the last closed one; none while nothing has been closed.
pub async fn first_open_period(conn: &impl ConnectionTrait) -> Result<Option<Period>, DbErr> {
    Ok(closed_months(conn).await?.last_closed().map(Period::next))
}

/// The month a line dated `date` is booked in: its own, or the first open one.
pub async fn booking_period(conn: &impl ConnectionTrait, date: NaiveDate) -> Result<Period, DbErr> {
    Ok(closed_months(conn).await?.booking_period(date))
}

/// Every closed month, latest first, with who closed it and how.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<closed_period::Model>, DbErr> {
    closed_period::Entity::find().order_by_desc(closed_period::Column::Period).all(conn).await
}

/// Closes `period` (and every earlier open month) from the panel: an accountant or admin.
pub async fn close(ctx: &Context, period: Period, actor: Actor) -> Result<(), MonthError> {
    let txn = ctx.db.begin_write().await?;
    let role = staff_role(&txn, actor).await?;
    if !matches!(role, Some(Role::Accountant | Role::Admin)) && actor != Actor::System {
        return Err(MonthError::NotAccountant);
    }
    let closed = closed_months(&txn).await?;
    closed.close(period, ctx.today())?;
    close_in(&txn, ctx, closed, period, actor, "panel").await?;
    txn.commit().await?;
    Ok(())
}

/// Closes `period` for its report to the accountants, before the report is built. The report
/// is then a closed month's, which nothing changes: a payment booked while it is on its way goes
/// to the open month, the month closes at what the accountants receive, and a retry sends the
/// same file. Nothing when it is already closed (another instance, or an accountant, was first).
pub async fn close_for_report(ctx: &Context, period: Period) -> Result<(), DbErr> {
    let txn = ctx.db.begin_write().await?;
    let closed = closed_months(&txn).await?;
    match closed.close(period, ctx.today()) {
        Ok(_) => close_in(&txn, ctx, closed, period, Actor::System, "report").await?,
        Err(e) => tracing::info!(%period, "month not closed for its report: {e}"),
    }
    txn.commit().await
}

/// Closes the open months up to `period`: a row each, their balances stored, audited.
async fn close_in(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    closed: ClosedMonths,
    period: Period,
    actor: Actor,
    how: &str,
) -> Result<(), DbErr> {
    let first = match closed.last_closed() {
        Some(last) => last.next(),
        None => first_booked(conn).await?.map_or(period, |first| first.min(period)),
    };
    let mut month = first;
    while month <= period {
        closed_period::ActiveModel {
            id: NotSet,
            period: Set(month),
            closed_at: Set(ctx.now()),
            closed_by: Set(actor.staff_id()),
            how: Set(if month == period { how.to_owned() } else { "cascade".to_owned() }),
        }
        .insert(conn)
        .await?;
        store_balances(conn, month).await?;
        month = month.next();
    }
    let details = json!({"from": first, "through": period, "how": how});
    audit::record(conn, ctx, actor, "period.close", "period", None, details).await
}

/// The earliest month anything is booked in.
async fn first_booked(conn: &impl ConnectionTrait) -> Result<Option<Period>, DbErr> {
    let rows = db::query(
        conn,
        "SELECT MIN(p) AS p FROM (SELECT MIN(period) AS p FROM charges UNION ALL SELECT MIN(period) FROM payments) \
         AS months",
        [],
    )
    .await?;
    let first: Option<String> = match rows.first() {
        Some(row) => row.try_get("", "p")?,
        None => None,
    };
    first.map(|p| Period::parse(&p).map_err(|e| DbErr::Type(e.to_string()))).transpose()
}

/// Reopens `period` and every later closed month: an admin, with a reason. Their stored
/// balances go; they are written again when the months close again.
pub async fn reopen(ctx: &Context, period: Period, reason: &str, actor: Actor) -> Result<(), MonthError> {
    let reason = TextKind::Reason.bounded(reason)?;
    if reason.is_empty() {
        return Err(MonthError::NoReason);
    }
    let txn = ctx.db.begin_write().await?;
    if staff_role(&txn, actor).await? != Some(Role::Admin) {
        return Err(MonthError::NotAdmin);
    }
    let closed = closed_months(&txn).await?;
    closed.reopen(period)?;
    closed_period::Entity::delete_many().filter(closed_period::Column::Period.gte(period)).exec(&txn).await?;
    period_balance::Entity::delete_many().filter(period_balance::Column::Period.gte(period)).exec(&txn).await?;
    let details = json!({"from": period, "through": closed.last_closed(), "reason": reason});
    audit::record(&txn, ctx, actor, "period.reopen", "period", None, details).await?;
    txn.commit().await?;
    Ok(())
}

async fn staff_role(conn: &impl ConnectionTrait, actor: Actor) -> Result<Option<Role>, DbErr> {
    let Some(id) = actor.staff_id() else { return Ok(None) };
    Ok(staff::Entity::find_by_id(id).one(conn).await?.filter(|s| s.active).map(|s| s.role))
}

/// Every contract's figures of `period` from the raw lines: what opened it (everything booked
/// before), what was booked in it by kind, what was paid in it. The migration
/// `m20261207_000002_closed_month_balances` repeats this in SQL for the months an upgrade closed:
/// a change here goes there too.
pub async fn figures(conn: &impl ConnectionTrait, period: Period) -> Result<Vec<(i64, MonthFigures)>, DbErr> {
    // Sums of a few lines per contract and month: far inside BIGINT (see `debt::contract_sum`).
    let sum = |table: &str, filter: &str| {
        format!(
            "CAST(COALESCE((SELECT SUM(amount_kopecks) FROM {table} WHERE contract_id = c.id {filter}), 0) AS BIGINT)"
        )
    };
    let kinds = |ks: &[ChargeKind]| {
        let codes: Vec<String> = ks.iter().map(|k| format!("'{}'", k.code())).collect();
        sum("charges", &format!("AND period = ? AND kind IN ({})", codes.join(", ")))
    };
    let kind = |k: ChargeKind| kinds(&[k]);
    let sql = format!(
        "SELECT c.id AS contract_id, {charged_before} AS charged_before, {paid_before} AS paid_before, \
           {consumption} AS consumption, {recalculations} AS recalculations, {opening} AS opening_balances, \
           {paid} AS paid \
         FROM contracts c ORDER BY c.id",
        charged_before = sum("charges", "AND period < ?"),
        paid_before = sum("payments", "AND period < ?"),
        // Shares of the network's losses are in the consumption column, as `MonthFigures::book` puts them.
        consumption = kinds(&[ChargeKind::Consumption, ChargeKind::NetworkLosses]),
        recalculations = kind(ChargeKind::Recalculation),
        opening = kind(ChargeKind::OpeningBalance),
        paid = sum("payments", "AND period = ?"),
    );
    let p = || sea_orm::Value::from(period.to_string());
    let rows = db::query(conn, &sql, [p(), p(), p(), p(), p(), p()]).await?;
    let out_of_range = |e: domain::AmountOutOfRange| DbErr::Type(e.to_string());
    rows.iter()
        .map(|row| {
            let get = |c: &str| row.try_get::<Kopecks>("", c);
            let opening = get("charged_before")?.checked_sub(get("paid_before")?).map_err(out_of_range)?;
            let mut figures = MonthFigures::opening_at(opening);
            for (kind, column) in [
                (ChargeKind::Consumption, "consumption"),
                (ChargeKind::Recalculation, "recalculations"),
                (ChargeKind::OpeningBalance, "opening_balances"),
            ] {
                figures = figures.book(kind, get(column)?).map_err(out_of_range)?;
            }
            let figures = figures.pay(get("paid")?).map_err(out_of_range)?;
            Ok((row.try_get("", "contract_id")?, figures))
        })
        .collect()
}

async fn store_balances(conn: &impl ConnectionTrait, period: Period) -> Result<(), DbErr> {
    let rows: Vec<period_balance::ActiveModel> = figures(conn, period)
        .await?
        .into_iter()
        .map(|(contract_id, f)| period_balance::ActiveModel {
            id: NotSet,
            period: Set(period),
            contract_id: Set(contract_id),
            opening: Set(f.opening),
            consumption: Set(f.consumption),
            recalculations: Set(f.recalculations),
            opening_balances: Set(f.opening_balances),
            paid: Set(f.paid),
            closing: Set(f.closing),
        })
        .collect();
    for chunk in rows.chunks(db::IN_BATCH / 10) {
        period_balance::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    Ok(())
}
