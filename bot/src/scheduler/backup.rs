//! The nightly backup: a verified copy of the SQLite database every night at the set local time,
//! the older ones rotated (`service::backup`). Claimed in `deliveries` like every job, so one
//! instance takes each night's copy. A failure is retried with the deliveries' backoff and told
//! to the admins linked to Telegram, once per admin and failure day.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use domain::Period;
use sea_orm::DatabaseBackend;
use service::{Context, backup, deliveries};
use teloxide::prelude::Requester;
use teloxide::types::ChatId;

use super::{Broadcaster, Due, Job, local_moment};

pub struct NightlyBackup {
    /// None when the bot is off: a failure is then only logged.
    pub bot: Option<Broadcaster>,
    pub time: NaiveTime,
    pub tz: Tz,
}

impl NightlyBackup {
    /// The latest night whose backup is due at `now`: today's from the set time, else yesterday's.
    fn night(&self, now: DateTime<Utc>) -> NaiveDate {
        let local = now.with_timezone(&self.tz);
        let today = local.date_naive();
        if local.time() >= self.time { today } else { today - Days::new(1) }
    }

    /// Tells each admin on Telegram that `night`'s backup failed, once per admin and night.
    async fn alert(&self, ctx: &Context, night: NaiveDate, error: &backup::BackupError) -> anyhow::Result<()> {
        let Some(bot) = &self.bot else { return Ok(()) };
        let text = format!(
            "Резервная копия базы за {} не сделана: {error}. Попытка повторится сама; проверьте место на \
             диске и журнал сервера. Копии: раздел «Резервные копии» панели.",
            night.format("%d.%m.%Y")
        );
        for admin in service::access::staff::admins_on_telegram(ctx.db.conn()).await? {
            let Some(chat) = admin.telegram_user_id else { continue };
            let target = format!("{night}/{}", admin.id);
            let Some(claimed) = deliveries::claim(ctx, backup::FAILED_KIND, Period::of(night), &target).await? else {
                continue;
            };
            match bot.send_message(ChatId(chat), text.clone()).await {
                Ok(_) => drop(deliveries::mark_sent(ctx, claimed).await?),
                Err(e) => drop(deliveries::mark_failed(ctx, claimed, &e.to_string()).await?),
            }
        }
        Ok(())
    }
}

impl Job for NightlyBackup {
    const KIND: &'static str = backup::KIND;
    type Item = NaiveDate;

    async fn due(&self, _ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<NaiveDate>> {
        let night = self.night(now);
        let next = local_moment(self.tz, (night + Days::new(1)).and_time(self.time));
        Ok(Due { period: Period::of(night), items: vec![night], next })
    }

    fn target(&self, night: &NaiveDate) -> String {
        night.to_string()
    }

    async fn send(&self, ctx: &Context, _period: Period, night: &NaiveDate) -> anyhow::Result<()> {
        if ctx.db.backend() != DatabaseBackend::Sqlite {
            tracing::warn!("the database is PostgreSQL: no copy is taken here; back it up with {}", backup::PG_DUMP);
            return Ok(());
        }
        match backup::take_nightly(ctx, *night).await {
            Ok(taken) => {
                let file = taken.file.path.display();
                tracing::info!(bytes = taken.file.bytes, removed = taken.removed.len(), "backup written to {file}");
                Ok(())
            }
            Err(e) => {
                if let Err(alert) = self.alert(ctx, *night, &e).await {
                    tracing::error!("could not tell the admins that the backup failed: {alert:#}");
                }
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_night_turns_at_the_set_local_time() {
        let job =
            NightlyBackup { bot: None, time: NaiveTime::from_hms_opt(3, 0, 0).unwrap(), tz: chrono_tz::Europe::Moscow };
        // 03:00 in Moscow is 00:00 UTC.
        let before = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 59).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(job.night(before).to_string(), "2026-11-30");
        assert_eq!(job.night(at).to_string(), "2026-12-01");
    }
}
