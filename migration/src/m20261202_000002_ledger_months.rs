//! The books by booking month (issue 12): closed months, their stored balances, and what each
//! ledger line is about.
//!
//! - `closed_periods`: one row per closed month (a prefix of the calendar); `closed_by` is the
//!   staff member, NULL for the scheduler or this migration; `how` says which.
//! - `period_balances`: per closed month and contract, the month's figures as closed.
//! - `charges`: `for_period` (the month a line is about; `period` stays the booking month),
//!   `dated_on`, the tariff segment's `from_on`/`to_on`, and for recalculations `reason`,
//!   `cause_kind`, `cause_id` and the signed `consumption_change` (thousandths).
//! - `payments`: `for_period` (what the payer said: the old `period`), `period` becomes the month
//!   the money arrived; `reverses_id` is room for reversals (issue 13).
//!
//! Data: every month up to the last one whose monthly report was delivered is closed. A payment
//! is booked in the month of `paid_on`; one that no delivered report showed (its old month was
//! open) and whose day is in a closed month goes to the first open month. An opening balance
//! moves from the month before go-live to the go-live month (the opening reading's date). Those
//! two moves restate closed months once, at this upgrade (the README says so); after it, nothing
//! is booked into a closed month. Consumption lines keep their months; their `dated_on` is the
//! closing reading's UTC date (the migration does not know the cooperative's time zone), kept
//! inside the line's month.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement, Value};
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261126_000001_initial::{drop_index, fk, index, table, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The delivery kind of the monthly report (`bot::scheduler::report::MonthlyReport::KIND`).
const MONTHLY_REPORT: &str = "monthly_report";

const CHARGE_COLUMNS: &[&str] =
    &["for_period", "dated_on", "from_on", "to_on", "reason", "cause_kind", "cause_id", "consumption_change"];
const PAYMENT_COLUMNS: &[&str] = &["for_period", "reverses_id"];

fn charge_column(name: &'static str) -> ColumnDef {
    match name {
        "for_period" => string_len_null(name, 7),
        "dated_on" | "from_on" | "to_on" => date_null(name),
        "reason" => text_null(name),
        "cause_kind" => string_null(name),
        _ => big_integer_null(name),
    }
}

fn payment_column(name: &'static str) -> ColumnDef {
    match name {
        "for_period" => string_len_null(name, 7),
        _ => big_integer_null(name),
    }
}

/// A month as `YYYY-MM`, as `domain::Period` stores it (a migration keeps its own copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Month(i32, u32);

impl Month {
    fn parse(s: &str) -> Result<Month, DbErr> {
        let bad = || DbErr::Custom(format!("месяц «{s}» не прочитан"));
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        Ok(Month(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?))
    }
    fn of(date: NaiveDate) -> Month {
        Month(date.year(), date.month())
    }
    fn next(self) -> Month {
        if self.1 == 12 { Month(self.0 + 1, 1) } else { Month(self.0, self.1 + 1) }
    }
    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0, self.1, 1).unwrap_or_default()
    }
    fn text(self) -> String {
        format!("{:04}-{:02}", self.0, self.1)
    }
}

fn date_of(text: &str) -> Result<NaiveDate, DbErr> {
    let day = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|e| DbErr::Custom(format!("дата «{text}»: {e}")))
}

pub(crate) async fn rows(
    db: &SchemaManagerConnection<'_>,
    sql: &str,
) -> Result<Vec<sea_orm_migration::sea_orm::QueryResult>, DbErr> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await
}

pub(crate) async fn exec(db: &SchemaManagerConnection<'_>, sql: &str, values: Vec<Value>) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await.map(|_| ())
}

/// `?` placeholders as the backend wants them.
pub(crate) fn sql(db: &SchemaManagerConnection<'_>, text: &str) -> String {
    if db.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Dates and timestamps read as text on both backends.
fn text_of(db: &SchemaManagerConnection<'_>, column: &str) -> String {
    match db.get_database_backend() {
        sea_orm_migration::sea_orm::DbBackend::Postgres => format!("CAST({column} AS TEXT)"),
        _ => column.to_owned(),
    }
}

async fn move_lines(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let sent = rows(
        db,
        &format!("SELECT MAX(period) AS p FROM deliveries WHERE kind = '{MONTHLY_REPORT}' AND sent_at IS NOT NULL"),
    )
    .await?;
    let last_closed = match sent.first().map(|r| r.try_get::<Option<String>>("", "p")).transpose()?.flatten() {
        Some(p) => Some(Month::parse(&p)?),
        None => None,
    };
    let closed = |m: Month| last_closed.is_some_and(|last| m <= last);
    let first_open = |m: Month| match last_closed {
        Some(last) if m <= last => last.next(),
        _ => m,
    };

    // Payments: by the day the money arrived.
    let paid_on = text_of(db, "paid_on");
    for row in rows(db, &format!("SELECT id, period, {paid_on} AS paid_on FROM payments")).await? {
        let id: i64 = row.try_get("", "id")?;
        let was = Month::parse(&row.try_get::<String>("", "period")?)?;
        let day = Month::of(date_of(&row.try_get::<String>("", "paid_on")?)?);
        let booked = if closed(was) { day } else { first_open(day) };
        exec(
            db,
            &sql(db, "UPDATE payments SET for_period = ?, period = ? WHERE id = ?"),
            vec![was.text().into(), booked.text().into(), id.into()],
        )
        .await?;
    }

    // Charges: consumption dated by its reading, opening balances moved to the go-live month.
    let taken_at = text_of(db, "r.taken_at");
    let installed = text_of(db, "MIN(m.installed_on)");
    let select = format!(
        "SELECT c.id, c.period, c.kind, {taken_at} AS taken_at, \
           (SELECT {installed} FROM meters m WHERE m.contract_id = c.contract_id) AS installed_on \
         FROM charges c LEFT JOIN readings r ON r.id = c.reading_id"
    );
    for row in rows(db, &select).await? {
        let id: i64 = row.try_get("", "id")?;
        let period = Month::parse(&row.try_get::<String>("", "period")?)?;
        let (for_period, booked, dated_on) = if row.try_get::<String>("", "kind")? == "opening_balance" {
            let go_live = match row.try_get::<Option<String>>("", "installed_on")? {
                Some(day) => date_of(&day)?,
                None => period.next().first_day(),
            };
            let month = Month::of(go_live);
            let booked = if closed(period) { month } else { first_open(month) };
            (month, booked, Ord::max(go_live, booked.first_day()))
        } else {
            let taken = row.try_get::<Option<String>>("", "taken_at")?.map(|t| date_of(&t)).transpose()?;
            let dated = taken.filter(|d| Month::of(*d) == period).unwrap_or(period.first_day());
            (period, period, dated)
        };
        exec(
            db,
            &sql(db, "UPDATE charges SET for_period = ?, period = ?, dated_on = ? WHERE id = ?"),
            vec![for_period.text().into(), booked.text().into(), dated_on.into(), id.into()],
        )
        .await?;
    }

    // Closed months: from the first month anything was booked in up to the last delivered one.
    let Some(last) = last_closed else { return Ok(()) };
    let first = rows(
        db,
        "SELECT MIN(p) AS p FROM (SELECT MIN(period) AS p FROM charges UNION ALL SELECT MIN(period) FROM payments \
         UNION ALL SELECT MIN(period) FROM readings) AS months",
    )
    .await?;
    let first = match first.first().map(|r| r.try_get::<Option<String>>("", "p")).transpose()?.flatten() {
        Some(p) => Month::parse(&p)?.min(last),
        None => last,
    };
    let now: DateTime<Utc> = Utc::now();
    let mut month = first;
    while month <= last {
        exec(
            db,
            &sql(db, "INSERT INTO closed_periods (period, closed_at, closed_by, how) VALUES (?, ?, NULL, 'migration')"),
            vec![month.text().into(), now.into()],
        )
        .await?;
        month = month.next();
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("closed_periods");
        t.col(string_len_uniq("period", 7))
            .col(timestamp_with_time_zone("closed_at"))
            .col(big_integer_null("closed_by"))
            .col(string("how"));
        fk(&mut t, "closed_by", "staff", ForeignKeyAction::SetNull);
        manager.create_table(t).await?;

        let mut t = table("period_balances");
        t.col(string_len("period", 7)).col(big_integer("contract_id"));
        for col in ["opening", "consumption", "recalculations", "opening_balances", "paid", "closing"] {
            t.col(big_integer(col));
        }
        fk(&mut t, "contract_id", "contracts", ForeignKeyAction::Restrict);
        manager.create_table(t).await?;
        manager.create_index(unique("period_balances", &["period", "contract_id"])).await?;

        // One column per statement: SQLite alters one thing at a time.
        for col in CHARGE_COLUMNS {
            manager.alter_table(Table::alter().table("charges").add_column(charge_column(col)).take()).await?;
        }
        for col in PAYMENT_COLUMNS {
            manager.alter_table(Table::alter().table("payments").add_column(payment_column(col)).take()).await?;
        }
        manager.create_index(index("payments", &["contract_id", "amount_kopecks", "paid_on"])).await?;
        manager.create_index(index("charges", &["meter_id", "for_period"])).await?;

        move_lines(manager.get_connection()).await
    }

    /// Back to lines by the month they are for (payments) and before go-live (opening balances).
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_raw(Statement::from_string(backend, "UPDATE payments SET period = for_period")).await?;
        for row in rows(db, "SELECT id, for_period FROM charges WHERE kind = 'opening_balance'").await? {
            let id: i64 = row.try_get("", "id")?;
            let before = Month::parse(&row.try_get::<String>("", "for_period")?)?;
            let before = if before.1 == 1 { Month(before.0 - 1, 12) } else { Month(before.0, before.1 - 1) };
            exec(db, &sql(db, "UPDATE charges SET period = ? WHERE id = ?"), vec![before.text().into(), id.into()])
                .await?;
        }
        db.execute_raw(Statement::from_string(backend, "DELETE FROM charges WHERE kind = 'recalculation'")).await?;
        for (table, cols) in
            [("payments", &["contract_id", "amount_kopecks", "paid_on"][..]), ("charges", &["meter_id", "for_period"])]
        {
            manager.drop_index(drop_index(table, cols)).await?;
        }
        for (table, cols) in [("charges", CHARGE_COLUMNS), ("payments", PAYMENT_COLUMNS)] {
            for col in cols {
                manager.alter_table(Table::alter().table(table).drop_column(*col).take()).await?;
            }
        }
        manager.drop_table(Table::drop().table("period_balances").take()).await?;
        manager.drop_table(Table::drop().table("closed_periods").take()).await
    }
}
