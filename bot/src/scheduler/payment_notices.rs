//! Telling consumers that a payment was posted to their contract or reversed: the notices queued
//! by every posting (`service::ledger::payments::notices`), one message per consumer's batch.

use chrono::{DateTime, Utc};
use domain::Period;
use service::Context;
use service::audit::Actor;
use service::deliveries::{self, BLOCKED};
use service::ledger::payments::notices::{self, Batch};
use service::readings::reminders;
use teloxide::prelude::Requester;
use teloxide::types::ChatId;
use teloxide::{ApiError, RequestError};

use super::{Broadcaster, Due, Job};

pub struct PaymentNotices {
    pub bot: Broadcaster,
}

impl Job for PaymentNotices {
    const KIND: &'static str = notices::KIND;
    type Item = Batch;

    async fn due(&self, ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<Due<Batch>> {
        let (period, items, next) = notices::due(ctx, now).await?;
        Ok(Due { period: period.unwrap_or_else(|| ctx.current_period()), items, next })
    }

    /// The batch's first notice; the others are claimed when it is sent.
    fn target(&self, batch: &Batch) -> String {
        batch.target()
    }

    async fn send(&self, ctx: &Context, period: Period, batch: &Batch) -> anyhow::Result<()> {
        // The rest of the batch is claimed too, so another instance cannot send it meanwhile;
        // whatever it holds already is left to it.
        let mut others = Vec::new();
        for target in batch.others() {
            if let Some(claimed) = deliveries::claim(ctx, notices::KIND, period, &target).await? {
                others.push(claimed);
            }
        }
        let first = batch.target();
        let mut batch = batch.clone();
        batch.notices.retain(|n| {
            let target = n.payment_id.to_string();
            target == first || others.iter().any(|d| d.target == target)
        });
        // A private chat's id is the user's id.
        let error = match self.bot.send_message(ChatId(batch.telegram_user_id), batch.to_message()).await {
            Ok(_) => {
                for claimed in others {
                    deliveries::mark_sent(ctx, claimed).await?;
                }
                return Ok(());
            }
            // As with reminders: whoever blocked the bot wants nothing from it, so reminders
            // and notices are turned off (/reminders turns both back on), and no retry is made.
            Err(RequestError::Api(e @ (ApiError::BotBlocked | ApiError::UserDeactivated))) => {
                reminders::set_enabled(ctx, batch.consumer_id, false, Actor::System).await?;
                anyhow::anyhow!("{BLOCKED}: {e}: reminders and notices turned off for consumer {}", batch.consumer_id)
            }
            Err(e) => e.into(),
        };
        for claimed in others {
            deliveries::mark_failed(ctx, claimed, &format!("{error:#}")).await?;
        }
        Err(error)
    }
}
