//! Announcements to members through the bot: compose, count the recipients, send; and what
//! became of each send. Admins only.

use domain::{Kopecks, Service};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path};
use poem::{Body, FromRequest, IntoResponse, Request, RequestBody, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::deliveries::Fate;
use service::members::announcements::{self, Audience, Draft, Tally};
use service::meters::photos::{self, StoreError};

use crate::auth::Admin;
use crate::error::{internal, not_found};
use crate::forms::{Errors, checkbox, done, field, invalid, moment_text, options, parse_choice, store, text_field};
use crate::layout::{self, csrf_input};
use crate::lists::{fate_class, table};

/// Characters of a text shown in a list.
const EXCERPT: usize = 80;

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
            text => errors.check("debt_above", Kopecks::parse_rubles(text).and_then(Kopecks::debt_threshold)).map(Some),
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
        form.stack method="post" action="/announcements/preview" enctype="multipart/form-data" {
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
                (field(errors, "photo", "Фото (необязательно, JPEG или PNG; текст придёт подписью к нему)", html! {
                    input id="photo" type="file" name="photo" accept="image/jpeg,image/png";
                }))
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
                    td { @if a.urgent { strong { "Срочное. " } } (domain::text::excerpt(&a.body, EXCERPT)) }
                    td.num { (a.recipients) }
                    (tally_cells(tally))
                }
            })))
        },
    ))
}

#[handler]
pub async fn list(user: Admin, ctx: Data<&Context>) -> Result<Markup> {
    announcements_page(&user, &ctx, &AnnouncementForm::default(), &Errors::default(), None).await
}

/// «Посчитать получателей»: the same form, with the count and the button that sends.
#[handler]
pub async fn preview(user: Admin, ctx: Data<&Context>, req: &Request, body: Body) -> Result<Response> {
    // A photo chosen before counting is not kept: it is chosen beside «Отправить».
    let (form, _) = read_form(req, body).await?;
    let context: &Context = &ctx;
    let counted = store(form.parse(), |draft| async move { announcements::preview(context, &draft).await });
    match counted.await? {
        Ok(count) => Ok(announcements_page(&user, &ctx, &form, &Errors::default(), Some(count)).await?.into_response()),
        Err(errors) => Ok(invalid(announcements_page(&user, &ctx, &form, &errors, None).await?)),
    }
}

/// The form as sent: a multipart one (the page's, with the photo's bytes, empty when none was
/// chosen) or a plain one.
async fn read_form(req: &Request, body: Body) -> Result<(AnnouncementForm, Option<Vec<u8>>)> {
    let mut body = RequestBody::new(body);
    let multipart = req.content_type().is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<AnnouncementForm>::from_request(req, &mut body).await?;
        return Ok((form, None));
    }
    let mut fields = Multipart::from_request(req, &mut body).await?;
    let (mut form, mut photo) = (AnnouncementForm::default(), None);
    while let Some(field) = fields.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "photo" => photo = Some(field.bytes().await?).filter(|bytes| !bytes.is_empty()),
            "body" => form.body = field.text().await?,
            "urgent" => form.urgent = Some(field.text().await?),
            "service" => form.service = field.text().await?,
            "plots" => form.plots = field.text().await?,
            "debt_above" => form.debt_above = field.text().await?,
            "unread" => form.unread = Some(field.text().await?),
            _ => {}
        }
    }
    Ok((form, photo))
}

#[handler]
pub async fn send(user: Admin, session: &Session, ctx: Data<&Context>, req: &Request, body: Body) -> Result<Response> {
    let (form, photo) = read_form(req, body).await?;
    // The photo goes through the meter photos' intake (bounds, decoding on a heavy-work thread).
    let photo_id = match photo {
        Some(bytes) => match photos::store(&ctx, bytes).await {
            Ok(stored) => Some(stored.id),
            Err(StoreError::Internal(e)) => return Err(internal(e)),
            Err(refused) => {
                // Shown above the form: the photo's field comes back only with the count.
                let errors = Errors::form(format!("Фото: {refused}"));
                return Ok(invalid(announcements_page(&user, &ctx, &form, &errors, None).await?));
            }
        },
        None => None,
    };
    let (context, actor): (&Context, _) = (&ctx, user.actor());
    let sent =
        store(
            form.parse(),
            |draft| async move { announcements::send_with_photo(context, &draft, photo_id, actor).await },
        );
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
                    td class=(fate_class(&r.fate)) {
                        (r.fate.label())
                        @if let Fate::Delivered(at) = r.fate { " " (moment_text(&ctx, at)) }
                    }
                }
            })))
        },
    ))
}
