//! Tariff history. A new price is a new row from its date on; past prices stay for past charges.

use chrono::NaiveDate;
use domain::ledger::Cause;
use domain::money::MoneyError;
use domain::{CauseKind, Kopecks, Service, Zone};
use entities::tariff;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;

use super::charges;
use crate::audit::{self, Actor};
use crate::dates::{self, DateError};
use crate::error::internal_errors;
use crate::{Context, Internal};

#[derive(Debug, thiserror::Error)]
pub enum TariffError {
    #[error(transparent)]
    Price(#[from] MoneyError),
    #[error(transparent)]
    ValidFrom(#[from] DateError),
    #[error("У услуги «{0}» нет зоны «{1}».")]
    ZoneNotForService(Service, Zone),
    #[error(
        "Тариф «{service}, {zone}» с {} уже есть: {price}. Если эта цена введена с ошибкой, отметьте «Исправить \
         цену с этой даты».",
        .from.format("%d.%m.%Y")
    )]
    Duplicate { service: Service, zone: Zone, from: NaiveDate, price: Kopecks },
    #[error("Тарифа «{service}, {zone}» с {} нет: исправить можно только введённую цену.", .from.format("%d.%m.%Y"))]
    NoSuchTariff { service: Service, zone: Zone, from: NaiveDate },
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(TariffError);

/// All tariffs, newest first, for the panel.
pub async fn history(conn: &impl ConnectionTrait) -> Result<Vec<tariff::Model>, DbErr> {
    tariff::Entity::find()
        .order_by_asc(tariff::Column::Service)
        .order_by_asc(tariff::Column::Zone)
        .order_by_desc(tariff::Column::ValidFrom)
        .all(conn)
        .await
}

/// Adds a price from `valid_from` on and recalculates charges that it affects.
pub async fn add(
    ctx: &Context,
    service: Service,
    zone: Zone,
    price: Kopecks,
    valid_from: NaiveDate,
    actor: Actor,
) -> Result<tariff::Model, TariffError> {
    price.price()?;
    dates::check(valid_from)?;
    if !service.has_zone(zone) {
        return Err(TariffError::ZoneNotForService(service, zone));
    }
    let txn = ctx.db.begin_write().await?;
    if let Some(existing) = starting(&txn, service, zone, valid_from).await? {
        return Err(TariffError::Duplicate { service, zone, from: valid_from, price: existing.price_kopecks });
    }
    let model = tariff::ActiveModel {
        id: NotSet,
        service: Set(service),
        zone: Set(zone),
        price_kopecks: Set(price),
        valid_from: Set(valid_from),
        created_at: Set(ctx.now()),
    }
    .insert(&txn)
    .await?;
    let details = json!({"service": service.code(), "zone": zone.code(), "price_kopecks": price.get(),
                         "valid_from": valid_from});
    audit::record(&txn, ctx, actor, "tariff.add", "tariff", Some(model.id), details).await?;
    let cause = Cause { kind: CauseKind::Tariff, id: model.id, on: valid_from };
    charges::recompute_service(&txn, ctx, service, cause).await.map_err(|e| TariffError::Internal(e.into()))?;
    txn.commit().await?;
    Ok(model)
}

/// Corrects the price of `service` and `zone` from `valid_from`, typed wrong (65,00 ₽ for 6,50
/// ₽): the tariff takes the new price and the charges it priced are recomputed, as for a price
/// from a past date — open months' lines rewritten, a closed month's difference booked as a
/// recalculation in the first open month («исправлена цена тарифа с …»). The old price stays in
/// the audit log. A second price from a later day could not undo the first one's days.
pub async fn correct(
    ctx: &Context,
    service: Service,
    zone: Zone,
    price: Kopecks,
    valid_from: NaiveDate,
    actor: Actor,
) -> Result<tariff::Model, TariffError> {
    price.price()?;
    let txn = ctx.db.begin_write().await?;
    let missing = TariffError::NoSuchTariff { service, zone, from: valid_from };
    let existing = starting(&txn, service, zone, valid_from).await?.ok_or(missing)?;
    if existing.price_kopecks == price {
        return Ok(existing);
    }
    let was = existing.price_kopecks;
    let mut row = existing.into_active_model();
    row.price_kopecks = Set(price);
    let model = row.update(&txn).await?;
    let details = json!({"service": service.code(), "zone": zone.code(), "valid_from": valid_from,
                         "price_kopecks": price.get(), "was_kopecks": was.get()});
    audit::record(&txn, ctx, actor, "tariff.correct", "tariff", Some(model.id), details).await?;
    let cause = Cause { kind: CauseKind::TariffCorrection, id: model.id, on: valid_from };
    charges::recompute_service(&txn, ctx, service, cause).await.map_err(|e| TariffError::Internal(e.into()))?;
    txn.commit().await?;
    Ok(model)
}

/// The tariff of `service` and `zone` starting on `valid_from`, if any.
async fn starting(
    conn: &impl ConnectionTrait,
    service: Service,
    zone: Zone,
    valid_from: NaiveDate,
) -> Result<Option<tariff::Model>, DbErr> {
    tariff::Entity::find()
        .filter(tariff::Column::Service.eq(service))
        .filter(tariff::Column::Zone.eq(zone))
        .filter(tariff::Column::ValidFrom.eq(valid_from))
        .one(conn)
        .await
}
