//! Members' requests (обращения): the queue, one request with the member's plots, debt and
//! recent readings beside it, the answer (sent to the member's chat by the scheduler) and the
//! request's place in the queue. Office staff.

use domain::{RequestStatus, RequestTopic, values_text};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::members::requests::{self, Thread};

use crate::auth::OfficeStaff;
use crate::error::{internal, not_found, refusal};
use crate::forms::{Errors, done, field, invalid, moment_text, store};
use crate::layout::{self, Flash, csrf_input};
use crate::lists::{fate_class, table};

/// Characters of a text shown in a list.
const EXCERPT: usize = 80;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct QueueFilter {
    status: String,
}

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(filter): Query<QueueFilter>) -> Result<Markup> {
    let status = filter.status.parse::<RequestStatus>().ok();
    let rows = requests::queue(ctx.db.conn(), status).await.map_err(internal)?;
    Ok(layout::page(
        &user,
        "Обращения",
        html! {
            p {
                a href="/requests" { "Все" }
                @for s in RequestStatus::ALL { " · " a href=(format!("/requests?status={}", s.code())) { (s.label()) } }
            }
            (table(&["№", "Статус", "Тема", "Член товарищества", "Обращение", "Сообщений", "Изменено"], rows.iter().map(|row| html! {
                tr {
                    td { a href=(format!("/requests/{}", row.request.id)) { (row.request.id) } }
                    td { (row.request.status) }
                    td { (row.request.topic) }
                    td { (row.full_name) }
                    td { (domain::text::excerpt(&row.text, EXCERPT)) }
                    td.num { (row.messages) }
                    td { (moment_text(&ctx, row.request.updated_at)) }
                }
            })))
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AnswerForm {
    body: String,
}

fn thread_page(user: &OfficeStaff, ctx: &Context, thread: &Thread, form: &AnswerForm, errors: &Errors) -> Markup {
    let r = &thread.request;
    layout::page(
        user,
        &format!("Обращение № {}", r.id),
        html! {
            p {
                (r.topic) " · " strong { (r.status) } " · от "
                a href=(format!("/consumers/{}", thread.consumer.id)) { (thread.consumer.full_name) }
            }
            h2 { "Переписка" }
            @for m in &thread.messages {
                div.message {
                    p.muted {
                        (moment_text(ctx, m.created_at)) " · "
                        @if m.staff_id.is_some() { "правление" } @else { "член товарищества" }
                        @if let Some(fate) = thread.sends.get(&m.id) {
                            " · "
                            span class=(fate_class(fate)) {
                                "в Telegram: " (fate.label())
                            }
                        }
                    }
                    p { @for line in m.body.lines() { (line) br; } }
                    @if let Some(photo) = m.photo_id {
                        a href=(format!("/photos/{photo}")) { img src=(format!("/photos/{photo}/thumb")) alt="Фото к обращению"; }
                    }
                }
            }
            @if r.status != RequestStatus::Closed {
                (errors.banner())
                form.stack method="post" action=(format!("/requests/{}/answer", r.id)) {
                    (csrf_input(&user.csrf))
                    (field(errors, "body", "Ответ (придёт в Telegram как «Ответ на обращение № N»)", html! {
                        textarea id="body" name="body" rows="4" maxlength="2000" required { (form.body) }
                    }))
                    button type="submit" { "Ответить" }
                }
            }
            @if matches!(r.topic, RequestTopic::Meter | RequestTopic::Seal) {
                h2 { "Контролёру" }
                @match &thread.task {
                    Some((plot, true)) => p { "Поручено контролёру: участок " (plot) ", в списке обхода." },
                    Some((plot, false)) => p.muted { "Было поручено контролёру: участок " (plot) ", выполнено или закрыто." },
                    None => {},
                }
                @if r.status != RequestStatus::Closed && !matches!(thread.task, Some((_, true))) {
                    form.inline method="post" action=(format!("/requests/{}/task", r.id)) {
                        (csrf_input(&user.csrf))
                        label for="plot" { "Участок " }
                        select id="plot" name="plot" {
                            @for plot in plots(thread) { option value=(plot) { (plot) } }
                        }
                        " "
                        button type="submit" { "Поручить контролёру" }
                    }
                }
            }
            form.inline method="post" action=(format!("/requests/{}/status", r.id)) {
                (csrf_input(&user.csrf))
                @for s in RequestStatus::ALL {
                    @if *s != r.status { button type="submit" name="status" value=(s.code()) { (s.label()) } " " }
                }
            }
            h2 { "Договоры и долг" }
            (table(&["Участок", "Услуга", "Договор", "Долг"], thread.statement.lines.iter().map(|line| html! {
                tr {
                    td { (line.plot_number) }
                    td { (line.service) }
                    td { a href=(format!("/contracts/{}", line.contract_id)) { (line.contract_number) } }
                    td.num { (line.balance.debt()) }
                }
            })))
            p { "Итого: " (thread.statement.total.debt()) }
            h2 { "Последние показания" }
            (table(&["Дата", "Договор", "Счётчик", "Показания", "Статус"], thread.readings.iter().map(|row| html! {
                tr {
                    td { (moment_text(ctx, row.reading.taken_at)) }
                    td { (row.contract.contract.number) }
                    td { (row.meter.serial) }
                    td.num { (values_text(row.meter.zone_list(), &row.reading.values())) }
                    td { (row.reading.status) }
                }
            })))
        },
    )
}

/// The member's plots, each once, in the statement's order.
fn plots(thread: &Thread) -> Vec<&str> {
    let mut plots: Vec<&str> = Vec::new();
    for line in &thread.statement.lines {
        if !plots.contains(&line.plot_number.as_str()) {
            plots.push(&line.plot_number);
        }
    }
    plots
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TaskForm {
    plot: String,
}

/// «Поручить контролёру»: the plot goes on the walk with the request's number and text, and the
/// member is told a controller will come.
#[handler]
pub async fn task(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<Response> {
    let to = format!("/requests/{id}");
    match requests::assign(&ctx, id, &form.plot, user.actor()).await {
        Ok(()) => Ok(done(session, format!("Обращение № {id} поручено контролёру: участок в списке обхода."), to)),
        Err(e) => {
            Flash::error(session, refusal(e)?);
            Ok(poem::web::Redirect::see_other(to).into_response())
        }
    }
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let thread = requests::thread(&ctx.db, id).await.map_err(internal)?.ok_or_else(not_found)?;
    Ok(thread_page(&user, &ctx, &thread, &AnswerForm::default(), &Errors::default()))
}

#[handler]
pub async fn answer(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> Result<Response> {
    let (context, actor): (&Context, _) = (&ctx, user.actor());
    let answered =
        store(Ok(form.body.clone()), |body| async move { requests::answer(context, id, &body, actor).await });
    match answered.await? {
        Ok(_) => {
            Ok(done(session, format!("Ответ на обращение № {id} отправляется в Telegram."), format!("/requests/{id}")))
        }
        Err(errors) => {
            let thread = requests::thread(&ctx.db, id).await.map_err(internal)?.ok_or_else(not_found)?;
            Ok(invalid(thread_page(&user, &ctx, &thread, &form, &errors)))
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    status: String,
}

#[handler]
pub async fn set_status(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    let to = format!("/requests/{id}");
    let Ok(status) = form.status.parse::<RequestStatus>() else {
        Flash::error(session, "Выберите статус кнопкой.");
        return Ok(poem::web::Redirect::see_other(to).into_response());
    };
    match requests::set_status(&ctx, id, status, user.actor()).await {
        Ok(()) => Ok(done(session, format!("Обращение № {id}: {}.", status.label().to_lowercase()), to)),
        Err(e) => {
            Flash::error(session, refusal(e)?);
            Ok(poem::web::Redirect::see_other(to).into_response())
        }
    }
}
