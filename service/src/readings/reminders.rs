//! Reminders to send meter readings: who is due one this month, and consumers turning them off
//! and on. Sending them, once per consumer and period, is the scheduler's (through
//! [`crate::deliveries`] with kind [`KIND`]).

use domain::{Balance, Kopecks, Period};
use entities::consumer;
use sea_orm::{ConnectionTrait, DbErr};

use super::walk::UNREAD_CONTRACT;
use crate::audit::Actor;
use crate::register::changes::ConsumerSetting;
use crate::{Context, Internal};

/// The `deliveries.kind` of a reminder; the target is the consumer's id.
pub const KIND: &str = "reminder";

/// A consumer to remind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueConsumer {
    pub consumer_id: i64,
    /// A consumer linked from several Telegram accounts is reminded at the latest linked one.
    pub telegram_user_id: i64,
    /// Charges minus payments over all their contracts; negative when overpaid.
    pub debt: Kopecks,
}

/// Consumers to remind in `period`: reminders on, a Telegram link, a contract unread in the
/// period (as in the controllers' unread list), and no reminder sent for the period yet.
pub async fn due_consumers(conn: &impl ConnectionTrait, period: Period) -> Result<Vec<DueConsumer>, DbErr> {
    // The sums cannot overflow, as those of `debt::balances` (a consumer has a few contracts);
    // they are subtracted in Rust, checked: SQLite turns an overflowing `-` into a float.
    let sql = format!(
        "SELECT c.id AS consumer_id, l.telegram_user_id, \
           CAST(COALESCE((SELECT SUM(ch.amount_kopecks) FROM charges ch JOIN contracts k ON k.id = ch.contract_id \
                          WHERE k.consumer_id = c.id), 0) AS BIGINT) AS charged, \
           CAST(COALESCE((SELECT SUM(p.amount_kopecks) FROM payments p JOIN contracts k ON k.id = p.contract_id \
                          WHERE k.consumer_id = c.id), 0) AS BIGINT) AS paid \
         FROM consumers c \
         JOIN telegram_links l ON l.id = (SELECT MAX(id) FROM telegram_links WHERE consumer_id = c.id) \
         WHERE c.reminders_enabled = ? \
           AND EXISTS (SELECT 1 FROM contracts k WHERE k.consumer_id = c.id AND {UNREAD_CONTRACT}) \
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.kind = ? AND d.period = ? \
                           AND d.target = CAST(c.id AS TEXT) AND d.sent_at IS NOT NULL) \
         ORDER BY c.id"
    );
    let period = period.to_string();
    let values = [true.into(), period.clone().into(), KIND.into(), period.into()];
    let rows = crate::db::query(conn, &sql, values).await?;
    rows.into_iter()
        .map(|row| {
            Ok(DueConsumer {
                consumer_id: row.try_get("", "consumer_id")?,
                telegram_user_id: row.try_get("", "telegram_user_id")?,
                debt: Balance::new(row.try_get("", "charged")?, row.try_get("", "paid")?)?.debt(),
            })
        })
        .collect()
}

/// Turns a consumer's reminders on or off; a change is audited, setting the same value is a no-op.
pub async fn set_enabled(ctx: &Context, consumer_id: i64, enabled: bool, actor: Actor) -> Result<(), Internal> {
    let setting = ConsumerSetting {
        column: consumer::Column::RemindersEnabled,
        action: "consumer.reminders",
        key: "reminders_enabled",
    };
    setting.set(ctx, consumer_id, enabled, actor).await
}

#[cfg(test)]
mod tests {
    use domain::{MeterValue, Service, TariffPlan, kopecks};

    use super::*;
    use crate::access::telegram::{self, LinkTarget};
    use crate::readings;
    use crate::register::changes;
    use crate::register::sign_up::ConsumerRef;
    use crate::testing::{TestContext, new_consumer, office_reading};

    async fn link(t: &TestContext, consumer_id: i64, telegram_user_id: i64) {
        let code = telegram::issue_code(&t.ctx, LinkTarget::Consumer(consumer_id), None).await.unwrap();
        telegram::redeem(&t.ctx, &code.code, telegram_user_id).await.unwrap();
    }

    async fn read(t: &TestContext, meter_id: i64, value: i64) {
        let submission = office_reading(meter_id, vec![MeterValue::from_whole(value).unwrap()]);
        readings::submit(&t.ctx, submission).await.unwrap();
    }

    #[tokio::test]
    async fn due_while_a_meter_on_an_open_contract_is_unread_at_the_latest_account_until_reminded() {
        let t = TestContext::new().await;
        t.standard_tariffs().await;
        let period = t.ctx.current_period();
        let water = t.sign("7", new_consumer("Бендер", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
        let bender = ConsumerRef::Existing(water.consumer_id);
        t.sign("7", bender, "E-7", Service::Electricity, TariffPlan::DayNight, &[0, 0]).await;
        let gone = t.sign("9", new_consumer("Козлевич", None), "W-9", Service::Water, TariffPlan::Single, &[0]).await;
        changes::close_contract(&t.ctx, gone.contract_id, t.ctx.today(), Actor::System).await.unwrap();
        link(&t, water.consumer_id, 501).await;
        link(&t, water.consumer_id, 502).await;
        link(&t, gone.consumer_id, 503).await;

        // Water read, power not: still due.
        read(&t, water.meter_id, 10).await;
        let due = due_consumers(t.ctx.db.conn(), period).await.unwrap();
        assert_eq!(
            due,
            [DueConsumer { consumer_id: water.consumer_id, telegram_user_id: 502, debt: kopecks!(400_00) }]
        );

        let target = water.consumer_id.to_string();
        let claimed = crate::deliveries::claim(&t.ctx, KIND, period, &target).await.unwrap().unwrap();
        assert_eq!(due_consumers(t.ctx.db.conn(), period).await.unwrap().len(), 1, "claimed is not sent");
        crate::deliveries::mark_sent(&t.ctx, claimed).await.unwrap();
        assert!(due_consumers(t.ctx.db.conn(), period).await.unwrap().is_empty());
        // Next month they are due again.
        assert_eq!(due_consumers(t.ctx.db.conn(), period.next()).await.unwrap().len(), 1);
    }
}
