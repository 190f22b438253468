//! The controllers' mobile form under `/m`: find a plot (or take the next one not read this month),
//! see its meters and debt, read a meter with a seal check and a photo, go on to the next plot.
//!
//! Plain server-rendered HTML forms, laid out for a 360 px phone used with one hand, that work
//! without a script. With one (`web/app.js`, see [`offline`]) the form is an installable web app
//! that works in a dead spot: pages are kept on the phone and readings queued until the server
//! can be reached. Every rule (validation, jumps, idempotency, photo intake) is the service layer's.

mod offline;
mod reading;
mod walk;

use domain::values_text;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use poem::http::Method;

use crate::auth::{Access, FieldStaff};
use crate::layout::csrf_input;
use crate::{PageRoute, route};

/// The form's rows of the route table ([`crate::pages`]). The walk starts at `/m/` (the service
/// worker's scope; `/m` answers too). The app's own files are public: a phone fetches them before
/// it knows whether its session is still alive.
pub fn pages() -> Vec<PageRoute> {
    vec![
        route(Method::GET, "/m", Access::Field, walk::home),
        route(Method::GET, HOME, Access::Field, walk::home),
        route(Method::GET, "/m/unread", Access::Field, walk::unread_list),
        route(Method::GET, "/m/plots/:id", Access::Field, walk::show_plot),
        route(Method::GET, "/m/meters/:id/reading", Access::Field, reading::form),
        route(Method::POST, "/m/meters/:id/reading", Access::Field, reading::submit),
        route(Method::GET, "/m/session", Access::Field, offline::session),
        route(Method::GET, "/m/app.js", Access::Public, offline::app_js),
        route(Method::GET, "/m/sw.js", Access::Public, offline::service_worker),
        route(Method::GET, "/m/manifest.webmanifest", Access::Public, offline::manifest),
        route(Method::GET, "/m/icon.svg", Access::Public, offline::icon),
    ]
}

/// The walk's start. With the slash: the service worker's scope is `/m/`, and `/m` is outside it.
pub(crate) const HOME: &str = "/m/";

const STYLE: &str = include_str!("mobile.css");

/// The phone frame: a slim bar (back to the walk, who, log out) over one column. The office
/// frame's navigation and tables are of no use in the field.
fn page(user: &FieldStaff, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ru" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="theme-color" content="#2f6f4f";
                title { (title) " — обход" }
                link rel="manifest" href="/m/manifest.webmanifest";
                link rel="icon" href="/m/icon.svg" type="image/svg+xml";
                style { (PreEscaped(STYLE)) }
                script src="/m/app.js" defer {}
            }
            // Whose readings the phone queues: they are sent only in that person's session.
            body data-staff=(user.id()) {
                header.bar {
                    a href=(HOME) { "Обход" }
                    a #queue-badge href={ (HOME) "#queue" } hidden { "Очередь" }
                    span.who { (user.staff.full_name) }
                    form method="post" action="/logout" {
                        (csrf_input(&user.csrf))
                        button type="submit" { "Выйти" }
                    }
                }
                main {
                    @if let Some(flash) = &user.flash {
                        p class=(if flash.ok { "flash ok" } else { "flash error" }) role="status" { (flash.text) }
                    }
                    h1 { (title) }
                    (body)
                    // Filled by the script from the queue on the phone.
                    section #queue hidden {
                        h2 { "Очередь" }
                        p.notice hidden {}
                        ul.queue {}
                    }
                }
            }
        }
    }
}
