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
use service::access::login::LoginError;
use service::access::staff::AccountError;
use url::{Position, Url};

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

/// Where to go after login: `next` only if it is a path on this site once parsed against the
/// site's address as a browser parses it (dropping tabs and newlines, reading `\` as `/`), so what
/// is checked is what the browser would follow. Anything else: nowhere in particular.
fn safe_next(next: Option<&str>, site: &Url) -> Option<String> {
    let url = site.join(next?).ok()?;
    let path = &url[Position::BeforePath..Position::AfterQuery];
    // `/.//evil.example` is the path `//evil.example`, which as a Location is another host.
    (url.origin() == site.origin() && !path.starts_with("//")).then(|| path.to_owned())
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
    let next = safe_next(query.next.as_deref(), &config.public_url);
    login_page(&csrf::form_token(session, cookies, is_secure(&config)), "", next.as_deref(), None)
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
    let next = safe_next(form.next.as_deref(), &config.public_url);
    let from = client_address(req, &config);
    let refused = match service::access::login::authenticate(&ctx, &form.login, &form.password, from).await {
        Ok(staff) => {
            start_session(session, &staff);
            tracing::info!(login = %staff.login, "logged in");
            let to = next.unwrap_or_else(|| home_for(staff.role).to_owned());
            return Ok(Redirect::see_other(to).into_response());
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
    let page = login_page(&token, &form.login, next.as_deref(), Some(&refused.to_string()));
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
                input #new type="password" name="new" autocomplete="new-password" minlength=(service::access::staff::MIN_PASSWORD_LEN) required;
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
    req: &Request,
    user: Staff,
    session: &Session,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    if form.new != form.repeat {
        return Ok(account_page(&user, Some("Новые пароли не совпадают.")).into_response());
    }
    let from = client_address(req, &config);
    match service::access::staff::change_password(&ctx, user.id(), &form.current, &form.new, from).await {
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
    fn only_paths_on_this_site_are_followed() {
        let site = url::Url::parse("https://snt.example/").unwrap();
        let next = |n: &str| safe_next(Some(n), &site);
        assert_eq!(next("/payments?page=2").as_deref(), Some("/payments?page=2"));
        assert_eq!(next("/ok?x=1#top").as_deref(), Some("/ok?x=1"));
        assert_eq!(next("https://snt.example/plots").as_deref(), Some("/plots"));
        // Control characters are dropped by the parser as by the browser, never passed on.
        assert_eq!(next("/ok\r\nSet-Cookie: x=1").as_deref(), Some("/okSet-Cookie:%20x=1"));
        for foreign in [
            "//evil.example",
            "/\t/evil.example/",
            "/\n/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/.//evil.example",
            "https://evil.example",
            "http://snt.example/",
            "https://snt.example:444/",
            "javascript:alert(1)",
            "data:text/html,x",
        ] {
            assert_eq!(next(foreign), None, "{foreign:?}");
        }
        assert_eq!(safe_next(None, &site), None);
    }
}
