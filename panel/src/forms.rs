//! Forms: labelled fields that keep what the user typed and show the error next to it, the
//! inputs for money, dates and months, and the two endings of a submission (redirect with a
//! flash message, or the same form again with the errors).

use std::fmt::Display;

use domain::{LossMethod, PaymentSource, ReadingSource, ReadingStatus, Role, Service, TariffPlan, Zone};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::Redirect;
use poem::{IntoResponse, Response};

use crate::error::{Refusal, refusal};
use crate::layout::{Flash, form_error};

/// What was wrong with a submitted form: per field, and for the form as a whole.
#[derive(Debug, Default)]
pub struct Errors {
    form: Option<String>,
    fields: Vec<(&'static str, String)>,
}

impl Errors {
    /// An error about the whole form (a refusal from the service layer).
    pub fn form(message: impl Into<String>) -> Errors {
        Errors { form: Some(message.into()), fields: Vec::new() }
    }

    /// Takes the value of a parsed field, or notes its error under `field`.
    pub fn check<T, E: Display>(&mut self, field: &'static str, parsed: Result<T, E>) -> Option<T> {
        parsed.map_err(|e| self.fields.push((field, e.to_string()))).ok()
    }

    /// A service's refusal, next to the field it is about; internal failures become a 500 page.
    pub fn refused(e: impl Refusal) -> poem::Result<Errors> {
        let field = e.field();
        let message = refusal(e)?;
        Ok(match field {
            Some(field) => Errors { form: None, fields: vec![(field, message)] },
            None => Errors::form(message),
        })
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.fields.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.form.is_none() && self.fields.is_empty()
    }

    /// Whether `field` has an error (a folded form opens to show it).
    pub fn has(&self, field: &str) -> bool {
        self.of(field).is_some()
    }

    fn of(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|(name, _)| *name == field).map(|(_, message)| message.as_str())
    }

    /// The banner above the form: the form's error, or a pointer to the fields' errors.
    pub fn banner(&self) -> Markup {
        let fields = (!self.fields.is_empty()).then_some("Исправьте ошибки в отмеченных полях.");
        form_error(self.form.as_deref().or(fields))
    }
}

/// A label, an input and the input's error.
pub fn field(errors: &Errors, name: &str, label: &str, input: Markup) -> Markup {
    let error = errors.of(name);
    html! {
        div class=(if error.is_some() { "field invalid" } else { "field" }) {
            label for=(name) { (label) }
            (input)
            @if let Some(error) = error { p.field-error { (error) } }
        }
    }
}

pub fn text_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    field(errors, name, label, html! { input id=(name) type="text" name=(name) value=(value); })
}

pub fn required_text_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    field(errors, name, label, html! { input id=(name) type="text" name=(name) value=(value) required; })
}

pub fn password_field(errors: &Errors, name: &str, label: &str) -> Markup {
    let min = service::access::staff::MIN_PASSWORD_LEN;
    field(
        errors,
        name,
        label,
        html! { input id=(name) type="password" name=(name) autocomplete="new-password" minlength=(min) required; },
    )
}

pub fn textarea_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    field(errors, name, label, html! { textarea id=(name) name=(name) rows="3" { (value) } })
}

/// Rubles and kopecks as people type them (`1 234,56`), parsed with `Kopecks::parse_*`.
pub fn money_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    let input = html! {
        input id=(name) type="text" name=(name) value=(value) inputmode="decimal" placeholder="1 234,56"
            autocomplete="off" required;
    };
    field(errors, name, label, input)
}

/// A meter register's value, parsed with `MeterValue::parse`.
pub fn meter_value_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    let input = html! {
        input id=(name) type="text" name=(name) value=(value) inputmode="decimal" placeholder="12345,6" autocomplete="off";
    };
    field(errors, name, label, input)
}

/// A calendar date; browsers send `YYYY-MM-DD`, typed `ДД.ММ.ГГГГ` is accepted too.
pub fn date_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    field(errors, name, label, html! { input id=(name) type="date" name=(name) value=(value); })
}

/// A billing month; browsers send `YYYY-MM`, which is how `Period` is written.
pub fn period_field(errors: &Errors, name: &str, label: &str, value: &str) -> Markup {
    field(errors, name, label, html! { input id=(name) type="month" name=(name) value=(value) placeholder="2026-03"; })
}

pub fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    html! { label.check { input type="checkbox" name=(name) value="on" checked[checked]; " " (label) } }
}

/// A closed vocabulary offered in a `<select>`: the domain's enums.
pub trait Choice: Copy + 'static {
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;
}

macro_rules! choices {
    ($($t:ty),+) => {$(
        impl Choice for $t {
            const ALL: &'static [Self] = <$t>::ALL;
            fn code(self) -> &'static str {
                <$t>::code(self)
            }
            fn label(self) -> &'static str {
                <$t>::label(self)
            }
        }
    )+};
}
choices!(Service, TariffPlan, Zone, ReadingSource, ReadingStatus, Role, PaymentSource, LossMethod);

/// The options of a vocabulary, the one whose code is `selected` chosen; `any` labels an empty
/// first option (for filters and optional fields).
pub fn options<C: Choice>(selected: &str, any: Option<&str>) -> Markup {
    html! {
        @if let Some(any) = any { option value="" { (any) } }
        @for choice in C::ALL {
            option value=(choice.code()) selected[choice.code() == selected] { (choice.label()) }
        }
    }
}

pub fn select_field<C: Choice>(errors: &Errors, name: &str, label: &str, selected: &str) -> Markup {
    field(errors, name, label, html! { select id=(name) name=(name) { (options::<C>(selected, None)) } })
}

/// A vocabulary member from its code; an empty string is none.
pub fn parse_choice<C: Choice>(code: &str) -> Result<Option<C>, String> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    C::ALL.iter().copied().find(|c| c.code() == code).map(Some).ok_or_else(|| format!("Неизвестное значение «{code}»."))
}

/// A required vocabulary member from its code.
pub fn require_choice<C: Choice>(code: &str) -> Result<C, String> {
    parse_choice(code)?.ok_or_else(|| "Выберите значение из списка.".to_owned())
}

/// The end of a successful submission: a message on the next page, and the browser sent there
/// (so reloading it does not submit again).
pub fn done(session: &Session, message: impl Into<String>, to: impl Into<String>) -> Response {
    Flash::success(session, message);
    Redirect::see_other(to.into()).into_response()
}

/// Stores a form that parsed with `store`: what was stored, or the errors to show the form again
/// with (its own, or the service's refusal next to the field it is about). Internal failures
/// become a 500 page.
pub async fn store<D, T, E: Refusal, F: Future<Output = Result<T, E>>>(
    parsed: Result<D, Errors>,
    store: impl FnOnce(D) -> F,
) -> poem::Result<Result<T, Errors>> {
    match parsed {
        Ok(details) => match store(details).await {
            Ok(stored) => Ok(Ok(stored)),
            Err(e) => Ok(Err(Errors::refused(e)?)),
        },
        Err(errors) => Ok(Err(errors)),
    }
}

/// A form shown again with its errors and the user's input.
pub fn invalid(page: Markup) -> Response {
    page.into_response().with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response()
}

/// An optional text field: blank is none.
pub fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A date for a date input's `value`.
pub fn date_value(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A date as Russians write it.
pub fn date_text(date: chrono::NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// A moment in the cooperative's time zone, as Russians write it.
pub fn moment_text(ctx: &service::Context, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&ctx.settings.tz).format("%d.%m.%Y %H:%M").to_string()
}
