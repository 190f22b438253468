//! A previewed import waiting for confirmation: the rows the server read and showed, kept in the
//! database under a random token until their uploader confirms them. Not in the login session,
//! whose row every later request reads and writes: a 10 000-row preview there cost each request
//! a 4 MB read.
//!
//! Each staff member has at most one draft per kind of import (a new upload replaces it), a draft
//! lives [`LIFETIME`] and holds at most [`MAX_BYTES`], and taking it removes it, so it is stored
//! once however often the confirmation is sent.

use chrono::TimeDelta;
use entities::import_draft;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::internal_errors;
use crate::{Context, Internal};

/// How long a preview waits for its confirmation.
pub const LIFETIME: TimeDelta = TimeDelta::hours(1);
/// The largest draft: 10 000 payments take about 1.5 MB.
pub const MAX_BYTES: usize = 16 << 20;

/// Which import a draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Payments,
    Register,
    /// The bank's 1C statement.
    Statement,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Payments => "payments",
            Kind::Register => "register",
            Kind::Statement => "statement",
        }
    }
}

/// A draft taken for storing.
#[derive(Debug)]
pub struct Draft<R> {
    pub file_name: String,
    pub rows: Vec<R>,
}

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error(
        "Проверенный файл слишком велик, чтобы дождаться подтверждения (больше {} МБ). Разделите его на части.",
        MAX_BYTES >> 20
    )]
    TooLarge,
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(DraftError);

/// Keeps `rows` read from `file_name` for `staff_id`'s confirmation in place of their earlier
/// draft of this kind, and returns the token the confirmation must send back.
pub async fn keep<R: Serialize>(
    ctx: &Context,
    kind: Kind,
    staff_id: i64,
    file_name: &str,
    rows: &[R],
) -> Result<String, DraftError> {
    let json = serde_json::to_string(rows).map_err(|e| Internal(e.into()))?;
    if json.len() > MAX_BYTES {
        return Err(DraftError::TooLarge);
    }
    let token = crate::access::secrets::random_token(24);
    let draft = import_draft::ActiveModel {
        id: NotSet,
        token: Set(token.clone()),
        staff_id: Set(staff_id),
        kind: Set(kind.as_str().to_owned()),
        file_name: Set(file_name.to_owned()),
        rows: Set(json),
        created_at: Set(ctx.now()),
    };
    let txn = ctx.db.begin_write().await?;
    import_draft::Entity::delete_many()
        .filter(import_draft::Column::CreatedAt.lt(ctx.now() - LIFETIME))
        .exec(&txn)
        .await?;
    mine(kind, staff_id).exec(&txn).await?;
    draft.insert(&txn).await?;
    txn.commit().await?;
    Ok(token)
}

/// Drops `staff_id`'s draft of this kind: a newer file that cannot be stored replaces it.
pub async fn discard(ctx: &Context, kind: Kind, staff_id: i64) -> Result<(), Internal> {
    let txn = ctx.db.begin_write().await?;
    mine(kind, staff_id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Takes out the draft `token` names when it is `staff_id`'s current one of this kind and has not
/// expired; none otherwise (a stale tab, a newer upload, a second click), and then nothing changes.
pub async fn take<R: DeserializeOwned>(
    ctx: &Context,
    kind: Kind,
    staff_id: i64,
    token: &str,
) -> Result<Option<Draft<R>>, Internal> {
    let txn = ctx.db.begin_write().await?;
    let Some(draft) = import_draft::Entity::find()
        .filter(import_draft::Column::Token.eq(token))
        .filter(import_draft::Column::StaffId.eq(staff_id))
        .filter(import_draft::Column::Kind.eq(kind.as_str()))
        .filter(import_draft::Column::CreatedAt.gte(ctx.now() - LIFETIME))
        .one(&txn)
        .await?
    else {
        return Ok(None);
    };
    // Of two confirmations at once, only the one that deletes the draft stores it.
    if import_draft::Entity::delete_by_id(draft.id).exec(&txn).await?.rows_affected == 0 {
        return Ok(None);
    }
    txn.commit().await?;
    let rows = serde_json::from_str(&draft.rows).map_err(|e| Internal(e.into()))?;
    Ok(Some(Draft { file_name: draft.file_name, rows }))
}

fn mine(kind: Kind, staff_id: i64) -> sea_orm::DeleteMany<import_draft::Entity> {
    import_draft::Entity::delete_many()
        .filter(import_draft::Column::StaffId.eq(staff_id))
        .filter(import_draft::Column::Kind.eq(kind.as_str()))
}

#[cfg(test)]
mod tests {
    use domain::Role;
    use sea_orm::{ConnectionTrait, PaginatorTrait};

    use super::*;
    use crate::testing::TestContext;

    async fn count(conn: &impl ConnectionTrait) -> u64 {
        import_draft::Entity::find().count(conn).await.unwrap()
    }

    #[tokio::test]
    async fn a_draft_is_taken_once_by_its_uploader_before_it_expires() {
        let t = TestContext::new().await;
        let (buh, other) = (t.staff("buh", Role::Accountant).await.id, t.staff("other", Role::Accountant).await.id);
        let token = keep(&t.ctx, Kind::Payments, buh, "a.csv", &[1, 2, 3]).await.unwrap();
        assert!(take::<i32>(&t.ctx, Kind::Payments, other, &token).await.unwrap().is_none(), "not another's");
        assert!(take::<i32>(&t.ctx, Kind::Register, buh, &token).await.unwrap().is_none(), "not another import's");
        let draft = take::<i32>(&t.ctx, Kind::Payments, buh, &token).await.unwrap().unwrap();
        assert_eq!((draft.file_name.as_str(), draft.rows), ("a.csv", vec![1, 2, 3]));
        assert!(take::<i32>(&t.ctx, Kind::Payments, buh, &token).await.unwrap().is_none(), "taken once");

        // A newer upload replaces the draft; an old one expires and is cleared by the next.
        let first = keep(&t.ctx, Kind::Payments, buh, "a.csv", &[1]).await.unwrap();
        let second = keep(&t.ctx, Kind::Payments, buh, "b.csv", &[2]).await.unwrap();
        assert!(take::<i32>(&t.ctx, Kind::Payments, buh, &first).await.unwrap().is_none());
        t.clock.advance(LIFETIME + TimeDelta::seconds(1));
        assert!(take::<i32>(&t.ctx, Kind::Payments, buh, &second).await.unwrap().is_none(), "expired");
        keep(&t.ctx, Kind::Register, other, "r.xlsx", &[3]).await.unwrap();
        assert_eq!(count(t.ctx.db.conn()).await, 1, "the expired draft is gone");
        discard(&t.ctx, Kind::Register, other).await.unwrap();
        assert_eq!(count(t.ctx.db.conn()).await, 0);
    }

    #[tokio::test]
    async fn a_draft_larger_than_the_bound_is_refused() {
        let t = TestContext::new().await;
        let buh = t.staff("buh", Role::Accountant).await.id;
        let rows = vec!["щ".repeat(1 << 20); 9];
        let err = keep(&t.ctx, Kind::Payments, buh, "big.csv", &rows).await.unwrap_err();
        assert!(matches!(err, DraftError::TooLarge), "{err}");
        assert_eq!(count(t.ctx.db.conn()).await, 0);
    }
}
