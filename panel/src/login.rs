//! Logging in and out, and changing one's own password.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::session::Session;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::staff::{AccountError, LoginError};

use crate::auth::{STAFF_ID, Staff, home_for};
use crate::csrf;
use crate::layout::{self, Flash, csrf_input, form_error};

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

fn login_page(csrf: &str, login: &str, next: Option<&str>, error: Option<&str>) -> Markup {
    layout::bare(
        "Вход",
        html! {
            main.narrow {
                h1 { "Учёт СНТ «Черноморск»" }
                (form_error(error))
                form.stack method="post" action="/login" {
                    (csrf_input(csrf))
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    label for="login" { "Логин" }
                    input #login type="text" name="login" value=(login) autocomplete="username" autocapitalize="none" required autofocus;
                    label for="password" { "Пароль" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Войти" }
                }
            }
        },
    )
}

/// Only paths on this site are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
}

#[handler]
pub fn show(session: &Session, Query(query): Query<LoginQuery>) -> Markup {
    login_page(&csrf::token(session), "", safe_next(query.next.as_deref()), None)
}

#[handler]
pub async fn log_in(session: &Session, ctx: Data<&Context>, Form(form): Form<LoginForm>) -> Result<Response> {
    let next = safe_next(form.next.as_deref());
    match service::staff::authenticate(&ctx, &form.login, &form.password).await {
        Ok(staff) => {
            // A fresh session id and token at login: a session id planted before login is useless.
            session.renew();
            session.remove(csrf::FIELD);
            session.set(STAFF_ID, staff.id);
            tracing::info!(login = %staff.login, "logged in");
            Ok(Redirect::see_other(next.unwrap_or(home_for(staff.role))).into_response())
        }
        Err(LoginError::Internal(e)) => Err(crate::error::internal(e)),
        Err(e) => {
            let page = login_page(&csrf::token(session), &form.login, next, Some(&e.to_string()));
            Ok(page.into_response().with_status(StatusCode::UNAUTHORIZED).into_response())
        }
    }
}

#[handler]
pub fn logout(session: &Session) -> Redirect {
    session.purge();
    Redirect::see_other("/login")
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

fn account_page(user: &Staff, error: Option<&str>) -> Markup {
    layout::page(
        user,
        "Учётная запись",
        html! {
            p { "Логин: " b { (user.staff.login) } ", роль: " (user.role().label()) }
            h2 { "Смена пароля" }
            (form_error(error))
            form.stack method="post" action="/account/password" {
                (csrf_input(&user.csrf))
                label for="current" { "Текущий пароль" }
                input #current type="password" name="current" autocomplete="current-password" required;
                label for="new" { "Новый пароль" }
                input #new type="password" name="new" autocomplete="new-password" minlength=(service::staff::MIN_PASSWORD_LEN) required;
                label for="repeat" { "Новый пароль ещё раз" }
                input #repeat type="password" name="repeat" autocomplete="new-password" required;
                button type="submit" { "Сменить пароль" }
            }
        },
    )
}

#[handler]
pub fn account(user: Staff) -> Markup {
    account_page(&user, None)
}

#[handler]
pub async fn change_password(
    user: Staff,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    if form.new != form.repeat {
        return Ok(account_page(&user, Some("Новые пароли не совпадают.")).into_response());
    }
    match service::staff::change_password(&ctx, user.id(), &form.current, &form.new).await {
        Ok(()) => {
            Flash::success(session, "Пароль изменён.");
            Ok(Redirect::see_other("/account").into_response())
        }
        Err(AccountError::Internal(e)) => Err(crate::error::internal(e)),
        Err(e) => Ok(account_page(&user, Some(&e.to_string())).into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/payments?page=2")), Some("/payments?page=2"));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil.example")), None);
        assert_eq!(safe_next(None), None);
    }
}
