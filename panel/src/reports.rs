//! Reports for accounting: the monthly report of a chosen month and the full database export,
//! both downloaded as xlsx files (built by the `reports` crate), and the closed months: an
//! accountant or admin closes an ended month, an admin reopens one with a reason.

use domain::Period;
use entities::closed_period;
use maud::{Markup, html};
use poem::http::header;
use poem::session::Session;
use poem::web::Form;
use poem::web::{Data, Query};
use poem::{Response, Result, handler};
use reports::ReportError;
use serde::Deserialize;
use service::Context;
use service::ledger::months;

use crate::auth::{Admin, OfficeStaff};
use crate::error::internal;
use crate::forms::{Errors, done, invalid, period_field, text_field};
use crate::layout::{Viewer, csrf_input};
use crate::{PanelConfig, layout};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn reports_page(user: &Viewer, period: &str, errors: &Errors, closed: &[closed_period::Model]) -> Markup {
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
            h2 { "Закрытые месяцы" }
            p.muted {
                "Закрытый месяц не меняется: поздние показания, исправления и тарифы задним числом "
                "идут перерасчётом в первый открытый месяц. Месяц закрывается сам, когда подходит срок его отчёта "
                "бухгалтерии: отчёт строится уже по закрытому месяцу."
            }
            @if closed.is_empty() {
                p { "Закрытых месяцев нет: все месяцы открыты." }
            } @else {
                table {
                    thead { tr { th { "Месяц" } th { "Состояние" } th { "Закрыт" } th { "Как" } } }
                    tbody {
                        // Newest first; closing a month closes every one before it, so what
                        // follows the newest closed month is open.
                        tr {
                            td { (closed[0].period.next().russian()) " и далее" }
                            td { "открыт" }
                            td { "—" }
                            td { "сюда идут поздние показания и перерасчёты" }
                        }
                        @for c in closed {
                            tr {
                                td { (c.period.russian()) }
                                td { "закрыт" }
                                td { (c.closed_at.format("%d.%m.%Y %H:%M")) " UTC" }
                                td { (closed_how(&c.how)) }
                            }
                        }
                    }
                }
            }
            form.stack method="post" action="/reports/close" {
                (csrf_input(&user.csrf))
                (period_field(errors, "close_period", "Закрыть месяц (и все открытые до него)", ""))
                button type="submit" { "Закрыть месяц" }
            }
            @if user.role() == domain::Role::Admin {
                form.stack method="post" action="/reports/reopen" {
                    (csrf_input(&user.csrf))
                    (period_field(errors, "reopen_period", "Открыть заново (и все закрытые после него)", ""))
                    (text_field(errors, "reason", "Причина", ""))
                    button type="submit" { "Открыть заново" }
                }
            }
        },
    )
}

fn closed_how(how: &str) -> &'static str {
    match how {
        "report" => "для отчёта бухгалтерии",
        "panel" => "вручную",
        "cascade" => "вместе с более поздним",
        _ => "при обновлении",
    }
}

async fn closed(ctx: &Context) -> Result<Vec<closed_period::Model>> {
    months::list(ctx.db.conn()).await.map_err(internal)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    close_period: String,
}

#[handler]
pub async fn close(
    user: OfficeStaff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<CloseForm>,
) -> Result<Response> {
    let mut errors = Errors::default();
    if let Some(period) = errors.check("close_period", Period::parse(&form.close_period)) {
        match months::close(&ctx, period, user.actor()).await {
            Ok(()) => return Ok(done(session, format!("Месяц {} закрыт.", period.russian()), "/reports")),
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    let page = reports_page(&user, &ctx.current_period().prev().to_string(), &errors, &closed(&ctx).await?);
    Ok(invalid(page))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReopenForm {
    reopen_period: String,
    reason: String,
}

#[handler]
pub async fn reopen(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ReopenForm>,
) -> Result<Response> {
    let mut errors = Errors::default();
    if let Some(period) = errors.check("reopen_period", Period::parse(&form.reopen_period)) {
        match months::reopen(&ctx, period, &form.reason, user.actor()).await {
            Ok(()) => return Ok(done(session, format!("Месяц {} открыт заново.", period.russian()), "/reports")),
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    let page = reports_page(&user, &ctx.current_period().prev().to_string(), &errors, &closed(&ctx).await?);
    Ok(invalid(page))
}

/// The month just finished is the one accounting usually wants.
#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>) -> Result<Markup> {
    Ok(reports_page(&user, &ctx.current_period().prev().to_string(), &Errors::default(), &closed(&ctx).await?))
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
    Ok(invalid(reports_page(&user, &query.period, &errors, &closed(&ctx).await?)))
}

#[handler]
pub async fn export(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    match reports::full_export(&ctx).await {
        Ok(bytes) => Ok(attachment(bytes, &reports::export_file_name(ctx.today()))),
        Err(e) => Err(internal(e)),
    }
}
