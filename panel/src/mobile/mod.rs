//! The controllers' mobile form under `/m`: find a plot (or take the next one not read this month),
//! see its meters and debt, read a meter with a seal check and a photo, go on to the next plot.
//!
//! Plain server-rendered HTML forms with no JavaScript, laid out for a 360 px phone used with one
//! hand. Every rule (validation, jumps, idempotency, photo intake) is the service layer's.

mod reading;
mod walk;

use domain::values_text;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use poem::http::Method;

use crate::auth::{Access, FieldStaff};
use crate::layout::csrf_input;
use crate::{PageRoute, route};

/// The form's rows of the route table ([`crate::pages`]).
pub fn pages() -> Vec<PageRoute> {
    vec![
        route(Method::GET, "/m", Access::Field, walk::home),
        route(Method::GET, "/m/unread", Access::Field, walk::unread_list),
        route(Method::GET, "/m/plots/:id", Access::Field, walk::show_plot),
        route(Method::GET, "/m/meters/:id/reading", Access::Field, reading::form),
        route(Method::POST, "/m/meters/:id/reading", Access::Field, reading::submit),
    ]
}

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
                title { (title) " — обход" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.bar {
                    a href="/m" { "Обход" }
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
                }
            }
        }
    }
}
