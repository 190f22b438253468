//! Error pages in Russian, and the mapping from service errors to HTTP.

use std::sync::Arc;

use maud::html;
use poem::http::StatusCode;
use poem::{Endpoint, Error, IntoResponse, Request, Response};
use service::Chain;

use service::access::staff::AccountError;
use service::ledger::act::ActError;
use service::ledger::charges::OpeningBalanceError;
use service::ledger::months::MonthError;
use service::ledger::payments::PaymentError;
use service::ledger::payments::import::PaymentImportError;
use service::ledger::payments::payer_accounts::ForgetError;
use service::ledger::payments::reversal::ReversalError;
use service::ledger::payments::statement::{ResolveError, StatementImportError};
use service::ledger::tariffs::TariffError;
use service::meters::MeterError;
use service::meters::photos::StoreError;
use service::meters::seals::SealError;
use service::network::NetworkError;
use service::readings::SubmitError;
use service::readings::review::{CorrectionError, ReviewError};
use service::register::RegisterError;

use crate::layout;

/// Whether a request is for the JSON API, which answers its own refusals. Routes nested under
/// `/api` see their path without the prefix, hence the original URI.
pub(crate) fn is_api(req: &Request) -> bool {
    req.original_uri().path().starts_with("/api")
}

/// A whole HTML page explaining a refusal or failure.
pub fn page_response(status: StatusCode, title: &str, message: &str) -> Response {
    let body = layout::bare(
        title,
        html! {
            main.narrow {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "На главную" } }
            }
        },
    );
    body.into_response().with_status(status).into_response()
}

/// A failure that is not the user's — the database, the disk, a bug: the panel's one way to
/// answer one, pages, forms, the API and the session store alike. It is logged here with its
/// whole chain of causes ([`Chain`]: the `Display` of a service's `Internal` is only the polite
/// message), and answered with the polite 500 page, which the API turns into its JSON answer.
pub fn internal(e: impl std::error::Error + 'static) -> Error {
    tracing::error!("{}", Chain(&e));
    Error::from_response(page_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Внутренняя ошибка",
        "Что-то пошло не так. Попробуйте ещё раз чуть позже; если ошибка повторяется, сообщите администратору.",
    ))
}

/// A request that cannot be served as asked (a search beyond its limit…), with the reason.
pub fn bad_request(reason: impl std::fmt::Display) -> Error {
    Error::from_response(page_response(StatusCode::BAD_REQUEST, "Запрос не выполнен", &reason.to_string()))
}

pub fn not_found() -> Error {
    Error::from_response(refusal_page(StatusCode::NOT_FOUND))
}

/// The page for a request refused with `status` before any handler could explain it.
fn refusal_page(status: StatusCode) -> Response {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => ("Не найдено", "Такой страницы или записи нет."),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("Так нельзя", "Эта страница не принимает такой запрос. Вернитесь назад и воспользуйтесь кнопками на ней.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("Слишком большой запрос", "Отправлено больше, чем принимает эта форма."),
        _ => (
            "Неверный запрос",
            "Отправленные данные не удалось разобрать: форма заполнена не так, как ожидалось. Вернитесь назад, \
             обновите страницу и попробуйте ещё раз.",
        ),
    };
    page_response(status, title, message)
}

/// Every refusal of the panel in Russian: poem's own errors — a form, query or multipart body
/// that does not parse, a path that is not a number, an unknown page or method — become the
/// panel's error page with the same status. Pages and handlers that explain themselves, and the
/// API with its own answers, pass through.
pub async fn in_russian<E: Endpoint>(endpoint: Arc<E>, req: Request) -> poem::Result<Response> {
    let api = is_api(&req);
    match endpoint.call(req).await {
        Ok(output) => Ok(output.into_response()),
        Err(e) if api || e.is_from_response() => Err(e),
        Err(e) if e.status().is_server_error() => Ok(internal(e).into_response()),
        Err(e) => {
            tracing::info!(status = %e.status(), "refused: {e}");
            Ok(refusal_page(e.status()))
        }
    }
}

/// A record looked up by id: missing is a 404 page, a database failure a 500.
pub fn found<T>(lookup: Result<Option<T>, sea_orm::DbErr>) -> poem::Result<T> {
    lookup.map_err(internal)?.ok_or_else(not_found)
}

/// A service error: the user's mistake, whose message is shown on the form (next to the field
/// it is about, if any), or an internal failure, which becomes the 500 page.
pub trait Refusal: std::error::Error + 'static {
    fn is_internal(&self) -> bool;

    /// The form field the refusal is about. Forms name their fields alike (`number`, `amount`…).
    fn field(&self) -> Option<&'static str> {
        None
    }
}

macro_rules! refusals {
    ($($error:ty $(=> $field:expr)?),+ $(,)?) => {$(
        impl Refusal for $error {
            fn is_internal(&self) -> bool {
                matches!(self, Self::Internal(_))
            }
            $(fn field(&self) -> Option<&'static str> {
                ($field)(self)
            })?
        }
    )+};
}

refusals!(
    ActError => |e: &ActError| match e {
        ActError::From(_) => Some("from"),
        ActError::To(_) | ActError::Reversed(..) | ActError::TooLong(..) => Some("to"),
        ActError::NotFound | ActError::Internal(_) => None,
    },
    RegisterError => |e: &RegisterError| match e {
        RegisterError::NoName => Some("full_name"),
        RegisterError::NoContractNumber | RegisterError::ContractNumberTaken(_) | RegisterError::PlotTaken(_) => {
            Some("number")
        }
        RegisterError::PlanNotForService => Some("plan"),
        RegisterError::NoSerial => Some("serial"),
        RegisterError::UnknownConsumer => Some("consumer_id"),
        _ => None,
    },
    MonthError => |e: &MonthError| match e {
        MonthError::NoReason | MonthError::Reason(_) => Some("reason"),
        _ => None,
    },
    PaymentError => |e: &PaymentError| match e {
        PaymentError::UnknownContract(_) => Some("contract"),
        PaymentError::Amount(_) => Some("amount"),
        PaymentError::PaidOn(_) | PaymentError::InFuture(_) => Some("paid_on"),
        PaymentError::DuplicateReference(_) => Some("reference"),
        // Named in the message; the field is the form's or the import row's.
        PaymentError::Text(_) | PaymentError::PossibleDuplicate { .. } | PaymentError::Internal(_) => None,
    },
    ReversalError => |e: &ReversalError| match e {
        ReversalError::NoReason | ReversalError::Text(_) => Some("reason"),
        ReversalError::SameContract(_) | ReversalError::Payment(PaymentError::UnknownContract(_)) => Some("contract"),
        _ => None,
    },
    AccountError => |e: &AccountError| match e {
        AccountError::InvalidLogin | AccountError::LoginTaken(_) => Some("login"),
        AccountError::WeakPassword | AccountError::LongPassword => Some("password"),
        AccountError::NoName => Some("full_name"),
        _ => None,
    },
    TariffError => |e: &TariffError| match e {
        TariffError::Price(_) => Some("price"),
        TariffError::ValidFrom(_) => Some("valid_from"),
        TariffError::ZoneNotForService(..) => Some("zone"),
        TariffError::Duplicate { .. } | TariffError::NoSuchTariff { .. } => Some("valid_from"),
        TariffError::Internal(_) => None,
    },
    OpeningBalanceError => |e: &OpeningBalanceError| match e {
        OpeningBalanceError::NoReason | OpeningBalanceError::Text(_) => Some("reason"),
        OpeningBalanceError::Money(_) => Some("saldo"),
        _ => None,
    },
    CorrectionError => |e: &CorrectionError| match e {
        CorrectionError::NoReason => Some("reason"),
        _ => None,
    },
    NetworkError => |e: &NetworkError| match e {
        NetworkError::NoName => Some("name"),
        NetworkError::UnknownPlot(_) | NetworkError::PlotOnAnotherLine { .. } => Some("plots"),
        NetworkError::Percent(_) => Some("cap_percent"),
        NetworkError::FutureDecision => Some("decided_on"),
        NetworkError::AlreadyShared(_) => Some("reason"),
        _ => None,
    },
    MeterError => |e: &MeterError| match e {
        MeterError::NoSerial => Some("serial"),
        MeterError::NoReason => Some("reason"),
        _ => None,
    },
    service::members::announcements::AnnouncementError => |e: &service::members::announcements::AnnouncementError| {
        use service::members::announcements::AnnouncementError::*;
        match e {
            Empty | TooLong(_) => Some("body"),
            TooManyPlots | BadPlot(_) | UnknownPlots(_) => Some("plots"),
            NoRecipients | AlreadySent(_) | Internal(_) => None,
        }
    },
    service::members::requests::RequestError => |e: &service::members::requests::RequestError| {
        use service::members::requests::RequestError::*;
        match e {
            Empty | TooLong(_) => Some("body"),
            NotTheirPlot(_) => Some("plot"),
            NotFound(_) | Closed(_) | NotAboutMeter | AlreadyTasked(_) | TooManyOpen | Internal(_) => None,
        }
    },
    ForgetError,
    PaymentImportError,
    service::register::import::RegisterImportError,
    service::import_drafts::DraftError,
    ReviewError,
    SubmitError,
    StoreError,
    SealError,
);

impl Refusal for StatementImportError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Internal(_) | Self::Import(PaymentImportError::Internal(_)))
    }
}

impl Refusal for ResolveError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Internal(_) | Self::Payment(PaymentError::Internal(_)))
    }

    fn field(&self) -> Option<&'static str> {
        matches!(self, Self::NoNote | Self::Text(_)).then_some("note")
    }
}

/// The message to show for a refusal; an internal failure is logged and becomes the 500 page.
pub fn refusal(e: impl Refusal) -> poem::Result<String> {
    if e.is_internal() { Err(internal(e)) } else { Ok(e.to_string()) }
}
