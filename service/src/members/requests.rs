//! Members' requests to the board (обращения): written in the bot with a topic, a text and maybe
//! a photo, numbered, queued in the panel beside the member's plots, readings and debt; answered
//! by staff (the answer goes to the member's chat through the scheduler, once, as a `deliveries`
//! row made with it); replied to by the member under the same number.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{RequestStatus, RequestTopic, TextKind, TooLong};
use entities::{consumer, contract, delivery, member_request, meter, request_message, telegram_link};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::internal_errors;
use crate::ledger::debt::{self, Statement};
use crate::readings::history::{self, ReadingRow};
use crate::{Context, Internal, deliveries};

/// The `deliveries.kind` of a staff answer sent to the member; the target is the message's id.
pub const ANSWER_KIND: &str = "request_answer";
/// Readings shown per meter beside a request.
const RECENT_READINGS: u64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("Напишите текст одним сообщением.")]
    Empty,
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// Someone else's request, or none: the same answer, so numbers cannot be probed.
    #[error("Обращение № {0} не найдено.")]
    NotFound(i64),
    #[error("Обращение № {0} закрыто. Если вопрос остался, напишите новое обращение.")]
    Closed(i64),
    #[error("Контролёру поручаются только обращения о счётчике или пломбе.")]
    NotAboutMeter,
    #[error("Участок {0} не принадлежит члену товарищества, написавшему обращение.")]
    NotTheirPlot(String),
    #[error("Обращение № {0} уже поручено контролёру: оно в списке обхода, пока контролёр не снимет показание.")]
    AlreadyTasked(i64),
    #[error(
        "Ваши обращения ({OPEN_MAX}) ещё ждут ответа правления. Новое можно написать, когда на одно из них ответят; \
         дополнить обращение можно кнопкой «Ответить» под ответом."
    )]
    TooManyOpen,
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(RequestError);

/// A request's or an answer's text, trimmed and bounded.
pub fn checked_text(text: &str) -> Result<String, RequestError> {
    let text = TextKind::RequestMessage.bounded(text)?;
    match text.is_empty() {
        true => Err(RequestError::Empty),
        false => Ok(text),
    }
}

/// Who wrote in the bot.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub consumer_id: i64,
    pub telegram_user_id: i64,
}

impl Member {
    fn actor(self) -> Actor {
        Actor::Consumer { consumer_id: self.consumer_id, telegram_user_id: self.telegram_user_id }
    }
}

async fn add_message(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    request_id: i64,
    body: String,
    photo_id: Option<i64>,
    actor: Actor,
) -> Result<request_message::Model, DbErr> {
    let telegram_user_id = match actor {
        Actor::Consumer { telegram_user_id, .. } => Some(telegram_user_id),
        _ => None,
    };
    request_message::ActiveModel {
        id: NotSet,
        request_id: Set(request_id),
        body: Set(body),
        photo_id: Set(photo_id),
        staff_id: Set(actor.staff_id()),
        telegram_user_id: Set(telegram_user_id),
        created_at: Set(ctx.now()),
    }
    .insert(conn)
    .await
}

/// Requests one member may have waiting for the board (new or in work) at once: a few real
/// questions, not a flood that pushes others' requests off the queue and fills the disk with
/// their photos.
pub const OPEN_MAX: u64 = 5;

/// Refused when the member already has [`OPEN_MAX`] requests waiting for the board; the bot asks
/// before the text and the photo, and opening asks again.
pub async fn may_open(conn: &impl ConnectionTrait, consumer_id: i64) -> Result<(), RequestError> {
    let waiting = member_request::Entity::find()
        .filter(member_request::Column::ConsumerId.eq(consumer_id))
        .filter(member_request::Column::Status.is_in([RequestStatus::New, RequestStatus::InWork]))
        .count(conn)
        .await?;
    if waiting >= OPEN_MAX { Err(RequestError::TooManyOpen) } else { Ok(()) }
}

/// A new request; its id is its number.
pub async fn open(
    ctx: &Context,
    member: Member,
    topic: RequestTopic,
    body: &str,
    photo_id: Option<i64>,
) -> Result<member_request::Model, RequestError> {
    let body = checked_text(body)?;
    let txn = ctx.db.begin_write().await?;
    may_open(&txn, member.consumer_id).await?;
    let request = member_request::ActiveModel {
        id: NotSet,
        consumer_id: Set(member.consumer_id),
        topic: Set(topic),
        status: Set(RequestStatus::New),
        created_at: Set(ctx.now()),
        updated_at: Set(ctx.now()),
        task_plot_id: Set(None),
        task_set_at: Set(None),
    }
    .insert(&txn)
    .await?;
    add_message(&txn, ctx, request.id, body, photo_id, member.actor()).await?;
    let details = json!({"topic": topic.code(), "photo": photo_id.is_some()});
    audit::record(&txn, ctx, member.actor(), "request.open", "member_request", Some(request.id), details).await?;
    txn.commit().await?;
    Ok(request)
}

/// The member writes again under request `id`: it goes back to the queue as new.
pub async fn reply(ctx: &Context, member: Member, id: i64, body: &str) -> Result<member_request::Model, RequestError> {
    let body = checked_text(body)?;
    let txn = ctx.db.begin_write().await?;
    let request = member_request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|r| r.consumer_id == member.consumer_id)
        .ok_or(RequestError::NotFound(id))?;
    if request.status == RequestStatus::Closed {
        return Err(RequestError::Closed(id));
    }
    add_message(&txn, ctx, id, body, None, member.actor()).await?;
    let updated = set(&txn, ctx, request, RequestStatus::New).await?;
    audit::record(&txn, ctx, member.actor(), "request.reply", "member_request", Some(id), json!({})).await?;
    txn.commit().await?;
    Ok(updated)
}

async fn set(
    conn: &impl ConnectionTrait,
    ctx: &Context,
    request: member_request::Model,
    status: RequestStatus,
) -> Result<member_request::Model, DbErr> {
    let mut row = request.into_active_model();
    row.status = Set(status);
    row.updated_at = Set(ctx.now());
    row.update(conn).await
}

/// Staff answer request `id`: stored, the request marked answered, and the answer scheduled to
/// the member's chat.
pub async fn answer(ctx: &Context, id: i64, body: &str, actor: Actor) -> Result<request_message::Model, RequestError> {
    let body = checked_text(body)?;
    let txn = ctx.db.begin_write().await?;
    let request = member_request::Entity::find_by_id(id).one(&txn).await?.ok_or(RequestError::NotFound(id))?;
    if request.status == RequestStatus::Closed {
        return Err(RequestError::Closed(id));
    }
    let message = add_message(&txn, ctx, id, body, None, actor).await?;
    set(&txn, ctx, request, RequestStatus::Answered).await?;
    deliveries::schedule(&txn, ctx, ANSWER_KIND, ctx.current_period(), [message.id.to_string()]).await?;
    audit::record(&txn, ctx, actor, "request.answer", "member_request", Some(id), json!({"message": message.id}))
        .await?;
    txn.commit().await?;
    Ok(message)
}

/// The member is told through the answers' delivery when a request becomes a controller's task.
fn task_message(plot: &str) -> String {
    format!(
        "Поручено контролёру: он придёт на участок {plot} и проверит счётчик и пломбу. \
         Если что-то понадобится, ответьте на это сообщение."
    )
}

/// Staff turn a request about a meter or a seal into a controller's task on the member's plot
/// `plot`: it goes on the walk (see [`crate::readings::walk::tasks`]), the request is in work,
/// and the member is told a controller will come.
pub async fn assign(ctx: &Context, id: i64, plot: &str, actor: Actor) -> Result<(), RequestError> {
    let number =
        domain::PlotNumber::parse(plot).map_err(|_| RequestError::NotTheirPlot(plot.chars().take(40).collect()))?;
    let txn = ctx.db.begin_write().await?;
    let request = member_request::Entity::find_by_id(id).one(&txn).await?.ok_or(RequestError::NotFound(id))?;
    if request.status == RequestStatus::Closed {
        return Err(RequestError::Closed(id));
    }
    if !matches!(request.topic, RequestTopic::Meter | RequestTopic::Seal) {
        return Err(RequestError::NotAboutMeter);
    }
    let theirs = match crate::register::cards::find_plot(&txn, &number).await? {
        Some(plot) => contract::Entity::find()
            .filter(contract::Column::ConsumerId.eq(request.consumer_id))
            .filter(contract::Column::PlotId.eq(plot.id))
            .one(&txn)
            .await?
            .map(|_| plot),
        None => None,
    };
    let plot = theirs.ok_or_else(|| RequestError::NotTheirPlot(number.to_string()))?;
    if let (Some(plot_id), Some(since)) = (request.task_plot_id, request.task_set_at)
        && !crate::readings::walk::visited_since(&txn, plot_id, since).await?
    {
        return Err(RequestError::AlreadyTasked(id));
    }
    let message = add_message(&txn, ctx, id, task_message(plot.number.as_str()), None, actor).await?;
    let mut row = request.into_active_model();
    row.status = Set(RequestStatus::InWork);
    row.updated_at = Set(ctx.now());
    row.task_plot_id = Set(Some(plot.id));
    row.task_set_at = Set(Some(ctx.now()));
    row.update(&txn).await?;
    deliveries::schedule(&txn, ctx, ANSWER_KIND, ctx.current_period(), [message.id.to_string()]).await?;
    let details = json!({"plot": plot.number.as_str(), "message": message.id});
    audit::record(&txn, ctx, actor, "request.task", "member_request", Some(id), details).await?;
    txn.commit().await?;
    Ok(())
}

/// Staff move request `id` in the queue (in work, closed, back to new); audited.
pub async fn set_status(ctx: &Context, id: i64, status: RequestStatus, actor: Actor) -> Result<(), RequestError> {
    let txn = ctx.db.begin_write().await?;
    let request = member_request::Entity::find_by_id(id).one(&txn).await?.ok_or(RequestError::NotFound(id))?;
    let from = request.status;
    if from != status {
        set(&txn, ctx, request, status).await?;
        let details = json!({"from": from.code(), "to": status.code()});
        audit::record(&txn, ctx, actor, "request.status", "member_request", Some(id), details).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A line of the panel's queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub request: member_request::Model,
    pub full_name: String,
    /// The request's own text.
    pub text: String,
    pub messages: usize,
}

/// Requests with `status` (all when none), waiting ones first (new, in work…), oldest first.
pub async fn queue(conn: &impl ConnectionTrait, status: Option<RequestStatus>) -> Result<Vec<QueueRow>, DbErr> {
    use sea_orm::QuerySelect;
    const SHOWN: u64 = 200;
    // Open requests are few however old they are; all of them come first, so an old «Новое» is
    // never pushed off the list by the month's closed ones.
    const OPEN_SHOWN: u64 = 2_000;
    let latest = |query: sea_orm::Select<member_request::Entity>, limit| {
        query.order_by_desc(member_request::Column::UpdatedAt).limit(limit).all(conn)
    };
    let requests = match status {
        Some(status) => {
            latest(member_request::Entity::find().filter(member_request::Column::Status.eq(status)), SHOWN).await?
        }
        None => {
            let (status, closed) = (member_request::Column::Status, RequestStatus::Closed);
            let mut open = latest(member_request::Entity::find().filter(status.ne(closed)), OPEN_SHOWN).await?;
            open.extend(latest(member_request::Entity::find().filter(status.eq(closed)), SHOWN).await?);
            open
        }
    };
    let ids: Vec<i64> = requests.iter().map(|r| r.id).collect();
    let messages = crate::db::find_in(
        conn,
        request_message::Entity::find().order_by_asc(request_message::Column::Id),
        request_message::Column::RequestId,
        ids,
    )
    .await?;
    let consumers = crate::db::find_in(
        conn,
        consumer::Entity::find(),
        consumer::Column::Id,
        requests.iter().map(|r| r.consumer_id),
    )
    .await?;
    let mut rows: Vec<QueueRow> = requests
        .into_iter()
        .map(|request| {
            let own: Vec<&request_message::Model> = messages.iter().filter(|m| m.request_id == request.id).collect();
            let full_name = consumers.iter().find(|c| c.id == request.consumer_id).map(|c| c.full_name.clone());
            QueueRow {
                text: own.first().map(|m| m.body.clone()).unwrap_or_default(),
                messages: own.len(),
                full_name: full_name.unwrap_or_default(),
                request,
            }
        })
        .collect();
    rows.sort_by_key(|row| (row.request.status, row.request.updated_at));
    Ok(rows)
}

/// A request with everything the panel shows beside it.
#[derive(Debug, Clone)]
pub struct Thread {
    pub request: member_request::Model,
    pub consumer: consumer::Model,
    pub messages: Vec<request_message::Model>,
    /// The member's contracts, plots and debt, as the bot's «Задолженность» tells it.
    pub statement: Statement,
    /// The latest readings of each of the member's meters.
    pub readings: Vec<ReadingRow>,
    /// The controller's task made of it: the plot, and whether it is still on the walk.
    pub task: Option<(domain::PlotNumber, bool)>,
    /// What became of each staff message's send to the member's Telegram, by message id: an
    /// answer Telegram never took must not pass for one the member read.
    pub sends: HashMap<i64, deliveries::Fate>,
}

pub async fn thread(db: &Db, id: i64) -> Result<Option<Thread>, DbErr> {
    let conn = db.conn();
    let Some(request) = member_request::Entity::find_by_id(id).one(conn).await? else { return Ok(None) };
    let Some(consumer) = consumer::Entity::find_by_id(request.consumer_id).one(conn).await? else { return Ok(None) };
    let messages = request_message::Entity::find()
        .filter(request_message::Column::RequestId.eq(id))
        .order_by_asc(request_message::Column::Id)
        .all(conn)
        .await?;
    let statement = debt::statement(db, consumer.id).await?;
    let contract_ids = statement.lines.iter().map(|line| line.contract_id);
    let meters = crate::db::find_in(conn, meter::Entity::find(), meter::Column::ContractId, contract_ids).await?;
    let mut readings = Vec::new();
    for meter in meters {
        readings.extend(history::history(conn, meter.id, RECENT_READINGS).await?);
    }
    let readings = history::rows(conn, readings).await?;
    let task = match (request.task_plot_id, request.task_set_at) {
        (Some(plot_id), Some(since)) => match entities::plot::Entity::find_by_id(plot_id).one(conn).await? {
            Some(plot) => {
                let open = request.status != RequestStatus::Closed
                    && !crate::readings::walk::visited_since(conn, plot_id, since).await?;
                Some((plot.number, open))
            }
            None => None,
        },
        _ => None,
    };
    let staff_messages = messages.iter().filter(|m| m.staff_id.is_some()).map(|m| m.id.to_string());
    let answers = delivery::Entity::find().filter(delivery::Column::Kind.eq(ANSWER_KIND));
    let sends = crate::db::find_in(conn, answers, delivery::Column::Target, staff_messages)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.target.parse().ok()?, deliveries::Fate::of(&row))))
        .collect();
    Ok(Some(Thread { request, consumer, messages, statement, readings, task, sends }))
}

/// How many requests were written since `since`: the daily digest on the panel's home page.
pub async fn new_since(conn: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<u64, DbErr> {
    member_request::Entity::find().filter(member_request::Column::CreatedAt.gte(since)).count(conn).await
}

/// How many requests wait for the board (new ones, replies included).
pub async fn waiting(conn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    member_request::Entity::find().filter(member_request::Column::Status.eq(RequestStatus::New)).count(conn).await
}

/// An answer waiting to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingAnswer {
    pub period: domain::Period,
    pub message_id: i64,
}

pub async fn pending_answers(ctx: &Context, limit: u64) -> Result<Vec<PendingAnswer>, DbErr> {
    let rows = deliveries::waiting(ctx, ANSWER_KIND, limit).await?;
    Ok(rows
        .iter()
        .filter_map(|row| Some(PendingAnswer { period: row.period, message_id: row.target.parse().ok()? }))
        .collect())
}

/// What to send for an answer, decided at the moment of sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutgoingAnswer {
    Send {
        chat_id: i64,
        request_id: i64,
        body: String,
    },
    /// The member is no longer linked: nothing is sent to anyone else.
    Skip(&'static str),
}

pub async fn outgoing_answer(ctx: &Context, message_id: i64) -> Result<OutgoingAnswer, DbErr> {
    let conn = ctx.db.conn();
    let message = request_message::Entity::find_by_id(message_id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("request message {message_id}")))?;
    let request = member_request::Entity::find_by_id(message.request_id)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("request {}", message.request_id)))?;
    // Newest first: the account that last wrote in this request, if it still acts for the
    // member (a family may link two phones); otherwise the one linked last.
    let linked: Vec<i64> = telegram_link::Entity::find()
        .select_only()
        .column(telegram_link::Column::TelegramUserId)
        .filter(telegram_link::Column::ConsumerId.eq(request.consumer_id))
        .order_by_desc(telegram_link::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let writers: Vec<Option<i64>> = request_message::Entity::find()
        .select_only()
        .column(request_message::Column::TelegramUserId)
        .filter(request_message::Column::RequestId.eq(request.id))
        .filter(request_message::Column::TelegramUserId.is_not_null())
        .order_by_desc(request_message::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let chat = writers.into_iter().flatten().find(|writer| linked.contains(writer)).or(linked.first().copied());
    Ok(match chat {
        Some(chat_id) => OutgoingAnswer::Send { chat_id, request_id: request.id, body: message.body },
        None => OutgoingAnswer::Skip("не привязан к боту"),
    })
}

#[cfg(test)]
mod tests {
    use domain::{Service, TariffPlan};

    use super::*;
    use crate::testing::{TestContext, new_consumer};

    #[tokio::test]
    async fn an_old_new_request_stays_on_the_list_under_many_closed_ones() {
        let t = TestContext::new().await;
        let signed = t.sign("7", new_consumer("Корейко", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
        let member = Member { consumer_id: signed.consumer_id, telegram_user_id: 70 };
        let old = open(&t.ctx, member, RequestTopic::Meter, "Счётчик не крутится", None).await.unwrap();
        // A busy month later: 250 requests answered and closed since.
        t.clock.advance(chrono::Duration::days(30));
        let closed: Vec<member_request::ActiveModel> = (0..250)
            .map(|_| member_request::ActiveModel {
                id: NotSet,
                consumer_id: Set(signed.consumer_id),
                topic: Set(RequestTopic::Bill),
                status: Set(RequestStatus::Closed),
                created_at: Set(t.ctx.now()),
                updated_at: Set(t.ctx.now()),
                task_plot_id: Set(None),
                task_set_at: Set(None),
            })
            .collect();
        member_request::Entity::insert_many(closed).exec_without_returning(t.ctx.db.conn()).await.unwrap();

        let all = queue(t.ctx.db.conn(), None).await.unwrap();
        assert_eq!(all.first().map(|row| row.request.id), Some(old.id), "the open one first");
        assert_eq!(all.len(), 201, "every open request and the latest 200 closed");
        let closed_only = queue(t.ctx.db.conn(), Some(RequestStatus::Closed)).await.unwrap();
        assert_eq!(closed_only.len(), 200);
    }

    #[tokio::test]
    async fn an_answer_goes_to_the_phone_that_wrote_while_it_is_linked() {
        let t = TestContext::new().await;
        let signed = t.sign("7", new_consumer("Корейко", None), "W-7", Service::Water, TariffPlan::Single, &[0]).await;
        let (husband, wife) = (70, 71);
        crate::testing::link(&t.ctx, signed.consumer_id, husband).await;
        crate::testing::link(&t.ctx, signed.consumer_id, wife).await;
        let chat = |message: request_message::Model| {
            let ctx = t.ctx.clone();
            async move {
                match outgoing_answer(&ctx, message.id).await.unwrap() {
                    OutgoingAnswer::Send { chat_id, .. } => Some(chat_id),
                    OutgoingAnswer::Skip(_) => None,
                }
            }
        };
        let member = Member { consumer_id: signed.consumer_id, telegram_user_id: husband };
        let request = open(&t.ctx, member, RequestTopic::Bill, "Почему так много?", None).await.unwrap();
        let first = answer(&t.ctx, request.id, "Проверим показания.", Actor::System).await.unwrap();
        assert_eq!(chat(first.clone()).await, Some(husband), "not the phone linked last");

        let member = Member { telegram_user_id: wife, ..member };
        reply(&t.ctx, member, request.id, "Показания верные, счётчик новый.").await.unwrap();
        let second = answer(&t.ctx, request.id, "Пересчитаем.", Actor::System).await.unwrap();
        assert_eq!(chat(second.clone()).await, Some(wife), "whoever wrote last");

        telegram_link::Entity::delete_many()
            .filter(telegram_link::Column::TelegramUserId.eq(wife))
            .exec(t.ctx.db.conn())
            .await
            .unwrap();
        assert_eq!(chat(second).await, Some(husband), "an unlinked phone gets nothing; the member's other does");
    }
}
