//! The previous month's report, to the accountants' chat on the configured day and time.

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;
use domain::Period;
use service::Context;
use teloxide::types::ChatId;

use super::{Broadcaster, Due, Job};

/// When and where the report goes.
#[derive(Debug, Clone)]
pub struct ReportSchedule {
    pub chat: ChatId,
    /// Day of the month (1–28) and local time the previous month's report is due.
    pub day: u32,
    pub time: NaiveTime,
    pub tz: Tz,
    /// The panel's public address, for photo links in the report.
    pub public_url: String,
}

impl ReportSchedule {
    /// The moment `period`'s report falls due: the configured day and time of the next month.
    pub fn due(&self, period: Period) -> DateTime<Utc> {
        let month = period.next();
        let day = month.first_day().with_day(self.day).unwrap_or(month.first_day());
        super::local_moment(self.tz, day.and_time(self.time))
    }

    /// The latest period whose report is due at `now`.
    pub fn latest_due(&self, now: DateTime<Utc>) -> Period {
        let this_month = Period::of(now.with_timezone(&self.tz).date_naive());
        let last = this_month.prev();
        if now >= self.due(last) { last } else { last.prev() }
    }
}

pub struct MonthlyReport {
    pub bot: Broadcaster,
    pub schedule: ReportSchedule,
}

impl Job for MonthlyReport {
    const KIND: &'static str = service::deliveries::MONTHLY_REPORT;
    type Item = ChatId;

    async fn due(&self, _ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<ChatId>> {
        let period = self.schedule.latest_due(now);
        Ok(Due { period, items: vec![self.schedule.chat], next: self.schedule.due(period.next()) })
    }

    fn target(&self, chat: &ChatId) -> String {
        chat.0.to_string()
    }

    async fn send(&self, ctx: &Context, period: Period, chat: &ChatId) -> anyhow::Result<()> {
        service::ledger::months::close_for_report(ctx, period).await?;
        let xlsx = reports::monthly_report(ctx, period, &self.schedule.public_url).await?;
        dialogues::send_report(&self.bot, ctx, *chat, period, xlsx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn schedule(day: u32, time: &str) -> ReportSchedule {
        ReportSchedule {
            chat: ChatId(-1),
            day,
            time: NaiveTime::parse_from_str(time, "%H:%M").unwrap(),
            tz: chrono_tz::Europe::Moscow,
            public_url: String::new(),
        }
    }

    #[test]
    fn due_on_the_configured_local_day_and_time() {
        let s = schedule(3, "09:00");
        // 09:00 in Moscow is 06:00 UTC.
        assert_eq!(s.due(Period::parse("2026-02").unwrap()), Utc.with_ymd_and_hms(2026, 3, 3, 6, 0, 0).unwrap());
        assert_eq!(s.due(Period::parse("2026-12").unwrap()), Utc.with_ymd_and_hms(2027, 1, 3, 6, 0, 0).unwrap());
    }

    #[test]
    fn latest_due_period_turns_over_at_the_due_moment() {
        let s = schedule(1, "09:00");
        let before = Utc.with_ymd_and_hms(2026, 3, 1, 5, 59, 59).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap();
        assert_eq!(s.latest_due(before), Period::parse("2026-01").unwrap());
        assert_eq!(s.latest_due(at), Period::parse("2026-02").unwrap());
    }
}
