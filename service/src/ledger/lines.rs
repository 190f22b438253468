//! The one place that writes and removes charge lines. It refuses any line booked in a closed
//! month and any removal reaching one: a report sent stays true (see `domain::ledger`).

use domain::Period;
use domain::ledger::ClosedMonths;
use entities::charge;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("Месяц {} закрыт: его строки не меняются, изменения идут перерасчётом.", .0.russian())]
    Closed(Period),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<LineError> for crate::Internal {
    fn from(e: LineError) -> Self {
        crate::Internal(e.into())
    }
}

/// Refuses a booking month that is closed (payments check theirs here too).
pub fn check_open(closed: ClosedMonths, period: Period) -> Result<(), LineError> {
    if closed.is_closed(period) { Err(LineError::Closed(period)) } else { Ok(()) }
}

/// Removes the lines `which` selects, all of them in open months, then books `lines`, each in
/// an open month. `closed` must be read in the same transaction.
pub async fn write(
    conn: &impl ConnectionTrait,
    closed: ClosedMonths,
    which: Option<Condition>,
    lines: Vec<charge::ActiveModel>,
) -> Result<(), LineError> {
    if let Some(which) = which {
        if let Some(last) = closed.last_closed() {
            let reaching = charge::Entity::find()
                .filter(which.clone())
                .filter(charge::Column::Period.lte(last))
                .count(conn)
                .await?;
            if reaching > 0 {
                return Err(LineError::Closed(last));
            }
        }
        charge::Entity::delete_many().filter(which).exec(conn).await?;
    }
    for line in &lines {
        if let sea_orm::ActiveValue::Set(period) | sea_orm::ActiveValue::Unchanged(period) = &line.period {
            check_open(closed, *period)?;
        }
    }
    if !lines.is_empty() {
        charge::Entity::insert_many(lines).exec_without_returning(conn).await?;
    }
    Ok(())
}
