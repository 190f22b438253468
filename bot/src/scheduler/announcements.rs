//! Announcements from the board, sent to each recipient once: the panel stores one `deliveries`
//! row per recipient when the admin sends it, and this job sends what is pending, a batch per
//! look, through the throttled bot (which waits out Telegram's 429 `retry_after` and sends again).

use chrono::{DateTime, Utc};
use domain::Period;
use service::Context;
use service::members::announcements::{self, BLOCKED, Outgoing, Pending, SKIPPED};
use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

use super::{Broadcaster, Due, Job, one_month};

/// Sends per look: a few seconds of Telegram's global limit, so a stop or a new announcement is
/// noticed between batches.
pub const BATCH: u64 = 100;

pub struct Announcements {
    pub bot: Broadcaster,
    /// Sends per look ([`BATCH`]; tests stop a send part way with a smaller one).
    pub batch: u64,
}

impl Job for Announcements {
    const KIND: &'static str = announcements::KIND;
    type Item = Pending;

    async fn due(&self, ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<Pending>> {
        let pending = announcements::pending(ctx, self.batch).await?;
        Ok(one_month(ctx, now, pending, self.batch, |p| p.period))
    }

    fn target(&self, pending: &Pending) -> String {
        pending.target()
    }

    async fn send(&self, ctx: &Context, _period: Period, pending: &Pending) -> anyhow::Result<()> {
        let (chat_id, announcement, photo) = match announcements::outgoing(ctx, pending).await? {
            Outgoing::Send { chat_id, announcement, photo } => (chat_id, announcement, photo),
            // Recorded as the send's final error, so it is not tried again.
            Outgoing::Skip(why) => anyhow::bail!("{SKIPPED}: {why}"),
        };
        // Failing to record it only risks the photo twice: the text still goes.
        let photo_sent = async || {
            if let Err(e) = announcements::photo_sent(ctx, pending).await {
                tracing::warn!(target = pending.target(), "the photo's send is not recorded: {e}");
            }
        };
        // A private chat's id is the user's id.
        match dialogues::send_announcement(&self.bot, ChatId(chat_id), &announcement, photo, photo_sent).await {
            // Retrying cannot help: recorded as blocked, shown so on the announcement's page.
            Err(RequestError::Api(e @ (ApiError::BotBlocked | ApiError::UserDeactivated))) => {
                anyhow::bail!("{BLOCKED}: {e}")
            }
            sent => Ok(sent?),
        }
    }
}
