//! Plots: the list in walking order, a plot's page with its contracts, adding and editing.

use domain::PlotNumber;
use entities::plot;
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, Result, handler};
use sea_orm::EntityTrait;
use serde::Deserialize;
use service::Context;
use service::ledger::debt::Scope;
use service::register::changes::PlotDetails;
use service::register::{changes, lists};

use crate::auth::{Admin, OfficeStaff};
use crate::contracts;
use crate::error::{found, internal};
use crate::forms::{Errors, done, invalid, optional, required_text_field, store, text_field, textarea_field};
use crate::layout::{self, csrf_input};
use crate::lists::{RegisterQuery, balance_cell, crumbs, pager, table};

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<RegisterQuery>) -> Result<Markup> {
    let rows = lists::plots(ctx.db.conn(), &query.filter()?, ctx.current_period()).await.map_err(internal)?;
    let page = query.page(rows);
    Ok(layout::page(
        &user,
        "Участки",
        html! {
            @if user.is_admin() { p { a.button href="/plots/new" { "Новый участок" } } }
            (query.form("/plots"))
            (table(&["Участок", "Адрес", "Владельцы", "Договоров", "Долг"], page.items.iter().map(|r| html! {
                tr {
                    td { a href={ "/plots/" (r.plot.id) } { (r.plot.number) } }
                    td { (r.plot.address.as_deref().unwrap_or_default()) }
                    td { (r.holders.join(", ")) }
                    td.num { (r.open_contracts) }
                    (balance_cell(r.balance))
                }
            })))
            (pager(&page, "/plots", &query))
        },
    ))
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let conn = ctx.db.conn();
    let plot = found(plot::Entity::find_by_id(id).one(conn).await)?;
    let rows = lists::contract_rows(conn, Scope::Plot(id), ctx.current_period()).await.map_err(internal)?;
    let balance = domain::Balance::try_sum(rows.iter().map(|r| r.balance)).map_err(internal)?;
    Ok(layout::page(
        &user,
        &format!("Участок {}", plot.number),
        html! {
            (crumbs(&[("/plots", "Участки")]))
            table.details {
                tr { th { "Адрес" } td { (plot.address.as_deref().unwrap_or("—")) } }
                tr { th { "Заметки" } td { (plot.notes.as_deref().unwrap_or("—")) } }
                tr { th { "Баланс" } td { (balance.describe()) } }
            }
            @if user.is_admin() {
                p {
                    a.button.secondary href={ "/plots/" (id) "/edit" } { "Изменить" } " "
                    a.button href={ "/contracts/new?plot=" (crate::auth::urlencode(plot.number.as_str())) } { "Подписать договор на участке" }
                }
            }
            h2 { "Договоры" }
            (contracts::rows_table(&rows))
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PlotForm {
    number: String,
    address: String,
    notes: String,
}

impl PlotForm {
    fn of(plot: &plot::Model) -> PlotForm {
        PlotForm {
            number: plot.number.to_string(),
            address: plot.address.clone().unwrap_or_default(),
            notes: plot.notes.clone().unwrap_or_default(),
        }
    }

    fn parse(&self) -> Result<PlotDetails, Errors> {
        let mut errors = Errors::default();
        match errors.check("number", PlotNumber::parse(&self.number)) {
            Some(number) => Ok(PlotDetails { number, address: optional(&self.address), notes: optional(&self.notes) }),
            None => Err(errors),
        }
    }
}

/// The form for a new plot (`plot` is none) or an existing one.
fn form_page(user: &Admin, plot: Option<&plot::Model>, form: &PlotForm, errors: &Errors) -> Markup {
    let (title, action) = match plot {
        Some(p) => (format!("Участок {}: изменить", p.number), format!("/plots/{}", p.id)),
        None => ("Новый участок".to_owned(), "/plots".to_owned()),
    };
    layout::page(
        user,
        &title,
        html! {
            (crumbs(&[("/plots", "Участки")]))
            (errors.banner())
            form.stack method="post" action=(action) {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "number", "Номер участка", &form.number))
                (text_field(errors, "address", "Адрес", &form.address))
                (textarea_field(errors, "notes", "Заметки", &form.notes))
                button type="submit" { "Сохранить" }
            }
        },
    )
}

#[handler]
pub fn new(user: Admin) -> Markup {
    form_page(&user, None, &PlotForm::default(), &Errors::default())
}

#[handler]
pub async fn create(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<PlotForm>,
) -> Result<Response> {
    match store(form.parse(), |details| changes::create_plot(&ctx, details, user.actor())).await? {
        Ok(plot) => Ok(done(session, format!("Участок {} добавлен.", plot.number), format!("/plots/{}", plot.id))),
        Err(errors) => Ok(invalid(form_page(&user, None, &form, &errors))),
    }
}

#[handler]
pub async fn edit(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let plot = found(plot::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    Ok(form_page(&user, Some(&plot), &PlotForm::of(&plot), &Errors::default()))
}

#[handler]
pub async fn update(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<PlotForm>,
) -> Result<Response> {
    let plot = found(plot::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    match store(form.parse(), |details| changes::update_plot(&ctx, id, details, user.actor())).await? {
        Ok(plot) => Ok(done(session, format!("Участок {} сохранён.", plot.number), format!("/plots/{id}"))),
        Err(errors) => Ok(invalid(form_page(&user, Some(&plot), &form, &errors))),
    }
}
