//! The monthly report in Telegram: `/report [ГГГГ-ММ]` for accountants and admins, and the
//! document itself, which the scheduler sends to the accountants' chat too.

use domain::Period;
use reports::ReportError;
use service::Context;
use service::charts::{Format, Size};
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

/// Sends `period`'s report as an xlsx document with a file name, which Telegram shows; with common
/// meters, the losses chart follows as a picture captioned with the network's headline figures.
/// Those are a courtesy: the document goes first and alone decides the delivery (a failed picture
/// is logged, not retried, so the document is never sent twice); when the figures cannot be read
/// or the chart drawn, the report goes without them (the figures then in its own caption) and
/// the log says why.
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
    let chart = match &network {
        Some(_) => losses_chart(ctx, period).await,
        None => None,
    };
    let file = InputFile::memory(xlsx).file_name(reports::monthly_report_file_name(period));
    let caption = text::report_caption(period, if chart.is_some() { None } else { network.as_deref() });
    bot.send_document(chat, file).caption(caption).await?;
    if let (Some(png), Some(network)) = (chart, network) {
        let picture = InputFile::memory(png).file_name(format!("poteri-{period}.png"));
        if let Err(e) = bot.send_photo(chat, picture).caption(text::losses_caption(period, &network)).await {
            tracing::error!(error = %e, %period, "losses chart for the report not sent");
        }
    }
    Ok(())
}

/// The losses chart up to `period` as a PNG, none when no line has a month to draw.
async fn losses_chart(ctx: &Context, period: Period) -> Option<Vec<u8>> {
    let drawn = async {
        let history = service::charts::losses(ctx, period).await?;
        if history.lines.iter().all(|l| l.months.is_empty()) {
            return Ok(None);
        }
        service::charts::render(history, Format::Png, Size::PHONE).await.map(Some)
    };
    drawn.await.unwrap_or_else(|e: service::Internal| {
        tracing::error!(error = %e, "losses chart for the report not drawn");
        None
    })
}
