//! Getting access (a one-time code or the user's own contact) and the consumer's menu (debt and
//! paying it by QR code, history, the start of a reading).

use domain::Kopecks;
use entities::consumer;
use service::Context;
use service::access::telegram::{self, LinkError};
use service::charts::{Format, Size};
use service::ledger::act::ActScope;
use service::payee::qr::{PayError, Target};
use service::register::cards;
use teloxide::prelude::*;
use teloxide::types::InputFile;

use crate::state::{ChatDialogue, Mode, State};
use crate::who::{Who, telegram_id};
use crate::{HandlerResult, keyboards, reading, replies, say, text};

/// How many readings per meter the history shows.
const HISTORY_DEPTH: u64 = 5;

/// `/start`, or `/start CODE` from a link code or a `t.me/<bot>?start=CODE` deep link.
pub async fn start(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    who: Who,
    code: String,
) -> HandlerResult {
    dialogue.reset().await?;
    let code = code.trim();
    if code.is_empty() {
        return greet(&bot, msg.chat.id, &who).await;
    }
    match telegram::redeem(&ctx, code, who.telegram_id).await {
        Ok(identity) => greet(&bot, msg.chat.id, &Who::new(who.telegram_id, identity)).await,
        Err(e) => refuse_link(&bot, msg.chat.id, &who, e).await,
    }
}

/// A shared contact: links the consumer with that phone, if the contact is the sender's own.
pub async fn contact(bot: Bot, ctx: Context, msg: Message, who: Who) -> HandlerResult {
    let Some(contact) = msg.contact() else { return Ok(()) };
    let owner = contact.user_id.map(telegram_id);
    match telegram::link_by_contact(&ctx, who.telegram_id, owner, &contact.phone_number).await {
        Ok(identity) => greet(&bot, msg.chat.id, &Who::new(who.telegram_id, identity)).await,
        Err(e) => refuse_link(&bot, msg.chat.id, &who, e).await,
    }
}

async fn greet(bot: &Bot, chat: ChatId, who: &Who) -> HandlerResult {
    bot.send_message(chat, text::greeting(who)).reply_markup(keyboards::for_who(who)).await?;
    Ok(())
}

async fn refuse_link(bot: &Bot, chat: ChatId, who: &Who, error: LinkError) -> HandlerResult {
    if let LinkError::Internal(e) = error {
        return Err(e.into());
    }
    bot.send_message(chat, error.to_string()).reply_markup(keyboards::for_who(who)).await?;
    Ok(())
}

/// The debt per contract, with the buttons that pay it by QR code once the cooperative's bank
/// details are set (until then, a line saying so instead).
pub async fn debt(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let statement = service::ledger::debt::statement(&ctx.db, consumer.id).await?;
    let answer = text::debt(&statement, ctx.today());
    if statement.lines.is_empty() {
        bot.send_message(msg.chat.id, answer).reply_markup(keyboards::main_menu()).await?;
        return Ok(());
    }
    match service::payee::details::offered(&ctx).await {
        Ok(_) => bot.send_message(msg.chat.id, answer).reply_markup(keyboards::pay(&statement)).await?,
        Err(PayError::Internal(e)) => return Err(e.into()),
        // No codes until the details are right, and the consumer is told why.
        Err(refused) => {
            let answer = format!("{answer}\n\n{refused}");
            bot.send_message(msg.chat.id, answer).reply_markup(keyboards::main_menu()).await?
        }
    };
    Ok(())
}

/// «История расчётов»: the last twelve months as text, and the акт since go-live as xlsx.
pub async fn accounts(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let (act, xlsx) = reports::history_report(&ctx, ActScope::Consumer(consumer.id)).await?;
    say(&bot, msg.chat.id, text::accounts(&act, &act.months()?)).await?;
    if act.contracts.is_empty() {
        return Ok(());
    }
    let file = InputFile::memory(xlsx).file_name(reports::act_file_name(&act));
    bot.send_document(msg.chat.id, file).caption(text::act_caption(&act)).await?;
    Ok(())
}

/// «Оплатить»: the QR code for the debt.
pub async fn pay(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    consumer: consumer::Model,
    target: Target,
) -> HandlerResult {
    send_payment(&bot, dialogue.chat_id(), &ctx, consumer.id, target, None).await
}

/// «Другая сумма»: the amount comes in the next message.
pub async fn other_amount(bot: Bot, dialogue: ChatDialogue, target: Target) -> HandlerResult {
    dialogue.update(State::PayAmount { target }).await?;
    say(&bot, dialogue.chat_id(), text::PAY_AMOUNT).await
}

/// The amount typed after «Другая сумма», bounded as any payment; a refusal keeps waiting.
pub async fn amount(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    consumer: consumer::Model,
    target: Target,
) -> HandlerResult {
    match Kopecks::parse_payment(msg.text().unwrap_or_default()) {
        Ok(amount) => {
            dialogue.reset().await?;
            send_payment(&bot, msg.chat.id, &ctx, consumer.id, target, Some(amount)).await
        }
        Err(e) => say(&bot, msg.chat.id, format!("{e}\n{}", text::PAY_AMOUNT)).await,
    }
}

/// The QR code as a picture, the details in its caption, and «Другая сумма» under it.
async fn send_payment(
    bot: &Bot,
    chat: ChatId,
    ctx: &Context,
    consumer_id: i64,
    target: Target,
    amount: Option<Kopecks>,
) -> HandlerResult {
    let payment = match service::payee::qr::payment(ctx, consumer_id, target, amount).await {
        Ok(payment) => payment,
        Err(PayError::Internal(e)) => return Err(e.into()),
        Err(refused) => return say(bot, chat, refused.to_string()).await,
    };
    let png = payment.png().await?;
    bot.send_photo(chat, InputFile::memory(png).file_name("oplata-qr.png"))
        .caption(text::payment(&payment))
        .reply_markup(keyboards::other_amount(target))
        .await?;
    Ok(())
}

pub async fn history(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let conn = ctx.db.conn();
    let mut meters = Vec::new();
    for card in cards::consumer_meters(conn, consumer.id).await? {
        let readings = service::readings::history::history(conn, card.meter.id, HISTORY_DEPTH).await?;
        meters.push((card, readings));
    }
    say(&bot, msg.chat.id, text::history(&meters, ctx.settings.tz)).await
}

/// The most pictures one press sends (Telegram allows about one message a second per chat).
const MAX_CHARTS: usize = 6;

/// «График»: one picture per contract with charges in the last two years.
pub async fn chart(bot: Bot, ctx: Context, msg: Message, consumer: consumer::Model) -> HandlerResult {
    let mut histories = service::charts::consumption(&ctx, consumer.id).await?;
    histories.retain(|(_, h)| !h.months.is_empty());
    if histories.is_empty() {
        return say(&bot, msg.chat.id, text::NO_CHART).await;
    }
    let more = histories.len().saturating_sub(MAX_CHARTS);
    for (_, history) in histories.into_iter().take(MAX_CHARTS) {
        let caption = history.contract.clone();
        let png = service::charts::render(history, Format::Png, Size::PHONE).await?;
        bot.send_photo(msg.chat.id, InputFile::memory(png).file_name("grafik.png")).caption(caption).await?;
    }
    if more > 0 {
        say(&bot, msg.chat.id, text::more_charts(more)).await?;
    }
    Ok(())
}

/// «Передать показания»: straight to the value for one meter, a choice for several.
pub async fn send_reading(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    msg: Message,
    consumer: consumer::Model,
) -> HandlerResult {
    match cards::consumer_meters(ctx.db.conn(), consumer.id).await?.as_slice() {
        [] => say(&bot, msg.chat.id, text::NO_METERS).await,
        [card] => reading::begin(&bot, &dialogue, card, Mode::Consumer).await,
        cards => {
            bot.send_message(msg.chat.id, text::PICK_METER).reply_markup(keyboards::meters(cards)).await?;
            dialogue.update(State::PickMeter).await?;
            Ok(())
        }
    }
}

pub async fn pick_meter(
    bot: Bot,
    dialogue: ChatDialogue,
    ctx: Context,
    consumer: consumer::Model,
    meter_id: i64,
) -> HandlerResult {
    let cards = cards::consumer_meters(ctx.db.conn(), consumer.id).await?;
    match cards.iter().find(|card| card.meter.id == meter_id) {
        Some(card) => reading::begin(&bot, &dialogue, card, Mode::Consumer).await,
        None => replies::stale_button(bot, dialogue).await,
    }
}
