//! The steps of a reading, shared by consumers and controllers: the values (day, then night),
//! the seal (controllers), a photo, the summary and the confirmation. Every check is the
//! service's: the bot only carries the draft from step to step.

use chrono::{DateTime, Utc};
use domain::{MeterValue, TakenAtError, TextKind};
use entities::photo;
use service::meters::photos::{PhotoError, StoreError};
use service::readings::{Submission, SubmitError};
use service::register::cards;
use service::register::cards::MeterCard;
use service::{Context, Internal, readings};
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::FileMeta;

use crate::state::{ChatDialogue, Draft, Mode, State};
use crate::who::Author;
use crate::{HandlerResult, keyboards, plot, say, text};

const MIB: usize = 1024 * 1024;
/// Bots may download at most 20 MB through getFile.
const TELEGRAM_DOWNLOAD_LIMIT: usize = 20 * MIB;

/// Starts a new draft on `card`'s meter.
pub async fn begin(bot: &Bot, dialogue: &ChatDialogue, card: &MeterCard, mode: Mode) -> HandlerResult {
    ask_value(bot, dialogue, card, Draft::new(mode, card.meter.id)).await
}

/// Asks for the next register's value.
async fn ask_value(bot: &Bot, dialogue: &ChatDialogue, card: &MeterCard, draft: Draft) -> HandlerResult {
    say(bot, dialogue.chat_id(), text::ask_value(card, draft.values.len())).await?;
    dialogue.update(State::Values(draft)).await?;
    Ok(())
}

pub async fn value(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    mut draft: Draft,
    author: Author,
) -> HandlerResult {
    let value = match msg.text().map(MeterValue::parse) {
        Some(Ok(value)) => value,
        Some(Err(e)) => return say(&bot, msg.chat.id, e.to_string()).await,
        None => return say(&bot, msg.chat.id, text::SEND_NUMBER).await,
    };
    let Some(card) = cards::meter_card(ctx.db.conn(), draft.meter_id).await? else {
        return done(&bot, &dialogue, &ctx, draft.mode, text::METER_UNAVAILABLE).await;
    };
    if draft.values.is_empty() {
        match taken_at(&ctx, &msg) {
            Ok(taken_at) => draft.taken_at = taken_at,
            Err(e) => return done(&bot, &dialogue, &ctx, draft.mode, e.to_string()).await,
        }
    }
    draft.values.push(value);
    if draft.values.len() < card.meter.zone_list().len() {
        return ask_value(&bot, &dialogue, &card, draft).await;
    }
    // Refuse a bad value now, not after the photo.
    match readings::check(&ctx, &submission(&draft, author, &dialogue)).await {
        Ok(_) => after_values(&bot, &dialogue, draft).await,
        Err(e) => refused(&bot, &dialogue, &ctx, draft, e).await,
    }
}

/// When the meter was read, as near as the bot can know: the message's date, when Telegram
/// received it — not when the bot got to it after an outage or a retried webhook. Bounded like the
/// mobile form's phone time: a week old at most. A date ahead of our clock is Telegram's clock against ours, not the user's doing: then
/// the reading is dated when it is recorded.
fn taken_at(ctx: &Context, msg: &Message) -> Result<Option<DateTime<Utc>>, TakenAtError> {
    match domain::check_taken_at(msg.date, ctx.now()) {
        Ok(taken_at) => Ok(Some(taken_at)),
        Err(TakenAtError::InFuture) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Controllers check the seal next; consumers go straight to the photo.
async fn after_values(bot: &Bot, dialogue: &ChatDialogue, draft: Draft) -> HandlerResult {
    match draft.mode {
        Mode::Consumer => ask_photo(bot, dialogue, draft).await,
        Mode::Controller { .. } => {
            bot.send_message(dialogue.chat_id(), text::SEAL_QUESTION).reply_markup(keyboards::seal()).await?;
            dialogue.update(State::Seal(draft)).await?;
            Ok(())
        }
    }
}

pub async fn seal(bot: Bot, dialogue: ChatDialogue, mut draft: Draft, intact: bool) -> HandlerResult {
    draft.seal_intact = Some(intact);
    if intact {
        return ask_photo(&bot, &dialogue, draft).await;
    }
    say(&bot, dialogue.chat_id(), text::SEAL_COMMENT).await?;
    dialogue.update(State::SealComment(draft)).await?;
    Ok(())
}

pub async fn seal_comment(bot: Bot, dialogue: ChatDialogue, msg: Message, mut draft: Draft) -> HandlerResult {
    // Too long: the limit is said and the comment asked again, nothing cut off.
    match TextKind::Comment.optional(msg.text()) {
        Ok(Some(comment)) => {
            draft.comment = Some(comment);
            ask_photo(&bot, &dialogue, draft).await
        }
        Ok(None) => say(&bot, msg.chat.id, text::SEAL_COMMENT).await,
        Err(e) => say(&bot, msg.chat.id, format!("{e} {}", text::SEAL_COMMENT)).await,
    }
}

async fn ask_photo(bot: &Bot, dialogue: &ChatDialogue, draft: Draft) -> HandlerResult {
    let request = bot.send_message(dialogue.chat_id(), text::photo_request(draft.mode));
    match draft.mode {
        Mode::Consumer => request.reply_markup(keyboards::no_photo()).await?,
        Mode::Controller { .. } => request.await?,
    };
    dialogue.update(State::Photo(draft)).await?;
    Ok(())
}

pub async fn photo(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    mut draft: Draft,
    author: Author,
) -> HandlerResult {
    let files = photo_files(&msg);
    if files.is_empty() {
        return say(&bot, msg.chat.id, text::photo_request(draft.mode)).await;
    }
    let member = matches!(draft.mode, Mode::Consumer).then_some(msg.chat.id);
    match store_photo(&bot, &ctx, &files, member).await {
        Ok(photo) => {
            draft.photo_id = Some(photo.id);
            summarise(&bot, &dialogue, &ctx, draft, author).await
        }
        Err(StoreError::Internal(e)) => Err(e.into()),
        Err(refused) => say(&bot, msg.chat.id, refused.to_string()).await,
    }
}

/// «Без фото»: the service says who may leave the photo out (consumers, not controllers).
pub async fn skip_photo(bot: Bot, dialogue: ChatDialogue, ctx: Context, draft: Draft, author: Author) -> HandlerResult {
    match readings::check_evidence(author.source, draft.seal_intact, false) {
        Ok(()) => summarise(&bot, &dialogue, &ctx, draft, author).await,
        Err(refusal) => say(&bot, dialogue.chat_id(), refusal.to_string()).await,
    }
}

/// The files a message offers as a photo, largest first: Telegram's sizes of a photo, or an
/// image sent as a file.
pub(crate) fn photo_files(msg: &Message) -> Vec<&FileMeta> {
    if let Some(sizes) = msg.photo() {
        return sizes.iter().rev().map(|size| &size.file).collect();
    }
    msg.document()
        .filter(|doc| doc.mime_type.as_ref().is_some_and(|mime| mime.type_() == "image"))
        .map(|doc| vec![&doc.file])
        .unwrap_or_default()
}

/// Downloads the largest size the limits allow and passes it through the shared photo intake; a
/// member's (from their private chat) only while they may send more.
pub(crate) async fn store_photo(
    bot: &Bot,
    ctx: &Context,
    files: &[&FileMeta],
    member: Option<ChatId>,
) -> Result<photo::Model, StoreError> {
    if let Some(chat) = member {
        service::meters::photos::member_may_send(ctx, chat.0)?;
    }
    let limit = ctx.settings.photo_limits.max_bytes.min(TELEGRAM_DOWNLOAD_LIMIT);
    let too_large = || StoreError::Rejected(PhotoError::TooLarge { max_mb: limit / MIB });
    // The size Telegram declares is checked before anything is downloaded.
    let fits = |size: u32| usize::try_from(size).is_ok_and(|size| size <= limit);
    let meta = files.iter().find(|f| fits(f.size)).ok_or_else(too_large)?;
    let file = bot.get_file(meta.id.clone()).await.map_err(|e| Internal(e.into()))?;
    if !fits(file.size) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    bot.download_file(&file.path, &mut bytes).await.map_err(|e| Internal(e.into()))?;
    service::meters::photos::store(ctx, bytes).await
}

/// Shows the summary with «Подтвердить / Исправить», checking the values again: the warning
/// about an unusual jump is part of what the submitter confirms.
async fn summarise(
    bot: &Bot,
    dialogue: &ChatDialogue,
    ctx: &Context,
    mut draft: Draft,
    author: Author,
) -> HandlerResult {
    let Some(card) = cards::meter_card(ctx.db.conn(), draft.meter_id).await? else {
        return done(bot, dialogue, ctx, draft.mode, text::METER_UNAVAILABLE).await;
    };
    let verdict = match readings::check(ctx, &submission(&draft, author, dialogue)).await {
        Ok(verdict) => verdict,
        Err(e) => return refused(bot, dialogue, ctx, draft, e).await,
    };
    let warning = verdict.warning();
    draft.warned = warning.is_some();
    let summary = text::summary(&card, &draft, warning.as_deref());
    bot.send_message(dialogue.chat_id(), summary).reply_markup(keyboards::confirm()).await?;
    dialogue.update(State::Confirm(draft)).await?;
    Ok(())
}

pub async fn confirm(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    mut draft: Draft,
    author: Author,
) -> HandlerResult {
    match readings::submit(&ctx, submission(&draft, author, &dialogue)).await {
        Ok(recorded) => done(&bot, &dialogue, &ctx, draft.mode, text::saved(&recorded)).await,
        // The meter's history changed since the summary: show the warning and ask again.
        Err(SubmitError::NeedsConfirmation(warning)) => {
            draft.warned = true;
            bot.send_message(dialogue.chat_id(), warning).reply_markup(keyboards::confirm()).await?;
            dialogue.update(State::Confirm(draft)).await?;
            Ok(())
        }
        Err(e) => refused(&bot, &dialogue, &ctx, draft, e).await,
    }
}

/// «Исправить»: the same meter from its first value, as a new draft.
pub async fn fix(bot: Bot, dialogue: ChatDialogue, ctx: Context, draft: Draft) -> HandlerResult {
    restart(&bot, &dialogue, &ctx, Draft::new(draft.mode, draft.meter_id)).await
}

/// Asks for the draft's values again, from the first one.
async fn restart(bot: &Bot, dialogue: &ChatDialogue, ctx: &Context, draft: Draft) -> HandlerResult {
    match cards::meter_card(ctx.db.conn(), draft.meter_id).await? {
        Some(card) => ask_value(bot, dialogue, &card, Draft { values: Vec::new(), ..draft }).await,
        None => done(bot, dialogue, ctx, draft.mode, text::METER_UNAVAILABLE).await,
    }
}

fn submission(draft: &Draft, author: Author, dialogue: &ChatDialogue) -> Submission {
    Submission {
        meter_id: draft.meter_id,
        values: draft.values.clone(),
        source: author.source,
        actor: author.actor,
        seal_intact: draft.seal_intact,
        comment: draft.comment.clone(),
        photo_id: draft.photo_id,
        idempotency_key: Some(draft.idempotency_key(dialogue.chat_id().0)),
        confirmed: draft.warned,
        taken_at: draft.taken_at,
    }
}

/// The service refused the values: a bad value is typed again; anything else ends the draft.
async fn refused(bot: &Bot, dialogue: &ChatDialogue, ctx: &Context, draft: Draft, error: SubmitError) -> HandlerResult {
    match error {
        SubmitError::Invalid(e) => {
            say(bot, dialogue.chat_id(), e.to_string()).await?;
            restart(bot, dialogue, ctx, draft).await
        }
        SubmitError::Internal(e) => Err(e.into()),
        other => done(bot, dialogue, ctx, draft.mode, other.to_string()).await,
    }
}

/// Ends a draft: a consumer returns to the menu, a controller to the plot they are on.
async fn done(
    bot: &Bot,
    dialogue: &ChatDialogue,
    ctx: &Context,
    mode: Mode,
    message: impl Into<String>,
) -> HandlerResult {
    match mode {
        Mode::Consumer => {
            dialogue.reset().await?;
            bot.send_message(dialogue.chat_id(), message).reply_markup(keyboards::main_menu()).await?;
            Ok(())
        }
        Mode::Controller { plot_id } => {
            say(bot, dialogue.chat_id(), message).await?;
            plot::show(bot, dialogue, ctx, plot_id).await
        }
    }
}
