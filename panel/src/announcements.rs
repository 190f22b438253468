//! Announcements to members through the bot: compose, count the recipients, send; and what
//! became of each send. Admins only.

use domain::{Kopecks, Service};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::members::announcements::{self, Audience, Draft, Fate, Tally};

use crate::auth::Admin;
use crate::error::{internal, not_found};
use crate::forms::{Errors, checkbox, done, field, invalid, moment_text, options, parse_choice, store, text_field};
use crate::layout::{self, csrf_input};
use crate::lists::table;

/// The latest announcements listed.
const LISTED: u64 = 50;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AnnouncementForm {
    body: String,
    urgent: Option<String>,
    service: String,
    plots: String,
    debt_above: String,
    unread: Option<String>,
}

impl AnnouncementForm {
    fn parse(&self) -> Result<Draft, Errors> {
        let mut errors = Errors::default();
        let service = errors.check("service", parse_choice::<Service>(&self.service));
        let plots = errors.check("plots", Audience::parse_plots(&self.plots));
        let debt_above = match self.debt_above.trim() {
            "" => Some(None),
            text => errors.check("debt_above", Kopecks::parse_payment(text)).map(Some),
        };
        match (service, plots, debt_above) {
            (Some(service), Some(plots), Some(debt_above)) if errors.is_empty() => Ok(Draft {
                body: self.body.clone(),
                urgent: self.urgent.is_some(),
                audience: Audience { service, plots, debt_above, unread: self.unread.is_some() },
            }),
            _ => Err(errors),
        }
    }
}

/// The form; with `count`, the recipients counted and the button that sends.
fn compose(user: &Admin, form: &AnnouncementForm, errors: &Errors, count: Option<usize>) -> Markup {
    html! {
        (errors.banner())
        form.stack method="post" action="/announcements/preview" {
            (csrf_input(&user.csrf))
            (field(errors, "body", "Текст (до 3500 знаков)", html! {
                textarea id="body" name="body" rows="6" maxlength="3500" required { (form.body) }
            }))
            (checkbox("urgent", "Срочное (отключение воды или света, безопасность): придёт и тем, кто отключил объявления", form.urgent.is_some()))
            h3 { "Кому" }
            p.muted { "Все привязанные к боту члены товарищества, у которых выполнены все заданные условия. У участков нет поля «улица»: улицу или линию задают номерами её участков." }
            (field(errors, "service", "Услуга", html! {
                select id="service" name="service" { (options::<Service>(&form.service, Some("любая"))) }
            }))
            (text_field(errors, "plots", "Участки (номера через запятую; пусто — все)", &form.plots))
            (text_field(errors, "debt_above", "Долг больше, ₽ (пусто — любой)", &form.debt_above))
            (checkbox("unread", "Не передали показания за этот месяц", form.unread.is_some()))
            button type="submit" { "Посчитать получателей" }
            @if let Some(count) = count {
                p.flash.ok role="status" { "Получат: " (count) }
                button type="submit" formaction="/announcements" { "Отправить (" (count) ")" }
            }
        }
    }
}

fn tally_cells(tally: &Tally) -> Markup {
    html! {
        td.num { (tally.delivered) }
        td.num { (tally.pending) }
        td.num { (tally.failed) }
        td.num { (tally.blocked) }
    }
}

async fn announcements_page(
    user: &Admin,
    ctx: &Context,
    form: &AnnouncementForm,
    errors: &Errors,
    count: Option<usize>,
) -> Result<Markup> {
    let listed = announcements::list(ctx, LISTED).await.map_err(internal)?;
    let headers =
        ["№", "Отправлено", "Текст", "Получателей", "Доставлено", "Ожидает", "Не доставлено", "Заблокировали"];
    Ok(layout::page(
        user,
        "Объявления",
        html! {
            p.muted { "Объявление уходит через бота каждому получателю один раз; ниже видно, кому доставлено, кому нет и почему." }
            (compose(user, form, errors, count))
            h2 { "Отправленные" }
            (table(&headers, listed.iter().map(|(a, tally)| html! {
                tr {
                    td { a href=(format!("/announcements/{}", a.id)) { (a.id) } }
                    td { (moment_text(ctx, a.created_at)) }
                    td { @if a.urgent { strong { "Срочное. " } } (excerpt(&a.body)) }
                    td.num { (a.recipients) }
                    (tally_cells(tally))
                }
            })))
        },
    ))
}

/// The start of a text, for a list.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[handler]
pub async fn list(user: Admin, ctx: Data<&Context>) -> Result<Markup> {
    announcements_page(&user, &ctx, &AnnouncementForm::default(), &Errors::default(), None).await
}

/// «Посчитать получателей»: the same form, with the count and the button that sends.
#[handler]
pub async fn preview(user: Admin, ctx: Data<&Context>, Form(form): Form<AnnouncementForm>) -> Result<Response> {
    let context: &Context = &ctx;
    let counted = store(form.parse(), |draft| async move { announcements::preview(context, &draft).await });
    match counted.await? {
        Ok(count) => Ok(announcements_page(&user, &ctx, &form, &Errors::default(), Some(count)).await?.into_response()),
        Err(errors) => Ok(invalid(announcements_page(&user, &ctx, &form, &errors, None).await?)),
    }
}

#[handler]
pub async fn send(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<AnnouncementForm>,
) -> Result<Response> {
    let (context, actor): (&Context, _) = (&ctx, user.actor());
    let sent = store(form.parse(), |draft| async move { announcements::send(context, &draft, actor).await });
    match sent.await? {
        Ok(a) => {
            let message = format!("Объявление № {} отправляется: получателей {}.", a.id, a.recipients);
            Ok(done(session, message, format!("/announcements/{}", a.id)))
        }
        Err(errors) => Ok(invalid(announcements_page(&user, &ctx, &form, &errors, None).await?)),
    }
}

/// One announcement: its text, audience and each recipient's fate.
#[handler]
pub async fn show(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let (a, tally, receipts) = announcements::receipts(&ctx, id).await.map_err(internal)?.ok_or_else(not_found)?;
    let audience = serde_json::from_str::<Audience>(&a.audience).map(|a| a.describe()).unwrap_or_default();
    Ok(layout::page(
        &user,
        &format!("Объявление № {}", a.id),
        html! {
            p { "Отправлено " (moment_text(&ctx, a.created_at)) @if a.urgent { ", срочное" } ". Кому: " (audience) "." }
            blockquote { @for line in a.body.lines() { (line) br; } }
            (table(&["Получателей", "Доставлено", "Ожидает", "Не доставлено", "Заблокировали"], std::iter::once(html! {
                tr { td.num { (a.recipients) } (tally_cells(&tally)) }
            })))
            h2 { "Получатели" }
            (table(&["Член товарищества", "Судьба"], receipts.iter().map(|r| html! {
                tr {
                    td { a href=(format!("/consumers/{}", r.consumer_id)) { (r.full_name) } }
                    td class=(match r.fate { Fate::Delivered(_) => "ok", Fate::Pending(_) => "muted", _ => "error" }) {
                        (r.fate.label())
                        @if let Fate::Delivered(at) = r.fate { " " (moment_text(&ctx, at)) }
                    }
                }
            })))
        },
    ))
}
