//! The JSON API under `/api`: the register, readings, payments and tariffs, described by an
//! OpenAPI document with Swagger UI at `/api/docs`.
//!
//! Callers authenticate with an API token (`Authorization: Bearer …`, issued by an admin) or the
//! panel's session cookie; with the cookie, changing calls also need the `X-CSRF-Token` header
//! (see [`crate::csrf`]). Each operation takes an [`ApiUser`] whose policy names the roles
//! allowed, as the pages do, and [`OPERATIONS`] lists them for the access test.

mod objects;
mod refusal;

use std::fmt::Display;
use std::str::FromStr;

use domain::money::MoneyError;
use domain::{Kopecks, MeterValue, PaymentSource, Period, ReadingSource, ReadingStatus, Service};
use poem::http::Method;
use poem::web::Data;
use poem::{FromRequest, Request, RequestBody};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::types::{ParseFromJSON, ToJSON};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, OpenApi, OpenApiService, Tags};
use sea_orm::EntityTrait;
use service::ledger::debt::Scope;
use service::ledger::payments::{NewPayment, PaymentError, PaymentFilter};
use service::paging::{PER_PAGE, Paged};
use service::readings::history::ReadingFilter;
use service::readings::{Submission, SubmitError, history};
use service::register::lists;
use service::register::lists::RegisterFilter;
use service::{Context, Internal, ledger};

use crate::auth::{Access, AdminOnly, Authorized, Office, Policy};
use objects::*;
pub use refusal::json_errors;
use refusal::{Reads, Refusal, Writes};

/// The most rows a list operation returns at once: the `maximum` of each `per_page` parameter.
pub const MAX_PER_PAGE: u64 = 500;

/// Every API operation with who may call it; the access test checks this against the OpenAPI
/// document (so no operation is missing) and calls each as every role.
pub const OPERATIONS: &[(Method, &str, Access)] = &[
    (Method::GET, "/api/plots", Access::Office),
    (Method::GET, "/api/plots/{id}", Access::Office),
    (Method::GET, "/api/consumers", Access::Office),
    (Method::GET, "/api/consumers/{id}", Access::Office),
    (Method::GET, "/api/consumers/{id}/debt", Access::Office),
    (Method::GET, "/api/contracts", Access::Office),
    (Method::GET, "/api/contracts/{id}", Access::Office),
    (Method::GET, "/api/meters", Access::Office),
    (Method::GET, "/api/meters/{id}", Access::Office),
    (Method::GET, "/api/readings", Access::Office),
    (Method::POST, "/api/readings", Access::Admin),
    (Method::GET, "/api/payments", Access::Office),
    (Method::POST, "/api/payments", Access::Office),
    (Method::GET, "/api/tariffs", Access::Office),
];

/// The API with its description, ready to nest at `/api`.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(Api, "СНТ «Черноморск»: учёт", env!("CARGO_PKG_VERSION")).server("/api").description(
        "Участки, потребители, договоры, счётчики, показания, оплаты и тарифы. Деньги — целые копейки \
         (`*_kopecks`), показания — десятичные строки (`\"12345.6\"`), месяцы — `ГГГГ-ММ`. \
         Вход: токен API (`Authorization: Bearer …`, выдаёт администратор) или сессия панели \
         (изменяющие запросы — с заголовком `X-CSRF-Token`). Ошибки — `{\"message\": \"…\"}` по-русски.",
    )
}

/// The staff member calling the API, allowed by policy `P`; documented as the two ways in.
pub struct ApiUser<P: Policy>(pub Authorized<P>);

impl<'a, P: Policy> ApiExtractor<'a> for ApiUser<P> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            "token",
            MetaSecurityScheme {
                ty: "http",
                description: Some("Токен API сотрудника; выдаёт администратор на странице сотрудника."),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            "session",
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some("Сессия панели после входа; изменяющим запросам нужен заголовок X-CSRF-Token."),
                name: Some("chernomorsk_session"),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["token", "session"]
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        <Authorized<P> as FromRequest>::from_request(req, body).await.map(ApiUser)
    }
}

#[derive(Tags)]
enum Tag {
    /// Участки, потребители, договоры и счётчики
    Register,
    /// Показания счётчиков
    Readings,
    /// Оплаты и задолженность
    Money,
}

/// The optional query parameter `name` parsed into a domain type (codes, months…).
fn parsed<T: FromStr>(name: &str, value: Option<String>) -> Result<Option<T>, Refusal<Reads>>
where
    T::Err: Display,
{
    let refused = |e: T::Err| Refusal::bad_request(format!("Параметр «{name}»: {e}"));
    value.filter(|v| !v.trim().is_empty()).map(|v| v.parse().map_err(refused)).transpose()
}

fn register_filter(
    q: Option<String>,
    service: Option<String>,
    debtors: Option<bool>,
    unread: Option<bool>,
) -> Result<RegisterFilter, Refusal<Reads>> {
    let mut filter = RegisterFilter::search(q.as_deref().unwrap_or_default()).map_err(Refusal::bad_request)?;
    filter.service = parsed::<Service>("service", service)?;
    filter.debtors = debtors.unwrap_or(false);
    filter.unread = unread.unwrap_or(false);
    Ok(filter)
}

/// The page a list operation is asked for (its `page` and `per_page` parameters, whose bounds
/// their validators hold: `page ≥ 1`, `1 ≤ per_page ≤ MAX_PER_PAGE`).
#[derive(Debug, Clone, Copy)]
struct Paging {
    page: u64,
    per_page: u64,
}

impl Paging {
    fn asked(page: Query<Option<u64>>, per_page: Query<Option<u64>>) -> Paging {
        Paging { page: page.0.unwrap_or(1), per_page: per_page.0.unwrap_or(PER_PAGE) }
    }

    /// This page of a list loaded whole (the register), each row as the API shows it.
    fn of<R, T: ParseFromJSON + ToJSON>(self, rows: Vec<R>, f: impl FnMut(R) -> T) -> Json<Page<T>> {
        Json(Page::of(Paged::of(rows, self.page, self.per_page), f))
    }
}

#[derive(ApiResponse)]
enum ReadingCreated {
    /// Recorded (accepted, or flagged for review if confirmed).
    #[oai(status = 201)]
    Created(Json<ReadingOut>),
    /// The idempotency key was used before; nothing new was stored.
    #[oai(status = 200)]
    Repeated(Json<ReadingOut>),
    /// An unusual jump: check the values and repeat with `confirmed: true` to record it for review.
    #[oai(status = 409)]
    NeedsConfirmation(Json<ApiError>),
    #[oai(status = 404)]
    UnknownMeter(Json<ApiError>),
    /// Refused, for the reason given.
    #[oai(status = 422)]
    Invalid(Json<ApiError>),
}

#[derive(ApiResponse)]
enum PaymentCreated {
    #[oai(status = 201)]
    Created(Json<PaymentOut>),
    /// Refused, for the reason given.
    #[oai(status = 422)]
    Invalid(Json<ApiError>),
    /// A payment of the same contract, amount and day is on file, or a bank statement's document
    /// on the contract's plot seems to be it: send again with `"confirm_duplicate": true` to store
    /// this one too.
    #[oai(status = 409)]
    PossibleDuplicate(Json<ApiError>),
}

pub struct Api;

#[OpenApi]
impl Api {
    /// Участки в порядке обхода
    ///
    /// Поиск `q` — по номеру участка, адресу, ФИО, телефону, номеру договора. Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/plots", method = "get", tag = "Tag::Register")]
    async fn plots(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        q: Query<Option<String>>,
        service: Query<Option<String>>,
        debtors: Query<Option<bool>>,
        unread: Query<Option<bool>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<PlotOut>>, Refusal<Reads>> {
        let filter = register_filter(q.0, service.0, debtors.0, unread.0)?;
        let rows = lists::plots(ctx.db.conn(), &filter, ctx.current_period()).await.map_err(Refusal::internal)?;
        Ok(Paging::asked(page, per_page).of(rows, PlotOut::from))
    }

    /// Участок с договорами
    ///
    /// Доступ: администратор, бухгалтер.
    #[oai(path = "/plots/:id", method = "get", tag = "Tag::Register")]
    async fn plot(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        id: Path<i64>,
    ) -> Result<Found<PlotDetail>, Refusal<Reads>> {
        let conn = ctx.db.conn();
        let Some(plot) = entities::plot::Entity::find_by_id(id.0).one(conn).await.map_err(Refusal::internal)? else {
            return Ok(Found::NotFound(ApiError::json("Участок не найден.")));
        };
        let rows =
            lists::contract_rows(conn, Scope::Plot(id.0), ctx.current_period()).await.map_err(Refusal::internal)?;
        let balance = domain::Balance::try_sum(rows.iter().map(|r| r.balance)).map_err(Refusal::internal)?;
        Ok(Found::Ok(Json(PlotDetail {
            id: plot.id,
            number: plot.number.to_string(),
            address: plot.address,
            notes: plot.notes,
            balance: balance.into(),
            contracts: rows.into_iter().map(Into::into).collect(),
        })))
    }

    /// Потребители
    ///
    /// Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/consumers", method = "get", tag = "Tag::Register")]
    async fn consumers(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        q: Query<Option<String>>,
        service: Query<Option<String>>,
        debtors: Query<Option<bool>>,
        unread: Query<Option<bool>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<ConsumerOut>>, Refusal<Reads>> {
        let filter = register_filter(q.0, service.0, debtors.0, unread.0)?;
        let rows = lists::consumers(ctx.db.conn(), &filter, ctx.current_period()).await.map_err(Refusal::internal)?;
        Ok(Paging::asked(page, per_page).of(rows, ConsumerOut::from))
    }

    /// Потребитель с договорами и задолженностью
    ///
    /// Доступ: администратор, бухгалтер.
    #[oai(path = "/consumers/:id", method = "get", tag = "Tag::Register")]
    async fn consumer(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        id: Path<i64>,
    ) -> Result<Found<ConsumerDetail>, Refusal<Reads>> {
        let conn = ctx.db.conn();
        let Some(consumer) = entities::consumer::Entity::find_by_id(id.0).one(conn).await.map_err(Refusal::internal)?
        else {
            return Ok(Found::NotFound(ApiError::json("Потребитель не найден.")));
        };
        let rows =
            lists::contract_rows(conn, Scope::Consumer(id.0), ctx.current_period()).await.map_err(Refusal::internal)?;
        let statement = service::ledger::debt::statement(&ctx.db, id.0).await.map_err(Refusal::internal)?;
        Ok(Found::Ok(Json(ConsumerDetail {
            id: consumer.id,
            full_name: consumer.full_name,
            phone: consumer.phone.map(|p| p.to_string()),
            notes: consumer.notes,
            reminders_enabled: consumer.reminders_enabled,
            contracts: rows.into_iter().map(Into::into).collect(),
            debt: statement.into(),
        })))
    }

    /// Задолженность потребителя по договорам
    ///
    /// То же, что бот сообщает потребителю. Доступ: администратор, бухгалтер.
    #[oai(path = "/consumers/:id/debt", method = "get", tag = "Tag::Money")]
    async fn consumer_debt(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        id: Path<i64>,
    ) -> Result<Found<StatementOut>, Refusal<Reads>> {
        let conn = ctx.db.conn();
        if entities::consumer::Entity::find_by_id(id.0).one(conn).await.map_err(Refusal::internal)?.is_none() {
            return Ok(Found::NotFound(ApiError::json("Потребитель не найден.")));
        }
        let statement = service::ledger::debt::statement(&ctx.db, id.0).await.map_err(Refusal::internal)?;
        Ok(Found::Ok(Json(statement.into())))
    }

    /// Договоры
    ///
    /// Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/contracts", method = "get", tag = "Tag::Register")]
    async fn contracts(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        q: Query<Option<String>>,
        service: Query<Option<String>>,
        debtors: Query<Option<bool>>,
        unread: Query<Option<bool>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<ContractOut>>, Refusal<Reads>> {
        let filter = register_filter(q.0, service.0, debtors.0, unread.0)?;
        let rows = lists::contracts(ctx.db.conn(), &filter, ctx.current_period()).await.map_err(Refusal::internal)?;
        Ok(Paging::asked(page, per_page).of(rows, ContractOut::from))
    }

    /// Договор со счётчиком и балансом
    ///
    /// Доступ: администратор, бухгалтер.
    #[oai(path = "/contracts/:id", method = "get", tag = "Tag::Register")]
    async fn contract(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        id: Path<i64>,
    ) -> Result<Found<ContractOut>, Refusal<Reads>> {
        let rows = lists::contract_rows(ctx.db.conn(), Scope::Contract(id.0), ctx.current_period())
            .await
            .map_err(Refusal::internal)?;
        Ok(match rows.into_iter().next() {
            Some(row) => Found::Ok(Json(row.into())),
            None => Found::NotFound(ApiError::json("Договор не найден.")),
        })
    }

    /// Счётчики в работе
    ///
    /// Фильтры — как у договоров. Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/meters", method = "get", tag = "Tag::Register")]
    async fn meters(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        q: Query<Option<String>>,
        service: Query<Option<String>>,
        debtors: Query<Option<bool>>,
        unread: Query<Option<bool>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<MeterListItem>>, Refusal<Reads>> {
        let filter = register_filter(q.0, service.0, debtors.0, unread.0)?;
        let rows = lists::contracts(ctx.db.conn(), &filter, ctx.current_period()).await.map_err(Refusal::internal)?;
        let meters: Vec<MeterListItem> = rows
            .into_iter()
            .filter_map(|r| {
                Some(MeterListItem {
                    meter: r.meter?.into(),
                    contract_number: r.contract.number,
                    service: r.contract.service.code().to_owned(),
                    plot_number: r.plot.number.to_string(),
                    consumer_name: r.consumer.full_name,
                    unread_this_month: r.unread,
                })
            })
            .collect();
        Ok(Paging::asked(page, per_page).of(meters, |m| m))
    }

    /// Счётчик с последними показаниями
    ///
    /// Доступ: администратор, бухгалтер.
    #[oai(path = "/meters/:id", method = "get", tag = "Tag::Register")]
    async fn meter(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        id: Path<i64>,
    ) -> Result<Found<MeterDetail>, Refusal<Reads>> {
        let conn = ctx.db.conn();
        let Some(info) = service::register::cards::meter_info(conn, id.0).await.map_err(Refusal::internal)? else {
            return Ok(Found::NotFound(ApiError::json("Счётчик не найден.")));
        };
        let filter = ReadingFilter { meter_id: Some(id.0), ..ReadingFilter::default() };
        let readings = history::list(conn, &filter, 1, 12).await.map_err(Refusal::internal)?;
        Ok(Found::Ok(Json(MeterDetail {
            contract_number: info.contract.number,
            service: info.contract.service.code().to_owned(),
            plot_number: info.plot.number.to_string(),
            meter: info.meter.into(),
            readings: readings.items.into_iter().map(Into::into).collect(),
        })))
    }

    /// Показания, новые сначала
    ///
    /// `period` — `ГГГГ-ММ`; `source` и `status` — коды (`status=flagged` — ждут проверки).
    /// Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/readings", method = "get", tag = "Tag::Readings")]
    async fn readings(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        period: Query<Option<String>>,
        source: Query<Option<String>>,
        status: Query<Option<String>>,
        meter_id: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<ReadingOut>>, Refusal<Reads>> {
        let filter = ReadingFilter {
            period: parsed::<Period>("period", period.0)?,
            source: parsed::<ReadingSource>("source", source.0)?,
            status: parsed::<ReadingStatus>("status", status.0)?,
            meter_id: meter_id.0,
        };
        let paging = Paging::asked(page, per_page);
        let paged =
            history::list(ctx.db.conn(), &filter, paging.page, paging.per_page).await.map_err(Refusal::internal)?;
        Ok(Json(Page::of(paged, ReadingOut::from)))
    }

    /// Внести показание
    ///
    /// Проверяется так же, как в боте и мобильной форме. Доступ: администратор.
    #[oai(path = "/readings", method = "post", tag = "Tag::Readings")]
    async fn create_reading(
        &self,
        user: ApiUser<AdminOnly>,
        ctx: Data<&Context>,
        body: Json<NewReadingIn>,
    ) -> Result<ReadingCreated, Refusal<Writes>> {
        let body = body.0;
        let values: Result<Vec<MeterValue>, _> = body.values.iter().map(|v| MeterValue::parse(v)).collect();
        let values = match values {
            Ok(values) => values,
            Err(e) => return Ok(ReadingCreated::Invalid(ApiError::json(e.to_string()))),
        };
        let submission = Submission {
            meter_id: body.meter_id,
            values,
            source: ReadingSource::Panel,
            actor: user.0.actor(),
            seal_intact: body.seal_intact,
            comment: body.comment,
            photo_id: None,
            idempotency_key: body.idempotency_key,
            confirmed: body.confirmed,
            taken_at: None,
        };
        let recorded = match service::readings::submit(&ctx, submission).await {
            Ok(recorded) => recorded,
            Err(SubmitError::UnknownMeter) => {
                return Ok(ReadingCreated::UnknownMeter(ApiError::json("Счётчик не найден.")));
            }
            Err(SubmitError::NeedsConfirmation(warning)) => {
                return Ok(ReadingCreated::NeedsConfirmation(ApiError::json(warning)));
            }
            Err(SubmitError::Internal(e)) => return Err(Refusal::internal(e)),
            Err(e) => return Ok(ReadingCreated::Invalid(ApiError::json(e.to_string()))),
        };
        let duplicate = recorded.duplicate;
        let rows = history::rows(ctx.db.conn(), vec![recorded.reading]).await.map_err(Refusal::internal)?;
        let out = rows
            .into_iter()
            .next()
            .map(ReadingOut::from)
            .ok_or_else(|| Refusal::internal(Internal(anyhow::anyhow!("a stored reading has no meter"))))?;
        Ok(if duplicate { ReadingCreated::Repeated(Json(out)) } else { ReadingCreated::Created(Json(out)) })
    }

    /// Оплаты, последние сначала
    ///
    /// `contract` — точный номер договора; `period` — `ГГГГ-ММ`; `source` — `panel` или `import`.
    /// Доступ: администратор, бухгалтер.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/payments", method = "get", tag = "Tag::Money")]
    async fn payments(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
        contract: Query<Option<String>>,
        period: Query<Option<String>>,
        source: Query<Option<String>>,
        #[oai(validator(minimum(value = "1")))] page: Query<Option<u64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] per_page: Query<Option<u64>>,
    ) -> Result<Json<Page<PaymentOut>>, Refusal<Reads>> {
        let filter = PaymentFilter {
            contract_number: contract.0.filter(|c| !c.trim().is_empty()),
            contract_id: None,
            period: parsed::<Period>("period", period.0)?,
            source: parsed::<PaymentSource>("source", source.0)?,
        };
        let paging = Paging::asked(page, per_page);
        let paged = ledger::payments::list(ctx.db.conn(), &filter, paging.page, paging.per_page)
            .await
            .map_err(Refusal::internal)?;
        Ok(Json(Page::of(paged, PaymentOut::from)))
    }

    /// Внести оплату
    ///
    /// Платёж с уже известным номером не принимается. Платёж на ту же сумму и дату по тому же
    /// договору или похожий на документ выписки банка по этому участку — ответ 409, пока не
    /// передано `"confirm_duplicate": true`. Платёж учитывается в
    /// месяце даты оплаты. Доступ: администратор, бухгалтер.
    #[oai(path = "/payments", method = "post", tag = "Tag::Money")]
    async fn create_payment(
        &self,
        user: ApiUser<Office>,
        ctx: Data<&Context>,
        body: Json<NewPaymentIn>,
    ) -> Result<PaymentCreated, Refusal<Writes>> {
        let body = body.0;
        let for_period = match body.period.as_deref().map(Period::parse).transpose() {
            Ok(period) => period,
            Err(e) => return Ok(PaymentCreated::Invalid(ApiError::json(e.to_string()))),
        };
        // The service refuses amounts no payment can have; this refuses numbers no amount can be.
        let amount = match Kopecks::new(body.amount_kopecks) {
            Ok(amount) => amount,
            Err(e) => return Ok(PaymentCreated::Invalid(ApiError::json(MoneyError::from(e).to_string()))),
        };
        let payment = NewPayment {
            contract_number: body.contract_number,
            amount,
            paid_on: body.paid_on,
            for_period,
            reference: body.reference,
            confirm_duplicate: body.confirm_duplicate.unwrap_or(false),
        };
        let stored = match ledger::payments::record_from(&ctx, payment, PaymentSource::Api, user.0.actor()).await {
            Ok(stored) => stored,
            Err(PaymentError::Internal(e)) => return Err(Refusal::internal(e)),
            Err(e @ PaymentError::PossibleDuplicate { .. }) => {
                return Ok(PaymentCreated::PossibleDuplicate(ApiError::json(e.to_string())));
            }
            Err(e) => return Ok(PaymentCreated::Invalid(ApiError::json(e.to_string()))),
        };
        let rows = ledger::payments::rows(ctx.db.conn(), vec![stored]).await.map_err(Refusal::internal)?;
        let out = rows
            .into_iter()
            .next()
            .map(PaymentOut::from)
            .ok_or_else(|| Refusal::internal(Internal(anyhow::anyhow!("a stored payment has no contract"))))?;
        Ok(PaymentCreated::Created(Json(out)))
    }

    /// Тарифы: все цены с датами начала
    ///
    /// Доступ: администратор, бухгалтер (менять тарифы может только администратор, в панели).
    #[oai(path = "/tariffs", method = "get", tag = "Tag::Money")]
    async fn tariffs(
        &self,
        _user: ApiUser<Office>,
        ctx: Data<&Context>,
    ) -> Result<Json<Vec<TariffOut>>, Refusal<Reads>> {
        let history = service::ledger::tariffs::history(ctx.db.conn()).await.map_err(Refusal::internal)?;
        Ok(Json(history.into_iter().map(Into::into).collect()))
    }
}
