//! The monthly report in Telegram: `/report [ГГГГ-ММ]` for accountants and admins, and the
//! document itself, which the scheduler sends to the accountants' chat too.

use domain::Period;
use reports::ReportError;
use service::Context;
use teloxide::prelude::*;
use teloxide::types::InputFile;

use crate::who::Who;
use crate::{HandlerResult, PublicUrl, say, text};

/// `/report` (the previous month) or `/report 2026-02`.
pub async fn report(
    bot: Bot,
    ctx: Context,
    public_url: PublicUrl,
    msg: Message,
    who: Who,
    month: String,
) -> HandlerResult {
    let chat = msg.chat.id;
    if who.accountant().is_none() {
        return say(&bot, chat, text::REPORT_ONLY).await;
    }
    let period = match month.trim() {
        "" => ctx.current_period().prev(),
        month => match Period::parse(month) {
            Ok(period) => period,
            Err(e) => return say(&bot, chat, text::bad_period(&e)).await,
        },
    };
    match reports::monthly_report(&ctx, period, &public_url.0).await {
        Ok(bytes) => Ok(send(&bot, &ctx, chat, period, bytes).await?),
        Err(ReportError::Internal(e)) => Err(e.into()),
        Err(refused) => say(&bot, chat, refused.to_string()).await,
    }
}

/// Sends `period`'s report as an xlsx document with a file name, which Telegram shows, and the
/// network's headline figures in its caption. Those are a courtesy: if they cannot be read, the
/// report goes without them and the log says why.
pub async fn send<R: Requester>(
    bot: &R,
    ctx: &Context,
    chat: ChatId,
    period: Period,
    xlsx: Vec<u8>,
) -> Result<(), R::Err> {
    let network = service::network::headline(ctx.db.conn(), ctx, period).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "network headline for the report not read");
        None
    });
    let file = InputFile::memory(xlsx).file_name(reports::monthly_report_file_name(period));
    bot.send_document(chat, file).caption(text::report_caption(period, network.as_deref())).await?;
    Ok(())
}
