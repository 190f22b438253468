//! What the system does by itself: the monthly report to the accountants' chat, the
//! reminders to consumers and their payment notices, announcements, answers, the nightly backup.
//! Each [`Job`] says what is due; [`run`] sends each thing once.
//!
//! Every send is recorded in `deliveries` under its kind, period and target, and claimed with a
//! lease first, so several instances never both send it and a restart does not send it again.
//! A send missed while the system was down happens at the next start; a failed send is retried
//! with backoff. A crash in the instant between Telegram accepting a message and the database
//! recording it would send it again after the lease: better twice than never.

pub mod announcements;
mod answers;
mod backup;
mod payment_notices;
mod reminders;
mod report;

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use domain::Period;
use futures::{StreamExt, TryStreamExt, stream};
use service::{Context, deliveries};
use teloxide::Bot;
use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use tokio::sync::watch;

pub use announcements::Announcements;
pub use answers::Answers;
pub use backup::NightlyBackup;
pub use payment_notices::PaymentNotices;
pub use reminders::{ReminderWindow, Reminders};
pub use report::{MonthlyReport, ReportSchedule};

/// The bot the jobs send through, throttled under Telegram's limits (one message a second per
/// chat, 25 a second overall against Telegram's 30, a margin for the bot's own answers), so a
/// month's reminders or an announcement to every member do not get the bot rate-limited. A 429
/// that comes anyway freezes it for the `retry_after` Telegram gives, and the request is sent again.
pub type Broadcaster = Throttle<Bot>;

/// Messages a second to all chats together.
pub const MESSAGES_PER_SECOND: u32 = 25;

pub fn broadcaster(bot: Bot) -> Broadcaster {
    Throttle::new_spawn(bot, Limits { messages_per_sec_overall: MESSAGES_PER_SECOND, ..Limits::default() })
}

/// Something sent on a schedule, once per period and target.
pub trait Job: Send + Sync + 'static {
    /// `deliveries.kind` of its sends.
    const KIND: &'static str;
    /// One thing to send.
    type Item: Send + Sync;

    /// What is due at `now`.
    fn due(&self, ctx: &Context, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<Due<Self::Item>>> + Send;

    /// Whom `item` goes to, as recorded in `deliveries.target`.
    fn target(&self, item: &Self::Item) -> String;

    fn send(&self, ctx: &Context, period: Period, item: &Self::Item)
    -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What a job has to send at one moment.
pub struct Due<T> {
    pub period: Period,
    /// Things already sent may be among them: the deliveries table skips those.
    pub items: Vec<T>,
    /// When the job may have something new, if no send fails.
    pub next: DateTime<Utc>,
}

/// How many times a running job has looked at what is due (and sent it). A test that moved the
/// clock awaits [`Looks::next`] instead of sleeping, so "nothing was sent" is asserted after a look
/// that really happened.
#[derive(Debug, Clone)]
pub struct Looks(watch::Receiver<u64>);

impl Looks {
    /// A counter for [`run`] to advance, and its reader.
    pub fn channel() -> (watch::Sender<u64>, Looks) {
        let (looked, looks) = watch::channel(0);
        (looked, Looks(looks))
    }

    /// Returns once a look that began after this call has finished: the look under way may have
    /// read the clock before, the one after it cannot have. Returns at once if the job stopped.
    pub async fn next(&self) {
        let mut looks = self.0.clone();
        let seen = *looks.borrow_and_update();
        let _ = looks.wait_for(|n| *n >= seen + 2).await;
    }
}

/// Runs `job` until `stopped` turns true, counting each look in `looked`. `tick` bounds each
/// sleep, so a clock change (or a test's manual clock) is noticed within it.
pub async fn run<J: Job>(
    job: J,
    ctx: Context,
    tick: Duration,
    mut stopped: watch::Receiver<bool>,
    looked: watch::Sender<u64>,
) {
    loop {
        let wait = match step(&job, &ctx).await {
            Ok(next) => (next - ctx.now()).to_std().unwrap_or_default(),
            Err(e) => {
                tracing::error!(kind = J::KIND, "scheduled sending failed: {e:#}");
                tick
            }
        };
        looked.send_modify(|n| *n += 1);
        tokio::select! {
            _ = tokio::time::sleep(wait.clamp(Duration::from_millis(10), tick)) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// Sends in flight at once: the throttled bot lets queued sends go every 250 ms, so sending one
/// at a time held a job to 4 messages a second (1 000 members took 252 s); with this many waiting
/// it reaches its limit.
const IN_FLIGHT: usize = MESSAGES_PER_SECOND as usize;

/// One look: sends what is due and not sent yet; returns when to look again.
pub async fn step<J: Job>(job: &J, ctx: &Context) -> anyhow::Result<DateTime<Utc>> {
    let Due { period, items, next } = job.due(ctx, ctx.now()).await?;
    // By index: a closure over borrowed items would not give a `Send` future for `tokio::spawn`.
    let items = &items;
    let retries: Vec<Option<DateTime<Utc>>> = stream::iter(0..items.len())
        .map(|i| send_one(job, ctx, period, &items[i]))
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(retries.into_iter().flatten().fold(next, DateTime::min))
}

/// Claims, sends and records one thing; when it failed, returns when it is retried.
async fn send_one<J: Job>(
    job: &J,
    ctx: &Context,
    period: Period,
    item: &J::Item,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let target = job.target(item);
    let Some(claimed) = deliveries::claim(ctx, J::KIND, period, &target).await? else { return Ok(None) };
    match job.send(ctx, period, item).await {
        Ok(()) => {
            deliveries::mark_sent(ctx, claimed).await?;
            service::metrics::delivery(J::KIND, true);
            tracing::info!(kind = J::KIND, %period, target, "sent");
            Ok(None)
        }
        Err(e) => {
            service::metrics::delivery(J::KIND, false);
            let retry_at = deliveries::mark_failed(ctx, claimed, &format!("{e:#}")).await?;
            tracing::warn!(kind = J::KIND, %period, target, %retry_at, "not sent: {e:#}");
            Ok(Some(retry_at))
        }
    }
}

/// What is due of sends scheduled ahead (announcements, answers), read `batch` at a time oldest
/// first: those of the oldest month among them (deliveries are keyed by month). When a full batch
/// came, the next look is at once; otherwise the run loop's tick bounds the wait, so a new send
/// waits at most a tick.
fn one_month<T>(
    ctx: &Context,
    now: DateTime<Utc>,
    mut items: Vec<T>,
    batch: u64,
    period: impl Fn(&T) -> Period,
) -> Due<T> {
    let full = items.len() as u64 >= batch;
    let oldest = items.first().map_or_else(|| ctx.current_period(), &period);
    items.retain(|item| period(item) == oldest);
    let next = if full { now } else { now + chrono::Duration::days(1) };
    Due { period: oldest, items, next }
}

/// A local wall-clock moment as UTC; a time skipped by a clock change is taken an hour later.
fn local_moment(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map(|t| t.to_utc())
        .unwrap_or_else(|| local.and_utc())
}
