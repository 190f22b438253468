//! Consumers: the list, a consumer's page with contracts and debt, editing, Telegram link codes.

use domain::Phone;
use entities::{consumer, telegram_link};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form, Path, Query};
use poem::{Response, Result, handler};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Deserialize;
use service::Context;
use service::access::telegram::LinkTarget;
use service::ledger::debt::Scope;
use service::register::changes::ConsumerDetails;
use service::register::{changes, lists};

use crate::auth::{Admin, OfficeStaff};
use crate::error::{found, internal};
use crate::forms::{Errors, checkbox, done, invalid, optional, required_text_field, store, text_field, textarea_field};
use crate::layout::{self, csrf_input};
use crate::lists::{RegisterQuery, balance_cell, crumbs, pager, table};
use crate::{PanelConfig, charts, contracts, links, payee};

#[handler]
pub async fn list(user: OfficeStaff, ctx: Data<&Context>, Query(query): Query<RegisterQuery>) -> Result<Markup> {
    let rows = lists::consumers(ctx.db.conn(), &query.filter()?, ctx.current_period()).await.map_err(internal)?;
    let page = query.page(rows);
    Ok(layout::page(
        &user,
        "Потребители",
        html! {
            @if user.is_admin() { p { a.button href="/contracts/new" { "Новый потребитель (договор)" } } }
            (query.form("/consumers"))
            (table(&["ФИО", "Телефон", "Участки", "Договоры", "Долг"], page.items.iter().map(|r| html! {
                tr {
                    td { a href={ "/consumers/" (r.consumer.id) } { (r.consumer.full_name) } }
                    td { (r.consumer.phone.as_ref().map(Phone::as_str).unwrap_or_default()) }
                    td { (r.plots.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")) }
                    td { (r.contracts.join(", ")) }
                    (balance_cell(r.balance))
                }
            })))
            (pager(&page, "/consumers", &query))
        },
    ))
}

#[handler]
pub async fn show(user: OfficeStaff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let conn = ctx.db.conn();
    let consumer = found(consumer::Entity::find_by_id(id).one(conn).await)?;
    let rows = lists::contract_rows(conn, Scope::Consumer(id), ctx.current_period()).await.map_err(internal)?;
    let balance = domain::Balance::try_sum(rows.iter().map(|r| r.balance)).map_err(internal)?;
    let telegram = telegram_link::Entity::find()
        .filter(telegram_link::Column::ConsumerId.eq(id))
        .count(conn)
        .await
        .map_err(internal)?;
    let payment = payee::owed_block(&ctx, &payee::payee(&ctx).await?, id).await?;
    Ok(layout::page(
        &user,
        &consumer.full_name,
        html! {
            (crumbs(&[("/consumers", "Потребители")]))
            table.details {
                tr { th { "Телефон" } td { (consumer.phone.as_ref().map(Phone::as_str).unwrap_or("—")) } }
                tr { th { "Заметки" } td { (consumer.notes.as_deref().unwrap_or("—")) } }
                tr { th { "Напоминания" } td { (if consumer.reminders_enabled { "включены" } else { "выключены" }) } }
                tr { th { "Telegram" } td { @if telegram > 0 { "привязан (" (telegram) ")" } @else { "не привязан" } } }
                tr { th { "Баланс" } td { (balance.describe()) } }
            }
            p {
                @if user.is_admin() {
                    a.button.secondary href={ "/consumers/" (id) "/edit" } { "Изменить" } " "
                    a.button href={ "/contracts/new?consumer=" (id) } { "Подписать ещё договор" } " "
                }
                a.button.secondary href={ "/receipts?consumer=" (id) } { "Квитанция за месяц" } " "
                form.inline method="post" action={ "/consumers/" (id) "/link-code" } {
                    (csrf_input(&user.csrf))
                    button.secondary type="submit" { "Код привязки Telegram" }
                }
            }
            h2 { "Договоры" }
            (contracts::rows_table(&rows))
            (crate::act::default_form(&ctx, &format!("/consumers/{id}/akt")))
            h2 { "Потребление" }
            (charts::consumer(id, rows.iter().map(|r| r.contract.id)))
            (payment)
        },
    ))
}

/// Office staff hand the code to the consumer, who sends it to the bot.
#[handler]
pub async fn link_code(
    user: OfficeStaff,
    ctx: Data<&Context>,
    config: Data<&PanelConfig>,
    Path(id): Path<i64>,
) -> Result<Markup> {
    let consumer = found(consumer::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    let back = format!("/consumers/{id}");
    links::issue(&user, &ctx, &config, LinkTarget::Consumer(id), &consumer.full_name, &back).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ConsumerForm {
    full_name: String,
    phone: String,
    notes: String,
    reminders: Option<String>,
}

impl ConsumerForm {
    fn of(consumer: &consumer::Model) -> ConsumerForm {
        ConsumerForm {
            full_name: consumer.full_name.clone(),
            phone: consumer.phone.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            notes: consumer.notes.clone().unwrap_or_default(),
            reminders: consumer.reminders_enabled.then(|| "on".to_owned()),
        }
    }

    fn parse(&self) -> Result<ConsumerDetails, Errors> {
        let mut errors = Errors::default();
        let phone = errors.check("phone", optional(&self.phone).map(|p| Phone::parse(&p)).transpose());
        match phone {
            Some(phone) => Ok(ConsumerDetails {
                full_name: self.full_name.clone(),
                phone,
                notes: optional(&self.notes),
                reminders_enabled: self.reminders.is_some(),
            }),
            None => Err(errors),
        }
    }
}

fn edit_page(user: &Admin, consumer: &consumer::Model, form: &ConsumerForm, errors: &Errors) -> Markup {
    let id = consumer.id;
    layout::page(
        user,
        &format!("{}: изменить", consumer.full_name),
        html! {
            (crumbs(&[("/consumers", "Потребители"), (&format!("/consumers/{id}"), &consumer.full_name)]))
            (errors.banner())
            form.stack method="post" action={ "/consumers/" (id) } {
                (csrf_input(&user.csrf))
                (required_text_field(errors, "full_name", "ФИО", &form.full_name))
                (text_field(errors, "phone", "Телефон", &form.phone))
                (textarea_field(errors, "notes", "Заметки", &form.notes))
                (checkbox("reminders", "Напоминать о показаниях в Telegram", form.reminders.is_some()))
                button type="submit" { "Сохранить" }
            }
        },
    )
}

#[handler]
pub async fn edit(user: Admin, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Markup> {
    let consumer = found(consumer::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    Ok(edit_page(&user, &consumer, &ConsumerForm::of(&consumer), &Errors::default()))
}

#[handler]
pub async fn update(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Path(id): Path<i64>,
    Form(form): Form<ConsumerForm>,
) -> Result<Response> {
    let consumer = found(consumer::Entity::find_by_id(id).one(ctx.db.conn()).await)?;
    match store(form.parse(), |details| changes::update_consumer(&ctx, id, details, user.actor())).await? {
        Ok(saved) => Ok(done(session, format!("{} — сохранено.", saved.full_name), format!("/consumers/{id}"))),
        Err(errors) => Ok(invalid(edit_page(&user, &consumer, &form, &errors))),
    }
}
