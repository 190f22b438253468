//! Telling consumers in Telegram that a payment was posted to their contract (or reversed).
//!
//! Every payment line is written by `payments::post`, which queues a `deliveries` row of kind
//! [`KIND`] (target: the payment's id) in the same transaction — for a consumer linked in
//! Telegram with reminders on, the one opt-out for everything the system sends by itself. The
//! scheduler sends them: a consumer's pending notices go out as one message once none is newer
//! than [`QUIET`] (an import or a transfer posts several at once: one message lists them all), and
//! a notice not sent within [`FRESH`] is dropped rather than sent days late.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Balance, Kopecks, Period};
use entities::{delivery, payment};
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

/// Notices read per look: an import's burst fits; more are read at the next look, at once.
const LOOK: u64 = db::IN_BATCH as u64;

/// What is due at `now`: the ready batches of the oldest month with a pending notice (a delivery
/// row's month is the month it was queued in), and when to look again. Notices past [`FRESH`],
/// and those of consumers who opted out or unlinked meanwhile, are marked [`deliveries::SKIPPED`]
/// here, so no look reads them again.
pub async fn due(ctx: &Context, now: DateTime<Utc>) -> Result<(Option<Period>, Vec<Batch>, DateTime<Utc>), DbErr> {
    let waiting = deliveries::waiting(ctx, KIND, LOOK).await?;
    let mut next = if waiting.len() as u64 >= LOOK { now } else { now + FRESH };
    let (stale, fresh): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|d| d.created_at + FRESH < now);
    deliveries::skip(ctx, stale.iter().map(|d| d.id), "устарело").await?;
    let Some(period) = fresh.first().map(|d| d.period) else { return Ok((None, Vec::new(), next)) };
    let (this_month, later): (Vec<_>, Vec<_>) = fresh.into_iter().partition(|d| d.period == period);
    if !later.is_empty() {
        // A later month waits for this one's batches to go.
        next = now;
    }
    let queued: HashMap<i64, &delivery::Model> =
        this_month.iter().filter_map(|d| Some((d.target.parse().ok()?, d))).collect();
    if queued.is_empty() {
        return Ok((None, Vec::new(), next));
    }
    let placeholders = vec!["?"; queued.len()].join(", ");
    let rows = db::query(
        ctx.db.conn(),
        &format!(
            "SELECT p.id, p.contract_id, p.amount_kopecks, p.paid_on, \
               o.amount_kopecks AS reversed_amount, o.paid_on AS reversed_paid_on, \
               c.number, pl.number AS plot_number, c.consumer_id, k.reminders_enabled, \
               (SELECT l.telegram_user_id FROM telegram_links l WHERE l.consumer_id = k.id \
                ORDER BY l.id DESC LIMIT 1) AS telegram_user_id \
             FROM payments p LEFT JOIN payments o ON o.id = p.reverses_id \
             JOIN contracts c ON c.id = p.contract_id JOIN plots pl ON pl.id = c.plot_id \
             JOIN consumers k ON k.id = c.consumer_id \
             WHERE p.id IN ({placeholders}) ORDER BY c.consumer_id, p.id"
        ),
        queued.keys().map(|id| (*id).into()),
    )
    .await?;
    let mut unwanted: Vec<i64> = Vec::new();
    let mut found = HashSet::new();
    let mut batches: BTreeMap<i64, (Batch, DateTime<Utc>)> = BTreeMap::new();
    for row in &rows {
        let payment_id: i64 = row.try_get("", "id")?;
        let queued = queued[&payment_id];
        found.insert(payment_id);
        let enabled: bool = row.try_get("", "reminders_enabled")?;
        let chat: Option<i64> = row.try_get("", "telegram_user_id")?;
        let Some(telegram_user_id) = chat.filter(|_| enabled) else {
            unwanted.push(queued.id);
            continue;
        };
        let consumer_id: i64 = row.try_get("", "consumer_id")?;
        let reversed: Option<Kopecks> = row.try_get("", "reversed_amount")?;
        let notice = Notice {
            payment_id,
            contract_id: row.try_get("", "contract_id")?,
            contract_number: row.try_get("", "number")?,
            plot_number: row.try_get("", "plot_number")?,
            amount: row.try_get("", "amount_kopecks")?,
            paid_on: row.try_get("", "paid_on")?,
            reverses: reversed.zip(row.try_get::<Option<NaiveDate>>("", "reversed_paid_on")?),
        };
        let (batch, newest) = batches.entry(consumer_id).or_insert_with(|| {
            let batch = Batch { consumer_id, telegram_user_id, notices: Vec::new(), balances: BTreeMap::new() };
            (batch, queued.created_at)
        });
        batch.notices.push(notice);
        *newest = (*newest).max(queued.created_at);
    }
    // Opted out (or unlinked) after the notice was queued: the opt-out holds.
    unwanted.extend(queued.iter().filter(|(id, _)| !found.contains(*id)).map(|(_, d)| d.id));
    deliveries::skip(ctx, unwanted, "уведомления отключены").await?;
    let mut ready = Vec::new();
    for (_, (mut batch, newest)) in batches {
        if newest + QUIET > now {
            next = next.min(newest + QUIET);
            continue;
        }
        let balances = debt::balances(ctx.db.conn(), Scope::Consumer(batch.consumer_id), None).await?;
        for notice in &batch.notices {
            if let Some(balance) = balances.get(&notice.contract_id) {
                batch.balances.insert(notice.contract_number.clone(), *balance);
            }
        }
        ready.push(batch);
    }
    Ok((Some(period), ready, next))
}
