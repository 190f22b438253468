//! Reading one meter: values, seal, comment and a photo in one multipart form.
//!
//! A refused form comes back with the message and everything typed kept. A file input cannot be
//! re-filled, so once a photo is stored it travels on by its id in a hidden field; this is what
//! lets the user confirm an unusual jump without uploading the photo again. The session remembers
//! which photo the form uploaded ([`Evidence`]), so the hidden field can name no other.

use domain::{MeterValue, ReadingSource, ReadingStatus, Zone};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Multipart, Path, Redirect};
use poem::{IntoResponse, Response, Result, handler};
use serde::{Deserialize, Serialize};
use service::meters::photos;
use service::readings::{Recorded, Submission, SubmitError};
use service::register::cards;
use service::register::cards::MeterCard;
use service::{Context, readings};

use super::walk::plot_url;
use super::{page, values_text};
use crate::auth::FieldStaff;
use crate::error::{found, refusal};
use crate::layout::{Flash, csrf_input, form_error};

/// What the form shows and sends back: kept across every re-render.
#[derive(Debug, Default)]
struct ReadingInput {
    /// As typed, one per register.
    values: Vec<String>,
    seal_intact: Option<bool>,
    comment: String,
    /// A photo already stored by an earlier submission of this form.
    photo_id: Option<i64>,
    /// Random per form: a double tap or a browser resubmit records once (the service scopes it
    /// to the meter and the controller).
    key: String,
}

impl ReadingInput {
    fn fresh() -> ReadingInput {
        ReadingInput { key: service::access::secrets::random_token(24), ..ReadingInput::default() }
    }
}

/// A submitted form.
#[derive(Debug, Default)]
struct ReadingPost {
    input: ReadingInput,
    /// The bytes of a newly chosen photo.
    photo: Option<Vec<u8>>,
    /// «Подтвердить» after the warning about an unusual jump.
    confirmed: bool,
    /// «Исправить» after that warning: back to the form, nothing submitted.
    edit: bool,
}

impl ReadingPost {
    async fn read(mut multipart: Multipart) -> Result<ReadingPost> {
        let mut post = ReadingPost::default();
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            match name.as_str() {
                "photo" => post.photo = Some(field.bytes().await?).filter(|bytes| !bytes.is_empty()),
                "value" => post.input.values.push(field.text().await?),
                "seal" => post.input.seal_intact = yes_no(&field.text().await?),
                "comment" => post.input.comment = field.text().await?,
                "photo_id" => post.input.photo_id = field.text().await?.parse().ok(),
                "key" => post.input.key = field.text().await?,
                "confirmed" => post.confirmed = field.text().await? == "true",
                "edit" => post.edit = field.text().await? == "true",
                _ => {}
            }
        }
        Ok(post)
    }
}

/// A photo a form uploaded, remembered in the controller's session with the form's meter and key:
/// only the same form on the same meter, by the same login, may attach it later by id. Without
/// this a crafted form could attach any stored photo, another meter's, as its evidence.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Evidence {
    meter_id: i64,
    key: String,
    photo_id: i64,
}

impl Evidence {
    const SESSION_KEY: &'static str = "reading-photos";
    /// The latest forms' photos are kept: enough for a few tabs and a resubmitted form, while
    /// the session stays small over a day's walk.
    const KEPT: usize = 8;

    fn remembered(session: &Session) -> Vec<Evidence> {
        session.get(Self::SESSION_KEY).unwrap_or_default()
    }

    fn remember(self, session: &Session) {
        let mut kept = Self::remembered(session);
        kept.retain(|e| (e.meter_id, &e.key) != (self.meter_id, &self.key));
        kept.push(self);
        let excess = kept.len().saturating_sub(Self::KEPT);
        kept.drain(..excess);
        session.set(Self::SESSION_KEY, kept);
    }

    fn is_remembered(&self, session: &Session) -> bool {
        Self::remembered(session).contains(self)
    }
}

fn yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

async fn meter(ctx: &Context, meter_id: i64) -> Result<MeterCard> {
    found(cards::meter_card(ctx.db.conn(), meter_id).await)
}

#[handler]
pub async fn form(user: FieldStaff, ctx: Data<&Context>, Path(meter_id): Path<i64>) -> Result<Markup> {
    let card = meter(&ctx, meter_id).await?;
    Ok(form_screen(&user, &card, &ReadingInput::fresh(), None))
}

#[handler]
pub async fn submit(
    user: FieldStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(meter_id): Path<i64>,
    multipart: Multipart,
) -> Result<Response> {
    let card = meter(&ctx, meter_id).await?;
    let mut post = ReadingPost::read(multipart).await?;
    if post.edit {
        return Ok(form_screen(&user, &card, &post.input, None).into_response());
    }
    Ok(match save(&ctx, session, &user, &card, &mut post).await? {
        Outcome::Saved(recorded) => {
            Flash::success(session, saved_message(&card, &recorded));
            Redirect::see_other(plot_url(card.contract.plot_id)).into_response()
        }
        Outcome::Confirm(warning) => confirm_screen(&user, &card, &post.input, &warning).into_response(),
        Outcome::Refused(message) => form_screen(&user, &card, &post.input, Some(&message))
            .with_status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response(),
    })
}

/// What became of a submitted form.
enum Outcome {
    /// Stored now, or earlier under the same idempotency key.
    Saved(Recorded),
    /// An unusual jump: the photo is stored, the reading waits for «Подтвердить».
    Confirm(String),
    /// Nothing stored; the message is for the user.
    Refused(String),
}

/// Checks the values before storing the photo, so that a refused reading leaves nothing behind.
/// On return `post.input.photo_id` holds the stored photo, for the next render.
async fn save(
    ctx: &Context,
    session: &Session,
    user: &FieldStaff,
    card: &MeterCard,
    post: &mut ReadingPost,
) -> Result<Outcome> {
    let values = match post.input.values.iter().map(|v| MeterValue::parse(v)).collect::<Result<Vec<_>, _>>() {
        Ok(values) => values,
        Err(e) => return Ok(Outcome::Refused(e.to_string())),
    };
    let has_photo = post.photo.is_some() || post.input.photo_id.is_some();
    if let Err(e) = readings::check_evidence(ReadingSource::ControllerWeb, post.input.seal_intact, has_photo) {
        return Ok(Outcome::Refused(refusal(e)?));
    }
    let mut submission = Submission {
        meter_id: card.meter.id,
        values,
        source: ReadingSource::ControllerWeb,
        actor: user.actor(),
        seal_intact: post.input.seal_intact,
        comment: Some(post.input.comment.clone()),
        photo_id: None,
        idempotency_key: Some(post.input.key.clone()),
        confirmed: post.confirmed,
        taken_at: None,
    };
    if let Err(e) = readings::check(ctx, &submission).await {
        return Ok(Outcome::Refused(refusal(e)?));
    }
    let evidence = |photo_id| Evidence { meter_id: card.meter.id, key: post.input.key.clone(), photo_id };
    let photo_id = match (post.photo.take(), post.input.photo_id) {
        (Some(bytes), _) => match photos::store(ctx, bytes).await {
            Ok(photo) => {
                evidence(photo.id).remember(session);
                photo.id
            }
            Err(e) => return Ok(Outcome::Refused(refusal(e)?)),
        },
        (None, Some(id)) if evidence(id).is_remembered(session) => id,
        (None, _) => {
            post.input.photo_id = None;
            return Ok(Outcome::Refused("Загруженное фото не найдено.".into()));
        }
    };
    post.input.photo_id = Some(photo_id);
    submission.photo_id = Some(photo_id);
    Ok(match readings::submit(ctx, submission).await {
        Ok(recorded) => Outcome::Saved(recorded),
        Err(SubmitError::NeedsConfirmation(warning)) => Outcome::Confirm(warning),
        Err(e) => Outcome::Refused(refusal(e)?),
    })
}

fn saved_message(card: &MeterCard, recorded: &Recorded) -> String {
    let reading = &recorded.reading;
    let values = values_text(card.meter.zone_list(), &reading.values());
    let review = if reading.status == ReadingStatus::Flagged {
        " Показание ушло на проверку администратору."
    } else {
        ""
    };
    format!("Сохранено: {} — {values} {}.{review}", card.title(), card.contract.service.unit())
}

/// «День» and «Ночь» on a two-register meter; a single register is just «Показание».
fn register(zones: &[Zone], zone: Zone) -> &'static str {
    if zones.len() > 1 { zone.label() } else { "Показание" }
}

fn form_url(card: &MeterCard) -> String {
    format!("/m/meters/{}/reading", card.meter.id)
}

/// The hidden fields every step of the form carries; the CSRF token first, so that the guard
/// finds it without parsing past the photo.
fn carried(user: &FieldStaff, input: &ReadingInput) -> Markup {
    html! {
        (csrf_input(&user.csrf))
        input type="hidden" name="key" value=(input.key);
        @if let Some(photo_id) = input.photo_id { input type="hidden" name="photo_id" value=(photo_id); }
    }
}

fn form_screen(user: &FieldStaff, card: &MeterCard, input: &ReadingInput, error: Option<&str>) -> Markup {
    let zones = card.meter.zone_list();
    let unit = card.contract.service.unit();
    page(
        user,
        &format!("Участок {}", card.plot_number),
        html! {
            p { b { (card.contract.service) ", счётчик " (card.meter.serial) } }
            p.muted { "Было: " (values_text(zones, &card.last_values())) " " (unit) }
            (form_error(error))
            @if error.is_some() && input.photo_id.is_none() {
                p.flash.warn { "Фото прикрепите заново: после ошибки браузер не сохраняет выбранный файл." }
            }
            form method="post" action=(form_url(card)) enctype="multipart/form-data" {
                (carried(user, input))
                @for (i, zone) in zones.iter().enumerate() {
                    label for={ "value" (i) } { (register(zones, *zone)) ", " (unit) }
                    input.value id={ "value" (i) } type="text" name="value" inputmode="decimal" autocomplete="off"
                        value=(input.values.get(i).map_or("", String::as_str)) required;
                }
                @if let Some(photo_id) = input.photo_id {
                    label for="photo" { "Фото счётчика (уже загружено, можно заменить)" }
                    img.photo src={ "/photos/" (photo_id) "/thumb" } alt="Загруженное фото счётчика";
                    input #photo type="file" name="photo" accept="image/*" capture="environment";
                } @else {
                    label for="photo" { "Фото счётчика с показаниями" }
                    input #photo type="file" name="photo" accept="image/*" capture="environment" required;
                }
                fieldset {
                    legend { "Пломба" }
                    div.choices {
                        label { input type="radio" name="seal" value="yes" checked[input.seal_intact == Some(true)] required; "Цела" }
                        label { input type="radio" name="seal" value="no" checked[input.seal_intact == Some(false)]; "Нарушена" }
                    }
                }
                label for="comment" { "Комментарий" }
                textarea #comment name="comment" rows="2" maxlength="500" { (input.comment) }
                button type="submit" { "Сохранить" }
            }
            a.button.secondary href=(plot_url(card.contract.plot_id)) { "Назад к участку" }
        },
    )
}

/// The warning about an unusual jump, with the values and the photo side by side to compare.
fn confirm_screen(user: &FieldStaff, card: &MeterCard, input: &ReadingInput, warning: &str) -> Markup {
    let zones = card.meter.zone_list();
    page(
        user,
        "Проверьте показание",
        html! {
            p.flash.warn role="alert" { (warning) }
            p { b { (card.title()) } }
            dl.values {
                @for (zone, value) in zones.iter().zip(&input.values) {
                    dt { (register(zones, *zone)) } dd { (value) " " (card.contract.service.unit()) }
                }
            }
            @if let Some(photo_id) = input.photo_id {
                img.photo src={ "/photos/" (photo_id) } alt="Фото счётчика";
            }
            form method="post" action=(form_url(card)) enctype="multipart/form-data" {
                (carried(user, input))
                @for value in &input.values { input type="hidden" name="value" value=(value); }
                @if let Some(intact) = input.seal_intact {
                    input type="hidden" name="seal" value=(if intact { "yes" } else { "no" });
                }
                input type="hidden" name="comment" value=(input.comment);
                button type="submit" name="confirmed" value="true" { "Подтвердить" }
                button.secondary type="submit" name="edit" value="true" { "Исправить" }
            }
        },
    )
}
