//! Every `/api` answer that is not a success is `{"message": "…"}` in Russian, as
//! `application/json`, whoever refuses: an operation, poem-openapi reading its parameters and
//! body, the router, or the panel's guards in front of the API (sign-in, CSRF, body size), whose
//! own answers are English text or HTML pages. [`json_errors`] makes it so; [`Refusal`] is the
//! shape, and as an operation's error type it documents the statuses in the OpenAPI document.

use std::fmt::Display;
use std::marker::PhantomData;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::error::{ParseParamError, ParsePathError, ParseRequestPayloadError};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponse, MetaResponses, Registry};
use poem_openapi::{ApiResponse, ResponseContent};

use super::objects::ApiError;

/// The refusals an operation may answer, each with what it means, for the OpenAPI document.
pub trait Statuses: Send + Sync + 'static {
    const STATUSES: &'static [(u16, &'static str)];
}

const BAD_REQUEST: (u16, &str) = (400, "Параметр или тело запроса не разобраны; сообщение говорит, что не так.");
const UNAUTHORIZED: (u16, &str) = (401, "Нет токена API или сессии панели.");
const FORBIDDEN: (u16, &str) =
    (403, "Роли вызывающего это не разрешено; или изменяющий запрос с сессией панели без заголовка X-CSRF-Token.");
const TOO_LARGE: (u16, &str) = (413, "Тело запроса больше, чем принимает сервер.");
const NOT_JSON: (u16, &str) = (415, "Тело запроса не `application/json`.");
const INTERNAL: (u16, &str) = (500, "Внутренняя ошибка; подробности — в журнале сервера.");

/// Operations that only read.
pub enum Reads {}

/// Operations that take a JSON body.
pub enum Writes {}

impl Statuses for Reads {
    const STATUSES: &'static [(u16, &'static str)] = &[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, INTERNAL];
}

impl Statuses for Writes {
    const STATUSES: &'static [(u16, &'static str)] =
        &[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, TOO_LARGE, NOT_JSON, INTERNAL];
}

/// A refusal with its status and Russian message.
pub struct Refusal<K: Statuses> {
    status: StatusCode,
    message: String,
    kind: PhantomData<K>,
}

impl<K: Statuses> Refusal<K> {
    pub fn bad_request(message: impl Display) -> Self {
        Refusal { status: StatusCode::BAD_REQUEST, message: message.to_string(), kind: PhantomData }
    }

    /// A failure that is not the caller's: logged by the panel's one helper
    /// ([`crate::error::internal`]), answered without details.
    pub fn internal(e: impl std::error::Error + 'static) -> Self {
        let status = crate::error::internal(e).status();
        Refusal { status, message: by_status(status), kind: PhantomData }
    }
}

impl<K: Statuses> ApiResponse for Refusal<K> {
    fn meta() -> MetaResponses {
        let responses = K::STATUSES
            .iter()
            .map(|&(status, description)| MetaResponse {
                description,
                status: Some(status),
                status_range: None,
                content: <Json<ApiError> as ResponseContent>::media_types(),
                headers: Vec::new(),
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        <Json<ApiError> as ResponseContent>::register(registry);
    }
}

impl<K: Statuses> From<Refusal<K>> for poem::Error {
    fn from(refusal: Refusal<K>) -> poem::Error {
        poem::Error::from_response(answer(refusal.status, refusal.message))
    }
}

/// `{"message": …}` with `status`.
fn answer(status: StatusCode, message: impl Into<String>) -> Response {
    ApiError::json(message).with_status(status).into_response()
}

/// The middleware in front of everything under `/api` (see the module's documentation).
pub async fn json_errors<E: Endpoint>(endpoint: Arc<E>, req: Request) -> poem::Result<Response> {
    let path = req.uri().path();
    if path != "/api" && !path.starts_with("/api/") {
        return endpoint.call(req).await.map(IntoResponse::into_response);
    }
    let (response, message) = match endpoint.call(req).await {
        Ok(response) => (response.into_response(), None),
        Err(e) => {
            let message = message_of(&e);
            (e.into_response(), Some(message))
        }
    };
    let status = response.status();
    let refused = status.is_client_error() || status.is_server_error();
    if !refused || response.content_type().is_some_and(|t| t.starts_with("application/json")) {
        return Ok(response);
    }
    Ok(answer(status, message.unwrap_or_else(|| by_status(status))))
}

/// What to tell the caller about an error that reached the middleware as it is.
fn message_of(e: &poem::Error) -> String {
    if let Some(e) = e.downcast_ref::<ParseParamError>() {
        return format!("Параметр «{}»: {}", e.name, parameter_hint(e.name));
    }
    // Every path parameter is a record's id (poem-openapi names it `param0`, not `id`).
    if e.is::<ParsePathError>() {
        return "Номер записи в адресе должен быть целым числом.".to_owned();
    }
    if e.is::<ParseRequestPayloadError>() {
        return "Тело запроса не разобрано: нужен JSON-объект с полями и типами, как в описании API (/api/docs)."
            .to_owned();
    }
    by_status(e.status())
}

/// What a query parameter may be, for the message about a bad one.
fn parameter_hint(name: &str) -> String {
    match name {
        "page" => "номер страницы — целое число от 1.".to_owned(),
        "per_page" => format!("строк на странице — целое число от 1 до {}.", super::MAX_PER_PAGE),
        "debtors" | "unread" => "true или false.".to_owned(),
        "meter_id" => "номер счётчика — целое число.".to_owned(),
        _ => "значение не подходит; допустимые — в описании API (/api/docs).".to_owned(),
    }
}

/// The message for a refusal known only by its status.
fn by_status(status: StatusCode) -> String {
    let message = match status {
        StatusCode::UNAUTHORIZED => "Нужен вход: токен API (заголовок Authorization: Bearer …) или сессия панели.",
        StatusCode::FORBIDDEN => {
            "Недостаточно прав для этого запроса. С сессией панели изменяющим запросам нужен ещё заголовок X-CSRF-Token."
        }
        StatusCode::NOT_FOUND => "Такого адреса в API нет; все операции — в описании API (/api/docs).",
        StatusCode::METHOD_NOT_ALLOWED => "Этот метод для этого адреса не поддерживается.",
        StatusCode::PAYLOAD_TOO_LARGE => {
            return format!("Слишком большой запрос: не больше {} МБ.", crate::MAX_BODY >> 20);
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Тело запроса должно быть JSON с заголовком Content-Type: application/json."
        }
        s if s.is_server_error() => "Внутренняя ошибка. Попробуйте ещё раз чуть позже.",
        _ => "Запрос не выполнен: проверьте его по описанию API (/api/docs).",
    };
    message.to_owned()
}
