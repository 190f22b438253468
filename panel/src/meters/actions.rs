//! The forms posted from a meter's page: a photo for its gallery, its replacement or rollover, a
//! seal report closed. A refused form shows the page again with its errors and input.

use poem::session::Session;
use poem::web::{Data, Form, Multipart, Path};
use poem::{Response, Result, handler};
use service::Context;
use service::meters::seals::{self, Resolution, SealError};
use service::meters::{self};
use service::register::changes;

use super::page::{Forms, Posted, load, meter_page};
use super::swap::{ReplaceForm, RolloverForm};
use crate::auth::Admin;
use crate::forms::{Errors, done, invalid, optional};
use crate::seals::ResolveForm;

/// Stores an uploaded photo and files it in the meter's gallery.
#[handler]
pub async fn upload_photo(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let mut bytes = Vec::new();
    while let Some(part) = multipart.next_field().await? {
        if part.name() == Some("photo") {
            bytes = part.bytes().await?;
        }
    }
    let mut errors = Errors::default();
    if bytes.is_empty() {
        errors.add("photo", "Выберите файл с фотографией.");
    } else {
        match service::meters::photos::store(&ctx, bytes).await {
            Ok(photo) => match changes::add_meter_photo(&ctx, id, photo.id, user.actor()).await {
                Ok(_) => return Ok(done(session, "Фото добавлено.", format!("/meters/{id}"))),
                Err(e) => errors = Errors::refused(e)?,
            },
            Err(e) => {
                let message = crate::error::refusal(e)?;
                errors.add("photo", message);
            }
        }
    }
    let forms = Forms::posted(&ctx, Posted::Photo, errors);
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

#[handler]
pub async fn replace(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ReplaceForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let errors = match form.parse(&info.meter) {
        Ok(replacement) => match meters::replace(&ctx, replacement, user.id()).await {
            Ok(replaced) => {
                let (old, new) = (&replaced.old_meter, &replaced.new_meter);
                let message = format!("Счётчик № {} снят, установлен № {}.", old.serial, new.serial);
                return Ok(done(session, message, format!("/meters/{}", new.id)));
            }
            Err(e) => Errors::refused(e)?,
        },
        Err(errors) => errors,
    };
    let forms = Forms::posted(&ctx, Posted::Replace, errors).with_replace(form);
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

#[handler]
pub async fn rollover(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<RolloverForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let errors = match form.parse(&info.meter) {
        Ok(r) => match meters::rollover(&ctx, id, r.digits, r.values, r.on, user.id()).await {
            Ok(rolled) => {
                let message =
                    format!("Переход через ноль записан: счётчик № {} считает с нуля.", rolled.new_meter.serial);
                return Ok(done(session, message, format!("/meters/{}", rolled.new_meter.id)));
            }
            Err(e) => Errors::refused(e)?,
        },
        Err(errors) => errors,
    };
    let forms = Forms::posted(&ctx, Posted::Rollover, errors).with_rollover(form);
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}

/// Closes a seal report with the admin's note (see [`crate::seals::meter_section`]).
#[handler]
pub async fn resolve_seal(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    let resolution = Resolution { note: form.resolution.clone(), new_seal_number: optional(&form.seal_number) };
    let resolved = match form.event_id.trim().parse() {
        Ok(event_id) => seals::resolve(&ctx, event_id, resolution, user.id()).await,
        Err(_) => Err(SealError::UnknownEvent),
    };
    let errors = match resolved {
        Ok(_) => return Ok(done(session, "Сообщение о пломбе закрыто.", format!("/meters/{id}"))),
        Err(e) => Errors::refused(e)?,
    };
    let forms = Forms::posted(&ctx, Posted::Seal, errors).with_seal(form);
    Ok(invalid(meter_page(&user, &ctx, &info, 1, &forms).await?))
}
