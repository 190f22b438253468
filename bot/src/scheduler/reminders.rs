//! Reminders to consumers who have not sent this month's readings, once per month, on the
//! window's days from the set time.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, Days, NaiveTime, Utc};
use chrono_tz::Tz;
use domain::{Kopecks, Period};
use service::Context;
use service::audit::Actor;
use service::readings::reminders;
use service::readings::reminders::DueConsumer;
use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

use super::{Broadcaster, Due, Job, local_moment};

/// When reminders may go out: on `days` of the month, from `time` until midnight, so a start
/// in the small hours does not wake anyone.
#[derive(Debug, Clone)]
pub struct ReminderWindow {
    pub days: RangeInclusive<u32>,
    pub time: NaiveTime,
    pub tz: Tz,
}

impl ReminderWindow {
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz);
        self.days.contains(&local.day()) && local.time() >= self.time
    }

    /// The next moment after `now` the window opens or closes.
    pub fn next_change(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.tz).date_naive();
        if self.is_open(now) {
            return local_moment(self.tz, (today + Days::new(1)).and_time(NaiveTime::MIN));
        }
        (0..=62)
            .map(|n| today + Days::new(n))
            .filter(|day| self.days.contains(&day.day()))
            .map(|day| local_moment(self.tz, day.and_time(self.time)))
            .find(|opens| *opens > now)
            .expect("every day of the month comes round within 62 days")
    }
}

pub struct Reminders {
    pub bot: Broadcaster,
    pub window: ReminderWindow,
    /// A reminder names a debt above this; none: never.
    pub debt_threshold: Option<Kopecks>,
}

impl Job for Reminders {
    const KIND: &'static str = reminders::KIND;
    type Item = DueConsumer;

    /// While the window is open the run loop looks again every tick, which also reaches
    /// consumers who become due meanwhile (newly linked, reminders turned back on).
    async fn due(&self, ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<DueConsumer>> {
        let period = Period::of(now.with_timezone(&self.window.tz).date_naive());
        let items = match self.window.is_open(now) {
            true => reminders::due_consumers(ctx.db.conn(), period).await?,
            false => Vec::new(),
        };
        Ok(Due { period, items, next: self.window.next_change(now) })
    }

    fn target(&self, due: &DueConsumer) -> String {
        due.consumer_id.to_string()
    }

    async fn send(&self, ctx: &Context, period: Period, due: &DueConsumer) -> anyhow::Result<()> {
        let debt = self.debt_threshold.filter(|threshold| due.debt > *threshold).map(|_| due.debt);
        // A private chat's id is the user's id.
        match dialogues::send_reminder(&self.bot, ChatId(due.telegram_user_id), period, debt).await {
            // Retrying cannot help, and whoever blocked the bot does not want reminders; they
            // can turn them back on with /reminders.
            Err(RequestError::Api(e @ (ApiError::BotBlocked | ApiError::UserDeactivated))) => {
                reminders::set_enabled(ctx, due.consumer_id, false, Actor::System).await?;
                anyhow::bail!("{e}: reminders turned off for consumer {}", due.consumer_id)
            }
            sent => Ok(sent?),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn window(days: RangeInclusive<u32>) -> ReminderWindow {
        ReminderWindow { days, time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(), tz: chrono_tz::Europe::Moscow }
    }

    /// Moscow is UTC+3.
    fn moscow(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap() - chrono::Duration::hours(3)
    }

    #[test]
    fn open_on_the_days_from_the_time_until_midnight() {
        let w = window(20..=25);
        assert!(!w.is_open(moscow(3, 19, 23)));
        assert!(!w.is_open(moscow(3, 20, 9)));
        assert!(w.is_open(moscow(3, 20, 10)));
        assert!(w.is_open(moscow(3, 22, 23)));
        assert!(!w.is_open(moscow(3, 23, 2)));
        assert!(w.is_open(moscow(3, 25, 18)));
        assert!(!w.is_open(moscow(3, 26, 10)));
    }

    #[test]
    fn next_change_is_the_next_opening_or_midnight() {
        let w = window(20..=25);
        assert_eq!(w.next_change(moscow(3, 15, 12)), moscow(3, 20, 10));
        assert_eq!(w.next_change(moscow(3, 20, 10)), moscow(3, 21, 0));
        assert_eq!(w.next_change(moscow(3, 21, 0)), moscow(3, 21, 10));
        assert_eq!(w.next_change(moscow(3, 25, 12)), moscow(3, 26, 0));
        assert_eq!(w.next_change(moscow(3, 26, 0)), moscow(4, 20, 10));
        // No 30th in February: the window of 30–31 opens next in March.
        assert_eq!(window(30..=31).next_change(moscow(2, 1, 12)), moscow(3, 30, 10));
    }
}
