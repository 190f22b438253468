//! Contracts: the register's main list, a contract's page, signing a new one (consumer, plot,
//! contract and meter on one form), editing and closing.

use domain::{Kopecks, MeterValue, Phone, PlotNumber, Role, Service, TariffPlan};
use entities::consumer;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, Result, handler};
use sea_orm::EntityTrait;
use serde::Deserialize;
use service::dates::{parse_date, parse_optional_date};
use service::ledger::debt::Scope;
use service::ledger::payments::PaymentFilter;
use service::readings::history;
use service::readings::history::ReadingFilter;
use service::register::changes::ContractDetails;
use service::register::lists::ContractRow;
use service::register::sign_up::{ConsumerRef, NewMeter, SignUp};
use service::register::{changes, lists, sign_up};
use service::{Context, ledger};

use crate::auth::{Admin, Authorized, OfficeStaff, Policy};
use crate::error::{found, internal};
use crate::forms::{
    Errors, date_field, date_text, date_value, done, field, invalid, meter_value_field, money_field, optional,
    require_choice, required_text_field, select_field, store, text_field, textarea_field,
};
use crate::layout::{self, csrf_input};
use crate::lists::{RegisterQuery, balance_cell, crumbs, pager, table};
use crate::{meters, payee, payments, readings};

/// Contracts as register rows: whose, where, what, and whether read this month.
pub fn rows_table(rows: &[ContractRow]) -> Markup {
    let headers = ["Договор", "Участок", "Потребитель", "Услуга", "Счётчик", "В этом месяце", "Долг"];
    table(
        &headers,
        rows.iter().map(|r| {
            html! {
                tr {
                    td {
                        a href={ "/contracts/" (r.contract.id) } { (r.contract.number) }
                        @if r.contract.closed_on.is_some() { span.muted { " (закрыт)" } }
                    }
                    td { a href={ "/plots/" (r.plot.id) } { (r.plot.number) } }
                    td { a href={ "/consumers/" (r.consumer.id) } { (r.consumer.full_name) } }
                    td { (r.contract.service) }
                    td {
                        @match &r.meter {
                            Some(meter) => a href={ "/meters/" (meter.id) } { (meter.serial) },
                            None => span.muted { "—" },
                        }
                    }
                    td {
                        @if r.contract.closed_on.is_some() || r.meter.is_none() { span.muted { "—" } }
                        @else if r.unread { span.warn { "не снято" } }
                        @else { "снято" }
                    }
                    (balance_cell(r.balance))
                }
            }
        }),
    )
}

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<RegisterQuery>) -> Result<Markup> {
    let rows = lists::contracts(ctx.db.conn(), &query.filter()?, ctx.current_period()).await.map_err(internal)?;
    let page = query.page(rows);
    Ok(layout::page(
        &user,
        "Договоры",
        html! {
            @if user.is_admin() {
                p {
                    a.button href="/contracts/new" { "Подписать договор" } " "
                    a.button.secondary href="/register/import" { "Загрузить реестр" }
                }
            }
            (query.form("/contracts"))
            (rows_table(&page.items))
            (pager(&page, "/contracts", &query))
        },
    ))
}

/// One contract, loaded for its page.
async fn load(ctx: &Context, id: i64) -> Result<ContractRow> {
    let rows = lists::contract_rows(ctx.db.conn(), Scope::Contract(id), ctx.current_period()).await;
    found(rows.map(|rows| rows.into_iter().next()))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    closed_on: String,
}

/// «Исправить входящее сальдо»: the balance it should have been, and why.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SaldoForm {
    saldo: String,
    reason: String,
}

/// The forms a contract's page holds, as last typed.
#[derive(Default)]
struct Forms {
    close: CloseForm,
    saldo: SaldoForm,
}

/// Where a recalculation's cause can be seen: the reading, or the tariff list (admins' page;
/// others see the word alone rather than a link that answers 403).
fn cause_link(line: &entities::charge::Model, role: Role) -> Markup {
    match (line.cause_kind, line.cause_id) {
        (Some(kind), _) if kind.is_tariff() && role == Role::Admin => html! { a href="/tariffs" { "тариф" } },
        (Some(kind), _) if kind.is_tariff() => html! { "тариф" },
        (Some(kind), Some(id)) => html! { a href={ "/readings/" (id) } { (kind.label()) } },
        _ => html! { "—" },
    }
}

async fn contract_page<P: Policy>(
    user: &Authorized<P>,
    ctx: &Context,
    row: &ContractRow,
    forms: &Forms,
    errors: &Errors,
) -> Result<Markup> {
    let close_form = &forms.close;
    let c = &row.contract;
    let conn = ctx.db.conn();
    // Every meter the contract has had; the latest readings of each, newest meter first.
    let chain = service::meters::of_contract(conn, c.id).await.map_err(internal)?;
    let mut readings = Vec::with_capacity(chain.len());
    for meter in chain.iter().rev() {
        let filter = ReadingFilter { meter_id: Some(meter.id), ..ReadingFilter::default() };
        readings.push((meter, history::list(conn, &filter, 1, 12).await.map_err(internal)?.items));
    }
    let filter = PaymentFilter { contract_id: Some(c.id), ..PaymentFilter::default() };
    let payments = ledger::payments::list(conn, &filter, 1, 12).await.map_err(internal)?;
    let payment = payee::payment_block(ctx, c.consumer_id, c.id).await?;
    let recalculations = ledger::charges::recalculations(conn, c.id, 24).await.map_err(internal)?;
    let opening = ledger::charges::opening_balance(conn, c.id).await.map_err(internal)?;
    Ok(layout::page(
        user,
        &format!("Договор № {}", c.number),
        html! {
            (crumbs(&[("/contracts", "Договоры")]))
            table.details {
                tr { th { "Услуга" } td { (c.service) ", " (c.tariff_plan.label().to_lowercase()) } }
                tr { th { "Участок" } td { a href={ "/plots/" (row.plot.id) } { (row.plot.number) } } }
                tr { th { "Потребитель" } td { a href={ "/consumers/" (row.consumer.id) } { (row.consumer.full_name) } } }
                tr { th { "Подписан" } td { (date_text(c.signed_on)) } }
                tr { th { "Закрыт" } td { @match c.closed_on { Some(d) => (date_text(d)), None => "действует" } } }
                tr { th { "Баланс" } td { (row.balance.describe()) } }
                @if let Some((go_live, amount)) = opening {
                    tr { th { "Входящее сальдо" } td { (amount) " на " (date_text(go_live)) } }
                }
            }
            @if user.is_admin() {
                details open[errors.has("saldo") || errors.has("reason")] {
                    summary { @if opening.is_some() { "Исправить входящее сальдо" } @else { "Добавить входящее сальдо" } }
                    p.muted { "Если сальдо при переходе на систему введено с ошибкой или не введено. Разница станет строкой «Исправление входящего сальдо» с причиной — её видит и потребитель в акте сверки; отправленные месяцы не меняются. Долг — положительная сумма, переплата — отрицательная." }
                    form.stack method="post" action={ "/contracts/" (c.id) "/opening-balance" } {
                        (csrf_input(&user.csrf))
                        (money_field(errors, "saldo", "Верное сальдо, ₽", &forms.saldo.saldo))
                        (textarea_field(errors, "reason", "Причина", &forms.saldo.reason))
                        button type="submit" { @if opening.is_some() { "Исправить сальдо" } @else { "Добавить сальдо" } }
                    }
                }
            }
            @if user.is_admin() {
                p { a.button.secondary href={ "/contracts/" (c.id) "/edit" } { "Изменить" } }
                (errors.banner())
                @if c.closed_on.is_none() {
                    h2 { "Закрыть договор" }
                    p.muted { "Показания по закрытому договору не принимаются; начисления и оплаты остаются." }
                    form.stack method="post" action={ "/contracts/" (c.id) "/close" } {
                        (csrf_input(&user.csrf))
                        (date_field(errors, "closed_on", "Дата закрытия", &close_form.closed_on))
                        button type="submit" { "Закрыть договор" }
                    }
                }
            }
            @if !recalculations.is_empty() {
                h2 { "Перерасчёты" }
                table {
                    thead { tr { th { "Учтён в месяце" } th { "Причина" } th { "Сумма" } th { "Чем вызван" } } }
                    tbody {
                        @for line in &recalculations {
                            tr {
                                td { (line.period.russian()) }
                                td { (line.reason.as_deref().unwrap_or("")) }
                                td.num { (line.amount_kopecks) }
                                td { (cause_link(line, user.role())) }
                            }
                        }
                    }
                }
            }
            h2 { "Счётчики" }
            (meters::page::chain_table(&chain, None))
            h2 { "Последние показания" }
            @for (meter, rows) in &readings {
                @if chain.len() > 1 { h3 { "Счётчик № " (meter.serial) } }
                (readings::rows_table(ctx, rows))
            }
            (crate::act::default_form(ctx, &format!("/contracts/{}/akt", c.id)))
            h2 { "Оплаты" }
            (payments::rows_table(&payments.items))
            @if payments.total > payments.items.len() as u64 {
                p { a href={ "/payments?contract=" (crate::auth::urlencode(&c.number)) } { "Все оплаты по договору" } }
            }
            (payment)
        },
    ))
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let row = load(&ctx, id).await?;
    let forms = Forms { close: CloseForm { closed_on: date_value(ctx.today()) }, ..Forms::default() };
    contract_page(&user, &ctx, &row, &forms, &Errors::default()).await
}

#[handler]
pub async fn close(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Result<Response> {
    let row = load(&ctx, id).await?;
    let mut errors = Errors::default();
    if let Some(closed_on) = errors.check("closed_on", parse_date(&form.closed_on)) {
        match changes::close_contract(&ctx, id, closed_on, user.actor()).await {
            Ok(contract) => {
                return Ok(done(session, format!("Договор № {} закрыт.", contract.number), format!("/contracts/{id}")));
            }
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    Ok(invalid(contract_page(&user, &ctx, &row, &Forms { close: form, ..Forms::default() }, &errors).await?))
}

/// «Исправить сальдо»: the difference is booked in the open month. Admins only, as every other
/// change of what is charged (readings corrected, tariffs).
#[handler]
pub async fn correct_opening_balance(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<SaldoForm>,
) -> Result<Response> {
    let row = load(&ctx, id).await?;
    let mut errors = Errors::default();
    if let Some(amount) = errors.check("saldo", Kopecks::parse_rubles(&form.saldo)) {
        match ledger::charges::correct_opening_balance(&ctx, id, amount, &form.reason, user.actor()).await {
            Ok(difference) => {
                let number = &row.contract.number;
                let message = if difference == Kopecks::ZERO {
                    format!("Входящее сальдо по договору № {number} уже {amount}: ничего не изменилось.")
                } else {
                    format!("Входящее сальдо по договору № {number} — {amount}: разница {difference} учтена.")
                };
                return Ok(done(session, message, format!("/contracts/{id}")));
            }
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    let forms = Forms { close: CloseForm { closed_on: date_value(ctx.today()) }, saldo: form };
    Ok(invalid(contract_page(&user, &ctx, &row, &forms, &errors).await?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ContractForm {
    number: String,
    signed_on: String,
}

impl ContractForm {
    fn parse(&self) -> Result<ContractDetails, Errors> {
        let mut errors = Errors::default();
        let signed_on = errors.check("signed_on", parse_date(&self.signed_on));
        match signed_on {
            Some(signed_on) => Ok(ContractDetails { number: self.number.clone(), signed_on }),
            None => Err(errors),
        }
    }
}

fn edit_page(user: &Admin, row: &ContractRow, form: &ContractForm, errors: &Errors) -> Markup {
    let id = row.contract.id;
    layout::page(
        user,
        &format!("Договор № {}: изменить", row.contract.number),
        html! {
            (crumbs(&[("/contracts", "Договоры"), (&format!("/contracts/{id}"), &row.contract.number)]))
            p.muted { "Услугу и тариф не меняют: по ним посчитаны прошлые начисления. Для другой услуги подпишите новый договор." }
            (errors.banner())
            form.stack method="post" action={ "/contracts/" (id) } {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "number", "Номер договора", &form.number))
                (date_field(errors, "signed_on", "Дата подписания", &form.signed_on))
                button type="submit" { "Сохранить" }
            }
        },
    )
}

#[handler]
pub async fn edit(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let row = load(&ctx, id).await?;
    let form = ContractForm { number: row.contract.number.clone(), signed_on: date_value(row.contract.signed_on) };
    Ok(edit_page(&user, &row, &form, &Errors::default()))
}

#[handler]
pub async fn update(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ContractForm>,
) -> Result<Response> {
    let row = load(&ctx, id).await?;
    match store(form.parse(), |details| changes::update_contract(&ctx, id, details, user.actor())).await? {
        Ok(contract) => {
            Ok(done(session, format!("Договор № {} сохранён.", contract.number), format!("/contracts/{id}")))
        }
        Err(errors) => Ok(invalid(edit_page(&user, &row, &form, &errors))),
    }
}

/// The sign-up form: an existing consumer (chosen) or a new one (typed), the plot (created if
/// new), the contract and its meter.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SignUpForm {
    plot: String,
    plot_address: String,
    /// Empty for a new consumer.
    consumer_id: String,
    full_name: String,
    phone: String,
    number: String,
    service: String,
    plan: String,
    signed_on: String,
    serial: String,
    installed_on: String,
    initial_t1: String,
    initial_t2: String,
    seal_number: String,
    verification_due: String,
}

impl SignUpForm {
    fn parse(&self) -> Result<SignUp, Errors> {
        let mut e = Errors::default();
        let plot = e.check("plot", PlotNumber::parse(&self.plot));
        let consumer = match self.consumer_id.trim() {
            "" => {
                let phone = optional(&self.phone).map(|p| Phone::parse(&p)).transpose();
                e.check("phone", phone).map(|phone| ConsumerRef::New { full_name: self.full_name.clone(), phone })
            }
            id => e.check(
                "consumer_id",
                id.parse().map(ConsumerRef::Existing).map_err(|_| "Выберите потребителя из списка."),
            ),
        };
        let service = e.check("service", require_choice::<Service>(&self.service));
        let plan = e.check("plan", require_choice::<TariffPlan>(&self.plan));
        let signed_on = e.check("signed_on", parse_date(&self.signed_on));
        let installed_on = e.check("installed_on", parse_date(&self.installed_on));
        let mut initial: Vec<MeterValue> =
            e.check("initial_t1", MeterValue::parse(&self.initial_t1)).into_iter().collect();
        if plan == Some(TariffPlan::DayNight) {
            initial.extend(e.check("initial_t2", MeterValue::parse(&self.initial_t2)));
        }
        let verification_due = e.check("verification_due", parse_optional_date(&self.verification_due));
        match (plot, consumer, service, plan, signed_on, installed_on, verification_due) {
            (Some(plot), Some(consumer), Some(service), Some(plan), Some(signed_on), Some(installed_on), Some(due))
                if e.is_empty() =>
            {
                Ok(SignUp {
                    plot,
                    plot_address: optional(&self.plot_address),
                    consumer,
                    contract_number: self.number.clone(),
                    service,
                    plan,
                    signed_on,
                    meter: NewMeter {
                        serial: self.serial.clone(),
                        installed_on,
                        initial,
                        seal_number: optional(&self.seal_number),
                        verification_due: due,
                    },
                })
            }
            _ => Err(e),
        }
    }
}

async fn sign_up_page(user: &Admin, ctx: &Context, form: &SignUpForm, errors: &Errors) -> Result<Markup> {
    let mut consumers = consumer::Entity::find().all(ctx.db.conn()).await.map_err(internal)?;
    consumers.sort_by_cached_key(|c| c.full_name.to_lowercase());
    Ok(layout::page(
        user,
        "Новый договор",
        html! {
            (crumbs(&[("/contracts", "Договоры")]))
            (errors.banner())
            form.stack method="post" action="/contracts" {
                (csrf_input(&user.csrf))
                fieldset {
                    legend { "Потребитель" }
                    (field(errors, "consumer_id", "Уже есть в учёте", html! {
                        select #consumer_id name="consumer_id" {
                            option value="" { "— новый потребитель —" }
                            @for c in &consumers {
                                option value=(c.id) selected[form.consumer_id == c.id.to_string()] {
                                    (c.full_name) @if let Some(phone) = &c.phone { " (" (phone) ")" }
                                }
                            }
                        }
                    }))
                    p.muted { "Для нового потребителя оставьте «новый» и заполните ФИО и телефон." }
                    (text_field(errors, "full_name", "ФИО", &form.full_name))
                    (text_field(errors, "phone", "Телефон", &form.phone))
                }
                fieldset {
                    legend { "Участок" }
                    (required_text_field(errors, "plot", "Номер участка", &form.plot))
                    (text_field(errors, "plot_address", "Адрес (если участок новый)", &form.plot_address))
                }
                fieldset {
                    legend { "Договор" }
                    (required_text_field(errors, "number", "Номер договора", &form.number))
                    (select_field::<Service>(errors, "service", "Услуга", &form.service))
                    (select_field::<TariffPlan>(errors, "plan", "Тариф", &form.plan))
                    (date_field(errors, "signed_on", "Дата подписания", &form.signed_on))
                }
                fieldset {
                    legend { "Счётчик" }
                    (required_text_field(errors, "serial", "Заводской номер", &form.serial))
                    (date_field(errors, "installed_on", "Дата установки", &form.installed_on))
                    (meter_value_field(errors, "initial_t1", "Начальное показание (день — для двухтарифного)", &form.initial_t1))
                    (meter_value_field(errors, "initial_t2", "Начальное показание ночь (только двухтарифный)", &form.initial_t2))
                    (text_field(errors, "seal_number", "Номер пломбы", &form.seal_number))
                    (date_field(errors, "verification_due", "Срок поверки", &form.verification_due))
                }
                button type="submit" { "Подписать договор" }
            }
        },
    ))
}

/// Where the sign-up form may start: from a plot's or a consumer's page.
#[derive(Debug, Deserialize)]
pub struct SignUpQuery {
    plot: Option<String>,
    consumer: Option<i64>,
}

#[handler]
pub async fn new(user: Admin, ctx: Data<&Context>, Query(query): Query<SignUpQuery>) -> Result<Markup> {
    let today = date_value(ctx.today());
    let form = SignUpForm {
        plot: query.plot.unwrap_or_default(),
        consumer_id: query.consumer.map(|id| id.to_string()).unwrap_or_default(),
        service: Service::Water.code().to_owned(),
        plan: TariffPlan::Single.code().to_owned(),
        signed_on: today.clone(),
        installed_on: today,
        ..SignUpForm::default()
    };
    sign_up_page(&user, &ctx, &form, &Errors::default()).await
}

#[handler]
pub async fn create(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<SignUpForm>,
) -> Result<Response> {
    let errors = match form.parse() {
        Ok(sign_up) => {
            let number = sign_up.contract_number.trim().to_owned();
            match sign_up::sign_up(&ctx, sign_up, user.actor()).await {
                Ok(signed) => {
                    let to = format!("/contracts/{}", signed.contract_id);
                    return Ok(done(session, format!("Договор № {number} подписан."), to));
                }
                Err(e) => Errors::refused(e)?,
            }
        }
        Err(errors) => errors,
    };
    Ok(invalid(sign_up_page(&user, &ctx, &form, &errors).await?))
}
