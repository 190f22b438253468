//! «Баланс сети»: each line's month (supplied by its common meter, sold on its plots, losses),
//! the chart of losses by month and line, the general meeting's decisions, and the admin's
//! forms: a line with its common meter, a decision, sharing a month's losses. The rules are in
//! `service::network`; the common meters are read on `/m` and in the panel like any meter.

use chrono::NaiveDate;
use domain::network::{percent_text, units_text};
use domain::{LossMethod, MeterValue, Period, PlotNumber, Service};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Query};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::dates::parse_date;
use service::network::{self, Decision, LineBalance, NewLine};
use service::register::sign_up::NewMeter;

use crate::auth::{Admin, OfficeStaff};
use crate::error::internal;
use crate::forms::{
    Errors, checkbox, date_field, date_text, date_value, done, field, invalid, meter_value_field, period_field,
    require_choice, required_text_field, select_field, store, text_field,
};
use crate::layout::{self, Viewer, csrf_input};
use crate::lists::table;

pub const PATH: &str = "/network";

/// The most plots one line form may name: a street of a large cooperative, with room to spare.
const MAX_PLOTS: usize = 500;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MonthQuery {
    month: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LineForm {
    service: String,
    name: String,
    under_main: Option<String>,
    point: String,
    serial: String,
    installed_on: String,
    initial: String,
    plots: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    service: String,
    method: String,
    cap_percent: String,
    flag_percent: String,
    decided_on: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ShareForm {
    service: String,
    month: String,
    reason: String,
}

/// The forms as typed, kept across a refusal.
#[derive(Default)]
struct Forms {
    line: LineForm,
    decision: DecisionForm,
    share: ShareForm,
}

fn percent(input: &str, empty: Option<i32>) -> Result<Option<i32>, String> {
    let input = input.trim().trim_end_matches('%').trim();
    if input.is_empty() {
        return Ok(empty);
    }
    match input.parse::<i32>() {
        Ok(n) if (0..=100).contains(&n) => Ok(Some(n)),
        _ => Err(format!("«{}» — не процент: целое число от 0 до 100.", input.chars().take(20).collect::<String>())),
    }
}

impl LineForm {
    fn parse(&self) -> Result<NewLine, Errors> {
        let mut errors = Errors::default();
        let service = errors.check("service", require_choice::<Service>(&self.service));
        let point = errors.check("point", PlotNumber::parse(&self.point));
        let installed_on = errors.check("installed_on", parse_date(&self.installed_on));
        let initial = errors.check("initial", MeterValue::parse(&self.initial));
        let numbers: Vec<&str> = self.plots.split([',', ';', ' ', '\n']).filter(|s| !s.trim().is_empty()).collect();
        let plots = if numbers.len() > MAX_PLOTS {
            errors.add("plots", format!("Не больше {MAX_PLOTS} участков на линию."));
            None
        } else {
            errors.check("plots", numbers.into_iter().map(PlotNumber::parse).collect::<Result<Vec<_>, _>>())
        };
        match (service, point, installed_on, initial, plots) {
            (Some(service), Some(point), Some(installed_on), Some(initial), Some(plots)) if errors.is_empty() => {
                Ok(NewLine {
                    service,
                    name: self.name.clone(),
                    under_main: self.under_main.is_some(),
                    point,
                    meter: NewMeter {
                        serial: self.serial.clone(),
                        installed_on,
                        initial: vec![initial],
                        seal_number: None,
                        verification_due: None,
                    },
                    plots,
                })
            }
            _ => Err(errors),
        }
    }
}

impl DecisionForm {
    fn parse(&self) -> Result<(Service, Decision, NaiveDate), Errors> {
        let mut errors = Errors::default();
        let service = errors.check("service", require_choice::<Service>(&self.service));
        let method = errors.check("method", require_choice::<LossMethod>(&self.method));
        let cap = errors.check("cap_percent", percent(&self.cap_percent, None));
        let flag = errors.check("flag_percent", percent(&self.flag_percent, Some(network::DEFAULT_FLAG_PERCENT)));
        let decided_on = errors.check("decided_on", parse_date(&self.decided_on));
        match (service, method, cap, flag, decided_on) {
            (Some(service), Some(method), Some(cap_percent), Some(Some(flag_percent)), Some(on)) => {
                Ok((service, Decision { method, cap_percent, flag_percent, decided_on: Some(on) }, on))
            }
            _ => Err(errors),
        }
    }
}

impl ShareForm {
    fn parse(&self) -> Result<(Service, Period, Option<String>), Errors> {
        let mut errors = Errors::default();
        let service = errors.check("service", require_choice::<Service>(&self.service));
        let month = errors.check("month", Period::parse(&self.month));
        let reason = Some(self.reason.trim().to_owned()).filter(|r| !r.is_empty());
        match (service, month) {
            (Some(service), Some(month)) => Ok((service, month, reason)),
            _ => Err(errors),
        }
    }
}

fn balance_rows(balances: &[LineBalance]) -> Markup {
    table(
        &["Линия", "Счётчик", "Отпущено", "Продано", "Потери", "Потери, %", "Участков (не сняты)", ""],
        balances.iter().map(|b| {
            let unit = b.line.service.unit();
            html! {
                tr class=[b.flagged.then_some("flagged")] {
                    td { (b.line.service) ": " (b.line.name) @if b.line.parent_id.is_none() { " (главный)" } }
                    td { (b.point) }
                    @if b.interval.is_some() {
                        td.num { (units_text(b.balance.supplied)) " " (unit) }
                        td.num { (units_text(b.balance.sold)) " " (unit) }
                        td.num { (units_text(b.balance.losses())) " " (unit) }
                        td.num { (b.balance.losses_basis_points().map_or_else(|| "—".to_owned(), percent_text)) }
                    } @else {
                        td.muted colspan="4" { "общий счётчик в этом месяце не снят" }
                    }
                    td.num { (b.contracts) @if b.unread > 0 { " (" (b.unread) ")" } }
                    td { @if b.flagged { strong { "потери выше порога" } } }
                }
            }
        }),
    )
}

async fn network_page(user: &Viewer, ctx: &Context, month: Period, forms: &Forms, errors: &Errors) -> Result<Markup> {
    let conn = ctx.db.conn();
    let balances = network::balances(conn, ctx, month).await.map_err(internal)?;
    let decisions = network::decisions(conn).await.map_err(internal)?;
    let (prev, next) = (month.prev(), month.next());
    Ok(layout::page(
        user,
        "Баланс сети",
        html! {
            p {
                a href={ (PATH) "?month=" (prev) } { "← " (prev.russian()) } " · "
                strong { (month.russian()) } " · "
                a href={ (PATH) "?month=" (next) } { (next.russian()) " →" }
            }
            p.muted {
                "Отпущено — по общему счётчику линии между его показаниями, закрывающими прошлый и этот месяц; "
                "продано — по счётчикам участков линии за те же моменты (между показаниями участка — пропорционально времени). "
                "Участки, не снятые после показания общего счётчика, посчитаны по последнему показанию."
            }
            @if balances.is_empty() {
                p { "Общих счётчиков пока нет." }
            } @else {
                (balance_rows(&balances))
            }
            div.charts {
                img src="/charts/losses" alt="Потери в сетях по месяцам и линиям, %" width="900" height="400";
            }
            h2 { "Решения собрания о потерях" }
            (table(&["Услуга", "Способ", "Потолок", "Порог", "Принято"], decisions.iter().map(|d| html! {
                tr {
                    td { (d.service) }
                    td { (d.method) }
                    td.num { @if let Some(cap) = d.cap_percent { (cap) " %" } @else { "—" } }
                    td.num { (d.flag_percent) " %" }
                    td { (date_text(d.decided_on)) }
                }
            })))
            @if user.is_admin() {
                (errors.banner())
                h2 { "Распределить потери за месяц" }
                p.muted { "Потери главного счётчика по тарифу на день его показания делятся между участками способом, действующим на конец месяца; последняя копейка — наибольшему остатку. Повторно — только с причиной: в открытом месяце строки заменяются, в закрытом разница идёт в первый открытый месяц." }
                form.stack method="post" action={ (PATH) "/share" } {
                    (csrf_input(&user.csrf))
                    (select_field::<Service>(errors, "service", "Услуга", &forms.share.service))
                    (period_field(errors, "month", "Месяц", &forms.share.month))
                    (text_field(errors, "reason", "Причина (при повторном распределении)", &forms.share.reason))
                    button type="submit" { "Распределить" }
                }
                h2 { "Решение собрания" }
                form.stack method="post" action={ (PATH) "/decision" } {
                    (csrf_input(&user.csrf))
                    (select_field::<Service>(errors, "service", "Услуга", &forms.decision.service))
                    (select_field::<LossMethod>(errors, "method", "Как делить потери", &forms.decision.method))
                    (text_field(errors, "cap_percent", "Потолок, % от потребления участков (пусто — без потолка)", &forms.decision.cap_percent))
                    (text_field(errors, "flag_percent", "Порог отметки линии, % (пусто — 15)", &forms.decision.flag_percent))
                    (date_field(errors, "decided_on", "Дата решения", &forms.decision.decided_on))
                    button type="submit" { "Записать решение" }
                }
                h2 { "Общий счётчик" }
                form.stack method="post" action={ (PATH) "/lines" } {
                    (csrf_input(&user.csrf))
                    (select_field::<Service>(errors, "service", "Услуга", &forms.line.service))
                    (required_text_field(errors, "name", "Название линии", &forms.line.name))
                    (checkbox("under_main", "Линия (фидер, улица) под главным счётчиком", forms.line.under_main.is_some()))
                    (required_text_field(errors, "point", "Где стоит счётчик (как номер на карте: ТП-1, Л-3)", &forms.line.point))
                    (required_text_field(errors, "serial", "Заводской номер", &forms.line.serial))
                    (date_field(errors, "installed_on", "Установлен", &forms.line.installed_on))
                    (meter_value_field(errors, "initial", "Начальное показание", &forms.line.initial))
                    (field(errors, "plots", "Участки линии (через запятую)", html! {
                        textarea id="plots" name="plots" rows="2" { (forms.line.plots) }
                    }))
                    button type="submit" { "Добавить" }
                }
            }
        },
    ))
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<MonthQuery>) -> Result<Response> {
    let mut errors = Errors::default();
    let month = if query.month.trim().is_empty() {
        ctx.current_period()
    } else {
        errors.check("month", Period::parse(&query.month)).unwrap_or_else(|| ctx.current_period())
    };
    let forms = Forms {
        decision: DecisionForm { decided_on: date_value(ctx.today()), ..DecisionForm::default() },
        share: ShareForm { month: month.to_string(), ..ShareForm::default() },
        line: LineForm { installed_on: date_value(ctx.today()), ..LineForm::default() },
    };
    let page = network_page(&user, &ctx, month, &forms, &errors).await?;
    Ok(if errors.is_empty() { poem::IntoResponse::into_response(page) } else { invalid(page) })
}

async fn refused(user: &Admin, ctx: &Context, forms: Forms, errors: Errors) -> Result<Response> {
    Ok(invalid(network_page(user, ctx, ctx.current_period(), &forms, &errors).await?))
}

#[handler]
pub async fn add_line(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<LineForm>,
) -> Result<Response> {
    match store(form.parse(), |line| network::add_line(&ctx, line, user.actor())).await? {
        Ok(line) => {
            Ok(done(session, format!("Линия «{}» добавлена; её счётчик снимается как любой другой.", line.name), PATH))
        }
        Err(errors) => refused(&user, &ctx, Forms { line: form, ..Forms::default() }, errors).await,
    }
}

#[handler]
pub async fn decide(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<DecisionForm>,
) -> Result<Response> {
    let stored =
        store(form.parse(), |(service, decision, on)| network::decide(&ctx, service, decision, on, user.actor()));
    match stored.await? {
        Ok(d) => Ok(done(session, format!("{}: «{}» с {}.", d.service, d.method, date_text(d.decided_on)), PATH)),
        Err(errors) => refused(&user, &ctx, Forms { decision: form, ..Forms::default() }, errors).await,
    }
}

#[handler]
pub async fn share(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<ShareForm>,
) -> Result<Response> {
    let (context, actor): (&Context, _) = (&ctx, user.actor());
    let stored = store(form.parse(), |(service, month, reason)| async move {
        network::share(context, service, month, reason.as_deref(), actor).await
    });
    match stored.await? {
        Ok(shared) => {
            let message = format!(
                "Потери «{}» распределены: {} ({}), договоров с долей: {}.",
                shared.balance.line.name,
                shared.amount,
                shared.decision.method.label().to_lowercase(),
                shared.shares.len()
            );
            Ok(done(session, message, PATH))
        }
        Err(errors) => refused(&user, &ctx, Forms { share: form, ..Forms::default() }, errors).await,
    }
}
