//! Staff accounts (admins only): the list, new accounts, role, access, password reset, API
//! tokens and Telegram link codes.

use domain::Role;
use entities::staff;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::access::staff::{AccountError, NewStaff};
use service::access::telegram::LinkTarget;

use crate::auth::{Admin, start_session};
use crate::error::{found, internal};
use crate::forms::{
    Errors, done, invalid, moment_text, password_field, require_choice, required_text_field, select_field,
};
use crate::layout::{self, csrf_input};
use crate::lists::{crumbs, table};
use crate::{PanelConfig, links};

async fn load(ctx: &Context, id: i64) -> Result<staff::Model> {
    found(service::access::staff::get(ctx.db.conn(), id).await)
}

#[handler]
pub async fn list(user: Admin, ctx: Data<&Context>) -> Result<Markup> {
    let members = service::access::staff::list(ctx.db.conn()).await.map_err(internal)?;
    Ok(layout::page(
        &user,
        "Сотрудники",
        html! {
            p { a.button href="/staff/new" { "Новый сотрудник" } }
            (table(&["Логин", "Имя", "Роль", "Доступ", "Telegram", "Токен API"], members.iter().map(|m| html! {
                tr {
                    td { a href={ "/staff/" (m.id) } { (m.login) } }
                    td { (m.full_name) }
                    td { (m.role) }
                    td { @if m.active { "открыт" } @else { span.warn { "отключён" } } }
                    td { (if m.telegram_user_id.is_some() { "привязан" } else { "—" }) }
                    td { (if m.api_token_hash.is_some() { "выдан" } else { "—" }) }
                }
            })))
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StaffForm {
    login: String,
    full_name: String,
    role: String,
    password: String,
    repeat: String,
}

/// The new password, typed twice alike.
fn repeated(password: &str, repeat: &str, errors: &mut Errors) -> Option<String> {
    if password != repeat {
        errors.add("repeat", "Пароли не совпадают.");
        return None;
    }
    Some(password.to_owned())
}

fn new_page(user: &Admin, form: &StaffForm, errors: &Errors) -> Markup {
    layout::page(
        user,
        "Новый сотрудник",
        html! {
            (crumbs(&[("/staff", "Сотрудники")]))
            (errors.banner())
            form.stack method="post" action="/staff" autocomplete="off" {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "login", "Логин (латиница, цифры, . - _)", &form.login))
                (required_text_field(errors, "full_name", "Имя", &form.full_name))
                (select_field::<Role>(errors, "role", "Роль", &form.role))
                (password_field(errors, "password", "Пароль"))
                (password_field(errors, "repeat", "Пароль ещё раз"))
                button type="submit" { "Создать" }
            }
        },
    )
}

#[handler]
pub fn new(user: Admin) -> Markup {
    let form = StaffForm { role: Role::Controller.code().to_owned(), ..StaffForm::default() };
    new_page(&user, &form, &Errors::default())
}

#[handler]
pub async fn create(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<StaffForm>,
) -> Result<Response> {
    let mut errors = Errors::default();
    let role = errors.check("role", require_choice::<Role>(&form.role));
    let password = repeated(&form.password, &form.repeat, &mut errors);
    if let (Some(role), Some(password)) = (role, password) {
        let account = NewStaff { login: form.login.clone(), full_name: form.full_name.clone(), role, password };
        match service::access::staff::create(&ctx, account, user.actor()).await {
            Ok(member) => {
                return Ok(done(
                    session,
                    format!("Сотрудник «{}» создан.", member.login),
                    format!("/staff/{}", member.id),
                ));
            }
            Err(e) => errors = Errors::refused(e)?,
        }
    }
    Ok(invalid(new_page(&user, &form, &errors)))
}

async fn member_page(user: &Admin, ctx: &Context, member: &staff::Model, errors: &Errors) -> Result<Markup> {
    let id = member.id;
    Ok(layout::page(
        user,
        &format!("{} ({})", member.full_name, member.login),
        html! {
            (crumbs(&[("/staff", "Сотрудники")]))
            table.details {
                tr { th { "Роль" } td { (member.role) } }
                tr { th { "Доступ" } td { (if member.active { "открыт" } else { "отключён" }) } }
                tr { th { "Заблокирован до" } td { (member.locked_until.map(|t| moment_text(ctx, t)).unwrap_or_else(|| "—".into())) } }
                tr { th { "Telegram" } td { (if member.telegram_user_id.is_some() { "привязан" } else { "не привязан" }) } }
                tr { th { "Токен API" } td { (if member.api_token_hash.is_some() { "выдан" } else { "не выдан" }) } }
            }
            (errors.banner())
            h2 { "Роль" }
            form.stack method="post" action={ "/staff/" (id) "/role" } {
                (csrf_input(&user.csrf))
                (select_field::<Role>(errors, "role", "Роль", member.role.code()))
                button type="submit" { "Сменить роль" }
            }
            h2 { "Доступ" }
            form.stack method="post" action={ "/staff/" (id) "/active" } {
                (csrf_input(&user.csrf))
                @if member.active {
                    input type="hidden" name="active" value="false";
                    p.muted { "Отключённый сотрудник не сможет войти; его токен API перестанет действовать." }
                    button.secondary type="submit" { "Отключить" }
                } @else {
                    input type="hidden" name="active" value="true";
                    button type="submit" { "Включить" }
                }
            }
            h2 { "Новый пароль" }
            form.stack method="post" action={ "/staff/" (id) "/password" } autocomplete="off" {
                (csrf_input(&user.csrf))
                (password_field(errors, "password", "Пароль"))
                (password_field(errors, "repeat", "Пароль ещё раз"))
                button type="submit" { "Задать пароль" }
            }
            h2 { "Токен API и Telegram" }
            p.muted { "Новый токен заменяет старый и показывается один раз." }
            form.inline method="post" action={ "/staff/" (id) "/token" } {
                (csrf_input(&user.csrf))
                button type="submit" { "Выдать токен API" }
            }
            " "
            form.inline method="post" action={ "/staff/" (id) "/link-code" } {
                (csrf_input(&user.csrf))
                button.secondary type="submit" { "Код привязки Telegram" }
            }
        },
    ))
}

#[handler]
pub async fn show(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let member = load(&ctx, id).await?;
    member_page(&user, &ctx, &member, &Errors::default()).await
}

/// Ends a change to an account: back to its page with a message, or the page with the error.
async fn account_changed(
    user: &Admin,
    session: &Session,
    ctx: &Context,
    id: i64,
    result: Result<String, AccountError>,
) -> Result<Response> {
    match result {
        Ok(message) => Ok(done(session, message, format!("/staff/{id}"))),
        Err(e) => member_page_again(user, ctx, id, &Errors::refused(e)?).await,
    }
}

/// The account's page again, with the errors of the form sent from it.
async fn member_page_again(user: &Admin, ctx: &Context, id: i64, errors: &Errors) -> Result<Response> {
    let member = load(ctx, id).await?;
    Ok(invalid(member_page(user, ctx, &member, errors).await?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

#[handler]
pub async fn set_role(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response> {
    let mut errors = Errors::default();
    let Some(role) = errors.check("role", require_choice::<Role>(&form.role)) else {
        return member_page_again(&user, &ctx, id, &errors).await;
    };
    let result = service::access::staff::set_role(&ctx, id, role, user.actor()).await;
    let result = result.map(|m| format!("Роль «{}»: {}.", m.login, m.role.label().to_lowercase()));
    account_changed(&user, session, &ctx, id, result).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

#[handler]
pub async fn set_active(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Response> {
    let active = form.active == "true";
    let result = service::access::staff::set_active(&ctx, id, active, user.actor()).await;
    let result = result.map(|m| format!("Доступ «{}» {}.", m.login, if m.active { "открыт" } else { "отключён" }));
    account_changed(&user, session, &ctx, id, result).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
    repeat: String,
}

#[handler]
pub async fn reset_password(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ResetForm>,
) -> Result<Response> {
    let mut errors = Errors::default();
    let Some(password) = repeated(&form.password, &form.repeat, &mut errors) else {
        return member_page_again(&user, &ctx, id, &errors).await;
    };
    let result = service::access::staff::reset_password(&ctx, id, &password, user.id()).await.map(|member| {
        // A new password ends the member's sessions; when it is one's own, this one goes on under a new id.
        if member.id == user.id() {
            start_session(session, &member);
        }
        "Пароль задан; блокировка снята; открытые сеансы сотрудника завершены.".to_owned()
    });
    account_changed(&user, session, &ctx, id, result).await
}

/// Shows the new token once, in this response only: only its hash is stored.
#[handler]
pub async fn issue_token(
    user: Admin,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Path(id): Path<i64>,
) -> Result<Markup> {
    let member = load(&ctx, id).await?;
    let token = service::access::staff::issue_api_token(&ctx, id, user.actor()).await.map_err(internal)?;
    let api = config.public_url.join("api/plots").map(|u| u.to_string()).unwrap_or_default();
    Ok(layout::page(
        &user,
        "Токен API",
        html! {
            (crumbs(&[("/staff", "Сотрудники"), (&format!("/staff/{id}"), &member.login)]))
            p { "Токен для «" (member.login) "»:" }
            p.code { code { (token) } }
            p.flash.error { "Скопируйте его сейчас: он показан один раз. Прежний токен больше не действует." }
            p { "Пример запроса: " code { "curl -H 'Authorization: Bearer " (token) "' " (api) } }
            p { "Описание API: " a href="/api/docs" { "/api/docs" } }
            p { a href={ "/staff/" (id) } { "← Назад" } }
        },
    ))
}

#[handler]
pub async fn link_code(
    user: Admin,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Path(id): Path<i64>,
) -> Result<Markup> {
    let member = load(&ctx, id).await?;
    links::issue(&user, &ctx, &config, LinkTarget::Staff(id), &member.full_name, &format!("/staff/{id}")).await
}
