//! Reading one meter: values, seal, comment and a photo in one multipart form.
//!
//! The same form is posted two ways. Without a script, a refused form comes back with the
//! message and everything typed kept. The phone's script (`web/app.js`) queues the reading and
//! posts it later, whole, with `Accept: application/json`, the time it was taken and a key made
//! on the phone; it is answered in JSON ([`script_answer`]) and nothing is re-rendered.
//!
//! A file input cannot be re-filled, so once a photo is stored it travels on by its id in a
//! hidden field; this is what lets the user confirm an unusual jump without uploading the photo
//! again. The session remembers which photo the form uploaded ([`Evidence`]), so the hidden field
//! can name no other.

use domain::{MeterValue, ReadingSource, ReadingStatus, Zone};
use maud::{Markup, html};
use poem::http::{StatusCode, header};
use poem::session::Session;
use poem::web::{Data, Json, Multipart, Path, Redirect};
use poem::{IntoResponse, Request, Response, Result, handler};
use serde::{Deserialize, Serialize};
use serde_json::json;
use service::Context;
use service::meters::photos;
use service::readings::{self, Recorded, Submission, SubmitError};
use service::register::cards::{self, MeterCard};

use super::walk::plot_url;
use super::{page, values_text};
use crate::auth::FieldStaff;
use crate::error::{found, internal, not_found, refusal};
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
    /// When the phone's script queued the reading (RFC 3339); the server's now if not given.
    taken_at: Option<String>,
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
                "taken_at" => post.taken_at = Some(field.text().await?),
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

#[handler]
pub async fn form(user: FieldStaff, ctx: Data<&Context>, Path(meter_id): Path<i64>) -> Result<Markup> {
    let card = found(cards::meter_card(ctx.db.conn(), meter_id).await)?;
    Ok(form_screen(&user, &card, &ReadingInput::fresh(), None))
}

#[handler]
pub async fn submit(
    user: FieldStaff,
    session: &Session,
    ctx: Data<&Context>,
    Path(meter_id): Path<i64>,
    req: &Request,
    multipart: Multipart,
) -> Result<Response> {
    let from_script = req.header(header::ACCEPT).is_some_and(|accept| accept.contains("application/json"));
    let card = match cards::meter_card(ctx.db.conn(), meter_id).await.map_err(internal)? {
        Some(card) => card,
        // A queued reading of a meter replaced or deleted meanwhile.
        None if from_script => {
            let post = ReadingPost::read(multipart).await?;
            return without_card(&ctx, &user, meter_id, post.input.key).await;
        }
        None => return Err(not_found()),
    };
    let mut post = ReadingPost::read(multipart).await?;
    if from_script {
        let outcome = save(&ctx, session, &user, &card, &mut post).await?;
        return Ok(script_answer(&card, outcome, post.input.photo_id));
    }
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

/// The answer to the phone's script: `stored` (now, or earlier under the same key: `duplicate`),
/// `confirm` with the warning about an unusual jump and the photo already stored (sent again with
/// `confirmed`, the same key and that `photo_id`, so the photo does not travel twice over a weak
/// signal), or `refused` with the message the controller sees on the queued item.
fn script_answer(card: &MeterCard, outcome: Outcome, photo_id: Option<i64>) -> Response {
    match outcome {
        Outcome::Saved(recorded) => script_stored(saved_message(card, &recorded), &recorded),
        Outcome::Confirm(warning) => Json(json!({"outcome": "confirm", "message": warning, "photo_id": photo_id}))
            .with_status(StatusCode::CONFLICT)
            .into_response(),
        Outcome::Refused(message) => script_refusal(message),
    }
}

fn script_stored(message: String, recorded: &Recorded) -> Response {
    Json(json!({
        "outcome": "stored",
        "message": message,
        "reading_id": recorded.reading.id,
        "duplicate": recorded.duplicate,
    }))
    .into_response()
}

fn script_refusal(message: String) -> Response {
    Json(json!({"outcome": "refused", "message": message}))
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response()
}

/// The script's answer for a meter with no card to read it on (removed, its contract closed, or
/// unknown): the reading stored before that under the item's key, or why not, in the service's
/// words, for the queued item.
async fn without_card(ctx: &Context, user: &FieldStaff, meter_id: i64, key: String) -> Result<Response> {
    let submission = Submission {
        idempotency_key: Some(key),
        ..Submission::new(meter_id, Vec::new(), ReadingSource::ControllerWeb, user.actor())
    };
    match readings::already_recorded(ctx, &submission).await {
        Ok(Some(reading)) => {
            let recorded = Recorded { reading, duplicate: true };
            return Ok(script_stored("Показание уже было сохранено.".into(), &recorded));
        }
        Ok(None) => {}
        Err(e) => return Ok(script_refusal(refusal(e)?)),
    }
    let message = match readings::check(ctx, &submission).await {
        Err(e @ (SubmitError::MeterRemoved | SubmitError::ContractClosed | SubmitError::Internal(_))) => refusal(e)?,
        _ => SubmitError::UnknownMeter.to_string(),
    };
    Ok(script_refusal(message))
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
    let mut submission = Submission {
        seal_intact: post.input.seal_intact,
        comment: Some(post.input.comment.clone()),
        idempotency_key: Some(post.input.key.clone()),
        confirmed: post.confirmed,
        ..Submission::new(card.meter.id, values, ReadingSource::ControllerWeb, user.actor())
    };
    // A repeat is answered with what was stored, whatever else it carries: a retry a week late
    // of a reading stored on time is no refusal, nor one whose photo the phone has let go.
    match readings::already_recorded(ctx, &submission).await {
        Ok(Some(reading)) => return Ok(Outcome::Saved(Recorded { reading, duplicate: true })),
        Ok(None) => {}
        Err(e) => return Ok(Outcome::Refused(refusal(e)?)),
    }
    let has_photo = post.photo.is_some() || post.input.photo_id.is_some();
    if let Err(e) = readings::check_evidence(ReadingSource::ControllerWeb, submission.seal_intact, has_photo) {
        return Ok(Outcome::Refused(refusal(e)?));
    }
    let now = ctx.now();
    match post.taken_at.as_deref().map(|time| domain::parse_taken_at(time, now)).transpose() {
        Ok(taken_at) => submission.taken_at = taken_at,
        Err(e) => return Ok(Outcome::Refused(e.to_string())),
    }
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
            // `reading` and the data attributes are for the script, which queues the form on the phone.
            form.reading method="post" action=(form_url(card)) enctype="multipart/form-data"
                data-plot={ "Участок " (card.plot_number) } data-meter={ (card.contract.service) ", счётчик " (card.meter.serial) }
                data-back=(plot_url(card.contract.plot_id)) {
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
