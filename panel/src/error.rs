//! Error pages in Russian, and the mapping from service errors to HTTP.

use maud::html;
use poem::http::StatusCode;
use poem::{Error, IntoResponse, Response};

use crate::layout;

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

/// An unexpected failure: logged in full, shown as a polite page without details.
pub fn internal(e: impl std::fmt::Display) -> Error {
    tracing::error!("{e}");
    Error::from_response(page_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Внутренняя ошибка",
        "Что-то пошло не так. Попробуйте ещё раз чуть позже; если ошибка повторяется, сообщите администратору.",
    ))
}

pub fn not_found() -> Error {
    Error::from_response(page_response(StatusCode::NOT_FOUND, "Не найдено", "Такой страницы или записи нет."))
}
