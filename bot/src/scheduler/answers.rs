//! Staff answers to members' requests, sent to the member's chat once: the panel stores one
//! `deliveries` row with each answer, and this job sends what is pending.

use chrono::{DateTime, Utc};
use domain::Period;
use service::Context;
use service::members::requests::{self, OutgoingAnswer, PendingAnswer};
use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

use super::announcements::BATCH;
use super::{Broadcaster, Due, Job, one_month};
use service::deliveries::{BLOCKED, SKIPPED};

pub struct Answers {
    pub bot: Broadcaster,
}

impl Job for Answers {
    const KIND: &'static str = requests::ANSWER_KIND;
    type Item = PendingAnswer;

    async fn due(&self, ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<PendingAnswer>> {
        let pending = requests::pending_answers(ctx, BATCH).await?;
        Ok(one_month(ctx, now, pending, BATCH, |p| p.period))
    }

    fn target(&self, pending: &PendingAnswer) -> String {
        pending.message_id.to_string()
    }

    async fn send(&self, ctx: &Context, _period: Period, pending: &PendingAnswer) -> anyhow::Result<()> {
        let (chat_id, request_id, body) = match requests::outgoing_answer(ctx, pending.message_id).await? {
            OutgoingAnswer::Send { chat_id, request_id, body } => (chat_id, request_id, body),
            OutgoingAnswer::Skip(why) => anyhow::bail!("{SKIPPED}: {why}"),
        };
        match dialogues::send_answer(&self.bot, ChatId(chat_id), request_id, &body).await {
            Err(RequestError::Api(e @ (ApiError::BotBlocked | ApiError::UserDeactivated))) => {
                anyhow::bail!("{BLOCKED}: {e}")
            }
            sent => Ok(sent?),
        }
    }
}
