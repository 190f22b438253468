//! The page frame: head, navigation by role, flash messages, and shared form helpers. Markup is
//! maud, which escapes every interpolated value.
//!
//! The bottom of the panel: it uses no other module of it, so the error pages, the CSRF guard and
//! the sign-in ([`crate::auth`]) can all draw on it.

use domain::Role;
use entities::staff;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use poem::session::Session;
use serde::{Deserialize, Serialize};

/// The hidden form field carrying the CSRF token, and the session entry holding it; checked by
/// [`crate::csrf`].
pub const CSRF_FIELD: &str = "csrf_token";

/// A one-time message shown on the next page (after a form redirects).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Flash {
    const KEY: &'static str = "flash";

    pub fn success(session: &Session, text: impl Into<String>) {
        session.set(Self::KEY, Flash { ok: true, text: text.into() });
    }

    pub fn error(session: &Session, text: impl Into<String>) {
        session.set(Self::KEY, Flash { ok: false, text: text.into() });
    }

    pub fn take(session: &Session) -> Option<Flash> {
        let flash = session.get::<Flash>(Self::KEY)?;
        session.remove(Self::KEY);
        Some(flash)
    }
}

const STYLE: &str = include_str!("panel.css");

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — Черноморск" }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ru" {
            (head(title))
            body { (body) }
        }
    }
}

/// Navigation entries and the roles that see them.
const NAV: &[(&str, &str, &[Role])] = &[
    ("/", "Главная", &[Role::Admin, Role::Accountant]),
    (crate::mobile::HOME, "Обход", &[Role::Admin, Role::Controller]),
    ("/plots", "Участки", &[Role::Admin, Role::Accountant]),
    ("/consumers", "Потребители", &[Role::Admin, Role::Accountant]),
    ("/contracts", "Договоры", &[Role::Admin, Role::Accountant]),
    ("/meters", "Счётчики", &[Role::Admin, Role::Accountant]),
    ("/readings", "Показания", &[Role::Admin, Role::Accountant]),
    ("/payments", "Оплаты", &[Role::Admin, Role::Accountant]),
    ("/reports", "Отчёты", &[Role::Admin, Role::Accountant]),
    ("/network", "Баланс сети", &[Role::Admin, Role::Accountant]),
    ("/requests", "Обращения", &[Role::Admin, Role::Accountant]),
    ("/announcements", "Объявления", &[Role::Admin]),
    ("/tariffs", "Тарифы", &[Role::Admin]),
    ("/bank-details", "Реквизиты", &[Role::Admin]),
    ("/staff", "Сотрудники", &[Role::Admin]),
    ("/backups", "Копии", &[Role::Admin]),
];

/// Whom a page is drawn for: a staff member signed in (see [`crate::auth::Authorized`], which
/// derefs to this).
pub struct Viewer {
    pub staff: staff::Model,
    /// The session's CSRF token, for forms (empty for API token requests, which need none).
    pub csrf: String,
    /// A message left by the previous request (after a redirect), shown once.
    pub flash: Option<Flash>,
}

impl Viewer {
    pub fn id(&self) -> i64 {
        self.staff.id
    }

    pub fn role(&self) -> Role {
        self.staff.role
    }

    /// Admins see the buttons that change the register; others see it read-only.
    pub fn is_admin(&self) -> bool {
        self.staff.role == Role::Admin
    }
}

/// A full page for a logged-in staff member.
pub fn page(user: &Viewer, title: &str, body: Markup) -> Markup {
    let role = user.role();
    html! {
        (DOCTYPE)
        html lang="ru" {
            (head(title))
            body {
                header.top {
                    nav {
                        @for (href, label, roles) in NAV {
                            @if roles.contains(&role) { a href=(href) { (label) } }
                        }
                    }
                    div.who {
                        a href="/account" { (user.staff.full_name) " (" (role.label().to_lowercase()) ")" }
                        form.inline method="post" action="/logout" {
                            (csrf_input(&user.csrf))
                            button.link type="submit" { "Выйти" }
                        }
                    }
                }
                main {
                    @if let Some(flash) = &user.flash {
                        p class=(if flash.ok { "flash ok" } else { "flash error" }) role="status" { (flash.text) }
                    }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries (see [`crate::csrf`]).
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A form error shown above the fields, with the user's input kept below it.
pub fn form_error(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.flash.error role="alert" { (message) }
        }
    }
}
