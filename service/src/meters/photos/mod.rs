//! Photo storage: every photo (meter inventory, reading evidence) goes through [`intake`] and is
//! stored once under `PHOTO_DIR` by the hash of its re-encoded bytes.

pub mod intake;

use std::path::{Path, PathBuf};

use domain::Role;
use entities::{photo, request_message};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, NotSet, QueryFilter, Set};

use crate::error::internal_errors;
use crate::{Context, Internal, heavy};
pub use intake::{IntakeLimits, PhotoError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Rejected(#[from] PhotoError),
    #[error("Фотографий подряд уже много. Следующую можно прислать через {minutes} мин.")]
    TooMany { minutes: i64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}
internal_errors!(StoreError);

/// Takes one photo from what the member on Telegram account `telegram_user_id` may send, before
/// it is downloaded: ten in a row, then one per half hour (see [`crate::access::throttle`]).
pub fn member_may_send(ctx: &Context, telegram_user_id: i64) -> Result<(), StoreError> {
    let taken = ctx.telegram_budgets.member_photos.take(telegram_user_id, ctx.now());
    taken.map_err(|wait| StoreError::TooMany { minutes: crate::access::throttle::minutes_up(wait) })
}

/// Checks, normalises and stores a photo; the same picture sent twice is stored once.
pub async fn store(ctx: &Context, bytes: Vec<u8>) -> Result<photo::Model, StoreError> {
    let limits = ctx.settings.photo_limits;
    let processed = heavy::run(move || intake::process(&bytes, limits)).await??;
    if let Some(existing) = by_hash(ctx, &processed.sha256).await? {
        return Ok(existing);
    }
    let (full_rel, thumb_rel) = relative_paths(&processed.sha256);
    let dir = &ctx.settings.photo_dir;
    write_atomically(&dir.join(&full_rel), &processed.full).await?;
    write_atomically(&dir.join(&thumb_rel), &processed.thumb).await?;

    let model = photo::ActiveModel {
        id: NotSet,
        sha256: Set(processed.sha256.clone()),
        path: Set(full_rel),
        thumb_path: Set(thumb_rel),
        width: Set(processed.width as i32),
        height: Set(processed.height as i32),
        bytes: Set(processed.full.len() as i64),
        created_at: Set(ctx.now()),
    };
    let sha = processed.sha256;
    let txn = ctx.db.begin_write().await?;
    // Another request may be storing the same picture at this moment: the first insert wins and
    // both get its row.
    photo::Entity::insert(model)
        .on_conflict(OnConflict::column(photo::Column::Sha256).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    let stored = photo::Entity::find()
        .filter(photo::Column::Sha256.eq(&sha))
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("photo {sha}")))?;
    txn.commit().await?;
    Ok(stored)
}

async fn by_hash(ctx: &Context, sha256: &str) -> Result<Option<photo::Model>, DbErr> {
    photo::Entity::find().filter(photo::Column::Sha256.eq(sha256)).one(ctx.db.conn()).await
}

/// `ab/abcdef….jpg` and `ab/abcdef…_thumb.jpg`: two levels keep directories small.
fn relative_paths(sha256: &str) -> (String, String) {
    let prefix = &sha256[..2];
    (format!("{prefix}/{sha256}.jpg"), format!("{prefix}/{sha256}_thumb.jpg"))
}

/// Writes to a temporary file and renames it, so a crash never leaves half a photo behind and a
/// concurrent writer of the same content only ever replaces a whole file with an identical one.
async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if tokio::fs::try_exists(path).await? {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    // A name of its own per write: two people may upload the same picture at the same moment.
    let tmp = path.with_extension(format!("tmp-{}", crate::access::secrets::random_token(12)));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

/// The file of a stored photo (or its thumbnail) as staff of `role` may see it: a photo a member
/// sent with a request to the board (a bill, a letter) is for the office, not for controllers.
pub async fn file_for(ctx: &Context, photo_id: i64, thumb: bool, role: Role) -> Result<Option<PathBuf>, DbErr> {
    if role == Role::Controller {
        let sent_by_member = request_message::Entity::find()
            .filter(request_message::Column::PhotoId.eq(photo_id))
            .one(ctx.db.conn())
            .await?;
        if sent_by_member.is_some() {
            return Ok(None);
        }
    }
    file(ctx, photo_id, thumb).await
}

/// The file of a stored photo (or its thumbnail). Paths come from the database, never from a
/// request, so no path traversal can reach outside `PHOTO_DIR`.
pub async fn file(ctx: &Context, photo_id: i64, thumb: bool) -> Result<Option<PathBuf>, DbErr> {
    let Some(photo) = photo::Entity::find_by_id(photo_id).one(ctx.db.conn()).await? else {
        return Ok(None);
    };
    let rel = if thumb { photo.thumb_path } else { photo.path };
    Ok(Some(ctx.settings.photo_dir.join(rel)))
}
