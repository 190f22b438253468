//! The admin's replacement and rollover forms: what they show, and what they read.

use chrono::NaiveDate;
use domain::{MeterValue, Zone};
use entities::meter;
use maud::{Markup, html};
use serde::Deserialize;
use service::dates::{parse_date, parse_optional_date};
use service::meters::Replacement;

use crate::forms::{Errors, date_field, field, meter_value_field, optional, required_text_field, text_field};
use crate::layout::csrf_input;

/// One value input per register: the single or day one as `names[0]`, the night one as `names[1]`.
fn register_fields(errors: &Errors, zones: &[Zone], label: &str, fields: [(&str, &str); 2]) -> Markup {
    html! {
        @for (zone, (name, value)) in zones.iter().zip(fields) {
            (meter_value_field(errors, name, &format!("{label} ({})", zone.label().to_lowercase()), value))
        }
    }
}

/// The values of [`register_fields`], one per register, or their errors noted.
fn register_values(errors: &mut Errors, zones: &[Zone], fields: [(&'static str, &str); 2]) -> Vec<MeterValue> {
    zones.iter().zip(fields).filter_map(|(_, (name, text))| errors.check(name, MeterValue::parse(text))).collect()
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReplaceForm {
    final_t1: String,
    final_t2: String,
    replaced_on: String,
    serial: String,
    initial_t1: String,
    initial_t2: String,
    seal_number: String,
    verification_due: String,
    reason: String,
}

impl ReplaceForm {
    /// An empty form dated `day` (as a date input's value).
    pub(super) fn on(day: String) -> ReplaceForm {
        ReplaceForm { replaced_on: day, ..ReplaceForm::default() }
    }

    pub(super) fn parse(&self, meter: &meter::Model) -> Result<Replacement, Errors> {
        let mut e = Errors::default();
        let zones = meter.zone_list();
        let final_values = register_values(&mut e, zones, [("final_t1", &self.final_t1), ("final_t2", &self.final_t2)]);
        let replaced_on = e.check("replaced_on", parse_date(&self.replaced_on));
        let initial =
            register_values(&mut e, zones, [("initial_t1", &self.initial_t1), ("initial_t2", &self.initial_t2)]);
        let verification_due = e.check("verification_due", parse_optional_date(&self.verification_due));
        match (replaced_on, verification_due) {
            (Some(on), Some(due)) if e.is_empty() => Ok(Replacement {
                meter_id: meter.id,
                final_values,
                final_taken_on: on,
                new_serial: self.serial.clone(),
                new_initial_values: initial,
                new_seal_number: optional(&self.seal_number),
                new_verification_due: due,
                reason: self.reason.clone(),
            }),
            _ => Err(e),
        }
    }
}

pub(super) fn replace_form(csrf: &str, m: &meter::Model, form: &ReplaceForm, errors: &Errors) -> Markup {
    let zones = m.zone_list();
    html! {
        p.muted { "Снимаемый счётчик закрывается конечным показанием, новый начинает учёт со своих начальных показаний. Расход месяца замены — сумма по обоим." }
        (errors.banner())
        form.stack method="post" action={ "/meters/" (m.id) "/replace" } {
            (csrf_input(csrf))
            fieldset {
                legend { "Снимаемый счётчик № " (m.serial) }
                (register_fields(errors, zones, "Конечное показание", [("final_t1", &form.final_t1), ("final_t2", &form.final_t2)]))
                (date_field(errors, "replaced_on", "Дата замены", &form.replaced_on))
            }
            fieldset {
                legend { "Новый счётчик" }
                (required_text_field(errors, "serial", "Заводской номер", &form.serial))
                (register_fields(errors, zones, "Начальное показание", [("initial_t1", &form.initial_t1), ("initial_t2", &form.initial_t2)]))
                (text_field(errors, "seal_number", "Номер пломбы", &form.seal_number))
                (date_field(errors, "verification_due", "Срок поверки", &form.verification_due))
            }
            (required_text_field(errors, "reason", "Причина замены", &form.reason))
            button type="submit" { "Заменить счётчик" }
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RolloverForm {
    digits: String,
    rollover_t1: String,
    rollover_t2: String,
    rollover_on: String,
}

/// A rollover as typed: the display's whole digits, the values after it, the day.
pub(super) struct Rollover {
    pub digits: u32,
    pub values: Vec<MeterValue>,
    pub on: NaiveDate,
}

impl RolloverForm {
    /// An empty form dated `day` (as a date input's value).
    pub(super) fn on(day: String) -> RolloverForm {
        RolloverForm { rollover_on: day, ..RolloverForm::default() }
    }

    pub(super) fn parse(&self, meter: &meter::Model) -> Result<Rollover, Errors> {
        let mut e = Errors::default();
        let digits =
            e.check("digits", self.digits.trim().parse().map_err(|_| "Укажите число цифр до запятой, например 5."));
        let values = register_values(
            &mut e,
            meter.zone_list(),
            [("rollover_t1", &self.rollover_t1), ("rollover_t2", &self.rollover_t2)],
        );
        let on = e.check("rollover_on", parse_date(&self.rollover_on));
        match (digits, on) {
            (Some(digits), Some(on)) if e.is_empty() => Ok(Rollover { digits, values, on }),
            _ => Err(e),
        }
    }
}

pub(super) fn rollover_form(csrf: &str, m: &meter::Model, form: &RolloverForm, errors: &Errors) -> Markup {
    html! {
        p.muted {
            "Табло дошло до максимума (99999…) и пошло с нуля. Учёт до перехода закроется на максимуме, "
            "после — продолжится с нуля: расход = (максимум − предыдущее) + новое показание. "
            "У двухтарифного счётчика через ноль переходит только та шкала, чьё показание меньше прежнего."
        }
        (errors.banner())
        form.stack method="post" action={ "/meters/" (m.id) "/rollover" } {
            (csrf_input(csrf))
            (field(errors, "digits", "Цифр до запятой на табло", html! {
                input #digits type="number" name="digits" min="1" max="9" value=(form.digits) required;
            }))
            (register_fields(errors, m.zone_list(), "Показание после перехода", [("rollover_t1", &form.rollover_t1), ("rollover_t2", &form.rollover_t2)]))
            (date_field(errors, "rollover_on", "Дата показания", &form.rollover_on))
            button type="submit" { "Записать переход через ноль" }
        }
    }
}
