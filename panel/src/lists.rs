//! Lists: the search-and-filter bar, tables, pages of results and the back links above a title.

use domain::{Balance, Service};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use service::deliveries::Fate;
use service::paging::{PER_PAGE, Paged};
use service::register::lists::RegisterFilter;

use crate::error::bad_request;
use crate::forms::{checkbox, options, parse_choice};

/// Back links above the title: «Участки › 12А».
pub fn crumbs(links: &[(&str, &str)]) -> Markup {
    html! {
        nav.crumbs aria-label="Навигация" {
            @for (i, (href, label)) in links.iter().enumerate() {
                @if i > 0 { " › " }
                a href=(href) { (label) }
            }
        }
    }
}

/// A table with a header row, or a note that there is nothing to show.
pub fn table(headers: &[&str], rows: impl IntoIterator<Item = Markup>) -> Markup {
    let rows: Vec<Markup> = rows.into_iter().collect();
    html! {
        @if rows.is_empty() {
            p.muted { "Ничего не найдено." }
        } @else {
            table {
                thead { tr { @for header in headers { th { (header) } } } }
                tbody { @for row in rows { (row) } }
            }
        }
    }
}

/// «Страница 2 из 5» with links to the neighbours, keeping the list's query.
pub fn pager<T>(paged: &Paged<T>, path: &str, query: &impl Serialize) -> Markup {
    let href = |page: u64| {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&serde_urlencoded::to_string(query).unwrap_or_default()).unwrap_or_default();
        pairs.retain(|(key, value)| key != "page" && !value.is_empty());
        pairs.push(("page".to_owned(), page.to_string()));
        format!("{path}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    html! {
        p.pager {
            @if paged.page > 1 { a href=(href(paged.page - 1)) { "← Назад" } }
            span.muted { "Страница " (paged.page) " из " (paged.pages()) " (всего " (paged.total) ")" }
            @if paged.page < paged.pages() { " " a href=(href(paged.page + 1)) { "Вперёд →" } }
        }
    }
}

/// A GET form of filters above a list, with a reset link.
pub fn filters(path: &str, fields: Markup) -> Markup {
    html! {
        form.filters method="get" action=(path) {
            (fields)
            button type="submit" { "Найти" }
            a.button.secondary href=(path) { "Сбросить" }
        }
    }
}

/// The search and filters of the register lists (plots, consumers, contracts), as in the URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub service: String,
    pub debtors: Option<String>,
    pub unread: Option<String>,
    pub page: Option<u64>,
}

impl RegisterQuery {
    /// The filter asked for; a search beyond its limit is a 400 page saying so.
    pub fn filter(&self) -> poem::Result<RegisterFilter> {
        let mut filter = RegisterFilter::search(&self.q).map_err(bad_request)?;
        filter.service = parse_choice::<Service>(&self.service).ok().flatten();
        filter.debtors = self.debtors.is_some();
        filter.unread = self.unread.is_some();
        Ok(filter)
    }

    /// The page of `all` this query asks for.
    pub fn page<T>(&self, all: Vec<T>) -> Paged<T> {
        Paged::of(all, self.page.unwrap_or(1), PER_PAGE)
    }

    pub fn form(&self, path: &str) -> Markup {
        filters(
            path,
            html! {
                input type="search" name="q" value=(self.q) placeholder="Участок, ФИО, телефон, № договора" aria-label="Поиск";
                select name="service" aria-label="Услуга" { (options::<Service>(&self.service, Some("Все услуги"))) }
                (checkbox("debtors", "Должники", self.debtors.is_some()))
                (checkbox("unread", "Не сняты в этом месяце", self.unread.is_some()))
            },
        )
    }
}

/// A balance cell: debt in red, credit as «переплата».
pub fn balance_cell(balance: Balance) -> Markup {
    let debt = balance.debt();
    html! {
        @if balance.is_debtor() {
            td.num.debt { (debt) }
        } @else if debt.is_negative() {
            td.num { "переплата " (-debt) }
        } @else {
            td.num.muted { "—" }
        }
    }
}

/// The style of a scheduled send's fate in a list: delivered, still waiting, or not delivered.
pub fn fate_class(fate: &Fate) -> &'static str {
    match fate {
        Fate::Delivered(_) => "ok",
        Fate::Pending(_) => "muted",
        Fate::Blocked | Fate::Skipped(_) | Fate::Failed(_) => "error",
    }
}
