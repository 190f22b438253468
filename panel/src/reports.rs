//! Reports for accounting: the monthly report of a chosen month and the full database export,
//! both downloaded as xlsx files (built by the `reports` crate).

use domain::Period;
use maud::{Markup, html};
use poem::http::header;
use poem::web::{Data, Query};
use poem::{Response, Result, handler};
use reports::ReportError;
use serde::Deserialize;
use service::Context;

use crate::auth::OfficeStaff;
use crate::error::internal;
use crate::forms::{Errors, invalid, period_field};
use crate::{PanelConfig, layout};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn reports_page(user: &OfficeStaff, period: &str, errors: &Errors) -> Markup {
    layout::page(
        user,
        "Отчёты",
        html! {
            h2 { "Отчёт за месяц" }
            p.muted { "Начисления, оплаты, задолженность и несданные показания за месяц — файл Excel для бухгалтерии." }
            (errors.banner())
            form.stack method="get" action="/reports/monthly" {
                (period_field(errors, "period", "Месяц", period))
                button type="submit" { "Скачать отчёт" }
            }
            h2 { "Выгрузка базы" }
            p.muted { "Все таблицы учёта на текущий момент, каждая на своём листе." }
            p { a.button href="/reports/export" { "Скачать выгрузку" } }
        },
    )
}

/// The month just finished is the one accounting usually wants.
#[handler]
pub fn show(user: OfficeStaff, ctx: Data<&Context>) -> Markup {
    reports_page(&user, &ctx.current_period().prev().to_string(), &Errors::default())
}

pub(crate) fn attachment(bytes: Vec<u8>, file_name: &str) -> Response {
    Response::builder()
        .content_type(XLSX)
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\""))
        .body(bytes)
}

/// A report that could not be built: the user's mistake goes back to the form.
pub(crate) fn refused(e: ReportError) -> Result<String> {
    match e {
        ReportError::Internal(e) => Err(internal(e)),
        e => Ok(e.to_string()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MonthlyQuery {
    period: String,
}

#[handler]
pub async fn monthly(
    user: OfficeStaff,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Query(query): Query<MonthlyQuery>,
) -> Result<Response> {
    let mut errors = Errors::default();
    if let Some(period) = errors.check("period", Period::parse(&query.period)) {
        match reports::monthly_report(&ctx, period, config.public_url.as_str()).await {
            Ok(bytes) => return Ok(attachment(bytes, &reports::monthly_report_file_name(period))),
            Err(e) => errors = Errors::form(refused(e)?),
        }
    }
    Ok(invalid(reports_page(&user, &query.period, &errors)))
}

#[handler]
pub async fn export(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    match reports::full_export(&ctx).await {
        Ok(bytes) => Ok(attachment(bytes, &reports::export_file_name(ctx.today()))),
        Err(e) => Err(internal(e)),
    }
}
