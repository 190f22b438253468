//! Telling consumers in Telegram that a payment was posted to their contract (or reversed).
//!
//! Every payment line is written by `payments::post`, which queues a `deliveries` row of kind
//! [`KIND`] (target: the payment's id) in the same transaction — for a consumer linked in
//! Telegram with reminders on, the one opt-out for everything the system sends by itself. The
//! scheduler sends them: a consumer's pending notices go out as one message once none is newer
//! than [`QUIET`] (an import or a transfer posts several at once: one message lists them all), and
//! a notice not sent within [`FRESH`] is dropped rather than sent days late.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Balance, Kopecks, Period};
use entities::payment;
use sea_orm::{ConnectionTrait, DbErr};

use crate::ledger::debt::{self, Scope};
use crate::{Context, db, deliveries};

/// The `deliveries.kind` of a payment notice; the target is the payment's id.
pub const KIND: &str = "payment_notice";
/// A consumer's notices wait until the newest is this old, so a burst makes one message.
pub const QUIET: Duration = Duration::minutes(1);
/// Older notices are no longer news: not sent (say, after reminders are turned back on).
pub const FRESH: Duration = Duration::days(2);

/// Queues the notice of `payment` when its consumer is linked in Telegram and has not opted out.
pub(super) async fn queue(conn: &impl ConnectionTrait, ctx: &Context, payment: &payment::Model) -> Result<(), DbErr> {
    let wanted = db::query(
        conn,
        "SELECT 1 AS one FROM contracts c JOIN consumers k ON k.id = c.consumer_id \
         WHERE c.id = ? AND k.reminders_enabled = ? \
           AND EXISTS (SELECT 1 FROM telegram_links l WHERE l.consumer_id = k.id)",
        [payment.contract_id.into(), true.into()],
    )
    .await?;
    if wanted.is_empty() {
        return Ok(());
    }
    deliveries::queue(conn, ctx.now(), KIND, ctx.current_period(), &payment.id.to_string()).await
}

/// One payment line to tell about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub payment_id: i64,
    pub contract_id: i64,
    pub contract_number: String,
    pub plot_number: String,
    /// Negative for a reversal.
    pub amount: Kopecks,
    pub paid_on: NaiveDate,
    /// For a reversal: the reversed payment's amount and the day it arrived.
    pub reverses: Option<(Kopecks, NaiveDate)>,
}

/// A consumer's notices, sent as one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub consumer_id: i64,
    /// The latest linked Telegram account, as reminders use.
    pub telegram_user_id: i64,
    /// In payment order; the first one's delivery is the batch's own (the scheduler claims it).
    pub notices: Vec<Notice>,
    /// Each contract's balance now, after these payments.
    pub balances: BTreeMap<String, Balance>,
}

impl Batch {
    /// The delivery target the scheduler claims for the whole batch.
    pub fn target(&self) -> String {
        self.notices.first().map(|n| n.payment_id.to_string()).unwrap_or_default()
    }

    /// The batch as a Telegram message.
    pub fn to_message(&self) -> String {
        let mut out = String::new();
        for n in &self.notices {
            let line = match n.reverses {
                Some((amount, paid_on)) => format!(
                    "Платёж {amount} от {} по договору № {} (участок {}) сторнирован: {} списано.\n",
                    paid_on.format("%d.%m.%Y"),
                    n.contract_number,
                    n.plot_number,
                    -n.amount,
                ),
                None => format!(
                    "Поступила оплата {} от {} по договору № {} (участок {}).\n",
                    n.amount,
                    n.paid_on.format("%d.%m.%Y"),
                    n.contract_number,
                    n.plot_number,
                ),
            };
            out.push_str(&line);
        }
        for (number, balance) in &self.balances {
            out.push_str(&format!("Договор № {number}: {}.\n", balance.describe().to_lowercase()));
        }
        out.push_str("Не присылать такие сообщения — /reminders.");
        out
    }

    /// The delivery targets of the batch's other notices: the sender claims them too, so no
    /// other instance sends them, and marks them as it marks the first.
    pub fn others(&self) -> impl Iterator<Item = String> + '_ {
        self.notices.iter().skip(1).map(|n| n.payment_id.to_string())
    }
}

/// What is due at `now`: the batches of the earliest month with a pending notice (a delivery
/// row's month is the month it was queued in), and when to look again.
pub async fn due(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(Option<Period>, Vec<Batch>, DateTime<Utc>), DbErr> {
    let rows = db::query(
        conn,
        "SELECT d.period, d.created_at, p.id, p.contract_id, p.amount_kopecks, p.paid_on, \
           o.amount_kopecks AS reversed_amount, o.paid_on AS reversed_paid_on, \
           c.number, pl.number AS plot_number, c.consumer_id, l.telegram_user_id \
         FROM deliveries d \
         JOIN payments p ON CAST(p.id AS TEXT) = d.target \
         LEFT JOIN payments o ON o.id = p.reverses_id \
         JOIN contracts c ON c.id = p.contract_id JOIN plots pl ON pl.id = c.plot_id \
         JOIN consumers k ON k.id = c.consumer_id \
         JOIN telegram_links l ON l.id = (SELECT MAX(id) FROM telegram_links WHERE consumer_id = k.id) \
         WHERE d.kind = ? AND d.sent_at IS NULL AND k.reminders_enabled = ? \
         ORDER BY d.period, c.consumer_id, p.id",
        [KIND.into(), true.into()],
    )
    .await?;
    let mut next = now + FRESH;
    let mut period: Option<Period> = None;
    let mut batches: BTreeMap<i64, (Batch, DateTime<Utc>)> = BTreeMap::new();
    for row in &rows {
        let created: DateTime<Utc> = row.try_get("", "created_at")?;
        if created + FRESH < now {
            continue;
        }
        let row_period: Period = row.try_get("", "period")?;
        if period.is_some_and(|p| p != row_period) {
            // A later month waits for this one's batches to go.
            next = now;
            continue;
        }
        period = Some(row_period);
        let consumer_id: i64 = row.try_get("", "consumer_id")?;
        let reversed: Option<Kopecks> = row.try_get("", "reversed_amount")?;
        let notice = Notice {
            payment_id: row.try_get("", "id")?,
            contract_id: row.try_get("", "contract_id")?,
            contract_number: row.try_get("", "number")?,
            plot_number: row.try_get("", "plot_number")?,
            amount: row.try_get("", "amount_kopecks")?,
            paid_on: row.try_get("", "paid_on")?,
            reverses: reversed.zip(row.try_get::<Option<NaiveDate>>("", "reversed_paid_on")?),
        };
        let (batch, newest) = batches.entry(consumer_id).or_insert_with(|| {
            let batch = Batch { consumer_id, telegram_user_id: 0, notices: Vec::new(), balances: BTreeMap::new() };
            (batch, created)
        });
        batch.telegram_user_id = row.try_get("", "telegram_user_id")?;
        batch.notices.push(notice);
        *newest = (*newest).max(created);
    }
    let mut ready = Vec::new();
    for (_, (mut batch, newest)) in batches {
        if newest + QUIET > now {
            next = next.min(newest + QUIET);
            continue;
        }
        let balances = debt::balances(conn, Scope::Consumer(batch.consumer_id), None).await?;
        for notice in &batch.notices {
            if let Some(balance) = balances.get(&notice.contract_id) {
                batch.balances.insert(notice.contract_number.clone(), *balance);
            }
        }
        ready.push(batch);
    }
    Ok((period, ready, next))
}
