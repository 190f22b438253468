//! Telegram conversations as teloxide dialogue state machines: consumers (access, debt, readings,
//! history) and controllers (walking the plots). Handlers only translate between Telegram and
//! `service`; every rule (validation, debt, ownership, roles) lives there.

mod announcements;
mod consumer;
mod controller;
mod dedup;
mod keyboards;
mod plot;
mod reading;
mod reminders;
mod replies;
mod report;
mod requests;
mod state;
mod storage;
mod text;
mod who;

use std::ops::ControlFlow;
use std::sync::Arc;

use service::{Chain, Context};
use teloxide::dispatching::dialogue::{ErasedStorage, Storage};
use teloxide::dispatching::{DefaultKey, Dispatcher, UpdateHandler};
use teloxide::dptree::case;
use teloxide::dptree::di::DependencyMap;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::utils::command::BotCommands;

pub use announcements::send as send_announcement;
pub use reminders::send as send_reminder;
pub use report::send as send_report;
pub use requests::send_answer;
pub use state::State;
pub use storage::DbStorage;

use keyboards::{Callback, MenuButton};
use who::Who;

/// teloxide's own error type: dialogue storage errors arrive boxed, and everything else converts.
type HandlerError = Box<dyn std::error::Error + Send + Sync>;
type HandlerResult = Result<(), HandlerError>;

/// The bot's commands. The doc comments are the help text and the command menu in Telegram.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase", description = "Команды:")]
pub enum Command {
    /// начать; с кодом из правления — привязать Telegram: /start КОД
    Start(String),
    /// справка
    Help,
    /// отменить текущее действие
    Cancel,
    /// режим контролёра (для сотрудников)
    Controller,
    /// отчёт для бухгалтерии за прошлый месяц или за указанный: /report 2026-02 (для бухгалтеров и администраторов)
    Report(String),
    /// напоминания о показаниях: включить или выключить
    Reminders,
    /// объявления правления: включить или выключить
    Announcements,
}

/// The panel's public address, for photo links in the reports the bot sends.
#[derive(Clone, Debug)]
pub struct PublicUrl(pub String);

/// The kinds of update [`schema`] handles, for `setWebhook` (for polling teloxide reads the same
/// set off the handler tree, but does not expose it).
pub const ALLOWED_UPDATES: [AllowedUpdate; 2] = [AllowedUpdate::Message, AllowedUpdate::CallbackQuery];

/// The whole handler tree.
pub fn schema() -> UpdateHandler<HandlerError> {
    let tree = dptree::entry()
        .branch(Update::filter_message().chain(gate()).chain(messages()))
        .branch(Update::filter_callback_query().chain(gate()).chain(callbacks()));
    apologising(tree)
}

/// What every update passes first: a redelivered update is dropped, group chats get a polite
/// refusal, then the sender is looked up and the chat's dialogue loaded.
fn gate() -> UpdateHandler<HandlerError> {
    dptree::filter_async(dedup::first_delivery)
        .branch(
            dptree::filter(|update: Update| update.chat().is_some_and(|c| !c.is_private()))
                .endpoint(replies::private_only),
        )
        .filter_map_async(who::who)
        .enter_dialogue::<Update, ErasedStorage<State>, State>()
}

fn messages() -> UpdateHandler<HandlerError> {
    let commands = teloxide::filter_command::<Command, _>()
        .branch(case![Command::Start(code)].endpoint(consumer::start))
        .branch(case![Command::Help].endpoint(replies::help))
        .branch(case![Command::Cancel].endpoint(replies::cancel))
        .branch(case![Command::Controller].endpoint(controller::enter))
        .branch(case![Command::Report(month)].endpoint(report::report))
        .branch(case![Command::Reminders].endpoint(reminders::show))
        .branch(case![Command::Announcements].endpoint(announcements::show));
    let menu = dptree::filter_map(|msg: Message| msg.text().and_then(MenuButton::parse))
        .branch(case![MenuButton::Help].endpoint(replies::help))
        .branch(
            dptree::filter_map(|who: Who| who.consumer)
                .branch(case![MenuButton::Debt].endpoint(consumer::debt))
                .branch(case![MenuButton::Accounts].endpoint(consumer::accounts))
                .branch(case![MenuButton::SendReading].endpoint(consumer::send_reading))
                .branch(case![MenuButton::History].endpoint(consumer::history))
                .branch(case![MenuButton::Chart].endpoint(consumer::chart))
                .branch(case![MenuButton::Write].endpoint(requests::begin)),
        )
        .endpoint(replies::not_a_consumer);
    dptree::entry()
        .branch(commands)
        .branch(dptree::filter(|msg: Message| msg.contact().is_some()).endpoint(consumer::contact))
        .branch(dptree::filter(lost_access).endpoint(replies::access_lost))
        .branch(dptree::filter(|who: Who| !who.is_known()).endpoint(replies::stranger))
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/')))
                .endpoint(replies::unknown_command),
        )
        // The menu works in every state, so a menu button is never taken for a typed value.
        .branch(menu)
        .branch(case![State::Walk { plot_id }].endpoint(controller::plot_number))
        .branch(case![State::Values(draft)].chain(author()).endpoint(reading::value))
        .branch(case![State::SealComment(draft)].endpoint(reading::seal_comment))
        .branch(case![State::Photo(draft)].chain(author()).endpoint(reading::photo))
        .branch(case![State::PayAmount { target }].filter_map(|who: Who| who.consumer).endpoint(consumer::amount))
        .branch(case![State::RequestText { topic }].endpoint(requests::typed))
        .branch(
            case![State::RequestPhoto { topic, body }].filter_map(|who: Who| who.consumer).endpoint(requests::photo),
        )
        .branch(case![State::RequestReply { request_id }].filter_map(|who: Who| who.consumer).endpoint(requests::reply))
        .endpoint(replies::unexpected)
}

fn callbacks() -> UpdateHandler<HandlerError> {
    let pressed = dptree::filter_map(|q: CallbackQuery| q.data.as_deref().and_then(Callback::parse))
        // From a reminder, maybe weeks old: it leaves the dialogue where it is.
        .branch(case![Callback::Reminders { on }].filter_map(|who: Who| who.consumer).endpoint(reminders::switch))
        .branch(
            case![Callback::Announcements { on }].filter_map(|who: Who| who.consumer).endpoint(announcements::switch),
        )
        .branch(dptree::filter(lost_access).endpoint(replies::access_lost))
        // From a debt answer or a QR code, maybe days old: in any state.
        .branch(
            dptree::filter_map(|who: Who| who.consumer)
                .branch(case![Callback::Pay(target)].endpoint(consumer::pay))
                .branch(case![Callback::OtherAmount(target)].endpoint(consumer::other_amount))
                .branch(case![Callback::ReplyTo(id)].endpoint(requests::reply_to)),
        )
        .branch(case![State::RequestTopic].branch(case![Callback::Topic(topic)].endpoint(requests::topic)))
        .branch(
            case![State::RequestPhoto { topic, body }]
                .filter_map(|who: Who| who.consumer)
                .branch(case![Callback::NoPhoto].endpoint(requests::skip_photo)),
        )
        .branch(
            case![State::PickMeter]
                .filter_map(|who: Who| who.consumer)
                .branch(case![Callback::Meter(id)].endpoint(consumer::pick_meter)),
        )
        .branch(
            case![State::Walk { plot_id }]
                .branch(case![Callback::Unread].endpoint(controller::unread))
                .branch(case![Callback::Plot(id)].endpoint(controller::open_plot))
                .branch(case![Callback::Meter(id)].endpoint(controller::pick_meter)),
        )
        .branch(case![State::Seal(draft)].branch(case![Callback::Seal { intact }].endpoint(reading::seal)))
        .branch(
            case![State::Photo(draft)].chain(author()).branch(case![Callback::NoPhoto].endpoint(reading::skip_photo)),
        )
        .branch(
            case![State::Confirm(draft)]
                .chain(author())
                .branch(case![Callback::Confirm].endpoint(reading::confirm))
                .branch(case![Callback::Fix].endpoint(reading::fix)),
        );
    dptree::inspect_async(acknowledge).branch(pressed).endpoint(replies::stale_button)
}

/// Whether the sender's link or role no longer allows the state they are in.
fn lost_access(who: Who, state: State) -> bool {
    who.lost_access(&state)
}

/// The author of the draft in the state; [`lost_access`] has already turned away anyone else.
fn author() -> UpdateHandler<HandlerError> {
    dptree::filter_map(|who: Who, draft: state::Draft| who.author(draft.mode))
}

/// Answers every button press at once (so the button stops spinning) and removes the pressed
/// message's buttons, so the same step cannot be pressed again.
async fn acknowledge(bot: Bot, q: CallbackQuery) {
    if let Err(e) = bot.answer_callback_query(q.id.clone()).await {
        tracing::warn!("answerCallbackQuery failed: {e}");
    }
    if let Some(msg) = q.regular_message()
        && let Err(e) = bot.edit_message_reply_markup(msg.chat.id, msg.id).await
    {
        tracing::debug!("could not remove the buttons of a pressed message: {e}");
    }
}

/// Runs `tree`; when a handler fails, logs the error and tells the user, so nobody is left
/// waiting for an answer that will not come.
fn apologising(tree: UpdateHandler<HandlerError>) -> UpdateHandler<HandlerError> {
    let description = tree.description().clone();
    let sig = tree.sig().clone();
    dptree::from_fn_with_description(
        description,
        move |deps: DependencyMap, cont| {
            let tree = tree.clone();
            async move {
                let (bot, update) = (deps.try_get::<Bot>(), deps.try_get::<Update>());
                let flow = tree.execute(deps, cont).await;
                service::metrics::bot_update(matches!(flow, ControlFlow::Break(Err(_))));
                let ControlFlow::Break(Err(error)) = flow else { return flow };
                // The whole chain: a service error's `Display` is only what the user is told.
                let update_id = update.as_ref().map(|u| u.id.0);
                tracing::error!(update = update_id, "handling an update failed: {}", Chain(&*error));
                if let (Some(bot), Some(chat)) = (bot, update.as_ref().and_then(|u| u.chat()))
                    && let Err(e) = bot.send_message(chat.id, text::SOMETHING_WRONG).await
                {
                    tracing::warn!("could not tell the user about the failure: {e}");
                }
                ControlFlow::Break(Ok(()))
            }
        },
        sig,
    )
}

/// A dispatcher running [`schema`], with the service context and the dialogue storage.
pub fn dispatcher(bot: Bot, ctx: Context, public_url: PublicUrl) -> Dispatcher<Bot, HandlerError, DefaultKey> {
    let storage: Arc<ErasedStorage<State>> = DbStorage::new(ctx.clone()).erase();
    Dispatcher::builder(bot, schema())
        .dependencies(dptree::deps![ctx, storage, public_url])
        // Redelivered updates end up here; they were dropped on purpose.
        .default_handler(|update| async move { tracing::debug!(update = update.id.0, "update not handled") })
        .build()
}

async fn say(bot: &Bot, chat: ChatId, text: impl Into<String>) -> HandlerResult {
    bot.send_message(chat, text).await?;
    Ok(())
}
