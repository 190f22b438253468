//! Tariffs: the price history, adding a price from a date and correcting a price typed wrong
//! (each recomputes the charges it affects). Admins only.

use domain::{Kopecks, Service, Zone};
use maud::{Markup, html};
use poem::session::Session;
use poem::web::{Data, Form};
use poem::{Response, Result, handler};
use serde::Deserialize;
use service::Context;
use service::dates::parse_date;

use crate::auth::Admin;
use crate::error::internal;
use crate::forms::{
    Errors, checkbox, date_field, date_text, date_value, done, invalid, money_field, require_choice, select_field,
    store,
};
use crate::layout::{self, csrf_input};
use crate::lists::table;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TariffForm {
    service: String,
    zone: String,
    price: String,
    valid_from: String,
    /// «Исправить цену с этой даты»: the price from that date was typed wrong.
    correct: String,
}

impl TariffForm {
    fn parse(&self) -> Result<(Service, Zone, Kopecks, chrono::NaiveDate), Errors> {
        let mut errors = Errors::default();
        let service = errors.check("service", require_choice::<Service>(&self.service));
        let zone = errors.check("zone", require_choice::<Zone>(&self.zone));
        // Zero and negative prices are refused by the service, in its words («Цена …»).
        let price = errors.check("price", Kopecks::parse_rubles(&self.price));
        let valid_from = errors.check("valid_from", parse_date(&self.valid_from));
        match (service, zone, price, valid_from) {
            (Some(service), Some(zone), Some(price), Some(valid_from)) => Ok((service, zone, price, valid_from)),
            _ => Err(errors),
        }
    }
}

async fn tariffs_page(user: &Admin, ctx: &Context, form: &TariffForm, errors: &Errors) -> Result<Markup> {
    let history = service::ledger::tariffs::history(ctx.db.conn()).await.map_err(internal)?;
    let today = ctx.today();
    Ok(layout::page(
        user,
        "Тарифы",
        html! {
            p.muted { "Цена действует с указанной даты до следующей. Начисление за месяц берёт цену на день показания, закрывающего месяц." }
            (table(&["Услуга", "Зона", "Цена за единицу", "Действует с", ""], history.iter().map(|t| html! {
                tr {
                    td { (t.service) }
                    td { (t.zone) }
                    td.num { (t.price_kopecks) " / " (t.service.unit()) }
                    td { (date_text(t.valid_from)) }
                    td.muted { @if t.valid_from > today { "с будущей даты" } }
                }
            })))
            h2 { "Новая цена" }
            p.muted { "Новая цена — новая строка с её даты. Цену, введённую с ошибкой, исправляют для той же даты. Начисления, которых это касается, пересчитаются: закрытые месяцы — перерасчётом в открытом." }
            (errors.banner())
            form.stack method="post" action="/tariffs" {
                (csrf_input(&user.csrf))
                (select_field::<Service>(errors, "service", "Услуга", &form.service))
                (select_field::<Zone>(errors, "zone", "Зона (день/ночь — только электроэнергия)", &form.zone))
                (money_field(errors, "price", "Цена за единицу, ₽", &form.price))
                (date_field(errors, "valid_from", "Действует с", &form.valid_from))
                (checkbox("correct", "Исправить цену с этой даты (введена с ошибкой)", !form.correct.is_empty()))
                button type="submit" { "Сохранить цену" }
            }
        },
    ))
}

#[handler]
pub async fn list(user: Admin, ctx: Data<&Context>) -> Result<Markup> {
    let form = TariffForm { valid_from: date_value(ctx.current_period().next().first_day()), ..TariffForm::default() };
    tariffs_page(&user, &ctx, &form, &Errors::default()).await
}

#[handler]
pub async fn create(
    user: Admin,
    session: &Session,
    ctx: Data<&Context>,
    Form(form): Form<TariffForm>,
) -> Result<Response> {
    let (context, actor, correct): (&Context, _, _) = (&ctx, user.actor(), !form.correct.is_empty());
    let added = store(form.parse(), |(service, zone, price, valid_from)| async move {
        if correct {
            service::ledger::tariffs::correct(context, service, zone, price, valid_from, actor).await
        } else {
            service::ledger::tariffs::add(context, service, zone, price, valid_from, actor).await
        }
    });
    match added.await? {
        Ok(t) => {
            let message = format!(
                "Цена {}, {}: {} с {}.",
                t.service,
                t.zone.label().to_lowercase(),
                t.price_kopecks,
                date_text(t.valid_from)
            );
            Ok(done(session, message, "/tariffs"))
        }
        Err(errors) => Ok(invalid(tariffs_page(&user, &ctx, &form, &errors).await?)),
    }
}
