//! The акт сверки from the contract and consumer pages: a form of two dates (1 January → today
//! at first) that downloads the xlsx; a bad range comes back as the form with the reason (422).

use maud::{Markup, html};
use poem::web::{Data, Path, Query};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::ledger::act::{ActError, ActRange, ActScope};

use crate::auth::OfficeStaff;
use crate::error::not_found;
use crate::forms::{Errors, date_field, date_value, invalid};
use crate::layout;
use crate::reports::{attachment, refused};

/// The most of a typed date shown again with its error.
const MAX_TYPED: usize = 40;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActQuery {
    from: String,
    to: String,
}

/// The form on a contract's or consumer's page, filled with `from` and `to`.
pub fn form(action: &str, errors: &Errors, from: &str, to: &str) -> Markup {
    html! {
        h2 { "Акт сверки" }
        (errors.banner())
        form.inline method="get" action=(action) {
            (date_field(errors, "from", "С", from))
            (date_field(errors, "to", "По", to))
            button.secondary type="submit" { "Скачать акт сверки (xlsx)" }
        }
    }
}

/// The form's first dates: this year so far.
pub fn default_form(ctx: &Context, action: &str) -> Markup {
    let range = ActRange::this_year(ctx.today());
    form(action, &Errors::default(), &date_value(range.from()), &date_value(range.to()))
}

#[handler]
pub async fn contract(
    user: OfficeStaff,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Query(query): Query<ActQuery>,
) -> Result<Response> {
    download(&user, &ctx, ActScope::Contract(id), &format!("/contracts/{id}/akt"), &query).await
}

#[handler]
pub async fn consumer(
    user: OfficeStaff,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Query(query): Query<ActQuery>,
) -> Result<Response> {
    download(&user, &ctx, ActScope::Consumer(id), &format!("/consumers/{id}/akt"), &query).await
}

async fn download(
    user: &OfficeStaff,
    ctx: &Context,
    scope: ActScope,
    action: &str,
    query: &ActQuery,
) -> Result<Response> {
    // No dates at all (a plain link): this year so far.
    let range = match (query.from.trim(), query.to.trim()) {
        ("", "") => Ok(ActRange::this_year(ctx.today())),
        (from, to) => ActRange::parse(from, to),
    };
    let errors = match range {
        Ok(range) => match ::reports::act_report(ctx, scope, range).await {
            Ok((act, bytes)) => return Ok(attachment(bytes, &::reports::act_file_name(&act))),
            Err(::reports::ActReportError::Act(ActError::NotFound)) => return Err(not_found()),
            Err(::reports::ActReportError::Act(e)) => Errors::refused(e)?,
            Err(::reports::ActReportError::Report(e)) => Errors::form(refused(e)?),
        },
        Err(e) => Errors::refused(e)?,
    };
    // What was typed goes back into the form, cut to what a date can be.
    let typed = |text: &str| text.chars().take(MAX_TYPED).collect::<String>();
    let page = layout::page(user, "Акт сверки", form(action, &errors, &typed(&query.from), &typed(&query.to)));
    Ok(invalid(page))
}
