//! Logging in and out, and changing one's own password.

use std::net::{IpAddr, SocketAddr};

use maud::{Markup, html};
use poem::http::{StatusCode, header};
use poem::session::Session;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Form, Query, Redirect};
use poem::{IntoResponse, Request, Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::staff::{AccountError, LoginError};

use crate::PanelConfig;
use crate::auth::{Staff, home_for, start_session};
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

/// The address a login attempt comes from: the connection's peer or, when the panel is set up
/// behind a reverse proxy (`CLIENT_IP_HEADER`), the last address in the proxy's header — the one
/// the proxy itself saw; earlier ones are whatever the client wrote.
fn client_address(req: &Request, config: &PanelConfig) -> Option<IpAddr> {
    let forwarded = config.client_ip_header.as_ref().and_then(|name| {
        let last = req.headers().get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).last();
        let last = last?.trim();
        last.parse::<IpAddr>().ok().or_else(|| last.parse::<SocketAddr>().ok().map(|a| a.ip()))
    });
    forwarded.or_else(|| req.remote_addr().as_socket_addr().map(SocketAddr::ip))
}

fn is_secure(config: &PanelConfig) -> bool {
    config.public_url.scheme() == "https"
}

#[handler]
pub fn show(
    session: &Session,
    cookies: &CookieJar,
    config: Data<&PanelConfig>,
    Query(query): Query<LoginQuery>,
) -> Markup {
    login_page(&csrf::form_token(session, cookies, is_secure(&config)), "", safe_next(query.next.as_deref()), None)
}

#[handler]
pub async fn log_in(
    req: &Request,
    session: &Session,
    cookies: &CookieJar,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let next = safe_next(form.next.as_deref());
    let from = client_address(req, &config);
    let refused = match service::staff::authenticate(&ctx, &form.login, &form.password, from).await {
        Ok(staff) => {
            start_session(session, &staff);
            tracing::info!(login = %staff.login, "logged in");
            return Ok(Redirect::see_other(next.unwrap_or(home_for(staff.role))).into_response());
        }
        Err(LoginError::Internal(e)) => return Err(crate::error::internal(e)),
        Err(e) => e,
    };
    let (status, retry_after) = match &refused {
        LoginError::TooManyAttempts { retry_after } => {
            (StatusCode::TOO_MANY_REQUESTS, Some(retry_after.num_seconds().max(1)))
        }
        _ => (StatusCode::UNAUTHORIZED, None),
    };
    let token = csrf::form_token(session, cookies, is_secure(&config));
    let page = login_page(&token, &form.login, next, Some(&refused.to_string()));
    let mut response = page.into_response().with_status(status).into_response();
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    Ok(response)
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
        Ok(changed) => {
            // The change ended every session of this account, this one too; it goes on under a new id.
            start_session(session, &changed);
            Flash::success(session, "Пароль изменён. Другие входы под этой учётной записью закрыты.");
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
