//! Tariff history. A new price is a new row from its date on; past prices stay for past charges.

use chrono::NaiveDate;
use domain::ledger::Cause;
use domain::money::MoneyError;
use domain::{CauseKind, Kopecks, Service, Zone};
use entities::tariff;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder, Set,
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
    #[error("Тариф «{0}, {1}» с {2} уже есть.")]
    Duplicate(Service, Zone, NaiveDate),
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
    let exists = tariff::Entity::find()
        .filter(tariff::Column::Service.eq(service))
        .filter(tariff::Column::Zone.eq(zone))
        .filter(tariff::Column::ValidFrom.eq(valid_from))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(TariffError::Duplicate(service, zone, valid_from));
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
