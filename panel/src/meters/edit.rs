//! Editing a meter's serial, seal and verification date.

use entities::meter;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::dates::parse_optional_date;
use service::register::cards::MeterInfo;
use service::register::changes::{self, MeterDetails};

use super::page::{load, meter_crumbs};
use crate::auth::Admin;
use crate::forms::{Errors, date_field, date_value, done, invalid, optional, required_text_field, store, text_field};
use crate::layout::{self, csrf_input};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MeterForm {
    serial: String,
    seal_number: String,
    seal_checked_on: String,
    verification_due: String,
}

impl MeterForm {
    fn of(meter: &meter::Model) -> MeterForm {
        MeterForm {
            serial: meter.serial.clone(),
            seal_number: meter.seal_number.clone().unwrap_or_default(),
            seal_checked_on: meter.seal_checked_on.map(date_value).unwrap_or_default(),
            verification_due: meter.verification_due.map(date_value).unwrap_or_default(),
        }
    }

    fn parse(&self) -> Result<MeterDetails, Errors> {
        let mut errors = Errors::default();
        let seal_checked_on = errors.check("seal_checked_on", parse_optional_date(&self.seal_checked_on));
        let verification_due = errors.check("verification_due", parse_optional_date(&self.verification_due));
        match (seal_checked_on, verification_due) {
            (Some(seal_checked_on), Some(verification_due)) => Ok(MeterDetails {
                serial: self.serial.clone(),
                seal_number: optional(&self.seal_number),
                seal_checked_on,
                verification_due,
            }),
            _ => Err(errors),
        }
    }
}

fn edit_page(user: &Admin, info: &MeterInfo, form: &MeterForm, errors: &Errors) -> Markup {
    let id = info.meter.id;
    layout::page(
        user,
        &format!("Счётчик № {}: изменить", info.meter.serial),
        html! {
            (meter_crumbs(info))
            p.muted { "Начальные показания и число шкал не меняют: по ним посчитаны начисления. Новый счётчик — новый договор или замена." }
            (errors.banner())
            form.stack method="post" action={ "/meters/" (id) } {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "serial", "Заводской номер", &form.serial))
                (text_field(errors, "seal_number", "Номер пломбы", &form.seal_number))
                (date_field(errors, "seal_checked_on", "Пломба проверена", &form.seal_checked_on))
                (date_field(errors, "verification_due", "Срок поверки", &form.verification_due))
                button type="submit" { "Сохранить" }
            }
        },
    )
}

#[handler]
pub async fn edit(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let info = load(&ctx, id).await?;
    Ok(edit_page(&user, &info, &MeterForm::of(&info.meter), &Errors::default()))
}

#[handler]
pub async fn update(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<MeterForm>,
) -> Result<Response> {
    let info = load(&ctx, id).await?;
    match store(form.parse(), |details| changes::update_meter(&ctx, id, details, user.actor())).await? {
        Ok(meter) => Ok(done(session, format!("Счётчик № {} сохранён.", meter.serial), format!("/meters/{id}"))),
        Err(errors) => Ok(invalid(edit_page(&user, &info, &form, &errors))),
    }
}
